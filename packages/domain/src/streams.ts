import type { SpaceId, UserId } from "./ids.js"

/*
 * The log's stream names, in one place: a Space's events go to `space-<id>`, a user's to
 * `user-<id>`. Readers of the whole log tell them apart with `isSpaceStream` / `isUserStream`.
 */

const SPACE_PREFIX = "space-"
const USER_PREFIX = "user-"

export const spaceStream = (spaceId: SpaceId) => `${SPACE_PREFIX}${spaceId}`
export const isSpaceStream = (streamId: string) => streamId.startsWith(SPACE_PREFIX)

export const userStream = (user: UserId) => `${USER_PREFIX}${user}`
export const isUserStream = (streamId: string) => streamId.startsWith(USER_PREFIX)
