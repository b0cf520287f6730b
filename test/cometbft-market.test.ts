/**
 * The prover market end to end on a real 4-validator CometBFT v0.38 localnet (one proofbook app process per
 * validator), driven by unmodified @cosmjs/stargate with different txs sent through different nodes:
 * two provers bond and ask; a request is assigned to the cheaper one, who does not prove; at the deadline its
 * collateral is slashed (half to the requester, a quarter held as bounty, a quarter burned) and the request enters the
 * permissionless fallback (it is not auctioned again); the second prover fulfils it there, its snarkjs proof verified
 * by every validator; payouts are exact; every node's header app hash agrees at every height.
 *
 * Genesis: the default devnet genesis with bond `max_misses = 1`, so the missing prover is jailed by its first
 * miss.
 *
 * Needs the cometbft binary (npm run install-cometbft): fails, never skips, when it is missing.
 */
import test from 'ava';
import { holdingRefund } from '../modules/market/holding.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { GasPrice, QueryClient, SigningStargateClient, calculateFee, type DeliverTxResponse, type StdFee } from '@cosmjs/stargate';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { QueryBalanceRequest, QueryBalanceResponse, QuerySupplyOfRequest, QuerySupplyOfResponse } from 'cosmjs-types/cosmos/bank/v1beta1/query';
import { createNet, findCometbft } from '../scripts/cometbft-net.js';
import { DEVNET_MNEMONIC, defaultGenesis, devnetAccounts } from '../genesis/index.js';
import { proofbookRegistry, TYPE_URLS } from '../src/client/registry.js';
import { genesisCircuitId } from '../modules/verifier/index.js';
import { GENESIS_CIRCUIT } from '../src/zk/genesis.js';
import { proveWithSnarkjs, terminateSnarkjs } from '../src/zk/prove.js';
import { encodeProof } from '../src/zk/groth16.js';
import { fallbackCommitment } from '../src/zk/fallback-commitment.js';
import { moduleAddress } from '../src/crypto/address.js';
import { QueryProverRequest, QueryProverResponse } from '../src/gen/proofbook/bond/v1/bond.js';
import {
  MsgPostAskResponse,
  MsgSubmitRequestResponse,
  QueryRequestRequest,
  QueryRequestResponse,
  RequestStatus,
  type Request,
} from '../src/gen/proofbook/market/v1/market.js';

test.after.always(() => terminateSnarkjs());

const DENOM = 'uproof';
const GAS_PRICE = GasPrice.fromString('0.001uproof');
const GAS_LIMIT = 5_000_000;
/** Every tx pays calculateFee(GAS_LIMIT, 0.001uproof) = 5000uproof, so balances can be checked exactly. */
const FEE: StdFee = calculateFee(GAS_LIMIT, GAS_PRICE);
const TX_FEE = BigInt(FEE.amount[0]!.amount);
const BOND = 1_000_000n;
const PRICE1 = 5000n; // devnet1, cheaper, capacity 1
const PRICE2 = 6000n; // devnet2, capacity 2 (its second unit is the competing unit that sets the uniform price)
const MAX_FEE = 10_000n;
const WINDOW = 8n;
const POLL_MS = 300;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('market on a 4-validator localnet: assign, miss -> slash + jail + fallback, fallback proof -> exact payouts; equal app hashes', async (t) => {
  t.timeout(240_000);
  // Loud failure (not a skip) without the binary.
  await findCometbft();

  const appState = defaultGenesis() as Record<string, any>;
  appState.bond = { ...appState.bond, params: { ...appState.bond.params, max_misses: '1' } };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-comet-market-'));
  // FAST_TIMEOUTS, but with a 500 ms commit pause so that an 8-block proving window is several seconds even when
  // the (loaded) machine produces empty blocks quickly: the windows must outlast a snarkjs proof plus a tx's trip.
  const net = await createNet(dir, {
    validators: 4, app: 'proofbook', fast: true, appState, chainId: 'proofbook-market-e2e',
    timeouts: { timeout_commit: '500ms', skip_timeout_commit: false },
  });
  const clients: { disconnect(): void }[] = [];
  t.teardown(async () => {
    for (const c of clients) c.disconnect();
    await net.stop();
    if (t.passed) fs.rmSync(dir, { recursive: true, force: true });
    else t.log(`kept ${dir}\n${net.logTail(net.appLog(0))}\n${net.logTail(net.cometLog(0))}`);
  });
  await net.start();
  await Promise.all([0, 1, 2, 3].map((i) => net.waitForHeight(i, 2, 90_000)));

  // ---- clients: account i signs through node `node`
  const accounts = devnetAccounts();
  const signer = async (account: number, node: number) => {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(account)] });
    const [acc] = await wallet.getAccounts();
    t.is(acc!.address, accounts[account]!.address);
    const client = await SigningStargateClient.connectWithSigner(net.rpcUrl(node), wallet, {
      registry: proofbookRegistry(), gasPrice: GAS_PRICE, broadcastPollIntervalMs: POLL_MS, broadcastTimeoutMs: 90_000,
    });
    clients.push(client);
    return { address: acc!.address, client };
  };
  const queriers = await Promise.all([0, 1, 2, 3].map(async (i) => {
    const comet = await Comet38Client.connect(net.rpcUrl(i));
    clients.push(comet);
    return new QueryClient(comet);
  }));
  const q = (node: number) => queriers[node]!;

  const p1 = await signer(1, 1); // devnet1 through node 1
  const p2 = await signer(2, 2); // devnet2 through node 2
  const rq = await signer(3, 3); // devnet3 through node 3
  const p2via0 = await signer(2, 0); // devnet2 again, submitting its proof through node 0

  const balance = async (node: number, address: string): Promise<bigint> => {
    const r = await q(node).queryAbci('/cosmos.bank.v1beta1.Query/Balance', QueryBalanceRequest.encode({ address, denom: DENOM }).finish());
    return BigInt(QueryBalanceResponse.decode(r.value).balance!.amount);
  };
  const supply = async (node: number): Promise<bigint> => {
    const r = await q(node).queryAbci('/cosmos.bank.v1beta1.Query/SupplyOf', QuerySupplyOfRequest.encode({ denom: DENOM }).finish());
    return BigInt(QuerySupplyOfResponse.decode(r.value).amount!.amount);
  };
  const prover = async (node: number, address: string) => {
    const r = await q(node).queryAbci('/proofbook.bond.v1.Query/Prover', QueryProverRequest.encode({ address }).finish());
    const p = QueryProverResponse.decode(r.value).prover!;
    const amt = (l: { denom: string; amount: string }[]) => BigInt(l.find((c) => c.denom === DENOM)?.amount ?? '0');
    return { bonded: amt(p.bonded), locked: amt(p.locked), jailed: p.jailed };
  };
  const request = async (node: number, id: bigint): Promise<{ request: Request; height: number }> => {
    const r = await q(node).queryAbci('/proofbook.market.v1.Query/Request', QueryRequestRequest.encode({ id }).finish());
    return { request: QueryRequestResponse.decode(r.value).request!, height: r.height ?? 0 };
  };
  const waitRequest = async (node: number, id: bigint, what: string, cond: (r: Request) => boolean, timeoutMs = 90_000): Promise<{ request: Request; height: number }> => {
    const deadline = Date.now() + timeoutMs;
    let last: Request | undefined;
    for (;;) {
      try {
        const r = await request(node, id);
        last = r.request;
        if (cond(r.request)) return r;
      } catch { /* not there yet */ }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for request ${id} to be ${what}; last: ${JSON.stringify(last, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `<${v.length} bytes>` : v))}`);
      await sleep(POLL_MS);
    }
  };
  /** Wait until every node has committed height h, so queries to any node see the same state. */
  const synced = (h: number) => Promise.all([0, 1, 2, 3].map((i) => net.waitForHeight(i, h, 60_000)));
  const expectOk = (r: DeliverTxResponse, what: string): DeliverTxResponse => {
    t.is(r.code, 0, `${what}: ${r.rawLog}`);
    if (r.code !== 0) throw new Error(`${what} failed: ${r.rawLog}`);
    return r;
  };

  const circuitId = genesisCircuitId();
  const exampleInput = fs.readFileSync(GENESIS_CIRCUIT.exampleInputPath);
  const examplePublic = (JSON.parse(fs.readFileSync(GENESIS_CIRCUIT.exampleInputPath.replace('input.json', 'public.example.json'), 'utf8')) as string[]).map(String);
  const treasury = moduleAddress('treasury');
  const escrow = moduleAddress('market_escrow');

  // ---- 1. two provers bond and ask (in parallel, through nodes 1 and 2)
  const bondMsg = (prover: string) => ({ typeUrl: TYPE_URLS.bond, value: { prover, amount: [{ denom: DENOM, amount: BOND.toString() }] } });
  const askMsg = (prover: string, price: bigint, capacity: bigint) => ({
    typeUrl: TYPE_URLS.postAsk, value: { prover, circuitId, price: price.toString(), capacity, expiryHeight: 100_000n },
  });
  const [a1, a2] = await Promise.all([
    p1.client.signAndBroadcast(p1.address, [bondMsg(p1.address), askMsg(p1.address, PRICE1, 1n)], FEE, 'bond+ask 1'),
    p2.client.signAndBroadcast(p2.address, [bondMsg(p2.address), askMsg(p2.address, PRICE2, 2n)], FEE, 'bond+ask 2'),
  ]);
  expectOk(a1, 'devnet1 bond+ask');
  expectOk(a2, 'devnet2 bond+ask');
  const askId1 = MsgPostAskResponse.decode(a1.msgResponses[1]!.value).askId;
  const askId2 = MsgPostAskResponse.decode(a2.msgResponses[1]!.value).askId;
  t.not(askId1, askId2);
  t.log(`asks ${askId1} (devnet1 @${PRICE1}) at height ${a1.height}, ${askId2} (devnet2 @${PRICE2}x2) at height ${a2.height}`);
  await net.waitForHeight(0, Math.max(a1.height, a2.height)); // stored and committed by node 0's app
  t.deepEqual(await prover(0, p1.address), { bonded: BOND, locked: 0n, jailed: false });
  t.deepEqual(await prover(0, p2.address), { bonded: BOND, locked: 0n, jailed: false });

  // ---- 2. the requester submits the genesis circuit's example input (through node 3)
  const genesisSupply = await supply(0);
  const r0 = await balance(3, rq.address);
  const b1start = await balance(1, p1.address);
  const b2start = await balance(2, p2.address);
  const t0 = await balance(0, treasury);
  const h0 = await net.height(3);
  const sub = expectOk(await rq.client.signAndBroadcast(rq.address, [{
    typeUrl: TYPE_URLS.submitRequest,
    value: {
      requester: rq.address, circuitId, inputInline: exampleInput, expectedPublicSignals: examplePublic,
      minFee: MAX_FEE.toString(), maxFee: MAX_FEE.toString(), rampBlocks: 0n, provingWindow: WINDOW,
      expiryHeight: BigInt(h0 + 500), minCollateral: '0',
    },
  }], FEE, 'request'), 'devnet3 submit request');
  const id = MsgSubmitRequestResponse.decode(sub.msgResponses[0]!.value).requestId;
  t.is(id, 1n);
  // Auction at the end of the same block: devnet1 (cheapest) gets it at the uniform price set by devnet2's unit.
  const asg = await waitRequest(0, id, 'ASSIGNED', (r) => r.status === RequestStatus.REQUEST_STATUS_ASSIGNED);
  const assigned = asg.request;
  t.is(assigned.assignment!.prover, p1.address);
  t.is(assigned.assignment!.askId, askId1);
  t.is(assigned.assignment!.price, PRICE2.toString());
  t.is(assigned.assignment!.collateral, (2n * PRICE2).toString());
  t.is(assigned.assignment!.assignedHeight, BigInt(sub.height));
  const deadline = assigned.assignment!.deadlineHeight;
  t.is(deadline, BigInt(sub.height) + 3n + WINDOW); // accept phase (accept_blocks = 3), then the window
  t.is(assigned.assignmentsCount, 1);
  t.deepEqual(Buffer.from(assigned.inputInline), exampleInput);
  await synced(asg.height);
  t.deepEqual(await prover(2, p1.address), { bonded: BOND, locked: 2n * PRICE2, jailed: false });
  t.is((await prover(2, p2.address)).locked, 0n, 'exactly one prover holds the work');
  // The holding deposit (modules/market/holding.ts) is paid at submission and held in escrow while the request lives.
  const deposit = BigInt(assigned.holdingDeposit);
  t.true(deposit > 0n);
  t.is(await balance(3, rq.address), r0 - TX_FEE - MAX_FEE - deposit);
  t.is(await balance(1, escrow), MAX_FEE + deposit);
  t.log(`request ${id} submitted at height ${sub.height}, assigned to devnet1, deadline ${deadline}`);

  // devnet2 (backup prover) reads the input from the chain and prepares a proof while devnet1 sits on the work.
  const input = JSON.parse(Buffer.from(assigned.inputInline).toString('utf8')) as Record<string, unknown>;
  const proving = proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, input, { singleThread: true });
  proving.catch(() => { /* awaited below */ });

  // ---- 3. devnet1 does not prove: at height deadline+1 it is slashed, jailed, and the request enters the fallback
  const proved = await proving;
  t.deepEqual(proved.publicJson, examplePublic);
  t.log(`devnet2 proved in ${Math.round(proved.ms)} ms (at height ${await net.height(1)}; devnet1's deadline ${deadline})`);
  const supplyBefore = genesisSupply; // fees go to fee_collector; only slashes change the supply here
  const rea = await waitRequest(1, id, 'FALLBACK', (r) => r.status === RequestStatus.REQUEST_STATUS_FALLBACK, 120_000);
  const reassigned = rea.request;
  await synced(rea.height);
  // not auctioned again (devnet2's ask is live): it waits for any bonded, non-excluded prover's proof
  t.is(reassigned.assignment, undefined);
  t.is(reassigned.assignmentsCount, 1);
  t.is(reassigned.fallbackHeight, deadline + 1n);
  t.deepEqual(reassigned.history.map((x) => x.event), ['submitted', 'assigned', 'slashed']);
  const slashEvent = reassigned.history[2]!;
  t.is(slashEvent.height, deadline + 1n);
  t.is(slashEvent.prover, p1.address);
  const slashed = 2n * PRICE2; // the whole collateral
  const compensated = slashed / 2n; // slash_to_requester_bps = 5000
  const bounty = slashed / 4n; // fallback_bounty_bps = 2500, held for whoever proves the request
  const burned = slashed - compensated - bounty;
  t.deepEqual(await prover(2, p1.address), { bonded: BOND - slashed, locked: 0n, jailed: true });
  t.deepEqual(await prover(2, p2.address), { bonded: BOND, locked: 0n, jailed: false });
  t.is(await supply(3), supplyBefore - burned, 'the burned quarter left the supply');
  t.is(reassigned.bounty, bounty.toString());
  t.deepEqual(reassigned.excludedProvers, [p1.address]);
  t.is(await balance(0, rq.address), r0 - TX_FEE - MAX_FEE - deposit + compensated, 'the requester got half of the slash');
  t.is(await balance(0, escrow), MAX_FEE + deposit + bounty, 'escrow is never slashed (it also holds the bounty)');
  t.log(`devnet1 slashed ${slashed} at height ${deadline + 1n} (${compensated} to the requester, ${burned} burned); request in the fallback`);

  // ---- 4. devnet2 fulfils it through the fallback (commit, then reveal in a later block) via node 0
  const proofBytes = encodeProof(proved.proof);
  expectOk(await p2via0.client.signAndBroadcast(p2.address, [{
    typeUrl: TYPE_URLS.commitFallbackProof,
    value: { prover: p2.address, requestId: id, commitment: fallbackCommitment(id, proofBytes, proved.publicJson, p2.address) },
  }], FEE, 'commit'), 'devnet2 commit fallback proof');
  const pr = expectOk(await p2via0.client.signAndBroadcast(p2.address, [{
    typeUrl: TYPE_URLS.submitProof,
    value: { prover: p2.address, requestId: id, proof: proofBytes, publicSignals: proved.publicJson },
  }], FEE, 'proof'), 'devnet2 submit proof');
  const ful = await waitRequest(2, id, 'FULFILLED', (r) => r.status === RequestStatus.REQUEST_STATUS_FULFILLED);
  const done = ful.request;
  const paid = BigInt(done.paidPrice); // the fallback fee the commitment locked (modules/market/fallback-fee.ts)
  t.true(paid > 0n && paid <= MAX_FEE);
  t.is(done.fulfilledHeight, BigInt(pr.height));
  t.deepEqual(done.publicSignals, examplePublic);
  t.is(done.escrow, '0');
  t.deepEqual(done.history.map((x) => x.event), ['submitted', 'assigned', 'slashed', 'fallback_fulfilled']);
  const protocolFee = (paid * 100n) / 10_000n; // protocol_fee_bps = 100
  // Balances on a node other than the one that took the proof.
  await synced(Math.max(pr.height, ful.height));
  t.is(await balance(3, p2.address), b2start - 2n * TX_FEE + paid - protocolFee + bounty, 'prover: +fee - protocol fee + bounty - its two tx fees (the commit deposit came back)');
  const holding = deposit - holdingRefund(done, done.fulfilledHeight);
  t.is(await balance(3, rq.address), r0 - TX_FEE - MAX_FEE + compensated + (MAX_FEE - paid) - holding, 'requester: refunded escrow - price - holding charge');
  t.is(await balance(3, p1.address), b1start, 'devnet1 sent no tx after the request; its loss is bonded collateral');
  t.is(await balance(3, treasury), t0 + protocolFee);
  t.is(await balance(3, escrow), 0n);
  t.deepEqual(await prover(3, p2.address), { bonded: BOND, locked: 0n, jailed: false });
  t.is(await supply(2), genesisSupply - burned);

  // ---- 5. every node's header app hash agrees at every height; the chain keeps going
  const finalHeight = Math.min(...await Promise.all([0, 1, 2, 3].map((i) => net.height(i))));
  t.true(finalHeight >= pr.height);
  // header(h).app_hash is the state after block h-1: heights 2..finalHeight+1 cover blocks 1..finalHeight
  // (so also the block holding the proof).
  await Promise.all([0, 1, 2, 3].map((i) => net.waitForHeight(i, finalHeight + 1, 60_000)));
  for (let h = 1; h <= finalHeight + 1; h++) {
    const hashes = await Promise.all([0, 1, 2, 3].map((i) => net.headerAppHash(i, h)));
    if (h > 1) t.regex(hashes[0]!, /^[0-9A-F]{64}$/, `app hash at header ${h}`);
    for (let k = 1; k < 4; k++) t.is(hashes[k], hashes[0], `node ${k} vs node 0 at header ${h}`);
  }
  await Promise.all([0, 1, 2, 3].map((i) => net.waitForHeight(i, finalHeight + 3, 60_000)));
  t.log(`app hashes equal on 4 nodes for headers 1..${finalHeight + 1}; chain advancing`);
});
