/**
 * The only file that knows the shape of mediasoup's options. Written for 3.12 (`listenIps` with
 * `announcedIp`; 3.13 replaced them with `listenInfos`): moving to a newer mediasoup touches this
 * file and nothing else.
 */
import type { types } from "mediasoup"
import type { MediaConfig } from "./config.js"

export const workerSettings = (config: MediaConfig): types.WorkerSettings => ({
  logLevel: config.logLevel,
  rtcMinPort: config.rtcMinPort,
  rtcMaxPort: config.rtcMaxPort
})

/** Spaces carries one Opus track per speaker and nothing else. */
export const routerOptions: types.RouterOptions = {
  mediaCodecs: [{ kind: "audio", mimeType: "audio/opus", clockRate: 48000, channels: 2 }]
}

const listenIp = (config: MediaConfig): types.TransportListenIp =>
  config.announcedIp === undefined
    ? { ip: config.listenIp }
    : { ip: config.listenIp, announcedIp: config.announcedIp }

export const webRtcTransportOptions = (config: MediaConfig): types.WebRtcTransportOptions => ({
  listenIps: [listenIp(config)],
  enableUdp: true,
  enableTcp: true,
  preferUdp: true
})

/** rtcpMux keeps one port per transport; the remote side is given by connect(ip, port). */
export const plainTransportOptions = (config: MediaConfig): types.PlainTransportOptions => ({
  listenIp: listenIp(config),
  rtcpMux: true,
  comedia: false
})

/** Recording sockets are local: no announced address. */
export const recordingTransportOptions = (ip: string): types.PlainTransportOptions => ({
  listenIp: { ip },
  rtcpMux: true,
  comedia: false
})

/** Pipes between workers of one host stay on loopback, without SCTP (no data channels in Spaces). */
export const pipeToRouterOptions = (producerId: string, router: types.Router): types.PipeToRouterOptions => ({
  producerId,
  router,
  listenIp: "127.0.0.1",
  enableSctp: false
})

/**
 * A pipe between nodes (origin → edge): on the pipe address, SRTP-protected since it crosses the
 * network between hosts, RTX off (Opus audio), no SCTP.
 */
export const nodePipeTransportOptions = (config: MediaConfig): types.PipeTransportOptions => {
  const ip = config.pipeListenIp ?? config.listenIp
  // A pipe address of its own is announced as itself unless told otherwise: falling back to the
  // clients' (public) announced address would send the other nodes the wrong way.
  const announcedIp =
    config.pipeAnnouncedIp ?? (config.pipeListenIp === undefined ? config.announcedIp : undefined)
  return {
    listenIp: announcedIp === undefined ? { ip } : { ip, announcedIp },
    enableSctp: false,
    enableSrtp: true
  }
}

export const activeSpeakerObserverOptions = (config: MediaConfig): types.ActiveSpeakerObserverOptions => ({
  interval: config.speakingIntervalMs
})

/** threshold: dBov below which a speaker counts as silent (mediasoup-demo uses -80). */
export const audioLevelObserverOptions = (config: MediaConfig): types.AudioLevelObserverOptions => ({
  maxEntries: 13,
  threshold: -70,
  interval: config.speakingIntervalMs
})

export const consumerOptions = (
  producerId: string,
  rtpCapabilities: types.RtpCapabilities
): types.ConsumerOptions => ({
  producerId,
  rtpCapabilities,
  // Paused until the client says its side is ready (mediasoup-demo's rule), so no RTP arrives early.
  paused: true
})

export const AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

/** The audio-level extension id of a consumer's RTP (present when its producer sends it). */
export const audioLevelExtensionId = (parameters: types.RtpParameters): number | undefined =>
  parameters.headerExtensions?.find((extension) => extension.uri === AUDIO_LEVEL_URI)?.id
