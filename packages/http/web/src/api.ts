/**
 * Every call the page makes to the server, in one place. Each names its route as the server's
 * registry does (`routes.gen.ts`, generated from it): a route that moves or goes away fails this
 * file's typecheck, and a call can't use another method than the route's.
 * Commands carry an Idempotency-Key so that a retried click is answered, not applied twice.
 */
import type { types as ms } from "mediasoup-client"
import { refreshSession } from "./oidc.js"
import { currentSession } from "./session.js"
import type { RouteKey } from "./routes.gen.js"
import { openEventStream, type ServerEvent } from "./sse.js"
import type {
  CreatorView,
  FeedEntry,
  LoggedEvent,
  NotificationsPage,
  Problem,
  Recording,
  RoomView,
  SearchResults,
  SpeakPolicy,
  TopicView
} from "./types.js"

/** An answer of the API that is not a success, with its problem document when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem
  ) {
    super(problem.detail ?? problem.title ?? `The server answered ${status}`)
  }
  /** The problem's stable type (the last segment of its type URI), e.g. "banned-from-space". */
  get kind(): string {
    return (this.problem.type ?? "").split(/[/#]/).pop() ?? ""
  }
}

const authHeaders = (): Record<string, string> => {
  const session = currentSession()
  return session === null ? {} : { authorization: `Bearer ${session.token}` }
}

/** The log position of this tab's latest command: views read later include it (read your writes). */
let written = 0

const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const headers: Record<string, string> = { accept: "application/json" }
  if (method !== "GET") headers["idempotency-key"] = crypto.randomUUID()
  if (body !== undefined) headers["content-type"] = "application/json"
  // The token is read at each send: a retry after a refresh carries the new one.
  const send = () =>
    fetch(path, {
      method,
      headers: { ...headers, ...authHeaders() },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
  let response = await send()
  // The provider's access token expired (a sleeping laptop, a late timer): refresh once and retry.
  if (response.status === 401 && currentSession()?.kind === "oidc" && (await refreshSession()))
    response = await send()
  // Rate limited: wait as told (bounded) and retry once; the same idempotency key makes it safe.
  if (response.status === 429) {
    const seconds = Math.min(Number(response.headers.get("retry-after") ?? "1") || 1, 5)
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
    response = await send()
  }
  const text = await response.text()
  const parsed: unknown = text === "" ? undefined : JSON.parse(text)
  if (!response.ok) throw new ApiError(response.status, (parsed ?? {}) as Problem)
  const position = (parsed as { position?: unknown } | undefined)?.position
  if (method !== "GET" && typeof position === "number") written = Math.max(written, position)
  return parsed as T
}

/** What every command answers: its events and the log position a later read can wait for. */
export interface CommandResult {
  readonly events: ReadonlyArray<{ readonly _tag: string }>
  readonly revision: number
  readonly position: number
}

type MethodOf<K extends RouteKey> = K extends `${infer M} ${string}` ? M : never
type PathOf<K extends RouteKey> = K extends `${string} ${infer P}` ? P : never
type NamesIn<P extends string> = P extends `${string}:${infer N}/${infer Rest}`
  ? N | NamesIn<Rest>
  : P extends `${string}:${infer N}`
    ? N
    : never
/** A route's path parameters, by the names its path gives them. */
type Params<K extends RouteKey> = { readonly [N in NamesIn<PathOf<K>>]: string }

/** A call's method and URL, from the route table. */
interface Target<M extends string> {
  readonly method: M
  readonly url: string
}

/** The route `key` with its parameters filled in (encoded), and an optional query. */
const at = <K extends RouteKey>(
  key: K,
  params: Params<K>,
  query?: Readonly<Record<string, string | number | undefined>>
): Target<MethodOf<K>> => {
  const space = key.indexOf(" ")
  const path = key
    .slice(space + 1)
    .replace(/:(\w+)/g, (_, name: string) =>
      encodeURIComponent((params as Record<string, string>)[name] ?? "")
    )
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(query ?? {}))
    if (value !== undefined && value !== "") search.set(name, String(value))
  const text = search.toString()
  return { method: key.slice(0, space) as MethodOf<K>, url: text === "" ? path : `${path}?${text}` }
}

const get = <T>(t: Target<"GET">) => request<T>("GET", t.url)
const post = <T = CommandResult>(t: Target<"POST">, body?: unknown) => request<T>("POST", t.url, body ?? {})
const put = (t: Target<"PUT">, body?: unknown) => request<CommandResult>("PUT", t.url, body ?? {})
const patch = (t: Target<"PATCH">, body: unknown) => request<CommandResult>("PATCH", t.url, body)
const del = <T = CommandResult>(t: Target<"DELETE">) => request<T>("DELETE", t.url)
/**
 * `minPosition=N`: the server answers once its views include that position, at least this tab's
 * own latest write, so a view read after a command shows the command's effect.
 */
const view = <K extends RouteKey>(
  key: K,
  params: Params<K>,
  query: Readonly<Record<string, string | number | undefined>> = {},
  minPosition = 0
) => {
  const after = Math.max(minPosition, written)
  return at(key, params, { ...query, minPosition: after === 0 ? undefined : after })
}

// Sign-in (development) and people
export const devToken = (userId: string) =>
  post<{ token: string }>(at("POST /v1/dev/token", {}), { user: userId })
export const follow = (user: string) => put(at("PUT /v1/me/following/:user", { user }))
export const unfollow = (user: string) => del(at("DELETE /v1/me/following/:user", { user }))

// What people see
export const feed = () => get<ReadonlyArray<FeedEntry>>(view("GET /v1/feed", {}))
export const topics = () => get<ReadonlyArray<string>>(at("GET /v1/topics", {}))
export const topic = (slug: string) => get<TopicView>(view("GET /v1/topics/:topic", { topic: slug }))
export const search = (query: { readonly text?: string; readonly topic?: string }) =>
  get<SearchResults>(view("GET /v1/search", {}, { q: query.text, topic: query.topic }))
export const creator = (user: string) => get<CreatorView>(view("GET /v1/creators/:user", { user }))
export const room = (spaceId: string, minPosition?: number) =>
  get<RoomView>(view("GET /v1/spaces/:spaceId", { spaceId }, {}, minPosition))
/** The whole log, page by page (a page shorter than the limit is the last). */
export const events = async (spaceId: string): Promise<ReadonlyArray<LoggedEvent>> => {
  const limit = 1000
  const all: Array<LoggedEvent> = []
  for (;;) {
    const after = all.length === 0 ? 0 : all[all.length - 1]!.position
    const page = await get<ReadonlyArray<LoggedEvent>>(
      at("GET /v1/spaces/:spaceId/events", { spaceId }, { after, limit })
    )
    all.push(...page)
    if (page.length < limit) return all
  }
}
export const stateAt = (spaceId: string, position: number) =>
  get<{ readonly revision: number; readonly state: Record<string, unknown> }>(
    at("GET /v1/spaces/:spaceId/state", { spaceId }, { position })
  )
export interface TranscriptSegment {
  readonly speaker: string
  readonly text: string
  readonly startMs: number
  readonly endMs: number
  readonly position: number
}
/** The Space's caption segments, times on its timeline (ms since it went live). */
export const transcript = (spaceId: string) =>
  get<{ readonly startedAt: number | null; readonly segments: ReadonlyArray<TranscriptSegment> }>(
    at("GET /v1/spaces/:spaceId/transcript", { spaceId })
  )
/** The Space's recording for the replay, or null when it was not recorded. */
export const recording = (spaceId: string): Promise<Recording | null> =>
  get<Recording>(at("GET /v1/spaces/:spaceId/recording", { spaceId })).catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 404) return null
    throw e
  })

// Lifecycle
export interface NewSpace {
  readonly title: string
  readonly topics: ReadonlyArray<string>
  readonly speakPolicy: SpeakPolicy
  readonly recording: boolean
  readonly captions: boolean
  /** Milliseconds since the epoch; absent: start now. */
  readonly scheduledFor?: number
}
/** The page names the new Space itself, so the answer needs no parsing to know where to go. */
export const createSpace = (input: NewSpace) => {
  const spaceId = `s_${crypto.randomUUID()}`
  return post(at("POST /v1/spaces", {}), { ...input, spaceId }).then((result) => ({ ...result, spaceId }))
}
export const startSpace = (spaceId: string) => post(at("POST /v1/spaces/:spaceId/start", { spaceId }))
export const cancelSpace = (spaceId: string) => post(at("POST /v1/spaces/:spaceId/cancel", { spaceId }))
export const endSpace = (spaceId: string) => post(at("POST /v1/spaces/:spaceId/end", { spaceId }))
export const setReminder = (spaceId: string) => put(at("PUT /v1/spaces/:spaceId/reminder", { spaceId }))
export const editSpace = (
  spaceId: string,
  change: { readonly title?: string; readonly topics?: ReadonlyArray<string> }
) => patch(at("PATCH /v1/spaces/:spaceId", { spaceId }), change)
export const setSpeakPolicy = (spaceId: string, speakPolicy: SpeakPolicy) =>
  put(at("PUT /v1/spaces/:spaceId/speak-policy", { spaceId }), { speakPolicy })
export const setRecording = (spaceId: string, recording: boolean) =>
  put(at("PUT /v1/spaces/:spaceId/recording", { spaceId }), { recording })
export const setCaptions = (spaceId: string, captions: boolean) =>
  put(at("PUT /v1/spaces/:spaceId/captions", { spaceId }), { captions })

// Being in the room
export const join = (spaceId: string) => post(at("POST /v1/spaces/:spaceId/join", { spaceId }))
export const leave = (spaceId: string) => post(at("POST /v1/spaces/:spaceId/leave", { spaceId }))
export const raiseHand = (spaceId: string) => post(at("POST /v1/spaces/:spaceId/hand", { spaceId }))
export const lowerHand = (spaceId: string) => del(at("DELETE /v1/spaces/:spaceId/hand", { spaceId }))
export const approve = (spaceId: string, user: string) =>
  post(at("POST /v1/spaces/:spaceId/requests/:user/approve", { spaceId, user }))
export const decline = (spaceId: string, user: string) =>
  post(at("POST /v1/spaces/:spaceId/requests/:user/decline", { spaceId, user }))
export const inviteSpeaker = (spaceId: string, user: string) =>
  post(at("POST /v1/spaces/:spaceId/speaker-invitations", { spaceId }), { user })
export const answerSpeakerInvite = (spaceId: string, accept: boolean) =>
  post(
    accept
      ? at("POST /v1/spaces/:spaceId/speaker-invitations/accept", { spaceId })
      : at("POST /v1/spaces/:spaceId/speaker-invitations/decline", { spaceId })
  )
export const inviteCoHost = (spaceId: string, user: string) =>
  post(at("POST /v1/spaces/:spaceId/cohost-invitations", { spaceId }), { user })
export const answerCoHostInvite = (spaceId: string, accept: boolean) =>
  post(
    accept
      ? at("POST /v1/spaces/:spaceId/cohost-invitations/accept", { spaceId })
      : at("POST /v1/spaces/:spaceId/cohost-invitations/decline", { spaceId })
  )
export const removeCoHost = (spaceId: string, user: string) =>
  del(at("DELETE /v1/spaces/:spaceId/cohosts/:user", { spaceId, user }))
export const stepDown = (spaceId: string) => post(at("POST /v1/spaces/:spaceId/step-down", { spaceId }))
export const mute = (spaceId: string, user: string) =>
  post(at("POST /v1/spaces/:spaceId/speakers/:user/mute", { spaceId, user }))
export const unmute = (spaceId: string, user: string) =>
  post(at("POST /v1/spaces/:spaceId/speakers/:user/unmute", { spaceId, user }))
export const muteAll = (spaceId: string) => post(at("POST /v1/spaces/:spaceId/mute-all", { spaceId }))
export const remove = (spaceId: string, user: string) =>
  del(at("DELETE /v1/spaces/:spaceId/participants/:user", { spaceId, user }))
export const react = (spaceId: string, emoji: string) =>
  post<undefined>(at("POST /v1/spaces/:spaceId/reactions", { spaceId }), { emoji })
export const publishPost = (spaceId: string, text: string) =>
  post(at("POST /v1/spaces/:spaceId/posts", { spaceId }), { text })
export const pinPost = (spaceId: string, postId: string) =>
  put(at("PUT /v1/spaces/:spaceId/pinned-post", { spaceId }), { postId })
export const unpinPost = (spaceId: string) => del(at("DELETE /v1/spaces/:spaceId/pinned-post", { spaceId }))

// Media signalling (mediasoup-client's side of packages/media)
export const rtpCapabilities = (spaceId: string) =>
  get<{ rtpCapabilities: ms.RtpCapabilities }>(
    at("GET /v1/spaces/:spaceId/media/capabilities", { spaceId })
  ).then((r) => r.rtpCapabilities)
export const createTransport = (spaceId: string, direction: "send" | "recv") =>
  post<WebRtcTransportInfo>(at("POST /v1/spaces/:spaceId/media/transports", { spaceId }), { direction })
export const connectTransport = (spaceId: string, transportId: string, dtlsParameters: ms.DtlsParameters) =>
  post<undefined>(
    at("POST /v1/spaces/:spaceId/media/transports/:transportId/connect", { spaceId, transportId }),
    {
      dtlsParameters
    }
  )
/** mediasoup-client 3.18 adds `msid`, which the 3.12 server neither knows nor accepts: left out. */
export const produce = (spaceId: string, transportId: string, rtpParameters: ms.RtpParameters) => {
  const { msid: _unknownToServer, ...known } = rtpParameters
  return post<{ producerId: string }>(at("POST /v1/spaces/:spaceId/media/produce", { spaceId }), {
    transportId,
    rtpParameters: known
  })
}
export const consume = (
  spaceId: string,
  transportId: string,
  producerId: string,
  rtpCapabilities: ms.RtpCapabilities
) =>
  post<ConsumerInfo>(at("POST /v1/spaces/:spaceId/media/consume", { spaceId }), {
    transportId,
    producerId,
    rtpCapabilities
  })
export const resumeConsumer = (spaceId: string, consumerId: string) =>
  post<undefined>(at("POST /v1/spaces/:spaceId/media/consumers/:consumerId/resume", { spaceId, consumerId }))
export const closeTransport = (spaceId: string, transportId: string) =>
  del<undefined>(at("DELETE /v1/spaces/:spaceId/media/transports/:transportId", { spaceId, transportId }))
export const producers = (spaceId: string) =>
  get<ReadonlyArray<{ producerId: string; userId: string; paused: boolean }>>(
    at("GET /v1/spaces/:spaceId/media/producers", { spaceId })
  )

export interface WebRtcTransportInfo {
  readonly transportId: string
  readonly iceParameters: ms.IceParameters
  readonly iceCandidates: Array<ms.IceCandidate>
  readonly dtlsParameters: ms.DtlsParameters
}
export interface ConsumerInfo {
  readonly consumerId: string
  readonly producerId: string
  readonly userId: string
  readonly kind: "audio" | "video"
  readonly rtpParameters: ms.RtpParameters
}

// Live updates
export type LiveHandlers = Pick<Parameters<typeof openEventStream>[1], "signal" | "onState" | "onFatal"> & {
  readonly onEvent: (event: ServerEvent) => void
}
const live = (t: Target<"GET">, handlers: LiveHandlers) =>
  openEventStream(t.url, { ...handlers, headers: authHeaders })
export const liveFeed = (handlers: LiveHandlers) => live(at("GET /v1/feed/live", {}), handlers)
/** Starts after `after` (the rendered room view's position) rather than with the Space's whole past. */
export const liveRoom = (spaceId: string, after: number, handlers: LiveHandlers) =>
  live(at("GET /v1/spaces/:spaceId/live", { spaceId }, { after }), handlers)

// Notifications
export const notifications = (before?: number) =>
  get<NotificationsPage>(view("GET /v1/me/notifications", {}, { limit: 20, before }))
export const markNotificationsRead = (upTo: number) =>
  post<{ readUpTo: number; unread: number; position: number }>(at("POST /v1/me/notifications/read", {}), {
    upTo
  })
/** `unread` ({unread, readUpTo}) on open and on change, and each new `notification`. */
export const liveNotifications = (handlers: LiveHandlers) =>
  live(at("GET /v1/me/notifications/live", {}), handlers)
/** The server's VAPID public key (503 `push-not-configured` when it has none). */
export const pushKey = () => get<{ publicKey: string }>(at("GET /v1/push/key", {}))
export const subscribePush = (subscription: PushSubscriptionJSON) =>
  post<{ endpoint: string; position: number }>(at("POST /v1/me/push-subscriptions", {}), subscription)
