/** The stored data of a SpaceCreated event, as a malformed-event test can alter it field by field. */
export const spaceCreatedData = (spaceId: string, at: number) => ({
  _tag: "SpaceCreated",
  spaceId,
  at,
  host: "hana",
  title: "Morning show",
  topics: ["music"],
  speakPolicy: "everyone",
  recording: false,
  captions: false,
  scheduledFor: null
})
