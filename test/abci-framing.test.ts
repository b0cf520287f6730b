import test from 'ava';
import { Request, Response, RequestFinalizeBlock } from 'cosmjs-types/tendermint/abci/types';
import {
  encodeUvarint, encodeFrame, encodeRequestFrame, encodeResponseFrame, FrameDecoder, FrameTooLargeError,
  FrameFormatError, DEFAULT_MAX_MESSAGE_BYTES,
} from '../app/abci/framing.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('unsigned varint is byte-exact (protobuf/LEB128, not zig-zag)', (t) => {
  t.is(hex(encodeUvarint(0)), '00');
  t.is(hex(encodeUvarint(1)), '01'); // zig-zag would give 02
  t.is(hex(encodeUvarint(127)), '7f');
  t.is(hex(encodeUvarint(128)), '8001');
  t.is(hex(encodeUvarint(300)), 'ac02');
  t.is(hex(encodeUvarint(16383)), 'ff7f');
  t.is(hex(encodeUvarint(16384)), '808001');
  t.is(hex(encodeUvarint(2 ** 31 - 1)), 'ffffffff07');
  t.is(hex(encodeUvarint(2 ** 32)), '8080808010');
  t.is(hex(encodeUvarint(Number.MAX_SAFE_INTEGER)), 'ffffffffffffff0f');
  t.throws(() => encodeUvarint(-1));
  t.throws(() => encodeUvarint(1.5));
});

test('frames match what CometBFT v0.38 writes: Echo request, Flush response', (t) => {
  // Request{echo: {message: "hi"}}: field 1 (tag 0x0a), len 4, RequestEcho{message (tag 0x0a) len 2 "hi"}
  t.is(hex(encodeRequestFrame(Request.fromPartial({ echo: { message: 'hi' } }))), '060a040a026869');
  // Response{flush: {}}: field 3 (tag 0x1a) with an empty message -> 2 bytes, prefix 02.
  t.is(hex(encodeResponseFrame(Response.fromPartial({ flush: {} }))), '021a00');
  // Request{flush: {}}: field 2 -> tag 0x12
  t.is(hex(encodeRequestFrame(Request.fromPartial({ flush: {} }))), '021200');
});

test('cosmjs-types uses the v0.38 oneof field numbers (proto/tendermint/abci/types.proto)', (t) => {
  const firstTag = (bytes: Uint8Array) => {
    // read the first varint tag
    let v = 0; let s = 1; let i = 0;
    for (;;) { const b = bytes[i++]!; v += (b & 0x7f) * s; s *= 128; if (!(b & 0x80)) break; }
    return v;
  };
  const field = (b: Uint8Array) => firstTag(b) >> 3;
  // fromPartial fills the defaults of the (empty) inner message
  const req = (r: object) => field(Request.encode(Request.fromPartial(r as Request)).finish());
  const res = (r: object) => field(Response.encode(Response.fromPartial(r as Response)).finish());
  t.is(req({ echo: {} }), 1);
  t.is(req({ flush: {} }), 2);
  t.is(req({ info: {} }), 3);
  t.is(req({ initChain: {} }), 5);
  t.is(req({ query: {} }), 6);
  t.is(req({ checkTx: {} }), 8);
  t.is(req({ commit: {} }), 11);
  t.is(req({ listSnapshots: {} }), 12);
  t.is(req({ offerSnapshot: {} }), 13);
  t.is(req({ loadSnapshotChunk: {} }), 14);
  t.is(req({ applySnapshotChunk: {} }), 15);
  t.is(req({ prepareProposal: {} }), 16);
  t.is(req({ processProposal: {} }), 17);
  t.is(req({ extendVote: {} }), 18);
  t.is(req({ verifyVoteExtension: {} }), 19);
  t.is(req({ finalizeBlock: {} }), 20);
  t.is(res({ exception: {} }), 1);
  t.is(res({ echo: {} }), 2);
  t.is(res({ flush: {} }), 3);
  t.is(res({ info: {} }), 4);
  t.is(res({ initChain: {} }), 6);
  t.is(res({ query: {} }), 7);
  t.is(res({ checkTx: {} }), 9);
  t.is(res({ commit: {} }), 12);
  t.is(res({ listSnapshots: {} }), 13);
  t.is(res({ offerSnapshot: {} }), 14);
  t.is(res({ loadSnapshotChunk: {} }), 15);
  t.is(res({ applySnapshotChunk: {} }), 16);
  t.is(res({ prepareProposal: {} }), 17);
  t.is(res({ processProposal: {} }), 18);
  t.is(res({ extendVote: {} }), 19);
  t.is(res({ verifyVoteExtension: {} }), 20);
  t.is(res({ finalizeBlock: {} }), 21);
});

function sampleFrames(): { payloads: Uint8Array[]; stream: Buffer } {
  const payloads = [
    Request.encode(Request.fromPartial({ echo: { message: 'hello' } })).finish(),
    Request.encode(Request.fromPartial({ flush: {} })).finish(),
    new Uint8Array(0), // an empty Request is a legal 0-length frame
    Request.encode(Request.fromPartial({
      finalizeBlock: RequestFinalizeBlock.fromPartial({ height: 7n, txs: [new Uint8Array(200).fill(7), new Uint8Array(3)] }),
    })).finish(), // > 127 bytes: two-byte length prefix
    Request.encode(Request.fromPartial({ checkTx: { tx: new TextEncoder().encode('a=b') } })).finish(),
  ];
  return { payloads, stream: Buffer.concat(payloads.map((p) => encodeFrame(p))) };
}

test('several frames in one chunk all come out, in order', (t) => {
  const { payloads, stream } = sampleFrames();
  const d = new FrameDecoder();
  const out = d.push(stream);
  t.deepEqual(out.map(hex), payloads.map(hex));
  t.false(d.hasPartialFrame);
  const fb = Request.decode(out[3]!);
  t.is(fb.finalizeBlock?.height, 7n);
  t.is(fb.finalizeBlock?.txs[0]!.length, 200);
});

test('a stream split at every byte position decodes identically', (t) => {
  const { payloads, stream } = sampleFrames();
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder();
    const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    t.deepEqual(out.map(hex), payloads.map(hex), `cut at ${cut}`);
    t.false(d.hasPartialFrame);
  }
  // and one byte at a time
  const d = new FrameDecoder();
  const out: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i++) out.push(...d.push(stream.subarray(i, i + 1)));
  t.deepEqual(out.map(hex), payloads.map(hex));
});

test('a partial frame is held until completed', (t) => {
  const frame = encodeFrame(new Uint8Array(300).fill(1));
  const d = new FrameDecoder();
  t.deepEqual(d.push(frame.subarray(0, 1)), []);
  t.true(d.hasPartialFrame);
  t.deepEqual(d.push(frame.subarray(1, 100)), []);
  const out = d.push(frame.subarray(100));
  t.is(out.length, 1);
  t.is(out[0]!.length, 300);
});

test('oversize frames are refused with a clear error before the payload arrives', (t) => {
  const d = new FrameDecoder({ maxMessageBytes: 1000 });
  t.deepEqual(d.push(encodeFrame(new Uint8Array(1000))).map((f) => f.length), [1000]);
  const err = t.throws(() => d.push(encodeUvarint(1001)), { instanceOf: FrameTooLargeError });
  t.regex(err!.message, /1001 bytes exceeds the maximum message size of 1000/);
  // poisoned afterwards
  t.throws(() => d.push(new Uint8Array([1, 0])), { instanceOf: FrameTooLargeError });

  // the default limit, with only the length prefix of a 2 GiB frame
  const big = new FrameDecoder();
  t.throws(() => big.push(encodeUvarint(2 ** 31 - 1)), { instanceOf: FrameTooLargeError });
  t.true(DEFAULT_MAX_MESSAGE_BYTES >= 100 * 1024 * 1024, 'must fit a maximum-size (100 MiB) block');
  // a huge length is refused while its varint is still incomplete
  const early = new FrameDecoder({ maxMessageBytes: 1000 });
  t.throws(() => early.push(new Uint8Array([0xff, 0xff])), { instanceOf: FrameTooLargeError });
});

test('a length varint longer than 10 bytes is a format error', (t) => {
  const d = new FrameDecoder({ maxMessageBytes: Number.MAX_SAFE_INTEGER });
  t.throws(() => d.push(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])), { instanceOf: FrameFormatError });
});
