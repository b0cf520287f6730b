'use strict';
/**
 * Worker thread of SignatureVerifyPool (verify-pool.ts): verifies batches of secp256k1 signatures with libsecp256k1.
 *
 * Plain CommonJS on purpose: worker threads do not inherit the tsx loader that bin/proofbook.mjs registers, so this
 * file must run on bare Node. It needs only the native addon.
 *
 * Message in:  { id, buf }  buf = n records of 129 bytes: digest(32) | signature r||s (64) | compressed pubkey (33)
 * Message out: { id, out }  out = n bytes, 1 = valid (low-S, as libsecp256k1 requires), 0 = anything else
 */
const { parentPort } = require('node:worker_threads');
const native = require('secp256k1/bindings');

const RECORD = 129;

parentPort.on('message', (msg) => {
  const all = new Uint8Array(msg.buf);
  const n = Math.floor(all.length / RECORD);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * RECORD;
    try {
      out[i] = native.ecdsaVerify(all.subarray(o + 32, o + 96), all.subarray(o, o + 32), all.subarray(o + 96, o + RECORD)) ? 1 : 0;
    } catch {
      out[i] = 0; // unparsable key or signature: invalid
    }
  }
  parentPort.postMessage({ id: msg.id, out }, [out.buffer]);
});
