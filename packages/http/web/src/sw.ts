/**
 * The service worker (served as /sw.js): shows a Web Push message as a system notification while
 * no tab is open, and opens its link on click. Compiled with the DOM lib, so the worker's own
 * types are declared here, as far as they are used.
 */
interface PushMessage {
  readonly id?: number
  readonly title?: string
  readonly body?: string
  readonly url?: string
}
interface WorkerEvent extends Event {
  waitUntil(promise: Promise<unknown>): void
}
interface PushEvent extends WorkerEvent {
  readonly data: { json(): unknown } | null
}
interface NotificationClickEvent extends WorkerEvent {
  readonly notification: Notification
}
interface WorkerScope {
  readonly registration: ServiceWorkerRegistration
  readonly clients: { openWindow(url: string): Promise<unknown> }
  addEventListener(type: "push", listener: (event: PushEvent) => void): void
  addEventListener(type: "notificationclick", listener: (event: NotificationClickEvent) => void): void
}

const worker = self as unknown as WorkerScope

worker.addEventListener("push", (event) => {
  const message = (event.data?.json() ?? {}) as PushMessage
  event.waitUntil(
    worker.registration.showNotification(message.title ?? "Spaces", {
      body: message.body ?? "",
      ...(message.id === undefined ? {} : { tag: String(message.id) }),
      data: { url: message.url ?? "/" }
    })
  )
})

worker.addEventListener("notificationclick", (event) => {
  event.notification.close()
  const url = (event.notification.data as { url?: string } | null)?.url ?? "/"
  event.waitUntil(worker.clients.openWindow(url))
})
