import { availableParallelism } from "node:os"

/** Operator settings of the media plane; every field has a default (see `mediaConfig`). */
export interface MediaConfig {
  /** mediasoup workers (processes) to run; one per core by default. */
  readonly workers: number
  /** Address the RTC sockets bind to, e.g. "0.0.0.0" or a private interface address. */
  readonly listenIp: string
  /** Public address announced to clients in ICE candidates when listenIp is not reachable (NAT, 0.0.0.0). */
  readonly announcedIp: string | undefined
  /**
   * Several nodes: the address the pipes between nodes bind to (an edge node's router is fed from
   * the speaker's origin node through a PipeTransport), and the address announced to the other
   * nodes when that one is not reachable from them. Default: `listenIp`, and `announcedIp`.
   */
  readonly pipeListenIp: string | undefined
  readonly pipeAnnouncedIp: string | undefined
  /** UDP/TCP port range of the workers' RTC sockets. */
  readonly rtcMinPort: number
  readonly rtcMaxPort: number
  /**
   * Consumers one router of a room may carry before further listeners are placed on a router of
   * the same room on another worker, fed through pipeToRouter. Counted as listeners' receive
   * transports × the room's producers, so that placement is decided when a listener connects.
   */
  readonly maxConsumersPerRouter: number
  /** WebRTC/plain transports one user may hold in one Space (a client needs two: send and receive). */
  readonly maxTransportsPerUser: number
  /** Producers one transport may create over its life (one audio track; a few re-publishes). */
  readonly maxProducersPerTransport: number
  /** Consumers one user may hold in one Space (one per speaker, with room for re-consuming). */
  readonly maxConsumersPerUser: number
  /** Root directory of recordings: one sub-directory per Space. */
  readonly recordingsDir: string
  /** Address of the local UDP sockets that receive recorded RTP. */
  readonly recordingIp: string
  /** How often the active-speaker and audio-level observers report, in ms. */
  readonly speakingIntervalMs: number
  readonly logLevel: "debug" | "warn" | "error" | "none"
}

export const mediaConfig = (overrides: Partial<MediaConfig> = {}): MediaConfig => ({
  workers: Math.max(1, availableParallelism()),
  listenIp: "127.0.0.1",
  announcedIp: undefined,
  pipeListenIp: undefined,
  pipeAnnouncedIp: undefined,
  rtcMinPort: 40000,
  rtcMaxPort: 49999,
  maxConsumersPerRouter: 1000,
  maxTransportsPerUser: 4,
  maxProducersPerTransport: 4,
  maxConsumersPerUser: 64,
  recordingsDir: "recordings",
  recordingIp: "127.0.0.1",
  speakingIntervalMs: 300,
  logLevel: "warn",
  ...overrides
})
