import { existsSync } from "node:fs"
import { EventStore, evolve, initialSpaceState, SpaceEvent, type SpaceState, UserId } from "@spaces/domain"
import { eventStoreLayer } from "@spaces/eventstore"
import { Effect, HashMap, Schema, Stream } from "effect"
import * as mediasoup from "mediasoup"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Answer, client, eventually, openSse, request } from "../http/harness.js"
import { type Cluster, type Node, startCluster } from "./cluster.js"

const GRACE_MS = 4_000

const newSpace = (spaceId: string, title = "Across nodes") => ({
  spaceId,
  title,
  topics: [],
  speakPolicy: "everyone",
  recording: false,
  captions: false
})

/** The whole log, read from the store itself (not through any node). */
const readLog = (cluster: Cluster) =>
  Effect.runPromise(
    Effect.flatMap(EventStore, (store) => Stream.runCollect(store.readAll(0))).pipe(
      Effect.map((chunk) => [...chunk]),
      Effect.provide(
        eventStoreLayer(
          cluster.postgresUrl === ""
            ? { kind: "sqlite", path: cluster.sqlitePath, synchronous: "normal" }
            : { kind: "postgres", connectionString: cluster.postgresUrl }
        )
      ),
      Effect.scoped
    )
  )

/**
 * People join every room at once, each join through another node, several rounds; then the global
 * log is replayed in commit order and "in at most one live Space" checked after every event.
 */
const concurrentJoins = async (cluster: Cluster, prefix: string) => {
  const nodes = cluster.nodes
  const rooms = [0, 1, 2].map((i) => `${prefix}-${i}`)
  for (const [i, room] of rooms.entries()) {
    const host = await client(nodes[i % nodes.length]!.url, `${prefix}-host-${i}`)
    expect((await host.call("POST", "/v1/spaces", newSpace(room))).status).toBe(201)
  }
  const people = Array.from({ length: 4 }, (_, i) => `${prefix}-p${i}`)
  const answers: Array<Answer> = []
  for (let round = 0; round < 5; round++) {
    await Promise.all(
      people.flatMap((person, p) =>
        rooms.map(async (room, r) => {
          const node = nodes[(r + p + round) % nodes.length]!
          const me = await client(node.url, person)
          answers.push(await me.call("POST", `/v1/spaces/${room}/join`))
        })
      )
    )
  }
  // A join may lose a race (409 concurrency); none may fail otherwise.
  for (const answer of answers) expect([200, 409]).toContain(answer.status)
  expect(answers.filter((x) => x.status === 200).length).toBeGreaterThan(0)
  const log = await readLog(cluster)
  const states = new Map<string, SpaceState>()
  let checked = 0
  for (const recorded of log) {
    if (!recorded.streamId.startsWith(`space-${prefix}-`)) continue
    const event = Schema.decodeUnknownSync(SpaceEvent)(recorded.data)
    states.set(recorded.streamId, evolve(states.get(recorded.streamId) ?? initialSpaceState, event))
    for (const person of people) {
      const liveIn = [...states.values()].filter(
        (st) => st.status === "live" && HashMap.has(st.participants, UserId.make(person))
      )
      expect(liveIn.length, `${person} after position ${recorded.position}`).toBeLessThanOrEqual(1)
    }
    checked++
  }
  expect(checked).toBeGreaterThan(people.length * 3)
}

describe.skipIf(!existsSync(mediasoup.workerBin))("three nodes, one log, one broker", () => {
  let cluster: Cluster
  let a: Node
  let b: Node
  let c: Node
  beforeAll(async () => {
    cluster = await startCluster({
      names: ["a", "b", "c"],
      mediaPortBase: 41_000,
      env: { SPACES_DISCONNECT_GRACE_MS: String(GRACE_MS) }
    })
    ;[a, b, c] = cluster.nodes as [Node, Node, Node]
  })
  afterAll(() => cluster?.stop())

  it("a reaction sent on C reaches a live stream on A; the log written on A reaches a stream on B", async () => {
    const host = await client(a.url, "r-host")
    const listener = await client(c.url, "r-listener")
    expect((await host.call("POST", "/v1/spaces", newSpace("r-1"))).status).toBe(201)
    const onA = await openSse(`${a.url}/v1/spaces/r-1/live`, { authorization: `Bearer ${host.token}` })
    const onB = await openSse(`${b.url}/v1/spaces/r-1/live`, { authorization: `Bearer ${listener.token}` })
    try {
      const joined = await listener.call("POST", "/v1/spaces/r-1/join")
      expect(joined.status).toBe(200)
      // Node B learns of the join (written on C) from the shared log.
      await onB.next(
        (e) => e.event === "space" && (e.data as { type: string }).type === "ListenerJoined",
        10_000
      )
      // C checks the room on its own (from the log) before it broadcasts.
      await eventually(
        () => listener.call("POST", "/v1/spaces/r-1/reactions", { emoji: "🔥" }),
        (r) => r.status === 202,
        10_000
      )
      const reaction = await onA.next((e) => e.event === "reaction", 10_000)
      expect(reaction.data).toMatchObject({ spaceId: "r-1", user: "r-listener", emoji: "🔥" })
      // The listener's own stream (on B) hears it too, once.
      await onB.next((e) => e.event === "reaction", 10_000)
      expect(onB.events.filter((e) => e.event === "reaction")).toHaveLength(
        onA.events.filter((e) => e.event === "reaction").length
      )
    } finally {
      onA.close()
      onB.close()
    }
  })

  it("one Space's audio across nodes: speaker on A, listeners on B and C; a mute on B and a removal on C reach A", async () => {
    const host = await client(a.url, "m-host")
    const speakerOnA = await client(a.url, "m-spk")
    const ok = async (answer: Promise<Answer>) => {
      const x = await answer
      expect(x.status, x.text).toBeLessThan(300)
      return x
    }
    await ok(host.call("POST", "/v1/spaces", newSpace("m-1")))
    await ok(speakerOnA.call("POST", "/v1/spaces/m-1/join"))
    await ok(host.call("POST", "/v1/spaces/m-1/speaker-invitations", { user: "m-spk" }))
    await ok(speakerOnA.call("POST", "/v1/spaces/m-1/speaker-invitations/accept"))
    await ok(speakerOnA.call("POST", "/v1/spaces/m-1/speakers/m-spk/unmute"))
    const lb = await client(b.url, "m-lb")
    const lc = await client(c.url, "m-lc")
    await ok(lb.call("POST", "/v1/spaces/m-1/join"))
    await ok(lc.call("POST", "/v1/spaces/m-1/join"))
    // Everyone holds the room's live stream on their node, as a browser does (presence).
    const streams = await Promise.all(
      (
        [
          [host, a],
          [speakerOnA, a],
          [lb, b],
          [lc, c]
        ] as const
      ).map(([who, node]) =>
        openSse(`${node.url}/v1/spaces/m-1/live`, { authorization: `Bearer ${who.token}` })
      )
    )
    // Every node opens the room from the log.
    for (const [who, node] of [
      [speakerOnA, a],
      [lb, b],
      [lc, c]
    ] as const) {
      const caps = await eventually(
        () => request(node.url, "GET", "/v1/spaces/m-1/media/capabilities", { token: who.token }),
        (x) => x.status === 200,
        20_000
      )
      expect(caps.status).toBe(200)
    }
    // The speaker publishes on A (plain RTP, the browser's role), unmuted: RTP flows.
    const { producerId } = await a.ask<{ producerId: string }>({
      op: "speak",
      spaceId: "m-1",
      user: "m-spk",
      ssrc: 7001
    })
    // B's listeners see A's producer in the room's list (the directory), and consume it on B.
    const listed = await eventually(
      () => request(b.url, "GET", "/v1/spaces/m-1/media/producers", { token: lb.token }),
      (x) => JSON.stringify(x.body).includes(producerId),
      10_000
    )
    expect(JSON.stringify(listed.body)).toContain(producerId)
    const onB = await b.ask<{ listener: string }>({ op: "listen", spaceId: "m-1", user: "m-lb", producerId })
    const onC = await c.ask<{ listener: string }>({ op: "listen", spaceId: "m-1", user: "m-lc", producerId })
    const received = (node: Node, listener: string) =>
      node.ask<{ packets: number }>({ op: "received", listener }).then((r) => r.packets)
    const flowing = async (node: Node, listener: string) => {
      const before = await received(node, listener)
      const after = await eventually(
        () => received(node, listener),
        (n) => n >= before + 10,
        10_000
      )
      return after >= before + 10
    }
    expect(await flowing(b, onB.listener)).toBe(true)
    expect(await flowing(c, onC.listener)).toBe(true)
    // Each edge got one pipe from A, whatever its listeners.
    const pipesOut = await a.ask<Array<unknown>>({ op: "pipeOuts" })
    expect(pipesOut).toHaveLength(2)

    // A mute by the host, sent to B: A pauses the producer, and C's listener stops receiving.
    await ok(request(b.url, "POST", "/v1/spaces/m-1/speakers/m-spk/mute", { token: host.token }))
    const paused = await eventually(
      () => a.ask<Array<{ producerId: string; paused: boolean }>>({ op: "producers", spaceId: "m-1" }),
      (list) => list.some((p) => p.producerId === producerId && p.paused),
      5_000
    )
    expect(paused.find((p) => p.producerId === producerId)?.paused).toBe(true)
    const stopped = await eventually(
      async () => {
        const first = await received(c, onC.listener)
        await new Promise((r) => setTimeout(r, 300))
        return (await received(c, onC.listener)) - first
      },
      (delta) => delta === 0,
      5_000
    )
    expect(stopped).toBe(0)
    // Unmuted (by the speaker, on A): it flows again to C.
    await ok(speakerOnA.call("POST", "/v1/spaces/m-1/speakers/m-spk/unmute"))
    expect(await flowing(c, onC.listener)).toBe(true)

    // The host removes the speaker through C: A closes the speaker's media, the edges' pipes close.
    await ok(request(c.url, "DELETE", "/v1/spaces/m-1/participants/m-spk", { token: host.token }))
    const gone = await eventually(
      () => a.ask<Array<{ producerId: string }>>({ op: "producers", spaceId: "m-1" }),
      (list) => !list.some((p) => p.producerId === producerId),
      5_000
    )
    expect(gone.some((p) => p.producerId === producerId)).toBe(false)
    const closedOut = await eventually(
      () => a.ask<Array<unknown>>({ op: "pipeOuts" }),
      (list) => list.length === 0,
      5_000
    )
    expect(closedOut).toHaveLength(0)
    const edgesOnB = await eventually(
      () => b.ask<Array<unknown>>({ op: "edgePipes" }),
      (list) => list.length === 0,
      5_000
    )
    expect(edgesOnB).toHaveLength(0)
    // B's listener stream was told of the track's end by A (the origin's track events).
    await streams[2]!.next(
      (e) => e.event === "media" && JSON.stringify(e.data).includes("ProducerClosed"),
      5_000
    )
    for (const stream of streams) stream.close()
  })

  it("concurrent joins of one user on different nodes never leave them in two live Spaces", async () => {
    await concurrentJoins(cluster, "j")
  })

  it("SIGKILL of node B: its listeners resume on A or C, the Space goes on, nothing acknowledged is lost", async () => {
    const host = await client(a.url, "k-host")
    expect((await host.call("POST", "/v1/spaces", newSpace("k-1"))).status).toBe(201)
    const names = ["k-l0", "k-l1", "k-l2"]
    const onB = await Promise.all(
      names.map(async (name) => {
        const me = await client(b.url, name)
        expect((await me.call("POST", "/v1/spaces/k-1/join")).status).toBe(200)
        const stream = await openSse(`${b.url}/v1/spaces/k-1/live`, { authorization: `Bearer ${me.token}` })
        await stream.next((e) => e.event === "space", 10_000)
        return { me, stream }
      })
    )
    // Posts through B until it dies: the ones answered 201 are acknowledged.
    const acked: Array<string> = []
    let dead = false
    const poster = (async () => {
      const me = onB[0]!.me
      for (let i = 0; !dead && i < 10_000; i++) {
        const text = `post ${i}`
        const answer = await me.call("POST", "/v1/spaces/k-1/posts", { text }).catch(() => undefined)
        if (answer?.status === 201) acked.push(text)
        else if (answer === undefined) return
      }
    })()
    await eventually(
      async () => acked.length,
      (n) => n >= 10,
      10_000
    )
    const exited = new Promise((done) => b.child.once("exit", done))
    b.child.kill("SIGKILL")
    dead = true
    await exited
    await poster
    expect(acked.length).toBeGreaterThanOrEqual(10)

    // Two listeners reconnect to another node (as the web client does with several origins), from
    // the last event they saw; the third does not come back.
    const resumed = await Promise.all(
      onB.slice(0, 2).map(async ({ me, stream }, i) => {
        stream.close()
        const node = i === 0 ? a : c
        const last = stream.events.filter((e) => e.id !== undefined).at(-1)?.id ?? "0"
        return openSse(`${node.url}/v1/spaces/k-1/live`, {
          authorization: `Bearer ${me.token}`,
          "last-event-id": last
        })
      })
    )
    onB[2]!.stream.close()
    try {
      // The Space goes on: a post by the host on A reaches a resumed stream on C.
      expect((await host.call("POST", "/v1/spaces/k-1/posts", { text: "still here" })).status).toBe(201)
      await resumed[1]!.next(
        (e) => e.event === "space" && JSON.stringify(e.data).includes("still here"),
        10_000
      )
      // Every acknowledged post is in the log.
      const history = await host.call("GET", "/v1/spaces/k-1/events?limit=1000")
      const texts = (history.body as Array<{ event: { _tag: string; text?: string } }>)
        .filter((e) => e.event._tag === "PostPublished")
        .map((e) => e.event.text)
      for (const text of acked) expect(texts).toContain(text)

      // B's connections stop counting when its heartbeat lapses: the listener who did not come
      // back is left after the grace (reason "disconnected"); the resumed ones stay.
      const left = await eventually(
        async () => {
          const events = await host.call("GET", "/v1/spaces/k-1/events?limit=1000")
          return (events.body as Array<{ event: { _tag: string; user?: string; reason?: string } }>)
            .map((e) => e.event)
            .filter((e) => e._tag === "ParticipantLeft")
        },
        (l) => l.length > 0,
        30_000
      )
      expect(left.map((e) => [e.user, e.reason])).toEqual([["k-l2", "disconnected"]])
      const view = await host.call("GET", "/v1/spaces/k-1")
      const participants = JSON.stringify(view.body)
      expect(participants).toContain("k-l0")
      expect(participants).toContain("k-l1")
    } finally {
      for (const s of resumed) s.close()
    }
  })
})

/** Node processes of one host sharing the SQLite file (WAL; each wakes on the others' commits). */
describe.skipIf(!existsSync(mediasoup.workerBin))("two nodes on one shared SQLite file", () => {
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await startCluster({
      names: ["s", "t"],
      mediaPortBase: 41_800,
      store: "sqlite",
      env: { SPACES_MEDIA: "off" }
    })
  })
  afterAll(() => cluster?.stop())

  it("a join written through one node reaches a stream on the other; a reaction crosses back", async () => {
    const [s, t] = cluster.nodes as [Node, Node]
    const host = await client(s.url, "q-host")
    const listener = await client(t.url, "q-listener")
    expect((await host.call("POST", "/v1/spaces", newSpace("q-1"))).status).toBe(201)
    const onS = await openSse(`${s.url}/v1/spaces/q-1/live`, { authorization: `Bearer ${host.token}` })
    try {
      const joined = await eventually(
        () => listener.call("POST", "/v1/spaces/q-1/join"),
        (x) => x.status === 200,
        10_000
      )
      expect(joined.status).toBe(200)
      await onS.next((e) => e.event === "space" && JSON.stringify(e.data).includes("ListenerJoined"), 10_000)
      expect((await listener.call("POST", "/v1/spaces/q-1/reactions", { emoji: "👏" })).status).toBe(202)
      await onS.next((e) => e.event === "reaction", 10_000)
    } finally {
      onS.close()
    }
  })

  it("concurrent joins through both nodes never leave a user in two live Spaces", async () => {
    await concurrentJoins(cluster, "sq")
  })
})
