import { SpaceId } from "@spaces/domain"
import { Schema } from "effect"
import type { Response } from "express"
import { type App, runWith } from "../app/context.js"
import { Transcript, transcriptOf, webVtt } from "../captions/transcript.js"
import { existingSpaceLog } from "./history.js"
import type { Routes } from "./registry.js"

const encodeTranscript = Schema.encodeSync(Transcript)

/** Any Space's transcript (its CaptionAppended segments), as JSON or WebVTT; like the history, for any signed-in user. */
export const mountTranscript = (app: App, routes: Routes) => {
  const run = runWith(app)
  const load = async (spaceId: SpaceId) => {
    const log = await run(existingSpaceLog(spaceId))
    return transcriptOf(spaceId, log)
  }
  const sendVtt = (res: Response, transcript: Transcript) => {
    res.type("text/vtt; charset=utf-8").send(webVtt(transcript))
  }

  routes.add(
    {
      method: "get",
      path: "/v1/spaces/:spaceId/transcript",
      summary:
        "The Space's transcript: its caption segments in log order, times on the Space's timeline. " +
        "JSON, or WebVTT with `Accept: text/vtt`",
      tag: "History",
      auth: "user",
      params: { spaceId: SpaceId },
      response: { status: 200, schema: Transcript },
      problems: [404]
    },
    async ({ params: { spaceId } }, req, res) => {
      const transcript = await load(spaceId)
      if (req.accepts(["application/json", "text/vtt"]) === "text/vtt") sendVtt(res, transcript)
      else res.json(encodeTranscript(transcript))
    }
  )
  routes.add(
    {
      method: "get",
      path: "/v1/spaces/:spaceId/transcript.vtt",
      summary: "The Space's transcript as WebVTT (a cue per segment, the speaker as its voice)",
      tag: "History",
      auth: "user",
      params: { spaceId: SpaceId },
      response: { status: 200, contentType: "text/vtt" },
      problems: [404]
    },
    async ({ params: { spaceId } }, _req, res) => {
      sendVtt(res, await load(spaceId))
    }
  )
}
