/**
 * Ogg (RFC 3533) encapsulation of Opus (RFC 7845), pure: packets in, pages (Buffers) out.
 * Used by the recorder to turn a speaker's RTP payloads into a file any player can read.
 */

const CRC_TABLE = (() => {
  // Ogg's CRC-32: polynomial 0x04c11db7, MSB first, initial value 0, no final xor.
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let r = i << 24
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1
    table[i] = r >>> 0
  }
  return table
})()

export const oggCrc32 = (data: Uint8Array): number => {
  let crc = 0
  for (const byte of data) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0
  return crc
}

export const PAGE_CONTINUED = 0x01
export const PAGE_BOS = 0x02
export const PAGE_EOS = 0x04

export interface OggPage {
  readonly headerType: number
  /** Samples (48 kHz) at the end of the last packet completed on the page; -1 if none completes. */
  readonly granulePosition: bigint
  readonly serial: number
  readonly sequence: number
  readonly packets: ReadonlyArray<Uint8Array>
}

/** The lacing values of a packet: 255 per full segment, then the remainder (0 if a multiple of 255). */
const lacing = (length: number): Array<number> => [
  ...Array.from({ length: Math.floor(length / 255) }, () => 255),
  length % 255
]

/** Serialises whole packets into one page (at most 255 segments, i.e. about 64 KB). */
export const oggPage = ({ headerType, granulePosition, serial, sequence, packets }: OggPage): Buffer => {
  const segments = packets.flatMap((packet) => lacing(packet.length))
  if (segments.length > 255)
    throw new RangeError(`an Ogg page holds at most 255 segments, not ${segments.length}`)
  const header = Buffer.alloc(27 + segments.length)
  header.write("OggS", 0, "latin1")
  header[4] = 0 // stream structure version
  header[5] = headerType
  header.writeBigInt64LE(granulePosition, 6)
  header.writeUInt32LE(serial >>> 0, 14)
  header.writeUInt32LE(sequence >>> 0, 18)
  header.writeUInt32LE(0, 22) // CRC, computed over the page with this field zeroed
  header[26] = segments.length
  segments.forEach((value, i) => {
    header[27 + i] = value
  })
  const page = Buffer.concat([header, ...packets])
  page.writeUInt32LE(oggCrc32(page), 22)
  return page
}

/** Segments a packet needs in a page. */
export const segmentCount = (packet: Uint8Array): number => Math.floor(packet.length / 255) + 1

/** The identification header (RFC 7845 §5.1), channel mapping family 0 (mono/stereo). */
export const opusHead = (channels: number, preSkip = 0, inputSampleRate = 48000): Buffer => {
  const head = Buffer.alloc(19)
  head.write("OpusHead", 0, "latin1")
  head[8] = 1 // version
  head[9] = channels
  head.writeUInt16LE(preSkip, 10)
  head.writeUInt32LE(inputSampleRate, 12)
  head.writeInt16LE(0, 16) // output gain
  head[18] = 0 // mapping family
  return head
}

/** The comment header (RFC 7845 §5.2): vendor string and TAG=value comments. */
export const opusTags = (vendor: string, comments: ReadonlyArray<string> = []): Buffer => {
  const field = (text: string) => {
    const bytes = Buffer.from(text, "utf8")
    const length = Buffer.alloc(4)
    length.writeUInt32LE(bytes.length)
    return [length, bytes]
  }
  const count = Buffer.alloc(4)
  count.writeUInt32LE(comments.length)
  return Buffer.concat([
    Buffer.from("OpusTags", "latin1"),
    ...field(vendor),
    count,
    ...comments.flatMap(field)
  ])
}

/** Samples at 48 kHz in an Opus packet, from its TOC byte (RFC 6716 §3.1); 0 if malformed. */
export const opusPacketSamples = (packet: Uint8Array): number => {
  const toc = packet[0]
  if (toc === undefined) return 0
  const config = toc >> 3
  const frameSamples =
    config < 12
      ? [480, 960, 1920, 2880][config % 4]!
      : config < 16
        ? [480, 960][config % 2]!
        : [120, 240, 480, 960][config % 4]!
  const code = toc & 0x03
  const frames = code === 0 ? 1 : code === 3 ? (packet[1] ?? 0) & 0x3f : 2
  return frames * frameSamples
}

/** 20 ms of silence: a CELT fullband frame that decodes to zeros, to fill gaps (mute) in a track. */
export const OPUS_SILENCE_20MS: Uint8Array = Uint8Array.of(0xf8, 0xff, 0xfe)

/**
 * An Ogg Opus logical stream: headers first, then audio packets, grouped into pages of about one
 * second so that a crash loses little and pages stay small. Returns the bytes to append.
 */
export class OggOpusStream {
  private sequence = 0
  private granule = 0n
  private pending: Array<Uint8Array> = []
  private pendingSegments = 0

  constructor(
    private readonly serial: number,
    private readonly packetsPerPage = 50
  ) {}

  /** The two header pages; must be written first. */
  headers(channels: number, vendor: string, comments: ReadonlyArray<string> = []): Buffer {
    return Buffer.concat([
      this.page(PAGE_BOS, 0n, [opusHead(channels)]),
      this.page(0, 0n, [opusTags(vendor, comments)])
    ])
  }

  /** Adds an audio packet; returns a page when one is full (else an empty buffer). */
  push(packet: Uint8Array): Buffer {
    const out: Array<Buffer> = []
    if (this.pendingSegments + segmentCount(packet) > 255) out.push(this.flush())
    this.pending.push(packet)
    this.pendingSegments += segmentCount(packet)
    this.granule += BigInt(opusPacketSamples(packet))
    if (this.pending.length >= this.packetsPerPage) out.push(this.flush())
    return Buffer.concat(out)
  }

  /** Writes the pending packets as a page (the last one with end-of-stream). */
  flush(endOfStream = false): Buffer {
    if (this.pending.length === 0 && !endOfStream) return Buffer.alloc(0)
    const page = this.page(endOfStream ? PAGE_EOS : 0, this.granule, this.pending)
    this.pending = []
    this.pendingSegments = 0
    return page
  }

  /** Samples written so far (48 kHz). */
  get samples(): bigint {
    return this.granule
  }

  private page(headerType: number, granulePosition: bigint, packets: ReadonlyArray<Uint8Array>): Buffer {
    return oggPage({ headerType, granulePosition, serial: this.serial, sequence: this.sequence++, packets })
  }
}
