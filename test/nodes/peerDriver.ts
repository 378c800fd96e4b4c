/**
 * The node side of the tests' IPC: plain-RTP speakers and listeners on this node's media plane,
 * made by the same helpers the single-node media tests use. Requests are `{id, op, ...}`, answers
 * `{id, ok, value | error}`.
 */
import { SpaceId, UserId } from "@spaces/domain"
import type { RunningServer } from "@spaces/http"
import { Effect } from "effect"
import {
  consumeAndResume,
  plainListener,
  plainSpeaker,
  type TestListener
} from "../../packages/media/src/testing/peers.js"

export type PeerRequest =
  | { readonly op: "speak"; readonly spaceId: string; readonly user: string; readonly ssrc: number }
  | { readonly op: "listen"; readonly spaceId: string; readonly user: string; readonly producerId: string }
  | { readonly op: "received"; readonly listener: string }
  | { readonly op: "producers"; readonly spaceId: string }
  | { readonly op: "stats"; readonly spaceId: string }
  | { readonly op: "pipeOuts" }
  | { readonly op: "edgePipes" }

export const handlePeerRequests = (running: RunningServer) => {
  const listeners = new Map<string, TestListener>()
  const senders: Array<NodeJS.Timeout> = []
  const plane = () => {
    if (!running.media.available) throw new Error(`no media on this node: ${running.media.reason}`)
    return running.media.plane
  }
  const run = async (request: PeerRequest): Promise<unknown> => {
    switch (request.op) {
      case "speak": {
        const speaker = await Effect.runPromise(
          plainSpeaker(plane(), SpaceId.make(request.spaceId), UserId.make(request.user), request.ssrc)
        )
        // A packet every 20 ms, as a talking browser sends, until the process ends.
        let index = 0
        const timer = setInterval(() => void speaker.send(index++).catch(() => undefined), 20)
        senders.push(timer)
        return { producerId: speaker.producerId }
      }
      case "listen": {
        const space = SpaceId.make(request.spaceId)
        const listener = await Effect.runPromise(plainListener(plane(), space, UserId.make(request.user)))
        await Effect.runPromise(consumeAndResume(plane(), space, listener, request.producerId))
        listeners.set(listener.transportId, listener)
        return { listener: listener.transportId }
      }
      case "received":
        return { packets: listeners.get(request.listener)?.endpoint.packets.length ?? 0 }
      case "producers":
        return await Effect.runPromise(plane().producers(SpaceId.make(request.spaceId)))
      case "stats":
        return await Effect.runPromise(plane().stats(SpaceId.make(request.spaceId)))
      case "pipeOuts":
        return await Effect.runPromise(plane().pipeOuts)
      case "edgePipes":
        return await Effect.runPromise(plane().edgePipes)
    }
  }
  process.on("message", (message: { readonly id: number } & PeerRequest) => {
    run(message).then(
      (value) => process.send?.({ id: message.id, ok: true, value }),
      (error: unknown) => process.send?.({ id: message.id, ok: false, error: String(error) })
    )
  })
  process.once("exit", () => {
    for (const timer of senders) clearInterval(timer)
  })
}
