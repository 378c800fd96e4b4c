import { describe, expect, it } from "vitest"
import { webVtt } from "./transcript.js"

describe("WebVTT transcript", () => {
  it("writes a cue per segment with the speaker as its voice, escaping markup", () => {
    const vtt = webVtt({
      spaceId: "s1",
      startedAt: 0,
      segments: [
        { speaker: "hana", text: "hello <b>all</b> & welcome", startMs: 1234, endMs: 3_725_006, position: 7 },
        { speaker: "lee", text: "hi", startMs: 5000, endMs: 5000, position: 9 }
      ]
    })
    expect(vtt).toBe(
      "WEBVTT\n\n" +
        "1\n00:00:01.234 --> 01:02:05.006\n<v hana>hello &lt;b&gt;all&lt;/b&gt; &amp; welcome\n\n" +
        "2\n00:00:05.000 --> 00:00:05.100\n<v lee>hi\n\n"
    )
  })
})
