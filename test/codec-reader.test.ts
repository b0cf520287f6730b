/**
 * The cosmjs-types runtime patches (src/codec/cosmjs-types-alloc.ts): exact-size encode buffers, decoding without
 * copying the input, and the ASCII fast path for strings — which must give exactly the stock decoder's string on
 * every input, valid UTF-8 or not.
 */
import test from 'ava';
import '../src/codec/cosmjs-types-alloc.js';
import { createRequire } from 'node:module';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { Rng } from './helpers/rng.js';

const require = createRequire(import.meta.url);
const binary = require('cosmjs-types/binary') as { BinaryReader: new (b: Uint8Array) => { string(): string } };
const { utf8Read } = require('cosmjs-types/utf8') as { utf8Read: (b: Uint8Array, s: number, e: number) => string };

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let n = bytes.length;
  do {
    prefix.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Uint8Array.from([...prefix, ...bytes]);
}

test('string(): identical to the stock utf8Read on ASCII, UTF-8 and invalid byte strings', (t) => {
  const rng = new Rng(42);
  const samples: Uint8Array[] = [
    new Uint8Array(0),
    new TextEncoder().encode('proof1qypqxpq9qcrsszgszyfpx9q4zct3sxfq0fzduj'),
    new TextEncoder().encode('/cosmos.bank.v1beta1.MsgSend'),
    new TextEncoder().encode('héllo wörld — ∑ 𝛑 🚀'),
    Uint8Array.from([0x7f, 0x80, 0xff, 0xc3]), // invalid sequences
  ];
  for (let i = 0; i < 2000; i++) {
    const len = rng.int(40);
    const ascii = rng.int(2) === 0;
    samples.push(Uint8Array.from({ length: len }, () => (ascii ? rng.int(128) : rng.int(256))));
  }
  for (const s of samples) {
    const viaReader = new binary.BinaryReader(lengthPrefixed(s)).string();
    t.is(viaReader, utf8Read(s, 0, s.length));
  }
});

test('decode reads a view of its input (no copy); encode returns exactly-sized buffers', (t) => {
  const msg = MsgSend.encode({ fromAddress: 'proof1a', toAddress: 'proof1b', amount: [{ denom: 'uproof', amount: '7' }] }).finish();
  t.is(msg.buffer.byteLength, msg.length, 'no 8 KiB slab behind an encoded message');
  const raw = TxRaw.encode({ bodyBytes: msg, authInfoBytes: Uint8Array.of(1, 2, 3), signatures: [new Uint8Array(64).fill(9)] }).finish();
  const decoded = TxRaw.decode(raw);
  t.is(decoded.bodyBytes.buffer, raw.buffer, 'bytes fields alias the input');
  t.deepEqual(MsgSend.decode(decoded.bodyBytes), MsgSend.decode(Uint8Array.from(msg)));
  t.true(decoded.bodyBytes instanceof Uint8Array && !Buffer.isBuffer(decoded.bodyBytes));
  // A Buffer input still yields plain Uint8Array fields (deepEqual against Uint8Array expectations keeps working).
  const fromBuffer = TxRaw.decode(Buffer.from(raw));
  t.false(Buffer.isBuffer(fromBuffer.signatures[0]));
  t.deepEqual(fromBuffer.signatures[0], new Uint8Array(64).fill(9));
});
