import { describe, expect, it } from "vitest"
import {
  OggOpusStream,
  oggCrc32,
  oggPage,
  opusHead,
  opusPacketSamples,
  opusTags,
  PAGE_BOS,
  PAGE_EOS
} from "./oggOpus.js"

/** Bit-by-bit CRC-32 as RFC 3533 describes it, independent of the table-driven one under test. */
const referenceCrc = (data: Uint8Array): number => {
  let crc = 0
  for (const byte of data) {
    crc ^= byte << 24
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1
  }
  return crc >>> 0
}

interface ParsedPage {
  headerType: number
  granule: bigint
  serial: number
  sequence: number
  crc: number
  crcOk: boolean
  packets: Array<Buffer>
}

/** A minimal Ogg demuxer: pages must be back to back and packets must end within a page. */
const parsePages = (bytes: Buffer): Array<ParsedPage> => {
  const pages: Array<ParsedPage> = []
  let offset = 0
  while (offset < bytes.length) {
    expect(bytes.toString("latin1", offset, offset + 4)).toBe("OggS")
    expect(bytes[offset + 4]).toBe(0)
    const segments = bytes[offset + 26]!
    const table = [...bytes.subarray(offset + 27, offset + 27 + segments)]
    const size = 27 + segments + table.reduce((a, b) => a + b, 0)
    const page = Buffer.from(bytes.subarray(offset, offset + size))
    const crc = page.readUInt32LE(22)
    page.writeUInt32LE(0, 22)
    const packets: Array<Buffer> = []
    let data = 27 + segments
    let length = 0
    for (const value of table) {
      length += value
      if (value < 255) {
        packets.push(page.subarray(data, data + length))
        data += length
        length = 0
      }
    }
    expect(length).toBe(0) // no packet continues on the next page
    pages.push({
      headerType: page[5]!,
      granule: page.readBigInt64LE(6),
      serial: page.readUInt32LE(14),
      sequence: page.readUInt32LE(18),
      crc,
      crcOk: crc === referenceCrc(page),
      packets
    })
    offset += size
  }
  return pages
}

describe("Ogg CRC-32", () => {
  it("matches the bitwise definition and a known value", () => {
    const data = Buffer.from("123456789", "latin1")
    // CRC-32/MPEG-2 without the initial 0xffffffff ("CRC-32/OGG"): known check value.
    expect(oggCrc32(data)).toBe(0x89a1897f)
    expect(oggCrc32(data)).toBe(referenceCrc(data))
    expect(oggCrc32(new Uint8Array(0))).toBe(0)
  })
})

describe("Ogg pages", () => {
  it("laces packets into segments: 255s then the remainder, with a 0 after an exact multiple", () => {
    const page = oggPage({
      headerType: 0,
      granulePosition: 960n,
      serial: 7,
      sequence: 3,
      packets: [Buffer.alloc(10, 1), Buffer.alloc(255, 2), Buffer.alloc(300, 3)]
    })
    expect(page[26]).toBe(5)
    expect([...page.subarray(27, 32)]).toEqual([10, 255, 0, 255, 45])
    const [parsed] = parsePages(page)
    expect(parsed?.crcOk).toBe(true)
    expect(parsed?.packets.map((p) => p.length)).toEqual([10, 255, 300])
    expect(parsed).toMatchObject({ granule: 960n, serial: 7, sequence: 3 })
  })

  it("refuses more than 255 segments", () => {
    expect(() =>
      oggPage({
        headerType: 0,
        granulePosition: 0n,
        serial: 1,
        sequence: 0,
        packets: [Buffer.alloc(255 * 255)]
      })
    ).toThrow(RangeError)
  })
})

describe("Opus headers", () => {
  it("writes OpusHead per RFC 7845 §5.1", () => {
    const head = opusHead(2, 312)
    expect(head.toString("latin1", 0, 8)).toBe("OpusHead")
    expect([
      head[8],
      head[9],
      head.readUInt16LE(10),
      head.readUInt32LE(12),
      head.readInt16LE(16),
      head[18]
    ]).toEqual([1, 2, 312, 48000, 0, 0])
    expect(head.length).toBe(19)
  })

  it("writes OpusTags per RFC 7845 §5.2", () => {
    const tags = opusTags("spaces", ["TITLE=x"])
    expect(tags.toString("latin1", 0, 8)).toBe("OpusTags")
    expect(tags.readUInt32LE(8)).toBe(6)
    expect(tags.toString("utf8", 12, 18)).toBe("spaces")
    expect(tags.readUInt32LE(18)).toBe(1)
    expect(tags.readUInt32LE(22)).toBe(7)
    expect(tags.toString("utf8", 26)).toBe("TITLE=x")
  })

  it("counts samples from the TOC byte", () => {
    expect(opusPacketSamples(Uint8Array.of(0x78))).toBe(960) // hybrid FB 20 ms, one frame
    expect(opusPacketSamples(Uint8Array.of(0xf8, 0xff, 0xfe))).toBe(960) // CELT FB 20 ms
    expect(opusPacketSamples(Uint8Array.of(0x09))).toBe(1920) // SILK NB 20 ms, code 1: two frames
    expect(opusPacketSamples(Uint8Array.of(0x0b, 0x03))).toBe(3 * 960) // code 3, three 20 ms frames
    expect(opusPacketSamples(Uint8Array.of())).toBe(0)
  })
})

describe("OggOpusStream", () => {
  it("writes BOS head page, tags page, audio pages with granule positions, and an EOS page", () => {
    const stream = new OggOpusStream(0xabcdef, 4)
    const packet = (i: number) => Buffer.concat([Buffer.of(0x78), Buffer.alloc(99, i)])
    const chunks = [stream.headers(2, "spaces-test")]
    for (let i = 0; i < 10; i++) chunks.push(stream.push(packet(i)))
    chunks.push(stream.flush(true))
    const pages = parsePages(Buffer.concat(chunks))

    expect(pages.map((p) => p.sequence)).toEqual([0, 1, 2, 3, 4])
    expect(pages.every((p) => p.serial === 0xabcdef && p.crcOk)).toBe(true)
    expect(pages.map((p) => p.headerType)).toEqual([PAGE_BOS, 0, 0, 0, PAGE_EOS])
    expect(pages.map((p) => p.granule)).toEqual([0n, 0n, 4n * 960n, 8n * 960n, 10n * 960n])
    expect(pages[0]?.packets[0]?.toString("latin1", 0, 8)).toBe("OpusHead")
    expect(pages[1]?.packets[0]?.toString("latin1", 0, 8)).toBe("OpusTags")
    const audio = pages.slice(2).flatMap((p) => p.packets)
    expect(audio.map((p) => p[1])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(stream.samples).toBe(9600n)
  })

  it("starts a new page before a packet would overflow 255 segments", () => {
    const stream = new OggOpusStream(1, 1000)
    const big = Buffer.concat([Buffer.of(0x78), Buffer.alloc(254 * 100)]) // 100 segments each
    const out = Buffer.concat([stream.push(big), stream.push(big), stream.push(big), stream.flush(true)])
    const pages = parsePages(out)
    expect(pages.map((p) => p.packets.length)).toEqual([2, 1])
    expect(pages.every((p) => p.crcOk)).toBe(true)
  })
})
