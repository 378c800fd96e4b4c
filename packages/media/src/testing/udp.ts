/** Local UDP endpoints standing in for browsers: a speaker that sends RTP, listeners that collect it. */
import { createSocket, type Socket } from "node:dgram"
import { parseRtp, type RtpPacket } from "./rtp.js"

export interface UdpEndpoint {
  readonly socket: Socket
  readonly ip: string
  readonly port: number
  /** RTP packets received, in arrival order (RTCP is dropped). */
  readonly packets: Array<RtpPacket>
  readonly send: (packet: Buffer, ip: string, port: number) => Promise<void>
  readonly close: () => Promise<void>
}

export const udpEndpoint = (ip = "127.0.0.1"): Promise<UdpEndpoint> =>
  new Promise((resolve, reject) => {
    const socket = createSocket("udp4")
    const packets: Array<RtpPacket> = []
    socket.on("message", (message) => {
      const rtp = parseRtp(message)
      if (rtp !== undefined) packets.push(rtp)
    })
    socket.once("error", reject)
    socket.bind(0, ip, () => {
      // Room for a whole test's worth of packets even if the event loop is busy for a while.
      socket.setRecvBufferSize(1 << 20)
      resolve({
        socket,
        ip,
        port: socket.address().port,
        packets,
        send: (packet, toIp, toPort) =>
          new Promise((done, fail) =>
            socket.send(packet, toPort, toIp, (error) => (error ? fail(error) : done()))
          ),
        close: () => new Promise((done) => socket.close(() => done()))
      })
    })
  })

/**
 * Waits until `done()` holds or `timeoutMs` passes, and returns whether it held. A bounded wait
 * for arrival, not a speed check: callers assert on what arrived.
 */
export const waitUntil = async (done: () => boolean, timeoutMs = 10_000): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return true
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
