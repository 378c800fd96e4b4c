import type { TranscriberService } from "@spaces/media"
import { Effect } from "effect"
import type { Metrics } from "../observability/metrics.js"

/** The transcriber's figures at scrape time: overload shows as skipped phrases, never as silence. */
export const registerCaptionMetrics = (metrics: Metrics, transcriber: TranscriberService) => {
  const stats = () => Effect.runPromise(transcriber.stats)
  metrics.gauge({
    name: "spaces_captions_spaces",
    help: "Live Spaces being transcribed (captions on).",
    read: async () => [{ labels: {}, value: (await stats()).spaces }]
  })
  metrics.gauge({
    name: "spaces_captions_speakers",
    help: "Speakers' tracks tapped by the transcriber.",
    read: async () => [{ labels: {}, value: (await stats()).tappedSpeakers }]
  })
  metrics.gauge({
    name: "spaces_captions_decoded_packets_total",
    help: "Opus packets decoded for captions (silence and muted speakers are not decoded).",
    read: async () => [{ labels: {}, value: (await stats()).decodedPackets }]
  })
  metrics.gauge({
    name: "spaces_captions_phrases_total",
    help: "Phrases by outcome: final (appended), empty (nothing recognised), skipped (overload), failed.",
    read: async () => {
      const s = await stats()
      return [
        { labels: { outcome: "final" }, value: s.finals },
        { labels: { outcome: "empty" }, value: s.empty },
        { labels: { outcome: "skipped_busy" }, value: s.skippedBusy },
        { labels: { outcome: "skipped_behind" }, value: s.skippedBehind },
        { labels: { outcome: "failed" }, value: s.failed }
      ]
    }
  })
  metrics.gauge({
    name: "spaces_captions_final_latency_seconds",
    help: "End of the last phrase to its final text.",
    read: async () => {
      const ms = (await stats()).lastFinalLatencyMs
      return ms === undefined ? [] : [{ labels: {}, value: ms / 1000 }]
    }
  })
}
