/**
 * The room: who is here and what they can do, the room's audio, reactions, posts and captions.
 * The room view from the server is the truth; every button sends a command and waits for the
 * next view rather than guessing the outcome.
 */
import * as api from "./api.js"
import { announce, field, formatTime, h, replaceChildren } from "./dom.js"
import { participantsSection } from "./participants.js"
import type { MicOrder } from "./microphone.js"
import { RoomMedia } from "./roomMedia.js"
import { settingsPanel } from "./roomSettings.js"
import { replayLink } from "./spaceCards.js"
import type { PostView, Role, RoomView } from "./types.js"

const reactionChoices = ["👏", "😂", "❤️", "💯", "🙌", "🤔"]

interface Caption {
  readonly speaker: string
  readonly text: string
  /** When it was appended (with speaker and text: a caption seen twice is shown once). */
  readonly at: number
}

const captionKey = (c: Caption) => `${c.at}\u0000${c.speaker}\u0000${c.text}`

/** Captions kept on screen. */
const RECENT_CAPTIONS = 30

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e))

const record = (value: unknown): Record<string, unknown> | null =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null

const str = (value: unknown): string | null => (typeof value === "string" ? value : null)

export const roomScreen = (spaceId: string, me: string, signal: AbortSignal): HTMLElement => {
  let view: RoomView | null = null
  let media: RoomMedia | null = null
  /** The room's stream broke since it last opened (a reconnect may land on another node). */
  let streamLost = false
  let removed = false
  /** We were in the room on this page: a removal in the log is then ours to show. */
  let wasInRoom = false
  let live: AbortController | null = null
  const speaking = new Set<string>()
  const captions: Array<Caption> = []
  /** What each speaker is saying now (partial captions), until their final caption arrives. */
  const partials = new Map<string, string>()

  const header = h("header", { class: "room-header card" })
  const notice = h("div", { class: "notice-slot" })
  const controls = h("div", { class: "controls card", role: "group", "aria-label": "Your controls" })
  const people = h("div", { class: "people-slot" })
  const moderation = h("div", { class: "moderation-slot" })
  const captionsBox = h("section", {
    class: "card captions",
    "aria-labelledby": "captions-title",
    hidden: true
  })
  const captionLog = h("ol", { role: "log", "aria-live": "polite", class: "caption-log" })
  // Outside the log, so that screen readers don't announce it as a caption.
  const noCaptions = h("p", { class: "empty" }, "Captions appear here as people speak.")
  captionsBox.append(h("h2", { id: "captions-title" }, "Captions"), noCaptions, captionLog)
  const reactionLog = h("ol", { class: "reaction-log", "aria-label": "Recent reactions" })
  const postsList = h("div", { class: "posts-list" })
  const audioSink = h("div", { class: "audio-sink", hidden: true })

  /** Sends a command; on success reads the room view at least as new as the command's position. */
  const act = (task: Promise<unknown>, done?: string): Promise<void> =>
    task.then(
      (result) => {
        if (done !== undefined) announce(done)
        const position = record(result)?.position
        if (typeof position === "number") return refresh(position)
      },
      (e: unknown) => announce(errorText(e), "error")
    )

  const settings = settingsPanel(spaceId, act)
  moderation.append(settings.element)

  const myRole = (): Role | null => view?.participants.find((p) => p.user === me)?.role ?? null

  /** The microphone follows the room view: on stage or not, muted or not (by anyone). */
  const micOrder = (room: RoomView): MicOrder => {
    const mine = room.participants.find((p) => p.user === me)
    return { onStage: mine !== undefined && mine.role !== "listener", muted: mine?.muted ?? true }
  }

  const stopMedia = () => {
    media?.close()
    media = null
  }

  // --- live updates --------------------------------------------------------------------------
  const applyView = (next: RoomView) => {
    view = next
    const role = myRole()
    if (role !== null) wasInRoom = true
    if (role === null || next.status !== "live") stopMedia()
    else void media?.follow(micOrder(next))
    // Anyone signed in may follow a Space live (the live route asks no more than that), so the page
    // stays current before joining too; an ended Space changes no more.
    if (next.status === "live" || next.status === "scheduled") openLive(next.position)
    else closeLive()
    render()
  }

  const onMediaEvent = (data: Record<string, unknown>) => {
    const tag = str(data._tag)
    const producerId = str(data.producerId)
    const userId = str(data.userId)
    if (tag === "NewProducer" && producerId !== null && userId !== null)
      void media?.consume({ producerId, userId })
    else if (tag === "ProducerClosed" && producerId !== null) media?.dropProducer(producerId)
    else if (tag === "RoomClosed") stopMedia()
    else if (tag === "MediaRestarted") {
      // The media server process of the room died; the room reopened on another: set up audio again.
      stopMedia()
      announce("Audio is reconnecting…")
      startMedia()
    } else if (tag === "TransportsClosed" && userId === me) {
      // The media plane dropped our transports (removal, demotion): rebuild from the room view.
      stopMedia()
      void refresh().then(() => startMedia())
    }
  }

  const onSpeaking = (data: Record<string, unknown>) => {
    const tag = str(data._tag)
    speaking.clear()
    if (tag === "ActiveSpeaker" && str(data.userId) !== null) speaking.add(str(data.userId) ?? "")
    if (tag === "AudioLevels" && Array.isArray(data.levels))
      for (const level of data.levels) {
        const user = str(record(level)?.userId)
        if (user !== null) speaking.add(user)
      }
    for (const li of people.querySelectorAll<HTMLElement>("li.person[data-user]"))
      li.classList.toggle("speaking", speaking.has(li.dataset.user ?? ""))
  }

  const onReaction = (data: Record<string, unknown>) => {
    const emoji = str(data.emoji)
    if (emoji === null) return
    const who = str(data.user) ?? str(data.by) ?? str(data.userId) ?? "someone"
    reactionLog.prepend(h("li", {}, h("span", { "aria-hidden": "true" }, emoji), ` ${who}`))
    while (reactionLog.children.length > 8) reactionLog.lastElementChild?.remove()
  }

  const renderCaptions = () => {
    noCaptions.hidden = captions.length + partials.size > 0
    replaceChildren(
      captionLog,
      ...captions.map((c) => h("li", {}, h("strong", {}, `${c.speaker}: `), c.text)),
      // Hypotheses change while a phrase is spoken: shown, not announced.
      ...[...partials].map(([speaker, text]) =>
        h("li", { class: "partial", "aria-hidden": "true" }, h("strong", {}, `${speaker}: `), text)
      )
    )
  }

  const addCaption = (caption: Caption) => {
    const key = captionKey(caption)
    if (captions.some((c) => captionKey(c) === key)) return
    captions.push(caption)
    captions.sort((a, b) => a.at - b.at)
    if (captions.length > RECENT_CAPTIONS) captions.shift()
    partials.delete(caption.speaker)
  }

  const onCaption = (data: Record<string, unknown>) => {
    const segment = record(data.segment) ?? data
    const text = str(segment.text)
    if (text === null) return
    addCaption({
      speaker: str(segment.speaker) ?? "",
      text,
      at: typeof data.at === "number" ? data.at : Date.now()
    })
    renderCaptions()
  }

  const onPartialCaption = (data: Record<string, unknown>) => {
    const speaker = str(data.speaker)
    const text = str(data.text)
    if (speaker === null || text === null) return
    partials.set(speaker, text)
    renderCaptions()
  }

  /** The room view carries the recent captions: a page opened late shows them. */
  const viewCaptions = (room: RoomView) => {
    for (const c of room.recentCaptions) addCaption({ speaker: c.speaker, text: c.text, at: c.at })
    renderCaptions()
  }

  /** The Space's share link: the system share sheet where the browser has one, else the clipboard. */
  const share = async () => {
    const url = `${location.origin}/s/${encodeURIComponent(spaceId)}`
    const title = view?.title ?? "A Space"
    const nav = navigator as Navigator & { share?: (data: { title: string; url: string }) => Promise<void> }
    if (typeof nav.share === "function") {
      try {
        await nav.share({ title, url })
        return
      } catch (e) {
        // The person closed the sheet: nothing to do. Anything else falls back to copying.
        if (e instanceof DOMException && e.name === "AbortError") return
      }
    }
    try {
      await navigator.clipboard.writeText(url)
      shareLink.value = url
      announce("Link copied")
    } catch {
      // No clipboard (an insecure origin): show the link, selected, for the person to copy.
      shareLink.value = url
      shareLink.hidden = false
      shareLink.select()
      announce("Copy the link shown")
    }
  }
  const shareLink = h("input", {
    type: "text",
    readonly: true,
    class: "share-link",
    "aria-label": "Share link",
    hidden: true
  })

  const closeLive = () => {
    live?.abort()
    live = null
  }

  /** From the position of the view just rendered: the stream brings only what came after it. */
  const openLive = (after: number) => {
    if (live !== null) return
    live = new AbortController()
    const stop = live
    signal.addEventListener("abort", () => stop.abort())
    void api.liveRoom(spaceId, after, {
      signal: stop.signal,
      onState: (state) => {
        header.dataset.connection = state
        if (state === "closed") streamLost = true
        if (state !== "open") return
        // Back after a break: behind a load balancer the stream may now come from another node
        // (the one before died, taking our media transports with it), so audio is set up again.
        const restart = streamLost && media !== null
        streamLost = false
        void refresh().then(() => {
          if (!restart) return
          stopMedia()
          startMedia()
        })
      },
      onEvent: ({ event, data }) => {
        const parsed = record(data === "" ? null : JSON.parse(data))
        if (parsed === null) return
        const tag = str(parsed._tag)
        if (event === "space") {
          // A log event of this Space: the room view catches up to its position.
          const type = str(parsed.type)
          const data = record(parsed.data) ?? {}
          if (type === "CaptionAppended") onCaption(data)
          // Removal is read from the log, not guessed from our absence (joining another Space also
          // takes us out of this one). The stream starts after the first view this page rendered, so
          // an older removal is left to the server to tell when joining.
          if (type === "ParticipantRemoved" && data.user === me && wasInRoom) removed = true
          const position = parsed.position
          void refresh(typeof position === "number" ? position : undefined)
        } else if (event === "room" || "participants" in parsed) applyView(parsed as unknown as RoomView)
        else if (
          event === "media" ||
          [
            "NewProducer",
            "ProducerClosed",
            "ProducerPaused",
            "ProducerResumed",
            "TransportsClosed",
            "RoomClosed",
            "MediaRestarted"
          ].includes(tag ?? "")
        )
          onMediaEvent(parsed)
        else if (event === "speaking" || ["ActiveSpeaker", "AudioLevels", "Silence"].includes(tag ?? ""))
          onSpeaking(parsed)
        else if (event === "reaction") onReaction(parsed)
        else if (event === "caption") onPartialCaption(parsed)
        else if (tag === "CaptionAppended") onCaption(parsed)
        else void refresh()
      }
    })
  }

  // Reads of the room view are coalesced: a burst of log events costs one or two requests.
  let wanted = -1
  let reading: Promise<void> | null = null
  const refresh = (minPosition = 0): Promise<void> => {
    wanted = Math.max(wanted, minPosition)
    // The read in flight chains a follow-up read when `wanted` moved past it.
    if (reading !== null) return reading
    const target = wanted
    reading = api.room(spaceId, target > 0 ? target : undefined).then(
      (next) => {
        reading = null
        if (!signal.aborted) applyView(next)
        if (wanted > target) return refresh(wanted)
      },
      (e: unknown) => {
        reading = null
        announce(errorText(e), "error")
      }
    )
    return reading
  }

  const startMedia = () => {
    if (media !== null || myRole() === null || view?.status !== "live") return
    media = new RoomMedia(spaceId, me, audioSink, (message) => announce(`Audio: ${message}`, "error"))
    void media.start()
    void media.follow(micOrder(view))
  }

  const joinRoom = () => {
    return api
      .join(spaceId)
      .then((result) => refresh(result.position))
      .then(() => {
        startMedia()
        announce("You joined the Space")
      })
      .catch((e: unknown) => {
        // The problem's stable type (the domain's BannedFromSpace), never its wording.
        const banned = e instanceof api.ApiError && e.kind === "banned-from-space"
        announce(banned ? "You can't join: you were removed from this Space." : errorText(e), "error")
        if (banned) {
          // The server's word: show the removal notice instead of a Join button that can't work.
          removed = true
          render()
        }
      })
  }

  // --- rendering ------------------------------------------------------------------------------
  /** `key` keeps keyboard focus on a control whose label flips (Mute/Unmute) across re-renders. */
  const button = (label: string, onclick: () => void, kind = "", key = label) =>
    h("button", { type: "button", class: kind, "data-key": key, onclick }, label)

  const renderControls = (room: RoomView, role: Role | null) => {
    const me_ = room.participants.find((p) => p.user === me)
    const handUp = room.raisedHands.includes(me)
    const buttons: Array<HTMLElement> = []
    if (role === null) {
      if (!removed && room.status === "live")
        // An away host (walked out, or left for a dropped line) returns with their role while the grace runs.
        buttons.push(
          button(
            room.host === me && room.hostAway !== null ? "Return as host" : "Join this Space",
            () => void joinRoom(),
            "primary",
            "join"
          )
        )
    } else {
      if (role === "listener")
        buttons.push(
          handUp
            ? button("Lower hand", () => void act(api.lowerHand(spaceId), "Hand lowered"), "", "hand")
            : button(
                "Request to speak",
                () => void act(api.raiseHand(spaceId), "Hand raised"),
                "primary",
                "hand"
              )
        )
      else if (me_?.muted)
        buttons.push(
          button("Unmute", () => void act(api.unmute(spaceId, me), "You're unmuted"), "primary", "mic")
        )
      else buttons.push(button("Mute", () => void act(api.mute(spaceId, me), "You're muted"), "", "mic"))
      if (role === "speaker" || role === "cohost")
        buttons.push(button("Step down", () => void act(api.stepDown(spaceId), "You're a listener again")))
      if (role === "host" || role === "cohost")
        buttons.push(button("Mute all", () => void act(api.muteAll(spaceId), "Everyone is muted")))
      buttons.push(
        button("Leave", () => {
          stopMedia()
          void act(api.leave(spaceId), "You left the Space")
        })
      )
      if (role === "host")
        buttons.push(
          button(
            "End Space",
            () => {
              if (confirm("End this Space for everyone?"))
                void act(api.endSpace(spaceId), "The Space has ended")
            },
            "danger"
          )
        )
    }
    replaceChildren(controls, ...buttons)
  }

  const renderNotice = (room: RoomView, role: Role | null) => {
    const items: Array<HTMLElement> = []
    if (removed)
      items.push(
        h(
          "div",
          { class: "notice error", role: "alert" },
          h("strong", {}, "You were removed from this Space."),
          " You can't rejoin it."
        )
      )
    if (room.status === "ended")
      items.push(
        h(
          "div",
          { class: "notice", role: "status" },
          "This Space has ended. ",
          h("a", { href: replayLink(spaceId) }, "Replay its history")
        )
      )
    if (room.status === "scheduled" && room.scheduledFor !== null)
      items.push(h("div", { class: "notice" }, `Scheduled for ${formatTime(room.scheduledFor)}.`))
    if (room.hostAway !== null)
      items.push(
        h(
          "div",
          { class: "notice" },
          `The host stepped away; the Space ends at ${formatTime(room.hostAway.graceEndsAt)} unless they return.`
        )
      )
    /** An invitation waiting for my answer: accept or decline, both through `answer`. */
    const invitation = (
      text: string,
      labels: readonly [string, string],
      answer: (spaceId: string, accept: boolean) => Promise<unknown>,
      accepted: string
    ) =>
      h(
        "div",
        { class: "notice invite", role: "alert" },
        text,
        button(labels[0], () => void act(answer(spaceId, true), accepted), "primary"),
        button(labels[1], () => void act(answer(spaceId, false)))
      )
    if (role !== null && room.invitations.speakers.includes(me))
      items.push(
        invitation(
          "You're invited to speak. ",
          ["Accept", "Decline"],
          api.answerSpeakerInvite,
          "You're a speaker"
        )
      )
    if (role !== null && room.invitations.cohosts.includes(me))
      items.push(
        invitation(
          "You're invited to co-host. ",
          ["Accept co-host", "Decline co-host"],
          api.answerCoHostInvite,
          "You're a co-host"
        )
      )
    replaceChildren(notice, ...items)
  }

  const postItem = (post: PostView, pinned: boolean, role: Role | null) =>
    h(
      "li",
      { class: pinned ? "post pinned" : "post" },
      pinned ? h("span", { class: "badge" }, "Pinned") : null,
      h("strong", {}, post.author),
      " ",
      h("span", {}, post.text),
      role === "host"
        ? pinned
          ? button("Unpin", () => void act(api.unpinPost(spaceId), "Post unpinned"), "small")
          : button(
              `Pin post by ${post.author}`,
              () => void act(api.pinPost(spaceId, post.postId), "Post pinned"),
              "small"
            )
        : null
    )

  const renderPosts = (room: RoomView, role: Role | null) =>
    replaceChildren(
      postsList,
      room.pinnedPost === null
        ? null
        : h("ul", { "aria-label": "Pinned post" }, postItem(room.pinnedPost, true, role)),
      room.recentPosts.length === 0
        ? h("p", { class: "empty" }, "No posts yet.")
        : h(
            "ul",
            { "aria-label": "Posts" },
            ...room.recentPosts
              .filter((p) => p.postId !== room.pinnedPost?.postId)
              .map((p) => postItem(p, false, role))
          )
    )

  const render = () => {
    const room = view
    if (room === null) return
    const role = myRole()
    replaceChildren(
      header,
      h(
        "p",
        { class: "eyebrow" },
        room.status === "live"
          ? h("span", { class: "badge live-badge" }, "Live")
          : h("span", { class: "badge" }, room.status)
      ),
      h("h1", { id: "room-title" }, room.title),
      h(
        "p",
        { class: "share" },
        button("Share", () => void share(), "small share-button", "share"),
        shareLink
      ),
      h(
        "p",
        { class: "meta" },
        `${room.counts.speakers} on stage · ${room.counts.listeners} listening`,
        room.recording ? " · ● Recording" : "",
        room.topics.length > 0 ? ` · ${room.topics.join(", ")}` : ""
      )
    )
    renderNotice(room, role)
    renderControls(room, role)
    replaceChildren(
      people,
      participantsSection(room, me, speaking, {
        mute: (u) => void act(api.mute(spaceId, u), `${u} muted`),
        remove: (u) => void act(api.remove(spaceId, u), `${u} removed`),
        inviteSpeaker: (u) => void act(api.inviteSpeaker(spaceId, u), `Invited ${u} to speak`),
        inviteCoHost: (u) => void act(api.inviteCoHost(spaceId, u), `Invited ${u} to co-host`),
        removeCoHost: (u) => void act(api.removeCoHost(spaceId, u), `${u} is a speaker again`),
        approve: (u) => void act(api.approve(spaceId, u), `${u} can speak`),
        decline: (u) => void act(api.decline(spaceId, u), `Declined ${u}`)
      })
    )
    settings.update(room, role)
    renderPosts(room, role)
    viewCaptions(room)
    captionsBox.hidden = !room.captions && captions.length === 0
    screen.dataset.role = role ?? "none"
    screen.dataset.status = room.status
    screen.dataset.removed = String(removed)
  }

  // --- static parts ---------------------------------------------------------------------------
  const postText = h("textarea", { name: "post", maxlength: 280, rows: 2, required: true })
  const postForm = h(
    "form",
    { class: "post-form" },
    field("Post about this Space", postText, "Up to 280 characters"),
    h("button", { type: "submit" }, "Post")
  )
  postForm.addEventListener("submit", (event) => {
    event.preventDefault()
    void act(api.publishPost(spaceId, postText.value.trim()), "Posted").then(() => {
      postText.value = ""
    })
  })
  const reactions = h(
    "section",
    { class: "card reactions", "aria-labelledby": "reactions-title" },
    h("h2", { id: "reactions-title" }, "Reactions"),
    h(
      "div",
      { class: "reaction-buttons", role: "group", "aria-label": "Send a reaction" },
      ...reactionChoices.map((emoji) =>
        h(
          "button",
          {
            type: "button",
            class: "emoji",
            "aria-label": `React ${emoji}`,
            onclick: () => void act(api.react(spaceId, emoji))
          },
          emoji
        )
      )
    ),
    reactionLog
  )

  const screen = h(
    "div",
    { class: "room", "aria-labelledby": "room-title" },
    header,
    notice,
    controls,
    h(
      "div",
      { class: "columns" },
      h("div", {}, people, moderation),
      h(
        "div",
        {},
        reactions,
        captionsBox,
        h(
          "section",
          { class: "card posts", "aria-labelledby": "posts-title" },
          h("h2", { id: "posts-title" }, "Posts"),
          postsList,
          postForm
        )
      )
    ),
    audioSink
  )

  signal.addEventListener("abort", () => {
    stopMedia()
    closeLive()
  })
  // The first view opens the live stream (applyView); media only for people in the room.
  void refresh().then(() => startMedia())
  return screen
}
