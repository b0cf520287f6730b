/**
 * The signature worker pool and the app's signature prefetch: the pool must agree with the main-thread verifier on
 * every input, never reject, and the prefetch must spare the main thread without changing any result.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { secp256k1 as noble } from '@noble/curves/secp256k1.js';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { CheckTxType } from 'cosmjs-types/tendermint/abci/types';
import { SignatureVerifyPool } from '../src/crypto/verify-pool.js';
import { verifyNative, type Secp256k1Verify } from '../src/crypto/secp256k1.js';
import { rawKeyFromPrivkey, signTx, type RawKey } from '../src/client/sign.js';
import { Rng } from './helpers/rng.js';
import { TestChain, TEST_CHAIN_ID, devnetKey } from './helpers/chain.js';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hex32 = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');

test('pool verdicts equal libsecp256k1 on valid, high-S, tampered and malformed inputs', async (t) => {
  const pool = new SignatureVerifyPool(2);
  t.teardown(() => pool.close());
  const rng = new Rng(7);
  const cases: { digest: Uint8Array; sig: Uint8Array; pubkey: Uint8Array }[] = [];
  for (let i = 0; i < 400; i++) {
    const priv = createHash('sha256').update(`k${i}`).digest();
    const pubkey = noble.getPublicKey(priv, true);
    const digest = createHash('sha256').update(`m${i}`).digest();
    const sig = noble.sign(digest, priv, { prehash: false }); // low-S
    switch (i % 5) {
      case 0: break; // valid, low-S
      case 1: { // the same signature with S -> n - S (high-S): the Cosmos rule rejects it
        const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'));
        sig.set(hex32(N - s), 32);
        break;
      }
      case 2: digest[rng.int(32)] ^= 1 << rng.int(8); break; // another message
      case 3: pubkey[1 + rng.int(32)] ^= 1; break; // another (often invalid) key
      case 4: sig.set(hex32(N), 0); break; // r >= n: unparsable
    }
    cases.push({ digest, sig, pubkey });
  }
  const verdicts = await Promise.all(cases.map((c) => pool.verify(c)));
  const expected = cases.map((c) => verifyNative(c.digest, c.sig, c.pubkey));
  t.deepEqual(verdicts, expected);
  t.is(expected.filter(Boolean).length, 80, 'exactly the untouched fifth is valid');
  t.is(pool.verified, 400);
  // Wrong lengths never reach a worker.
  t.false(await pool.verify({ digest: new Uint8Array(31), sig: cases[0].sig, pubkey: cases[0].pubkey }));
});

test('a closed pool answers false (not verified here) and never rejects', async (t) => {
  const pool = new SignatureVerifyPool(1);
  const priv = createHash('sha256').update('x').digest();
  const digest = createHash('sha256').update('m').digest();
  const job = { digest, sig: noble.sign(digest, priv, { prehash: false }), pubkey: noble.getPublicKey(priv, true) };
  t.true(await pool.verify(job));
  const inFlight = pool.verify(job);
  await pool.close();
  t.false(await inFlight);
  t.false(await pool.verify(job));
});

function countingVerifier(): { verify: Secp256k1Verify; calls: () => number } {
  let n = 0;
  return { verify: (d, s, p) => { n++; return verifyNative(d, s, p); }, calls: () => n };
}

const send = (from: RawKey, to: string, amount = '5') => ({
  msgs: [{ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: MsgSend.encode({ fromAddress: from.address, toAddress: to, amount: [{ denom: 'uproof', amount }] }).finish() }],
  fee: [{ denom: 'uproof', amount: 200n }],
  gasLimit: 200_000n,
});

test('prefetched CheckTx: no main-thread verification, same answers; a bad signature is still refused with its log', async (t) => {
  const counter = countingVerifier();
  const chain = await TestChain.create({ verify: counter.verify, parallelVerify: true });
  const plain = await TestChain.create({ parallelVerify: false });
  t.teardown(async () => { await chain.close(); await plain.close(); });
  const alice = await devnetKey(0);
  const bob = await devnetKey(1);

  const good = await chain.sign(alice, send(alice, bob.address));
  const req = { tx: good, type: CheckTxType.NEW };
  chain.app.prefetchCheckTx(req);
  const res = await chain.app.checkTx(req);
  t.is(res.code, 0, res.log);
  t.is(counter.calls(), 0, 'the worker verified it; the main thread did not');

  // Flip a bit of the signature: the pool says "not verified", the main thread verifies and refuses, same as without a pool.
  const raw = TxRaw.decode(await chain.sign(bob, send(bob, alice.address)));
  raw.signatures[0] = Uint8Array.from(raw.signatures[0]);
  raw.signatures[0][10] ^= 1;
  const bad = TxRaw.encode(raw).finish();
  const badReq = { tx: bad, type: CheckTxType.NEW };
  chain.app.prefetchCheckTx(badReq);
  const r1 = await chain.app.checkTx(badReq);
  const r2 = await plain.checkTx(Uint8Array.from(bad));
  t.not(r1.code, 0);
  t.is(r1.code, r2.code);
  t.is(r1.log, r2.log);
  t.regex(r1.log, /signature verification failed/);
  t.is(counter.calls(), 1, 'only the bad signature was verified on the main thread');
});

test('FinalizeBlock of txs never seen in CheckTx: verified on the pool, same results and app hash as main-thread only', async (t) => {
  const counter = countingVerifier();
  const pooled = await TestChain.create({ verify: counter.verify, parallelVerify: true });
  const plain = await TestChain.create({ parallelVerify: false });
  const probe = await TestChain.create({ parallelVerify: false });
  t.teardown(async () => { await pooled.close(); await plain.close(); await probe.close(); });
  const keys = await Promise.all([0, 1, 2, 3, 4].map((i) => devnetKey(i)));
  const fresh = rawKeyFromPrivkey(createHash('sha256').update('fresh account').digest());

  // The account number `fresh` gets when it is first funded (account numbers are deterministic): learnt on a probe.
  const fund = await pooled.sign(keys[0], send(keys[0], fresh.address, '100000'));
  await probe.rawBlock([fund]);
  const freshNumber = (await probe.account(fresh.address))!.accountNumber;

  // One block: five ordinary transfers, the funding of `fresh`, then a tx signed by `fresh` itself. `fresh` is not in
  // committed state when the block starts, so the prefetch cannot guess its account: that one signature must be
  // verified on the main thread, and everything must still come out exactly as without the pool.
  const txs: Uint8Array[] = [fund];
  for (let i = 1; i < keys.length; i++) txs.push(await pooled.sign(keys[i], send(keys[i], keys[(i + 1) % keys.length].address)));
  txs.push(signTx(fresh, send(fresh, keys[0].address, '1'), { chainId: TEST_CHAIN_ID, accountNumber: freshNumber, sequence: 0n }));
  const b1 = await pooled.rawBlock(txs);
  const b2 = await plain.rawBlock(txs.map((x) => Uint8Array.from(x)));
  t.deepEqual(b1.txResults.map((r) => [r.code, r.log, r.gasUsed]), b2.txResults.map((r) => [r.code, r.log, r.gasUsed]));
  t.true(b1.txResults.every((r) => r.code === 0), b1.txResults.map((r) => r.log).join('; '));
  t.deepEqual(b1.appHash, b2.appHash);
  t.is(counter.calls(), 1, 'five signatures came from the pool; only the unguessable one ran on the main thread');

  // Next block: `fresh` is committed now, so its signature is prefetched like any other.
  const again = signTx(fresh, send(fresh, keys[0].address, '1'), { chainId: TEST_CHAIN_ID, accountNumber: freshNumber, sequence: 1n });
  const c1 = await pooled.rawBlock([again]);
  const c2 = await plain.rawBlock([Uint8Array.from(again)]);
  t.is(c1.txResults[0].code, 0, c1.txResults[0].log);
  t.deepEqual(c1.appHash, c2.appHash);
  t.is(counter.calls(), 1);
});

test('an idle pool never keeps the process alive, a busy one does until its answer', async (t) => {
  const { execFile } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const poolUrl = new URL('../src/crypto/verify-pool.ts', import.meta.url).href;
  // Create a pool, submit one job without awaiting it, and let the script end: the verdict must still be printed
  // (the busy worker holds the process) and the process must then exit by itself (the idle workers do not).
  const script = `import { SignatureVerifyPool } from ${JSON.stringify(poolUrl)};
const pool = new SignatureVerifyPool(2);
pool.verify({ digest: new Uint8Array(32), sig: new Uint8Array(64), pubkey: new Uint8Array(33) }).then((v) => console.log('verdict', v));`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 30_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
  t.is(out.trim(), 'verdict false');
});
