/**
 * What the API sends, as the projections' own schemas encode it (type-only imports: nothing of
 * effect reaches the bundle). A change of a view's schema shows up here as a type error.
 */
import type { Schema } from "effect"
import type * as Views from "@spaces/projections"

type Wire<S extends Schema.Schema.Any> = Schema.Schema.Encoded<S>

export type LiveSpaceSummary = Wire<typeof Views.LiveSpaceSummary>
export type ScheduledSpaceSummary = Wire<typeof Views.ScheduledSpaceSummary>
export type EndedSpaceSummary = Wire<typeof Views.EndedSpaceSummary>
export type FeedEntry = Wire<typeof Views.FeedEntry>
export type TopicView = Wire<typeof Views.TopicView>
export type CreatorView = Wire<typeof Views.CreatorView>
/** The room view with the log position it reflects (where the live stream picks up). */
export type RoomView = Wire<typeof Views.RoomViewAt>
export type RoomParticipant = Wire<typeof Views.RoomParticipant>
export type PostView = Wire<typeof Views.PostView>
export type SearchResults = Wire<typeof Views.SearchResults>

export type Role = RoomParticipant["role"]
export type SpeakPolicy = RoomView["speakPolicy"]

/** One entry of a Space's event log, as `GET /v1/spaces/:id/events` lists it. */
export interface LoggedEvent {
  readonly event: { readonly _tag: string; readonly at?: number } & Record<string, unknown>
  readonly revision: number
  readonly position: number
  readonly metadata?: Record<string, unknown>
}

/** An RFC 9457 problem document, as the API answers errors. */
export interface Problem {
  readonly type?: string
  readonly title?: string
  readonly status?: number
  readonly detail?: string
}

/** One speaker's track of a recording, as `GET /v1/spaces/:id/recording` lists it. */
export interface RecordingTrack {
  readonly file: string
  readonly userId: string
  /** Where the track starts and ends, in ms after the recording's `startedAt` (null: not yet). */
  readonly startOffsetMs: number | null
  readonly endOffsetMs: number | null
  readonly durationMs: number
  /** A signed URL an <audio> element can play (no bearer token needed) until `urlsExpireAt`. */
  readonly url: string
}

export interface Recording {
  readonly spaceId: string
  readonly startedAt: number
  readonly urlsExpireAt: number
  readonly tracks: ReadonlyArray<RecordingTrack>
}

import type * as Notifications from "@spaces/projections"
export type Notification = Wire<typeof Notifications.Notification>
export type NotificationsPage = Wire<typeof Notifications.NotificationsPage>
