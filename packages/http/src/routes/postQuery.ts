import { PostId, SpaceId } from "@spaces/domain"
import { PostView } from "@spaces/projections"
import { Schema } from "effect"
import { type App, runWith } from "../app/context.js"
import { HttpProblem } from "../problems.js"
import { existingSpaceLog } from "./history.js"
import type { Routes } from "./registry.js"

const encodePost = Schema.encodeSync(PostView)

/** One post of a Space, read from its log: where `POST …/posts` answers `Location`. */
export const mountPostQuery = (app: App, routes: Routes) => {
  const run = runWith(app)
  routes.add(
    {
      method: "get",
      path: "/v1/spaces/:spaceId/posts/:postId",
      summary: "One post of the Space (the `Location` of `POST …/posts`), for any signed-in user",
      tag: "Posts",
      auth: "user",
      params: { spaceId: SpaceId, postId: PostId },
      response: { status: 200, schema: PostView },
      problems: [404]
    },
    async ({ params: { spaceId, postId } }, _req, res) => {
      const log = await run(existingSpaceLog(spaceId))
      for (const { event } of log)
        if (event._tag === "PostPublished" && event.postId === postId)
          return void res.json(
            encodePost({ postId: event.postId, author: event.author, text: event.text, at: event.at })
          )
      throw new HttpProblem(404, "post-not-found", "Post not found", `Space ${spaceId} has no post ${postId}`)
    }
  )
}
