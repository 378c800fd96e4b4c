/** RTP packets as a browser's Opus sender makes them, for tests and benchmarks without a browser. */
import type { types } from "mediasoup"

export const OPUS_PAYLOAD_TYPE = 100
export const AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
export const AUDIO_LEVEL_EXTENSION_ID = 1
/** 20 ms of Opus at 48 kHz. */
export const SAMPLES_PER_PACKET = 960

/** What a speaker's client would declare when producing one Opus track with audio levels. */
export const opusRtpParameters = (ssrc: number): types.RtpParameters => ({
  codecs: [
    {
      mimeType: "audio/opus",
      payloadType: OPUS_PAYLOAD_TYPE,
      clockRate: 48000,
      channels: 2,
      parameters: { useinbandfec: 1 }
    }
  ],
  headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: AUDIO_LEVEL_EXTENSION_ID }],
  encodings: [{ ssrc }],
  rtcp: { cname: `speaker-${ssrc}` }
})

export interface OpusPacketOptions {
  readonly ssrc: number
  /** The packet's index from 0: gives its sequence number and timestamp, and is written in the payload. */
  readonly index: number
  /** Opus payload size in bytes (a voice frame at 32 kb/s is about 80–100). */
  readonly payloadSize?: number
  /** Audio level in -dBov (0 loudest … 127 silent). */
  readonly level?: number
}

/**
 * An RTP packet (RFC 3550) with the one-byte header extension (RFC 8285) carrying the
 * ssrc-audio-level (RFC 6464) and an Opus payload whose bytes 1..4 hold the packet's index.
 */
export const opusRtpPacket = ({ ssrc, index, payloadSize = 100, level = 30 }: OpusPacketOptions): Buffer => {
  const header = Buffer.alloc(12 + 8)
  header[0] = 0x90 // version 2, extension bit
  header[1] = OPUS_PAYLOAD_TYPE
  header.writeUInt16BE(index & 0xffff, 2)
  header.writeUInt32BE((index * SAMPLES_PER_PACKET) >>> 0, 4)
  header.writeUInt32BE(ssrc >>> 0, 8)
  header.writeUInt16BE(0xbede, 12) // one-byte extension profile
  header.writeUInt16BE(1, 14) // one 32-bit word of extensions
  header[16] = (AUDIO_LEVEL_EXTENSION_ID << 4) | 0 // length 1 byte (encoded as length - 1)
  header[17] = 0x80 | (level & 0x7f) // voice activity + level
  const payload = Buffer.alloc(Math.max(5, payloadSize), 0x55)
  payload[0] = 0x78 // Opus TOC: 20 ms frame
  payload.writeUInt32BE(index >>> 0, 1)
  return Buffer.concat([header, payload])
}

export interface RtpPacket {
  readonly payloadType: number
  readonly sequenceNumber: number
  readonly timestamp: number
  readonly ssrc: number
  readonly payload: Buffer
}

/** Parses an RTP packet (skipping CSRCs and header extensions); undefined for RTCP or garbage. */
export const parseRtp = (packet: Buffer): RtpPacket | undefined => {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined
  const payloadType = packet[1]! & 0x7f
  if (payloadType >= 72 && payloadType <= 76) return undefined // RTCP (rtcp-mux)
  let offset = 12 + (packet[0]! & 0x0f) * 4
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined
    offset += 4 + packet.readUInt16BE(offset + 2) * 4
  }
  const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0
  if (offset > packet.length - padding) return undefined
  return {
    payloadType,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, packet.length - padding)
  }
}

/** The index that `opusRtpPacket` wrote into the payload. */
export const packetIndex = (packet: RtpPacket): number => packet.payload.readUInt32BE(1)
