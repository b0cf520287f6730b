/**
 * Three fixes to cosmjs-types 0.11's protobuf runtime, applied once per process. Imported for its side effect by the app
 * and the signers (and by anything that imports either).
 *
 * 1. `BinaryWriter.alloc` builds a new buffer pool on every call, so every `X.encode(m).finish()` allocated an 8 KiB
 *    slab and returned a view into it: ~1 s of a 10 s transaction benchmark went to that allocation and its garbage,
 *    and every stored value kept a whole slab alive. Allocating exactly the bytes needed is what the pool was meant to
 *    approximate.
 * 2. `new BinaryReader(buf)` copies `buf` before decoding, so every top-level decode (TxRaw, TxBody, AuthInfo, each
 *    message, each stored BaseAccount) copied its input: ~15% of CheckTx. The generated decoders construct readers
 *    through the module's exports object at call time (`new binary_1.BinaryReader(input)`), so replacing that export
 *    with a subclass that reads a view of the caller's bytes removes the copy everywhere. Decoded `bytes` fields then
 *    alias the input, exactly as with @bufbuild/protobuf's reader that our own generated code (src/gen) uses: a
 *    buffer must not be changed after something was decoded from it. Nothing in proofbook does that — tx bytes, ABCI
 *    frames (fresh per frame) and stored values (fresh per write) are never written in place.
 * 3. The stock string reader (utf8Read) builds a number array, slices it and spreads it into String.fromCharCode for
 *    every string: 10% of all bytes allocated per tx. Addresses, denoms and type URLs are ASCII, and for ASCII bytes
 *    latin1 decoding gives the identical string; anything else still goes to the stock reader, so the result is the
 *    same on every input (test/codec-reader.test.ts).
 */
import { BinaryWriter } from 'cosmjs-types/binary';
// Default imports of a CommonJS module are its `module.exports` object under Node (the object the generated decoders
// read `BinaryReader` from), which is what fixes 2 and 3 replace. No `node:module`/createRequire, so the SDK's
// browser entry can import this file: a bundler that hands out a copy of the exports (or `undefined`) gets fix 1
// only, which is all the browser needs.
import binaryExports from 'cosmjs-types/binary';
import utf8Exports from 'cosmjs-types/utf8';

(BinaryWriter as unknown as { alloc: (size: number) => Uint8Array }).alloc = (size: number) => new Uint8Array(size);

interface ReaderState {
  buf: Uint8Array;
  len: number;
}
type ReaderClass = new (buf?: Uint8Array) => ReaderState & { bytes(): Uint8Array };
const binary = binaryExports as unknown as { BinaryReader: ReaderClass } | undefined;
const utf8Read = (utf8Exports as unknown as { utf8Read?: (buf: Uint8Array, start: number, end: number) => string } | undefined)?.utf8Read;
const writable = binary !== undefined && utf8Read !== undefined && typeof Buffer !== 'undefined'
  && Object.getOwnPropertyDescriptor(binary, 'BinaryReader')?.writable === true;
if (writable && !(binary.BinaryReader as unknown as { proofbookView?: true }).proofbookView) {
  const Copying = binary.BinaryReader;
  class ViewReader extends Copying {
    static readonly proofbookView = true;
    constructor(buf?: Uint8Array) {
      super(undefined);
      if (buf) {
        this.buf = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        this.len = this.buf.length;
      }
    }

    /** Fix 3 (see the top of this file). */
    string(): string {
      const bytes = this.bytes();
      const n = bytes.length;
      for (let i = 0; i < n; i++) if (bytes[i] >= 0x80) return utf8Read!(bytes, 0, n);
      return Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('latin1');
    }
  }
  binary.BinaryReader = ViewReader;
}
