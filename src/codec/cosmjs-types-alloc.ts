/**
 * cosmjs-types 0.11's `BinaryWriter.alloc` builds a new buffer pool on every call, so every
 * `X.encode(m).finish()` allocates an 8 KiB slab and returns a view into it: ~1 s of a 10 s transaction benchmark
 * went to that allocation and its garbage, and every stored value kept a whole slab alive. Allocating exactly the
 * bytes needed is what the pool was meant to approximate. Imported for its side effect by the app and the signers.
 */
import { BinaryWriter } from 'cosmjs-types/binary';

(BinaryWriter as unknown as { alloc: (size: number) => Uint8Array }).alloc = (size: number) => new Uint8Array(size);
