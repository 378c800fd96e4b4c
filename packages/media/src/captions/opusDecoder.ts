import OpusScript from "opusscript"
import { SAMPLE_RATE } from "./Recogniser.js"

/**
 * Opus to 16 kHz mono PCM (libopus in wasm): the decoder resamples itself, whatever rate and
 * channels the sender encoded. One per speaker (Opus decoding carries state across packets).
 */
export class OpusToPcm {
  private decoder: OpusScript | undefined

  decode(payload: Buffer): Int16Array {
    this.decoder ??= new OpusScript(SAMPLE_RATE, 1, OpusScript.Application.VOIP)
    const bytes = this.decoder.decode(payload)
    return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2).slice()
  }

  close(): void {
    this.decoder?.delete()
    this.decoder = undefined
  }
}
