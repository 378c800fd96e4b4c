import { ServiceId } from "@spaces/domain"
import { Schema } from "effect"
import { makeTokens, OPERATOR_SCOPE } from "../auth/tokens.js"
import { ConfigInvalid, loadConfig } from "../config.js"

/**
 * Mints an operator token (a service identity with the `spaces:operate` scope), signed with
 * SPACES_JWT_SECRET, valid for SPACES_TOKEN_TTL_SECONDS: `operator-token.ts <name> [scope ...]`.
 * Scopes given replace the default (`captions:append media:tap` for an external transcriber).
 */
const main = async () => {
  const name = process.argv[2]
  const operator = Schema.decodeUnknownOption(ServiceId)(name)
  if (operator._tag === "None") {
    process.stderr.write(
      "usage: operator-token <name> [scope ...]   (prints a bearer token with those scopes; default spaces:operate)\n"
    )
    return 2
  }
  if (process.env.SPACES_JWT_SECRET === undefined) {
    process.stderr.write("operator-token: set SPACES_JWT_SECRET (the server's HS256 secret)\n")
    return 2
  }
  try {
    const { auth } = loadConfig({ ...process.env, SPACES_LOG_LEVEL: "silent" })
    const token = await makeTokens(auth).issue({
      kind: "service",
      serviceId: operator.value,
      scopes: process.argv.length > 3 ? process.argv.slice(3) : [OPERATOR_SCOPE]
    })
    process.stdout.write(`${token}\n`)
    return 0
  } catch (error) {
    if (error instanceof ConfigInvalid) {
      process.stderr.write(`operator-token: ${error.message}\n`)
      return 2
    }
    throw error
  }
}

process.exitCode = await main()
