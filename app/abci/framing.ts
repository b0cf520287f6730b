/**
 * ABCI socket framing for CometBFT v0.38.
 *
 * Every message on the socket (both directions) is an UNSIGNED protobuf varint holding the byte length,
 * followed by that many bytes of a protobuf `tendermint.abci.Request` (CometBFT -> app) or
 * `tendermint.abci.Response` (app -> CometBFT). This is what cometbft v0.38's
 * `abci/types/messages.go` WriteMessage/ReadMessage do through `libs/protoio` (binary.PutUvarint /
 * binary.ReadUvarint). Tendermint <= v0.34 used a SIGNED (zig-zag) varint instead; that old wire is
 * not supported here.
 *
 * The message types come from cosmjs-types 0.11 (`tendermint/abci/types`), whose generated encoder
 * matches the v0.38 proto field numbers (e.g. Request.finalize_block = 20 -> tag 162,
 * Response.finalize_block = 21 -> tag 170); test/abci-framing.test.ts pins those tags.
 */
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';

/**
 * Default upper bound for one frame. CometBFT itself accepts up to 2 GiB (math.MaxInt32), but the
 * largest legitimate request is a FinalizeBlock/ProcessProposal carrying a whole block, and a block is
 * capped at 100 MiB (types.MaxBlockSizeBytes). 128 MiB leaves room for the block plus its envelope
 * while refusing a corrupted length prefix before allocating gigabytes.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

/** A varint is at most 10 bytes for a uint64. */
const MAX_VARINT_BYTES = 10;

export class FrameTooLargeError extends Error {
  constructor(readonly length: number, readonly max: number) {
    super(`ABCI frame of ${length} bytes exceeds the maximum message size of ${max} bytes`);
    this.name = 'FrameTooLargeError';
  }
}

export class FrameFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameFormatError';
  }
}

/** Unsigned LEB128 varint of a non-negative safe integer. */
export function encodeUvarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint value must be a non-negative safe integer, got ${value}`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Length prefix + payload as one buffer. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const prefix = encodeUvarint(payload.length);
  const frame = Buffer.allocUnsafe(prefix.length + payload.length);
  frame.set(prefix, 0);
  frame.set(payload, prefix.length);
  return frame;
}

export function encodeRequestFrame(req: Request): Buffer {
  return encodeFrame(Request.encode(req).finish());
}

export function encodeResponseFrame(res: Response): Buffer {
  return encodeFrame(Response.encode(res).finish());
}

/**
 * Incremental frame decoder. Feed every chunk the socket delivers to `push`; it returns every frame
 * completed by that chunk (zero, one or several) and keeps a partial frame for the next chunk.
 *
 * A frame's payload is copied once into a buffer of its final size (no repeated concatenation), so a
 * large FinalizeBlock arriving in many small TCP segments stays linear in its size.
 *
 * After an error (oversize or malformed length) the decoder is poisoned: the stream position is lost,
 * so the connection must be dropped.
 */
export class FrameDecoder {
  private readonly maxMessageBytes: number;
  /** Bytes of the length prefix read so far (only while `payload` is null). */
  private header: number[] = [];
  private payload: Buffer | null = null;
  private filled = 0;
  private failed: Error | null = null;

  constructor(opts: { maxMessageBytes?: number } = {}) {
    this.maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** True when a frame has been started but not completed. */
  get hasPartialFrame(): boolean {
    return this.header.length > 0 || this.payload !== null;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    const frames: Uint8Array[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.payload === null) {
        // Reading the length prefix, one byte at a time (it is at most 10 bytes).
        const byte = chunk[pos++]!;
        this.header.push(byte);
        if (byte & 0x80) {
          if (this.header.length >= MAX_VARINT_BYTES) return this.fail(new FrameFormatError('ABCI frame length varint is longer than 10 bytes'));
          // Refuse early once the bytes read so far already exceed the limit.
          const partial = this.headerValue();
          if (partial > this.maxMessageBytes) return this.fail(new FrameTooLargeError(partial, this.maxMessageBytes));
          continue;
        }
        const length = this.headerValue();
        if (length > this.maxMessageBytes) return this.fail(new FrameTooLargeError(length, this.maxMessageBytes));
        this.header = [];
        if (length === 0) {
          frames.push(new Uint8Array(0));
          continue;
        }
        this.payload = Buffer.allocUnsafe(length);
        this.filled = 0;
      }
      const need = this.payload.length - this.filled;
      const take = Math.min(need, chunk.length - pos);
      this.payload.set(chunk.subarray(pos, pos + take), this.filled);
      this.filled += take;
      pos += take;
      if (this.filled === this.payload.length) {
        frames.push(this.payload);
        this.payload = null;
        this.filled = 0;
      }
    }
    return frames;
  }

  /** Value of the varint bytes collected so far (as a float; exact up to 2^53, beyond any limit we accept). */
  private headerValue(): number {
    let value = 0;
    let scale = 1;
    for (const b of this.header) {
      value += (b & 0x7f) * scale;
      scale *= 0x80;
    }
    return value;
  }

  private fail(err: Error): never {
    this.failed = err;
    this.header = [];
    this.payload = null;
    throw err;
  }
}
