import {
  AcceptCoHostInvite,
  AcceptSpeakerInvite,
  AppendCaption,
  ApproveSpeakRequest,
  CancelSpace,
  ChangeSpeakPolicy,
  CreateSpace,
  DeclineCoHostInvite,
  DeclineSpeakerInvite,
  DeclineSpeakRequest,
  EditSpace,
  EndSpace,
  Follow,
  InviteCoHost,
  InviteSpeaker,
  JoinSpace,
  LeaveSpace,
  LowerHand,
  MuteAll,
  MuteSpeaker,
  PinPost,
  PostId,
  PublishPost,
  RaiseHand,
  RemoveCoHost,
  RemoveParticipant,
  RemoveReminder,
  RescheduleSpace,
  SetCaptions,
  SetRecording,
  SetReminder,
  SpaceId,
  type SpaceCommandTag,
  StartSpace,
  StepDown,
  Unfollow,
  UnmuteSpeaker,
  UnpinPost
} from "@spaces/domain"
import { Schema } from "effect"
import type { Method } from "./registry.js"

/**
 * Every command of SPEC §1 as a route. The body schema is the domain's command schema without the
 * members the server fills in: `_tag`, the actor (`by` from the token, `service` from a service
 * token) and whatever the path names (`spaceId`, `user`).
 */
export interface CommandRoute {
  readonly method: Method
  readonly path: string
  readonly summary: string
  readonly group: string
  readonly tag: SpaceCommandTag | "Follow" | "Unfollow"
  readonly aggregate: "space" | "user"
  readonly actor: "user" | "service"
  /** The domain's command schema (a tagged struct). */
  readonly fields: Schema.Struct.Fields
  /** A server-chosen id the client may set itself: derived from the idempotency key when absent. */
  readonly generated?: "spaceId" | "postId"
  readonly created?: boolean
}

type Tagged<T extends string> = { readonly Type: { readonly _tag: T }; readonly fields: Schema.Struct.Fields }

const route =
  (group: string, aggregate: "space" | "user" = "space") =>
  <T extends SpaceCommandTag | "Follow" | "Unfollow">(
    method: Method,
    path: string,
    tag: T,
    schema: Tagged<T>,
    summary: string,
    extra: Partial<Pick<CommandRoute, "actor" | "generated" | "created">> = {}
  ): CommandRoute => ({
    method,
    path,
    summary,
    group,
    tag,
    aggregate,
    actor: extra.actor ?? "user",
    fields: schema.fields,
    ...(extra.generated === undefined ? {} : { generated: extra.generated }),
    ...(extra.created === undefined ? {} : { created: extra.created })
  })

const space = route("Spaces")
const speaking = route("Speaking")
const moderation = route("Moderation")
const posts = route("Posts")
const captions = route("Captions")
const follows = route("Follows", "user")

const S = "/v1/spaces/:spaceId"

export const commandRoutes: ReadonlyArray<CommandRoute> = [
  space(
    "post",
    "/v1/spaces",
    "CreateSpace",
    CreateSpace,
    "Create a Space: start it now, or schedule it (scheduledFor)",
    {
      generated: "spaceId",
      created: true
    }
  ),
  space("post", `${S}/reschedule`, "RescheduleSpace", RescheduleSpace, "Reschedule a scheduled Space (host)"),
  space("post", `${S}/cancel`, "CancelSpace", CancelSpace, "Cancel a scheduled Space (host)"),
  space(
    "post",
    `${S}/start`,
    "StartSpace",
    StartSpace,
    "Start a scheduled Space (host; early start allowed)"
  ),
  space("patch", S, "EditSpace", EditSpace, "Edit title and topics (host, co-hosts)"),
  space(
    "put",
    `${S}/speak-policy`,
    "ChangeSpeakPolicy",
    ChangeSpeakPolicy,
    "Change who may request to speak"
  ),
  space("put", `${S}/recording`, "SetRecording", SetRecording, "Turn recording on or off (host)"),
  space("put", `${S}/captions`, "SetCaptions", SetCaptions, "Turn captions on or off (host, co-hosts)"),
  space("put", `${S}/reminder`, "SetReminder", SetReminder, "Set a reminder on a scheduled Space"),
  space("delete", `${S}/reminder`, "RemoveReminder", RemoveReminder, "Remove your reminder"),
  space("post", `${S}/join`, "JoinSpace", JoinSpace, "Join a live Space as a listener"),
  space("post", `${S}/leave`, "LeaveSpace", LeaveSpace, "Leave the Space"),
  space("post", `${S}/end`, "EndSpace", EndSpace, "End the Space (host)"),

  speaking("post", `${S}/hand`, "RaiseHand", RaiseHand, "Raise your hand (request to speak)"),
  speaking("delete", `${S}/hand`, "LowerHand", LowerHand, "Lower your hand (withdraw the request)"),
  speaking(
    "post",
    `${S}/requests/:user/approve`,
    "ApproveSpeakRequest",
    ApproveSpeakRequest,
    "Approve a request to speak"
  ),
  speaking(
    "post",
    `${S}/requests/:user/decline`,
    "DeclineSpeakRequest",
    DeclineSpeakRequest,
    "Decline a request to speak"
  ),
  speaking("post", `${S}/speaker-invitations`, "InviteSpeaker", InviteSpeaker, "Invite a user to speak"),
  speaking(
    "post",
    `${S}/speaker-invitations/accept`,
    "AcceptSpeakerInvite",
    AcceptSpeakerInvite,
    "Accept your invitation to speak"
  ),
  speaking(
    "post",
    `${S}/speaker-invitations/decline`,
    "DeclineSpeakerInvite",
    DeclineSpeakerInvite,
    "Decline your invitation to speak"
  ),
  speaking("post", `${S}/cohost-invitations`, "InviteCoHost", InviteCoHost, "Invite a co-host (host)"),
  speaking(
    "post",
    `${S}/cohost-invitations/accept`,
    "AcceptCoHostInvite",
    AcceptCoHostInvite,
    "Accept your co-host invitation"
  ),
  speaking(
    "post",
    `${S}/cohost-invitations/decline`,
    "DeclineCoHostInvite",
    DeclineCoHostInvite,
    "Decline your co-host invitation"
  ),
  speaking(
    "delete",
    `${S}/cohosts/:user`,
    "RemoveCoHost",
    RemoveCoHost,
    "Remove a co-host (back to speaker; host)"
  ),
  speaking("post", `${S}/step-down`, "StepDown", StepDown, "Step down to listener"),

  moderation(
    "post",
    `${S}/speakers/:user/mute`,
    "MuteSpeaker",
    MuteSpeaker,
    "Mute a speaker (yourself, or as host/co-host)"
  ),
  moderation("post", `${S}/speakers/:user/unmute`, "UnmuteSpeaker", UnmuteSpeaker, "Unmute yourself"),
  moderation("post", `${S}/mute-all`, "MuteAll", MuteAll, "Mute every speaker (host, co-hosts)"),
  moderation(
    "delete",
    `${S}/participants/:user`,
    "RemoveParticipant",
    RemoveParticipant,
    "Remove (ban) a participant"
  ),

  posts("post", `${S}/posts`, "PublishPost", PublishPost, "Post about the Space", {
    generated: "postId",
    created: true
  }),
  posts("put", `${S}/pinned-post`, "PinPost", PinPost, "Pin a post (host, co-hosts)"),
  posts("delete", `${S}/pinned-post`, "UnpinPost", UnpinPost, "Unpin the pinned post"),

  captions(
    "post",
    `${S}/captions/segments`,
    "AppendCaption",
    AppendCaption,
    "Append a caption segment (service identity)",
    {
      actor: "service"
    }
  ),

  follows("put", "/v1/me/following/:user", "Follow", Follow, "Follow a user"),
  follows("delete", "/v1/me/following/:user", "Unfollow", Unfollow, "Unfollow a user")
]

/** Members the server fills in, never read from the body. */
const serverFilled = new Set(["_tag", "by", "service"])

const generatedSchema = { spaceId: SpaceId, postId: PostId } as const

/** The request body schema of a command route, derived from the domain's command schema. */
export const bodySchema = (route: CommandRoute, params: ReadonlyArray<string>) => {
  const fields: Record<string, Schema.Struct.Fields[string]> = {}
  for (const [name, field] of Object.entries(route.fields)) {
    if (serverFilled.has(name) || params.includes(name)) continue
    fields[name] = name === route.generated ? Schema.optional(generatedSchema[route.generated]) : field
  }
  // The domain's command fields need no services, so the derived body decodes without context.
  const body: Schema.Schema<Record<string, unknown>> = Schema.Struct(fields).annotations({
    identifier: `${route.tag}Body`
  }) as unknown as Schema.Schema<Record<string, unknown>>
  return { schema: body, members: Object.keys(fields) }
}
