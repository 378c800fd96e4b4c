import { SpaceId, type SpaceState, Spaces } from "@spaces/domain"
import { ReadModels } from "@spaces/projections"
import type { Request, Response } from "express"
import { Effect, Either, Schema } from "effect"
import { type App, runWith } from "../app/context.js"
import type { Routes } from "./registry.js"

/** Text for HTML content and attribute values: every character that could end one is escaped. */
export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"'`]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" })[c]!
  )

/** What a share link says about a Space, in words and as machine-readable fields. */
export interface ShareCard {
  readonly title: string
  readonly description: string
  readonly state: "live" | "scheduled" | "ended"
  readonly fields: Readonly<Record<string, string>>
}

const plural = (n: number, one: string, many: string) =>
  `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`

export const shareCard = (state: SpaceState, recorded: boolean): ShareCard => {
  const host = state.host ?? "someone"
  const topics = state.topics.length === 0 ? "" : ` · ${state.topics.map((t) => `#${t}`).join(" ")}`
  const base = { "spaces:host": host, "spaces:topics": state.topics.join(",") }
  if (state.status === "live") {
    const listeners = state.counts.listeners
    return {
      title: state.title,
      state: "live",
      description: `Live now · ${plural(listeners, "listener", "listeners")} · hosted by @${host}${topics}`,
      fields: { ...base, "spaces:state": "live", "spaces:listeners": String(listeners) }
    }
  }
  if (state.status === "scheduled") {
    const at = new Date(state.scheduledFor ?? 0).toISOString()
    return {
      title: state.title,
      state: "scheduled",
      description: `Scheduled for ${at.replace("T", " ").slice(0, 16)} UTC · hosted by @${host}${topics}`,
      fields: { ...base, "spaces:state": "scheduled", "spaces:scheduled-for": at }
    }
  }
  const ended = new Date(state.endedAt ?? 0).toISOString()
  // A scheduled Space that never went live (cancelled, or expired) has nothing to replay.
  const how =
    state.endReason === "cancelled"
      ? "Cancelled"
      : state.endReason === "expired"
        ? "Did not start"
        : `Ended${recorded ? " · recording available" : ""}`
  return {
    title: state.title,
    state: "ended",
    description: `${how} · hosted by @${host}${topics}`,
    fields: {
      ...base,
      "spaces:state": "ended",
      "spaces:ended-at": ended,
      "spaces:recording": recorded ? "available" : "none"
    }
  }
}

const page = (head: string, body: string) =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${head}
<link rel="stylesheet" href="/styles.css">
</head>
<body>
<main id="main" class="share">
${body}
</main>
</body>
</html>
`

const meta = (attr: "property" | "name", key: string, value: string) =>
  `<meta ${attr}="${escapeHtml(key)}" content="${escapeHtml(value)}">`

export const sharePage = (spaceId: SpaceId, card: ShareCard, origin: string) => {
  const target = `/#/${card.state === "ended" ? "replay" : "space"}/${encodeURIComponent(spaceId)}`
  const url = `${origin}/s/${encodeURIComponent(spaceId)}`
  const head = [
    `<title>${escapeHtml(card.title)} · Spaces</title>`,
    meta("name", "description", card.description),
    meta("property", "og:type", "website"),
    meta("property", "og:site_name", "Spaces"),
    meta("property", "og:title", card.title),
    meta("property", "og:description", card.description),
    meta("property", "og:url", url),
    meta("name", "twitter:card", "summary"),
    meta("name", "twitter:title", card.title),
    meta("name", "twitter:description", card.description),
    ...Object.entries(card.fields).map(([k, v]) => meta("name", k, v)),
    // People go straight on to the web client; link unfurlers read the tags above and stop here.
    `<meta http-equiv="refresh" content="0; url=${escapeHtml(target)}">`,
    `<link rel="canonical" href="${escapeHtml(url)}">`
  ].join("\n")
  const body = `<h1>${escapeHtml(card.title)}</h1>
<p>${escapeHtml(card.description)}</p>
<p><a href="${escapeHtml(target)}">${card.state === "ended" ? "Open the replay" : "Open this Space"} in Spaces</a></p>`
  return page(head, body)
}

const notFoundPage = () =>
  page(
    `<title>Space not found · Spaces</title>\n<meta name="robots" content="noindex">`,
    `<h1>Space not found</h1>\n<p>This link does not lead to a Space.</p>\n<p><a href="/">Go to Spaces</a></p>`
  )

const send = (res: Response, status: number, html: string) => {
  res.status(status)
  res.setHeader("content-type", "text/html; charset=utf-8")
  res.setHeader("cache-control", "public, max-age=30")
  res.end(html)
}

/** The origin the link was fetched at, as this server sees it (scheme and Host header). */
const originOf = (req: Request) => `${req.protocol}://${req.get("host") ?? "localhost"}`

const decodeSpaceId = Schema.decodeUnknownEither(SpaceId)

/**
 * Share links (SPEC §2 Share link): `GET /s/:spaceId` is a public HTML page whose Open Graph and
 * Twitter card tags say what the Space is and where it stands, and which sends people on to it in
 * the web client. No token: chat apps and timelines fetch it anonymously.
 */
export const mountShare = (app: App, routes: Routes) => {
  const run = runWith(app)
  routes.add(
    {
      method: "get",
      path: "/s/:spaceId",
      summary:
        "Share link: an HTML page with Open Graph / Twitter card tags (title, host, topics, live with listeners, " +
        "scheduled with time, ended with recording) that opens the Space in the web client; 404 as a page",
      tag: "Sharing",
      auth: "public",
      // Any text: an id that is not a Space's gets the not-found page, not a problem document.
      params: { spaceId: Schema.String },
      response: { status: 200, contentType: "text/html" },
      problems: [404]
    },
    async ({ params }, req, res) => {
      const id = decodeSpaceId(params.spaceId)
      if (Either.isLeft(id)) return send(res, 404, notFoundPage())
      const spaceId = id.right
      const found = await run(
        Effect.gen(function* () {
          const state = yield* Effect.flatMap(Spaces, (s) => s.space(spaceId))
          if (state.status === "none") return undefined
          // Whether it was recorded at some moment while live: the creator index knows.
          const recorded =
            state.status === "ended" && state.host !== null
              ? (yield* Effect.flatMap(ReadModels, (m) => m.creator(state.host!))).ended.some(
                  (e) => e.spaceId === spaceId && e.recorded
                )
              : false
          return shareCard(state, recorded)
        })
      )
      if (found === undefined) return send(res, 404, notFoundPage())
      send(res, 200, sharePage(spaceId, found, originOf(req)))
    }
  )
}
