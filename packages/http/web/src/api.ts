/**
 * Every call the page makes to the server, in one place: a route change touches this file only.
 * Commands carry an Idempotency-Key so that a retried click is answered, not applied twice.
 */
import type { types as ms } from "mediasoup-client"
import { refreshSession } from "./oidc.js"
import { currentSession } from "./session.js"
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
  /** The problem's type name (the last segment of its type URI), e.g. "UserBanned". */
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

const get = <T>(path: string) => request<T>("GET", path)
const post = <T = CommandResult>(path: string, body?: unknown) => request<T>("POST", path, body ?? {})
const put = (path: string, body?: unknown) => request<CommandResult>("PUT", path, body ?? {})
const del = (path: string) => request<CommandResult>("DELETE", path)
/**
 * `minPosition=N`: the server answers once its views include that position, at least this tab's
 * own latest write, so a view read after a command shows the command's effect.
 */
const view = (path: string, minPosition = 0) => {
  const at = Math.max(minPosition, written)
  return at === 0 ? path : `${path}${path.includes("?") ? "&" : "?"}minPosition=${at}`
}
const space = (spaceId: string) => `/v1/spaces/${encodeURIComponent(spaceId)}`

// Sign-in (development) and people
export const devToken = (userId: string) => post<{ token: string }>("/v1/dev/token", { user: userId })
export const follow = (userId: string) => put(`/v1/me/following/${encodeURIComponent(userId)}`)
export const unfollow = (userId: string) => del(`/v1/me/following/${encodeURIComponent(userId)}`)

// What people see
export const feed = () => get<ReadonlyArray<FeedEntry>>(view("/v1/feed"))
export const topics = () => get<ReadonlyArray<string>>("/v1/topics")
export const topic = (slug: string) => get<TopicView>(view(`/v1/topics/${encodeURIComponent(slug)}`))
export const search = (query: { readonly text?: string; readonly topic?: string }) => {
  const params = new URLSearchParams()
  if (query.text) params.set("q", query.text)
  if (query.topic) params.set("topic", query.topic)
  return get<SearchResults>(view(`/v1/search?${params}`))
}
export const creator = (userId: string) =>
  get<CreatorView>(view(`/v1/creators/${encodeURIComponent(userId)}`))
export const room = (spaceId: string, minPosition?: number) =>
  get<RoomView>(view(space(spaceId), minPosition))
/** The whole log, page by page (a page shorter than the limit is the last). */
export const events = async (spaceId: string): Promise<ReadonlyArray<LoggedEvent>> => {
  const limit = 1000
  const all: Array<LoggedEvent> = []
  for (;;) {
    const after = all.length === 0 ? 0 : all[all.length - 1]!.position
    const page = await get<ReadonlyArray<LoggedEvent>>(
      `${space(spaceId)}/events?after=${after}&limit=${limit}`
    )
    all.push(...page)
    if (page.length < limit) return all
  }
}
export const stateAt = (spaceId: string, position: number) =>
  get<{ readonly revision: number; readonly state: Record<string, unknown> }>(
    `${space(spaceId)}/state?position=${position}`
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
    `${space(spaceId)}/transcript`
  )
/** The Space's recording for the replay, or null when it was not recorded. */
export const recording = (spaceId: string): Promise<Recording | null> =>
  get<Recording>(`${space(spaceId)}/recording`).catch((e: unknown) => {
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
  return post("/v1/spaces", { ...input, spaceId }).then((result) => ({ ...result, spaceId }))
}
export const startSpace = (spaceId: string) => post(`${space(spaceId)}/start`)
export const cancelSpace = (spaceId: string) => post(`${space(spaceId)}/cancel`)
export const endSpace = (spaceId: string) => post(`${space(spaceId)}/end`)
export const setReminder = (spaceId: string) => put(`${space(spaceId)}/reminder`)
export const editSpace = (
  spaceId: string,
  change: { readonly title?: string; readonly topics?: ReadonlyArray<string> }
) => request<CommandResult>("PATCH", space(spaceId), change)
export const setSpeakPolicy = (spaceId: string, speakPolicy: SpeakPolicy) =>
  put(`${space(spaceId)}/speak-policy`, { speakPolicy })
export const setRecording = (spaceId: string, recording: boolean) =>
  put(`${space(spaceId)}/recording`, { recording })
export const setCaptions = (spaceId: string, captions: boolean) =>
  put(`${space(spaceId)}/captions`, { captions })

// Being in the room
export const join = (spaceId: string) => post(`${space(spaceId)}/join`)
export const leave = (spaceId: string) => post(`${space(spaceId)}/leave`)
export const raiseHand = (spaceId: string) => post(`${space(spaceId)}/hand`)
export const lowerHand = (spaceId: string) => del(`${space(spaceId)}/hand`)
export const approve = (spaceId: string, userId: string) =>
  post(`${space(spaceId)}/requests/${userId}/approve`)
export const decline = (spaceId: string, userId: string) =>
  post(`${space(spaceId)}/requests/${userId}/decline`)
export const inviteSpeaker = (spaceId: string, userId: string) =>
  post(`${space(spaceId)}/speaker-invitations`, { user: userId })
export const answerSpeakerInvite = (spaceId: string, accept: boolean) =>
  post(`${space(spaceId)}/speaker-invitations/${accept ? "accept" : "decline"}`)
export const inviteCoHost = (spaceId: string, userId: string) =>
  post(`${space(spaceId)}/cohost-invitations`, { user: userId })
export const answerCoHostInvite = (spaceId: string, accept: boolean) =>
  post(`${space(spaceId)}/cohost-invitations/${accept ? "accept" : "decline"}`)
export const removeCoHost = (spaceId: string, userId: string) => del(`${space(spaceId)}/cohosts/${userId}`)
export const stepDown = (spaceId: string) => post(`${space(spaceId)}/step-down`)
export const mute = (spaceId: string, userId: string) => post(`${space(spaceId)}/speakers/${userId}/mute`)
export const unmute = (spaceId: string, userId: string) => post(`${space(spaceId)}/speakers/${userId}/unmute`)
export const muteAll = (spaceId: string) => post(`${space(spaceId)}/mute-all`)
export const remove = (spaceId: string, userId: string) => del(`${space(spaceId)}/participants/${userId}`)
export const react = (spaceId: string, emoji: string) =>
  post<undefined>(`${space(spaceId)}/reactions`, { emoji })
export const publishPost = (spaceId: string, text: string) => post(`${space(spaceId)}/posts`, { text })
export const pinPost = (spaceId: string, postId: string) => put(`${space(spaceId)}/pinned-post`, { postId })
export const unpinPost = (spaceId: string) => del(`${space(spaceId)}/pinned-post`)

// Media signalling (mediasoup-client's side of packages/media)
const media = (spaceId: string) => `${space(spaceId)}/media`
export const rtpCapabilities = (spaceId: string) =>
  get<{ rtpCapabilities: ms.RtpCapabilities }>(`${media(spaceId)}/capabilities`).then(
    (r) => r.rtpCapabilities
  )
export const createTransport = (spaceId: string, direction: "send" | "recv") =>
  post<WebRtcTransportInfo>(`${media(spaceId)}/transports`, { direction })
export const connectTransport = (spaceId: string, transportId: string, dtlsParameters: ms.DtlsParameters) =>
  post<undefined>(`${media(spaceId)}/transports/${transportId}/connect`, { dtlsParameters })
/** mediasoup-client 3.18 adds `msid`, which the 3.12 server neither knows nor accepts: left out. */
export const produce = (spaceId: string, transportId: string, rtpParameters: ms.RtpParameters) => {
  const { msid: _unknownToServer, ...known } = rtpParameters
  return post<{ producerId: string }>(`${media(spaceId)}/produce`, { transportId, rtpParameters: known })
}
export const consume = (
  spaceId: string,
  transportId: string,
  producerId: string,
  rtpCapabilities: ms.RtpCapabilities
) => post<ConsumerInfo>(`${media(spaceId)}/consume`, { transportId, producerId, rtpCapabilities })
export const resumeConsumer = (spaceId: string, consumerId: string) =>
  post<undefined>(`${media(spaceId)}/consumers/${consumerId}/resume`)
export const closeTransport = (spaceId: string, transportId: string) =>
  request<undefined>("DELETE", `${media(spaceId)}/transports/${transportId}`)
export const producers = (spaceId: string) =>
  get<ReadonlyArray<{ producerId: string; userId: string; paused: boolean }>>(`${media(spaceId)}/producers`)

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
export const liveFeed = (handlers: LiveHandlers) =>
  openEventStream("/v1/feed/live", { ...handlers, headers: authHeaders })
/** Starts after `after` (the rendered room view's position) rather than with the Space's whole past. */
export const liveRoom = (spaceId: string, after: number, handlers: LiveHandlers) =>
  openEventStream(`${space(spaceId)}/live?after=${after}`, { ...handlers, headers: authHeaders })

// Notifications
export const notifications = (before?: number) =>
  get<NotificationsPage>(
    view(`/v1/me/notifications?limit=20${before === undefined ? "" : `&before=${before}`}`)
  )
export const markNotificationsRead = (upTo: number) =>
  post<{ readUpTo: number; unread: number; position: number }>("/v1/me/notifications/read", { upTo })
/** `unread` ({unread, readUpTo}) on open and on change, and each new `notification`. */
export const liveNotifications = (handlers: LiveHandlers) =>
  openEventStream("/v1/me/notifications/live", { ...handlers, headers: authHeaders })
/** The server's VAPID public key (503 `push-not-configured` when it has none). */
export const pushKey = () => get<{ publicKey: string }>("/v1/push/key")
export const subscribePush = (subscription: PushSubscriptionJSON) =>
  post<{ endpoint: string; position: number }>("/v1/me/push-subscriptions", subscription)
