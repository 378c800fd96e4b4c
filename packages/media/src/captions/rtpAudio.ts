/** What the transcriber needs of an RTP packet: its Opus payload, its clock, and its audio level. */
export interface RtpAudio {
  readonly timestamp: number
  readonly payload: Buffer
  /** dBov (-127 silent … 0 loudest) from the ssrc-audio-level extension, when the sender sends it. */
  readonly levelDbov: number | undefined
}

/** Parses RTP (RFC 3550) and its one-byte header extensions (RFC 8285); undefined for RTCP or garbage. */
export const rtpAudio = (packet: Buffer, audioLevelId: number | undefined): RtpAudio | undefined => {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined
  const payloadType = packet[1]! & 0x7f
  if (payloadType >= 72 && payloadType <= 76) return undefined // RTCP (rtcp-mux)
  let offset = 12 + (packet[0]! & 0x0f) * 4
  let levelDbov: number | undefined
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined
    const profile = packet.readUInt16BE(offset)
    const words = packet.readUInt16BE(offset + 2)
    const end = offset + 4 + words * 4
    if (end > packet.length) return undefined
    if (profile === 0xbede && audioLevelId !== undefined)
      levelDbov = oneByteLevel(packet, offset + 4, end, audioLevelId)
    offset = end
  }
  const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0
  if (offset >= packet.length - padding) return undefined
  return {
    timestamp: packet.readUInt32BE(4),
    payload: packet.subarray(offset, packet.length - padding),
    levelDbov
  }
}

const oneByteLevel = (packet: Buffer, start: number, end: number, id: number): number | undefined => {
  let i = start
  while (i < end) {
    const byte = packet[i]!
    if (byte === 0) {
      i++ // padding
      continue
    }
    const extId = byte >> 4
    const length = (byte & 0x0f) + 1
    if (extId === 15) return undefined
    if (extId === id && i + 1 < end) return -(packet[i + 1]! & 0x7f)
    i += 1 + length
  }
  return undefined
}

/** dBov of 16-bit PCM (RMS against full scale), for senders without the audio-level extension. */
export const pcmLevelDbov = (pcm: Int16Array): number => {
  if (pcm.length === 0) return -127
  let sum = 0
  for (const sample of pcm) sum += sample * sample
  const rms = Math.sqrt(sum / pcm.length) / 32768
  return rms <= 0 ? -127 : Math.max(-127, Math.min(0, 20 * Math.log10(rms)))
}
