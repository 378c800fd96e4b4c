/**
 * One speaker's audience across server nodes: the same audience served by one, two and three
 * nodes, the speaker's node (origin) feeding each other node (edge) through one PipeTransport pair
 * (`plane/nodePipes.ts`), and what one edge pipe costs the origin's worker.
 *
 *   npm run bench -- nodes
 *
 * Each "node" is a media plane with one mediasoup worker of its own (the worker, a process, is
 * what forwards RTP; the nodes' Node.js processes only signal), on its own port range; the pipes
 * between them are the real cross-node path (SRTP over UDP on loopback), made by the same calls the
 * server's federation makes. The broker round trip that sets a pipe up is not in the figures (it
 * happens once per edge and Space). Measured as in `fanout.bench.ts`: a fixed audience, 150 packets
 * at 50/s, one listener in 25 received by this process and checked end to end, every other consumer's
 * outbound count read from its worker; worker CPU from /proc over the sending window.
 * NODES_BENCH_LISTENERS sets the audience (default 900).
 */
import { existsSync } from "node:fs"
import { availableParallelism, loadavg } from "node:os"
import type { SpaceId, UserId } from "@spaces/domain"
import { Effect, Layer, type Scope } from "effect"
import * as mediasoup from "mediasoup"
import { MediaInstruction, MediaPlane, type MediaPlaneService, MediaPlaneLive } from "../src/index.js"
import { testAuthority } from "../src/testing/authority.js"
import { opusRtpPacket, opusRtpParameters } from "../src/testing/rtp.js"
import { sleep, udpEndpoint } from "../src/testing/udp.js"
import { missingWorkerMessage } from "../src/workers/workerPool.js"
import { cpuSeconds } from "../../../scripts/bench/procStats.js"

const PACKETS_PER_SECOND = 50
const MEASURE_PACKETS = 150
const SAMPLE_EVERY = 25
const AUDIENCE = Number(process.env.NODES_BENCH_LISTENERS ?? 900)
const space = "bench-nodes" as SpaceId
const host = "host" as UserId

const authority = testAuthority()
authority.speaker(space, host)

/** A node's media plane: one worker, its own port range, in the bench's scope. */
const nodePlane = (index: number, scope: Scope.Scope) =>
  Layer.buildWithScope(
    MediaPlaneLive({
      workers: 1,
      logLevel: "none",
      rtcMinPort: 20_000 + index * 10_000,
      rtcMaxPort: 29_999 + index * 10_000,
      maxConsumersPerRouter: Number.MAX_SAFE_INTEGER
    }).pipe(Layer.provide(authority.layer)),
    scope
  ).pipe(
    Effect.map((context) => {
      const plane = context.unsafeMap.get(MediaPlane.key) as MediaPlaneService
      return plane
    })
  )

/** Pipes the producer from the origin plane to an edge plane, as the federation does over the broker. */
const pipe = (origin: MediaPlaneService, edge: MediaPlaneService, producerId: string) =>
  Effect.gen(function* () {
    const end = yield* edge.openEdgePipe(space)
    const offer = yield* origin.pipeOut(space, producerId, end)
    yield* edge.completeEdgePipe(space, end.pipeId, offer)
    return { edgePipe: end.pipeId, originPipe: offer.pipeId }
  })

const main = Effect.scoped(
  Effect.gen(function* () {
    if (!existsSync(mediasoup.workerBin)) {
      console.error(missingWorkerMessage())
      process.exit(1)
    }
    const scope = yield* Effect.scope
    const nodes = [yield* nodePlane(0, scope), yield* nodePlane(1, scope), yield* nodePlane(2, scope)]
    for (const plane of nodes)
      yield* plane.apply(MediaInstruction.SpaceStarted({ spaceId: space, recording: false }))
    const pidOf = (plane: MediaPlaneService) =>
      Effect.runSync(plane.stats(space).pipe(Effect.orDie)).routers[0]!.workerPid

    // The speaker on node 0 (the origin).
    const origin = nodes[0]!
    const caller = { spaceId: space, userId: host }
    const sendTransport = yield* origin.createPlainTransport(caller, "send")
    const speaker = yield* Effect.promise(() => udpEndpoint())
    yield* origin.connectTransport(caller, sendTransport.transportId, { ip: speaker.ip, port: speaker.port })
    const producer = yield* origin.produce(caller, sendTransport.transportId, opusRtpParameters(4242))
    let sequence = 0
    const send = () =>
      speaker.send(
        opusRtpPacket({ ssrc: 4242, index: sequence++, payloadSize: 100 }),
        sendTransport.ip,
        sendTransport.port
      )

    // Sampled listeners report to one socket (by SSRC); the others send to a port nobody reads.
    const received = new Map<number, number>()
    const sampleSocket = yield* Effect.promise(() => udpEndpoint())
    sampleSocket.socket.removeAllListeners("message")
    sampleSocket.socket.on("message", (message: Buffer) => {
      const payloadType = (message[1] ?? 0) & 0x7f
      if (message.length < 12 || (payloadType >= 72 && payloadType <= 76)) return
      const ssrc = message.readUInt32BE(8)
      received.set(ssrc, (received.get(ssrc) ?? 0) + 1)
    })
    sampleSocket.socket.setRecvBufferSize(4 << 20)
    const sink = yield* Effect.promise(async () => {
      const probe = await udpEndpoint()
      await probe.close()
      return { ip: probe.ip, port: probe.port }
    })

    interface Listener {
      readonly plane: MediaPlaneService
      readonly userId: UserId
      readonly transportId: string
      readonly ssrc: number | undefined
    }
    let next = 0
    const addListeners = (plane: MediaPlaneService, count: number) =>
      Effect.forEach(Array.from({ length: count }), () =>
        Effect.gen(function* () {
          const sampled = next % SAMPLE_EVERY === 0
          const userId = `l-${next++}` as UserId
          authority.listener(space, userId)
          const me = { spaceId: space, userId }
          const transport = yield* plane.createPlainTransport(me, "recv")
          const to = sampled ? sampleSocket : sink
          yield* plane.connectTransport(me, transport.transportId, { ip: to.ip, port: to.port })
          const consumer = yield* plane.consume(
            me,
            transport.transportId,
            producer.producerId,
            yield* plane.rtpCapabilities(me)
          )
          yield* plane.resumeConsumer(me, consumer.consumerId)
          const ssrc = sampled ? consumer.rtpParameters.encodings?.[0]?.ssrc : undefined
          return { plane, userId, transportId: transport.transportId, ssrc } satisfies Listener
        })
      )
    const removeListeners = (listeners: ReadonlyArray<Listener>) =>
      Effect.forEach(
        listeners,
        (l) => l.plane.closeTransport({ spaceId: space, userId: l.userId }, l.transportId),
        {
          discard: true
        }
      )

    /** Sends MEASURE_PACKETS at 50/s; worker CPU per node, packets lost by the sampled listeners. */
    const measure = (listeners: ReadonlyArray<Listener>) =>
      Effect.promise(async () => {
        await sleep(300)
        received.clear()
        const pids = nodes.map(pidOf)
        const before = pids.map(cpuSeconds)
        const started = performance.now()
        for (let i = 0; i < MEASURE_PACKETS; i++) {
          await send()
          const wait = started + ((i + 1) * 1000) / PACKETS_PER_SECOND - performance.now()
          if (wait > 0) await sleep(wait)
        }
        const wall = (performance.now() - started) / 1000
        const sampled = listeners.filter((l) => l.ssrc !== undefined)
        const missing = () =>
          sampled.reduce((sum, l) => sum + Math.max(0, MEASURE_PACKETS - (received.get(l.ssrc!) ?? 0)), 0)
        let last = -1
        for (let waited = 0; waited < 10_000 && missing() > 0 && missing() !== last; waited += 500) {
          last = missing()
          await sleep(500)
        }
        return {
          cpu: pids.map((pid, i) => (cpuSeconds(pid) - before[i]!) / wall),
          lost: missing(),
          sampled: sampled.length
        }
      })

    console.log(
      `nodes: 1 speaker, ${PACKETS_PER_SECOND} packets/s, ${MEASURE_PACKETS} packets per measurement, ` +
        `${AUDIENCE} listeners; ${availableParallelism()} cores, load ${loadavg()[0]?.toFixed(2)}`
    )

    // 1. What one edge pipe costs the origin's worker (and the edge's), with one listener per edge.
    const base = yield* addListeners(origin, 1)
    const m0 = yield* measure(base)
    const pipes = []
    const edgeListeners: Array<Listener> = []
    for (const edge of nodes.slice(1)) {
      pipes.push(yield* pipe(origin, edge, producer.producerId))
      edgeListeners.push(...(yield* addListeners(edge, 1)))
    }
    const m2 = yield* measure([...base, ...edgeListeners])
    const perPipe = (m2.cpu[0]! - m0.cpu[0]!) / 2
    console.log(
      `  origin worker cpu: ${m0.cpu[0]!.toFixed(4)} with no edge, ${m2.cpu[0]!.toFixed(4)} with 2 edges ` +
        `→ ${perPipe.toFixed(4)} of a core per edge pipe (edge workers ${m2.cpu
          .slice(1)
          .map((c) => c.toFixed(4))
          .join(", ")}); lost ${m2.lost}`
    )
    yield* removeListeners([...base, ...edgeListeners])

    // 2. The same audience on one, two and three nodes.
    const rows: Array<{ nodes: number; cpu: ReadonlyArray<number>; lost: number; capacity: number }> = []
    for (const k of [1, 2, 3]) {
      const per = Math.floor(AUDIENCE / k)
      const listeners: Array<Listener> = []
      for (const plane of nodes.slice(0, k)) listeners.push(...(yield* addListeners(plane, per)))
      const m = yield* measure(listeners)
      const busiest = Math.max(...m.cpu.slice(0, k))
      // Listeners the busiest worker could carry at one core, times the nodes (linear in listeners).
      const capacity = Math.round((per / busiest) * k)
      rows.push({ nodes: k, cpu: m.cpu.slice(0, k), lost: m.lost, capacity })
      console.log(
        `  ${k} node(s): ${per * k} listeners, worker cpu ${m.cpu
          .slice(0, k)
          .map((c) => c.toFixed(3))
          .join(" + ")}, ` + `lost ${m.lost} of ${m.sampled * MEASURE_PACKETS} sampled packets`
      )
      yield* removeListeners(listeners)
    }
    const one = rows[0]!.capacity
    console.log(
      "\n| nodes | workers' cpu at this audience | lost | listeners at one core per worker | × one node |"
    )
    console.log("|---|---|---|---|---|")
    for (const r of rows)
      console.log(
        `| ${r.nodes} | ${r.cpu.map((c) => c.toFixed(3)).join(" + ")} | ${r.lost} | ${r.capacity} | ${(r.capacity / one).toFixed(2)} |`
      )
    console.log(`| pipe | ${perPipe.toFixed(4)} of a core per edge pipe at the origin | | | |`)
    yield* Effect.promise(() => speaker.close())
    yield* Effect.promise(() => sampleSocket.close())
    for (const p of pipes) yield* origin.closePipeOut(p.originPipe)
  })
)

Effect.runPromise(main).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
