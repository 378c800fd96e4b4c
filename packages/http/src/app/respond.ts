import type { Request, Response } from "express"

/**
 * `res.status(status).json(value)` for a 200 or 201, written as Express would write it (same headers, no body for HEAD)
 * without its detours: content-type lookups, a body of 1,000 characters or more copied into a
 * Buffer (and then written as two chunks, headers and body, where one string is one write). A
 * conditional request (`If-None-Match`, `If-Modified-Since`: Express may answer 304), another status or a
 * content type set before goes through `res.json` itself.
 */
export const sendJson = (req: Request, res: Response, value: unknown, status = 200): void => {
  res.status(status)
  const body = JSON.stringify(value) as string | undefined
  if (
    body === undefined ||
    (status !== 200 && status !== 201) ||
    req.headers["if-none-match"] !== undefined ||
    req.headers["if-modified-since"] !== undefined ||
    res.hasHeader("content-type")
  ) {
    res.json(value)
    return
  }
  res.setHeader("Content-Type", "application/json; charset=utf-8")
  res.setHeader("Content-Length", Buffer.byteLength(body))
  if (req.method === "HEAD") res.end()
  else res.end(body)
}
