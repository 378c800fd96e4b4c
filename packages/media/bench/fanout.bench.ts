/**
 * Fan-out capacity of the media plane: the largest audience one mediasoup worker serves from one
 * speaker (Opus, 20 ms packets of ~100 bytes, 50 packets/s) with no packet lost and the worker
 * under one core; then the same with two workers joined by pipeToRouter, and the ratio.
 *
 *   npm run bench -- media
 *
 * Accounting for the Node process that generates and receives the RTP on the same 2 cores:
 * - one listener in 25 is received by Node (one UDP socket, demultiplexed by SSRC) and checked end
 *   to end; the others' consumers send to a local port with no socket, so the worker does all its
 *   sending work (the kernel drops the datagram on arrival) and Node spends nothing on them;
 * - "no loss" = every sampled listener got every packet AND every consumer's outbound packet
 *   count in the worker (consumer.getStats()) grew by exactly the packets sent;
 * - worker CPU is read from /proc/<pid>/stat (utime + stime) over the sending window; Node's own
 *   CPU (process.cpuUsage) is printed beside it;
 * - with taskset available, one worker is pinned to core 0 and Node to core 1. Two workers on a
 *   2-core machine share the cores with Node (and with anything else running): that figure is a
 *   lower bound there.
 */
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { availableParallelism, loadavg } from "node:os"
import { Effect, Layer } from "effect"
import * as mediasoup from "mediasoup"
import type { types } from "mediasoup"
import { MediaInstruction, MediaPlane, type MediaPlaneService, MediaPlaneLive } from "../src/index.js"
import { testAuthority } from "../src/testing/authority.js"
import { opusRtpPacket, opusRtpParameters } from "../src/testing/rtp.js"
import { sleep, type UdpEndpoint, udpEndpoint } from "../src/testing/udp.js"
import { missingWorkerMessage } from "../src/workers/workerPool.js"
import type { SpaceId, UserId } from "@spaces/domain"
import { cpuSeconds } from "../../../scripts/bench/procStats.js"

/** Every non-pipe consumer the workers create, seen through mediasoup's public observer API. */
const consumers = new Set<types.Consumer>()
mediasoup.observer.on("newworker", (worker) =>
  worker.observer.on("newrouter", (router) =>
    router.observer.on("newtransport", (transport) =>
      transport.observer.on("newconsumer", (consumer) => {
        if (consumer.type === "pipe") return
        consumers.add(consumer)
        consumer.observer.once("close", () => consumers.delete(consumer))
      })
    )
  )
)
const forwarded = new Map<string, number>()

/** Consumers whose worker-side outbound packet count did not grow by `expected` since last time. */
const workerShortfall = async (expected: number): Promise<number> => {
  let short = 0
  const all = [...consumers]
  for (let i = 0; i < all.length; i += 500) {
    const stats = await Promise.all(
      all.slice(i, i + 500).map((c) => c.getStats().then((s) => [c.id, s] as const))
    )
    for (const [id, entries] of stats) {
      const count = entries.find((entry) => entry.type === "outbound-rtp")?.packetCount ?? 0
      short += Math.max(0, expected - (count - (forwarded.get(id) ?? 0)))
      forwarded.set(id, count)
    }
  }
  return short
}

const PACKETS_PER_SECOND = 50
const PAYLOAD_BYTES = 100
const MEASURE_PACKETS = 150 // 3 s per measurement
/** One listener in SAMPLE_EVERY is received and checked by Node end to end; the others send to a sink. */
const SAMPLE_EVERY = 25
const MAX_CPU = 0.95 // of one core
const space = "bench-space" as SpaceId

const pin = (pid: number, cpu: string): boolean => {
  try {
    execFileSync("taskset", ["-p", "-c", cpu, String(pid)], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

interface Audience {
  readonly size: () => number
  readonly grow: (to: number) => Effect.Effect<void, unknown>
  readonly shrink: (to: number) => Effect.Effect<void, unknown>
  readonly received: Map<number, number>
  /** SSRCs of the sampled listeners (received by Node). */
  readonly ssrcs: Array<number>
}

/**
 * Where unsampled listeners send: a local port with no socket, so the worker does all its sending
 * work (the kernel drops the datagram on arrival) while Node spends nothing on receiving it.
 */
const sink = await (async () => {
  const probe = await udpEndpoint()
  await probe.close()
  return { ip: probe.ip, port: probe.port }
})()

/** Listeners added or removed in place, so that a bisection does not rebuild the room each step. */
const audience = (
  plane: MediaPlaneService,
  authority: ReturnType<typeof testAuthority>,
  producerId: string
) => {
  const listeners: Array<{ userId: UserId; transportId: string; ssrc: number; sampled: boolean }> = []
  const received = new Map<number, number>()
  let sampleSocket: UdpEndpoint | undefined
  let next = 0
  const result: Audience = {
    size: () => listeners.length,
    received,
    get ssrcs() {
      return listeners.filter((l) => l.sampled).map((l) => l.ssrc)
    },
    grow: (to) =>
      Effect.gen(function* () {
        if (sampleSocket === undefined) {
          const endpoint = yield* Effect.promise(() => udpEndpoint())
          endpoint.socket.removeAllListeners("message")
          endpoint.socket.on("message", (message: Buffer) => {
            const payloadType = (message[1] ?? 0) & 0x7f
            if (message.length < 12 || (payloadType >= 72 && payloadType <= 76)) return // RTCP
            const ssrc = message.readUInt32BE(8)
            received.set(ssrc, (received.get(ssrc) ?? 0) + 1)
          })
          endpoint.socket.setRecvBufferSize(4 << 20)
          sampleSocket = endpoint
        }
        while (listeners.length < to) {
          const sampled = listeners.length % SAMPLE_EVERY === 0
          const socket = sampled ? sampleSocket : sink
          const userId = `listener-${next++}` as UserId
          authority.listener(space, userId)
          const caller = { spaceId: space, userId }
          const transport = yield* plane.createPlainTransport(caller, "recv")
          yield* plane.connectTransport(caller, transport.transportId, { ip: socket.ip, port: socket.port })
          const consumer = yield* plane.consume(
            caller,
            transport.transportId,
            producerId,
            yield* plane.rtpCapabilities(caller)
          )
          yield* plane.resumeConsumer(caller, consumer.consumerId)
          listeners.push({
            userId,
            transportId: transport.transportId,
            ssrc: consumer.rtpParameters.encodings?.[0]?.ssrc ?? 0,
            sampled
          })
        }
      }),
    shrink: (to) =>
      Effect.gen(function* () {
        while (listeners.length > to) {
          const listener = listeners.pop()!
          yield* plane.closeTransport({ spaceId: space, userId: listener.userId }, listener.transportId)
        }
      })
  }
  return result
}

interface Measurement {
  readonly listeners: number
  readonly lost: number
  readonly workerCpu: ReadonlyArray<number>
  readonly nodeCpu: number
  readonly ok: boolean
}

let sequence = 0
const measure = (
  crowd: Audience,
  send: (index: number) => Promise<void>,
  workerPids: () => ReadonlyArray<number>
): Effect.Effect<Measurement> =>
  Effect.promise(async () => {
    await sleep(200) // let setup traffic (RTCP, resumes) settle
    await workerShortfall(0) // baseline of every consumer's counter
    crowd.received.clear()
    const pids = workerPids()
    const cpuBefore = pids.map(cpuSeconds)
    const nodeBefore = process.cpuUsage()
    const started = performance.now()
    for (let i = 0; i < MEASURE_PACKETS; i++) {
      await send(sequence++)
      const due = started + ((i + 1) * 1000) / PACKETS_PER_SECOND
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
    }
    const wall = (performance.now() - started) / 1000
    // Packets queued in the receivers' socket buffers are late, not lost: wait while they keep
    // arriving (bounded), so the figure is the worker's, not the Node receiver's speed.
    const missing = () =>
      crowd.ssrcs.reduce(
        (sum, ssrc) => sum + Math.max(0, MEASURE_PACKETS - (crowd.received.get(ssrc) ?? 0)),
        0
      )
    let before = -1
    for (let waited = 0; waited < 15_000 && missing() > 0 && missing() !== before; waited += 500) {
      before = missing()
      await sleep(500)
    }
    // CPU per second of audio: read once the sampled listeners have everything (the worker has
    // caught up), so a worker that falls behind is charged for its backlog too.
    const workerCpu = pids.map((pid, i) => (cpuSeconds(pid) - cpuBefore[i]!) / wall)
    const node = process.cpuUsage(nodeBefore)
    const nodeCpu = (node.user + node.system) / 1e6 / wall
    // End to end for the sampled listeners; in the worker's own counters for every consumer.
    const lost = missing() + (await workerShortfall(MEASURE_PACKETS))
    return {
      listeners: crowd.size(),
      lost,
      workerCpu,
      nodeCpu,
      ok: lost === 0 && workerCpu.every((cpu) => cpu < MAX_CPU)
    }
  })

const line = (label: string, m: Measurement) =>
  console.log(
    `  ${label.padEnd(10)} ${String(m.listeners).padStart(6)} listeners  lost ${String(m.lost).padStart(6)}  ` +
      `worker cpu ${m.workerCpu.map((c) => c.toFixed(2)).join(" + ")}  node cpu ${m.nodeCpu.toFixed(2)}  ${m.ok ? "ok" : "FAIL"}`
  )

/** Steps the audience up (×1.5) until a measurement fails, then bisects between the last pass and the failure. */
const capacity = (workers: number, start: number, limit: number) => {
  const authority = testAuthority()
  const layer = MediaPlaneLive({
    workers,
    logLevel: "none",
    rtcMinPort: 20000,
    rtcMaxPort: 59999,
    // Two workers: with a threshold of 1 every listener goes to the least-loaded router of the
    // room, so the origin router and the piped one each take half the audience.
    maxConsumersPerRouter: workers === 1 ? Number.MAX_SAFE_INTEGER : 1
  }).pipe(Layer.provide(authority.layer))
  return Effect.scoped(
    Effect.gen(function* () {
      const plane = yield* MediaPlane
      yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
      const host = "host" as UserId
      authority.speaker(space, host)
      const caller = { spaceId: space, userId: host }
      const transport = yield* plane.createPlainTransport(caller, "send")
      const speaker = yield* Effect.promise(() => udpEndpoint())
      yield* plane.connectTransport(caller, transport.transportId, { ip: speaker.ip, port: speaker.port })
      const producer = yield* plane.produce(caller, transport.transportId, opusRtpParameters(4242))
      const send = (index: number) =>
        speaker.send(
          opusRtpPacket({ ssrc: 4242, index, payloadSize: PAYLOAD_BYTES }),
          transport.ip,
          transport.port
        )
      const crowd = audience(plane, authority, producer.producerId)
      const workerPids = () =>
        Effect.runSync(plane.stats(space).pipe(Effect.orDie)).routers.map((r) => r.workerPid)

      // Give the routers their workers before pinning: one worker alone on core 0, Node on core 1.
      yield* crowd.grow(workers)
      const pinned =
        availableParallelism() >= 2 &&
        (workers === 1
          ? pin(workerPids()[0]!, "0") && pin(process.pid, "1")
          : workerPids().every((pid, i) => pin(pid, String(i % availableParallelism()))) &&
            pin(process.pid, "0-1"))

      let pass: Measurement | undefined
      let fail: Measurement | undefined
      let size = start
      while (size <= limit) {
        yield* crowd.shrink(size)
        yield* crowd.grow(size)
        const m = yield* measure(crowd, send, workerPids)
        line("step", m)
        if (!m.ok) {
          fail = m
          break
        }
        pass = m
        size = Math.round(size * 1.5)
      }
      let low = pass?.listeners ?? 0
      let high = fail?.listeners ?? low
      while (fail !== undefined && high - low > Math.max(50, low * 0.08)) {
        const mid = Math.round((low + high) / 2)
        yield* crowd.shrink(mid)
        yield* crowd.grow(mid)
        const m = yield* measure(crowd, send, workerPids)
        line("bisect", m)
        if (m.ok) {
          pass = m
          low = mid
        } else high = mid
      }
      yield* crowd.shrink(0)
      return { best: pass, hitLimit: fail === undefined, pinned }
    })
  ).pipe(Effect.provide(layer))
}

const main = Effect.gen(function* () {
  if (!existsSync(mediasoup.workerBin)) {
    console.error(missingWorkerMessage())
    process.exit(1)
  }
  console.log(
    `fan-out: 1 speaker, ${PACKETS_PER_SECOND} packets/s of ${PAYLOAD_BYTES}-byte Opus payloads, ` +
      `${MEASURE_PACKETS} packets per measurement; ${availableParallelism()} cores, load ${loadavg()[0]?.toFixed(2)}`
  )
  console.log("one worker:")
  const one = yield* capacity(1, 600, 10000)
  console.log("two workers (pipeToRouter, audience split evenly):")
  const two = yield* capacity(2, Math.max(600, Math.round((one.best?.listeners ?? 600) * 1.2)), 20000)

  const row = (label: string, r: typeof one) =>
    `| ${label.padEnd(28)} | ${String(r.best?.listeners ?? 0).padStart(9)}${r.hitLimit ? "+" : " "} | ` +
    `${(r.best?.workerCpu ?? [])
      .map((c) => c.toFixed(2))
      .join(" + ")
      .padStart(11)} | ${(r.best?.nodeCpu ?? 0).toFixed(2).padStart(8)} | ${r.pinned ? "yes" : "no "} |`
  console.log("\n| configuration                | listeners  | worker cpu  | node cpu | pinned |")
  console.log("|------------------------------|------------|-------------|----------|--------|")
  console.log(row("1 worker", one))
  console.log(row("2 workers + pipeToRouter", two))
  const ratio = (two.best?.listeners ?? 0) / Math.max(1, one.best?.listeners ?? 0)
  console.log(`\nratio two workers / one worker: ${ratio.toFixed(2)} (baseline measured in this run)`)
  console.log(
    "cpu = cores used during the measurement (1.00 = one core); '+' = search limit reached without failure"
  )
})

Effect.runPromise(main).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
