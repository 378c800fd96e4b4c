export * from "./ReadModels.js"
export * from "./ReadModelsLive.js"
export * from "./views.js"
export type { Projection, DomainEvent } from "./runner/Projection.js"
export * from "./schedule/Scheduler.js"
export * from "./config.js"
export { DEFAULT_FEED_LIMIT } from "./feed/feedQuery.js"
export * from "./notifications/Notification.js"
export type { Audience } from "./notifications/notificationsProjection.js"
export type {
  NotificationQueries,
  Notified,
  StoredPushSubscription
} from "./notifications/notificationsQuery.js"
export { MAX_NOTIFICATIONS_LIMIT, DEFAULT_NOTIFICATIONS_LIMIT } from "./notifications/notificationsQuery.js"
