import { Spaces, type UserId } from "@spaces/domain"
import {
  describeNotification,
  type Notified,
  ReadModels,
  type StoredPushSubscription
} from "@spaces/projections"
import { Clock, Effect, Stream } from "effect"
import type { PushConfig } from "../config.js"
import type { Logger } from "../log.js"

/** Notifications older than this when the pusher sees them (a replay at start, a long lag) are not pushed. */
export const PUSH_MAX_AGE_MS = 10 * 60_000
/** How long a push service keeps a message for a browser that is offline (seconds). */
const PUSH_TTL_SECONDS = 24 * 3_600
const PUSH_CONCURRENCY = 16

/** What a push message carries (the service worker shows it and opens `url` on click). */
export const pushPayload = (n: Notified["notification"]) => ({
  id: n.id,
  kind: n.kind,
  spaceId: n.spaceId,
  title: "Spaces",
  body: describeNotification(n),
  url: n.link
})

/**
 * Sends one Web Push message (RFC 8030), encrypted for the subscription (RFC 8291, aes128gcm) and
 * signed with the server's VAPID key (RFC 8292). `web-push` builds the request; `fetch` sends it.
 * Answers the push service's status.
 */
export const sendPush = (
  vapid: NonNullable<PushConfig["vapid"]>,
  subscription: StoredPushSubscription,
  payload: unknown
) =>
  Effect.tryPromise(async () => {
    // Loaded on the first push: a server without VAPID keys never needs it (a faster start).
    const { default: webpush } = await import("web-push")
    const details = webpush.generateRequestDetails(
      { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
      JSON.stringify(payload),
      { vapidDetails: vapid, TTL: PUSH_TTL_SECONDS, contentEncoding: "aes128gcm" }
    )
    const response = await fetch(details.endpoint, {
      method: details.method,
      headers: details.headers as Record<string, string>,
      body: details.body,
      signal: AbortSignal.timeout(10_000)
    })
    await response.arrayBuffer()
    return response.status
  })

/**
 * Follows the notifications as the projection writes them and pushes each to its recipients'
 * subscribed browsers. A subscription the push service says is gone (404, 410) is dropped (an
 * `UnsubscribePush` on the user's behalf). At most once: a push that fails is logged, not retried.
 */
export const runPusher = (push: PushConfig, logger: Logger) =>
  Effect.gen(function* () {
    const vapid = push.vapid
    if (vapid === undefined) return
    const models = yield* ReadModels
    const spaces = yield* Spaces
    const deliver = (user: UserId, subscription: StoredPushSubscription, payload: unknown) =>
      sendPush(vapid, subscription, payload).pipe(
        Effect.flatMap((status) => {
          if (status === 404 || status === 410)
            return spaces
              .executeUser({ _tag: "UnsubscribePush", by: user, endpoint: subscription.endpoint })
              .pipe(Effect.asVoid)
          if (status >= 400)
            return Effect.sync(() => logger.warn("push refused", { event: "push.refused", status, user }))
          return Effect.void
        }),
        Effect.catchAll((error) =>
          Effect.sync(() => logger.warn("push failed", { event: "push.failed", user, error: String(error) }))
        )
      )
    yield* models.changes.pipe(
      Stream.filter((change) => change._tag === "Notified"),
      Stream.mapEffect(
        (change) =>
          Effect.gen(function* () {
            const now = yield* Clock.currentTimeMillis
            if (now - change.notification.at > PUSH_MAX_AGE_MS) return
            const payload = pushPayload(change.notification)
            const recipients = yield* models.notifications.pushRecipients(change)
            yield* Effect.forEach(
              recipients,
              (user) =>
                Effect.flatMap(models.notifications.pushSubscriptions(user), (subscriptions) =>
                  Effect.forEach(subscriptions, (s) => deliver(user, s, payload), { discard: true })
                ),
              { concurrency: PUSH_CONCURRENCY, discard: true }
            )
          }),
        { concurrency: 4 }
      ),
      Stream.runDrain
    )
  })
