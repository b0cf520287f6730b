/**
 * Fuzz: 10,000+ random and mutated transactions through CheckTx and FinalizeBlock. Asserts that nothing crashes,
 * that every rejection is a result code, that a rejected tx leaves the mempool state untouched, that txs rejected in
 * FinalizeBlock before their messages run change nothing (a twin chain that never saw them reaches the same app
 * hash), and that the supply invariant holds after every block (TestChain checks all invariants).
 */
import test from 'ava';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { TestChain, devnetKey } from './helpers/chain.js';
import { Rng } from './helpers/rng.js';
import type { RawKey } from '../src/client/sign.js';

const TOTAL = 10_240;
const PER_BLOCK = 512;

function sendMsg(from: RawKey, to: string, amount: string) {
  return { typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from.address, toAddress: to, amount: [{ denom: 'uproof', amount }] }).finish() };
}

function mutate(rng: Rng, tx: Uint8Array): Uint8Array {
  const out = Array.from(tx);
  switch (rng.int(6)) {
    case 0: // flip bits
      for (let i = 0, n = 1 + rng.int(4); i < n; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
      return Uint8Array.from(out);
    case 1: // truncate
      return Uint8Array.from(out.slice(0, rng.int(out.length)));
    case 2: // insert random bytes
      out.splice(rng.int(out.length), 0, ...rng.bytes(1 + rng.int(8)));
      return Uint8Array.from(out);
    case 3: // pure noise
      return rng.bytes(rng.int(300));
    case 4: // overwrite a byte with an extreme value (varint/length edge cases)
      out[rng.int(out.length)] = rng.pick([0x00, 0x7f, 0x80, 0xff]);
      return Uint8Array.from(out);
    default: // duplicate a slice
      { const a = rng.int(out.length); const b = Math.min(out.length, a + rng.int(20)); out.splice(b, 0, ...out.slice(a, b)); }
      return Uint8Array.from(out);
  }
}

test('10,000+ random and mutated txs: no crash, clear codes, rejected txs change nothing, invariants hold', async (t) => {
  const rng = new Rng(0xf00d);
  const a = await TestChain.create();
  const twin = await TestChain.create();
  t.teardown(async () => { await a.close(); await twin.close(); });
  const keys = await Promise.all([0, 1, 2, 3].map((i) => devnetKey(i)));

  let seen = 0, rejectedCheck = 0, accepted = 0;
  while (seen < TOTAL) {
    // Seeds: valid txs with the right sequences, so mutations explore the space around real transactions.
    const seeds: Uint8Array[] = [];
    for (const k of keys) {
      const acc = await a.account(k.address);
      seeds.push(await a.sign(k, { msgs: [sendMsg(k, keys[rng.int(keys.length)].address, String(1 + rng.int(1000)))], fee: [{ denom: 'uproof', amount: 200n }], gasLimit: 200_000n }, acc!.sequence));
    }
    const block: Uint8Array[] = [];
    for (let i = 0; i < PER_BLOCK; i++) block.push(i < 2 ? seeds[i] : mutate(rng, rng.pick(seeds)));
    // CheckTx: every answer is a code; a rejection leaves the mempool state exactly as it was.
    for (const tx of block) {
      const before = a.app.checkStateDigest();
      const r = await a.checkTx(tx);
      if (r.code !== 0) {
        rejectedCheck++;
        t.not(r.log, '', 'a rejection must say why');
        if (a.app.checkStateDigest() !== before) t.fail(`rejected tx (code ${r.code}: ${r.log}) changed the mempool state`);
      }
    }
    // FinalizeBlock with every tx (a byzantine proposer could include them all).
    const res = await a.rawBlock(block);
    t.deepEqual(a.app.checkInvariants(), []);
    // Txs that failed before their messages ran carry no events; the twin never sees them.
    const kept = block.filter((_, i) => res.txResults[i].code === 0 || res.txResults[i].events.length > 0);
    accepted += res.txResults.filter((r) => r.code === 0).length;
    const twinRes = await twin.rawBlock(kept);
    t.deepEqual(Buffer.from(twinRes.appHash).toString('hex'), Buffer.from(res.appHash).toString('hex'), `app hash diverged at height ${res.height}`);
    t.deepEqual(twin.app.checkInvariants(), []);
    seen += block.length;
  }
  t.true(seen >= 10_000);
  t.true(accepted >= 2 * (TOTAL / PER_BLOCK), 'the valid seeds went through');
  t.true(rejectedCheck > seen * 0.9, `most mutations are rejected (${rejectedCheck}/${seen})`);
});
