/**
 * The permissionless validator set on a real CometBFT v0.38 localnet (issue 12, "Tests on real CometBFT"): four
 * validators created by gentxs (devnet0 bonds 40 PROOF so the chain stays live with any one other validator down;
 * devnet1..3 bond 10 each), short unbonding / downtime-window / jail params, each validator with its own
 * `proofbook start` app, all staking and slashing transactions sent with the `proofbook` CLI as a subprocess:
 *
 *   (a) a fifth node joins as a full node, creates a validator (`tx staking create-validator --pubkey
 *       priv_validator_key.json`) and is seen in CometBFT's /validators and in blocks' last_commit signatures;
 *   (b) validator 1 unbonds its self-delegation below one unit of power and leaves CometBFT's set;
 *   (c) validator 3's key runs a second time (a full node with a copy of priv_validator_key.json and a fresh
 *       priv_validator_state.json): it double-signs, CometBFT commits DuplicateVoteEvidence, the app slashes
 *       (slash_fraction_double_sign), jails and tombstones it, it leaves the set and `tx slashing unjail` is refused;
 *   (d) validator 2 is stopped past the downtime window: jailed and slashed (slash_fraction_downtime), it leaves the
 *       set; restarted, it unjails with `tx slashing unjail` and signs blocks again;
 *   (f) the joiner withdraws its fee rewards and commission with `tx distribution withdraw-rewards --commission`: they
 *       equal the sums of the allocation events (commission = 5 % of each reward, the rest to its only delegator);
 *   (e) the chain committed all along, with equal app hashes on every node at every height.
 *
 * Needs the cometbft binary (npm run install-cometbft): fails, never skips, when it is missing.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { SigningStargateClient } from '@cosmjs/stargate';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { createNet, type Net } from '../scripts/cometbft-net.js';
import { addFullNode, type FullNode } from '../scripts/full-node.js';
import { defaultGenesis, DEVNET_MNEMONIC } from '../genesis/index.js';
import { buildGentx } from '../src/client/gentx.js';
import { devnetKey } from './helpers/chain.js';

const execFileP = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHAIN_ID = 'proofbook-staking-localnet';
const PROOF = 1_000_000n;
const SELF_BOND = [40n * PROOF, 10n * PROOF, 10n * PROOF, 10n * PROOF];
// Liveness: sign 25 % of 20 blocks; a stopped validator is jailed after 16 missed blocks. The net waits
// timeout_commit after +2/3 precommits (skip_timeout_commit off, as in production) so that every live validator's
// precommit makes it into last_commit; with skip_timeout_commit the fastest 2/3 commit alone and the slower
// validators "miss" most blocks.
const WINDOW = 20n;
const JAIL_SECONDS = 3n;

let net: Net;
let dir: string;
let cliHome: string;
const extra: FullNode[] = [];
let joined: FullNode | undefined;

interface Cli { code: number; stdout: string; stderr: string; json: any }

/** `proofbook …` as a subprocess against node `node`'s RPC, keys from the devnet test keyring. */
async function cli(node: number, ...args: string[]): Promise<Cli> {
  const url = node < net.validators ? net.rpcUrl(node) : extra.find((f) => f.index === node)!.rpcUrl;
  try {
    const { stdout, stderr } = await execFileP(process.execPath, ['--import', 'tsx', path.join(REPO, 'cli', 'main.ts'), '--home', cliHome, '--node', url, '-o', 'json', ...args],
      { cwd: REPO, env: { ...process.env, PROOFBOOK_KEYRING_BACKEND: 'test' }, timeout: 120_000 });
    return { code: 0, stdout, stderr, json: stdout.trim() ? JSON.parse(stdout) : undefined };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    let json: unknown;
    try { json = JSON.parse(x.stdout ?? ''); } catch { /* not JSON */ }
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e), json };
  }
}

async function cliOk(t: ExecutionContext, node: number, ...args: string[]): Promise<any> {
  const r = await cli(node, ...args);
  t.is(r.code, 0, `proofbook ${args.join(' ')}\n${r.stderr}\n${r.stdout}`);
  return r.json;
}

const FEES = ['--fees', '5000uproof'];

function consAddrOf(home: string): string {
  return (JSON.parse(fs.readFileSync(path.join(home, 'config', 'priv_validator_key.json'), 'utf8')) as { address: string }).address;
}

/** CometBFT's validator set at the latest height on node i: hex address -> voting power. */
async function cometSet(i: number): Promise<Map<string, bigint>> {
  const r = await net.rpc<{ validators: { address: string; voting_power: string }[] }>(i, 'validators', { per_page: 100 });
  return new Map(r.validators.map((v) => [v.address, BigInt(v.voting_power)]));
}

/** The hex addresses that signed (COMMIT flag) block h-1, from block h's last_commit. */
async function signersAt(i: number, h: number): Promise<Set<string>> {
  const r = await net.rpc<{ block: { last_commit: { signatures: { block_id_flag: number; validator_address: string }[] } } }>(i, 'block', { height: h });
  return new Set(r.block.last_commit.signatures.filter((s) => s.block_id_flag === 2).map((s) => s.validator_address));
}

/** Waits until `addr` signs a block committed after now (seen in a later block's last_commit); returns that height. */
async function waitSigns(t: ExecutionContext, addr: string, timeoutMs = 120_000): Promise<number> {
  const from = (await net.height(0)) + 1;
  let seenAt = 0;
  let h = from;
  await net.waitFor(async () => {
    const top = await net.height(0);
    for (; h <= top; h++) if ((await signersAt(0, h)).has(addr)) { seenAt = h; return true; }
    return false;
  }, timeoutMs, `${addr} in a last_commit`, 300);
  t.log(`${addr} signed the block committed in last_commit of height ${seenAt}`);
  return seenAt;
}

async function validatorJson(node: number, key: string): Promise<any> {
  return (await cli(node, 'query', 'staking', 'validator', key)).json;
}

test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-staking-net-'));
  cliHome = path.join(dir, 'cli');
  const ops = await Promise.all(SELF_BOND.map((_, i) => devnetKey(i)));
  net = await createNet(dir, {
    validators: 4,
    chainId: CHAIN_ID,
    timeouts: { skip_timeout_commit: false, timeout_commit: '300ms' },
    appState: (keys: Uint8Array[]) => {
      const s = defaultGenesis() as any;
      s.staking = {
        ...s.staking,
        params: { ...s.staking.params, unbonding_time: '15s' },
        gen_txs: keys.map((k, i) => Buffer.from(buildGentx(ops[i]!, { chainId: CHAIN_ID, consensusPubkey: k, amount: SELF_BOND[i]!, moniker: `val${i}` })).toString('base64')),
      };
      s.slashing = {
        ...s.slashing,
        params: { signed_blocks_window: WINDOW.toString(), min_signed_per_window: '0.25', downtime_jail_duration: `${JAIL_SECONDS}s`, slash_fraction_double_sign: '0.05', slash_fraction_downtime: '0.01' },
      };
      return s;
    },
  });
  await net.start();
  await net.waitForHeight(0, 3);
  const imp = await execFileP(process.execPath, ['--import', 'tsx', path.join(REPO, 'cli', 'main.ts'), '--home', cliHome, 'keys', 'import-devnet'], { cwd: REPO });
  if (!/devnet4/.test(imp.stdout + imp.stderr) && !fs.existsSync(path.join(cliHome, 'keyring'))) throw new Error(`keys import-devnet: ${imp.stdout}${imp.stderr}`);
});

test.after.always(async (t) => {
  for (const f of extra) await f.stop().catch(() => undefined);
  await net?.stop();
  if (dir) {
    if (process.env.KEEP_NET) t.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('genesis: the gentxs create the CometBFT validator set (power = bonded PROOF)', async (t) => {
  const set = await cometSet(0);
  t.is(set.size, 4);
  for (let i = 0; i < 4; i++) t.is(set.get(consAddrOf(net.nodeHome(i))), SELF_BOND[i]! / PROOF, `validator ${i}`);
  const vals = await cliOk(t, 0, 'query', 'staking', 'validators', '--status', 'bonded');
  t.is(vals.validators.length, 4);
  const pool = await cliOk(t, 0, 'query', 'staking', 'pool');
  t.is(BigInt(pool.bonded_tokens), SELF_BOND.reduce((a, b) => a + b, 0n));
});

test.serial('(a) a fifth node joins as a full node, creates a validator with the CLI and signs blocks', async (t) => {
  t.timeout(240_000);
  joined = await addFullNode(net);
  extra.push(joined);
  await joined.waitHeight(await net.height(0));
  const addr = joined.validatorAddress();
  t.false((await cometSet(0)).has(addr), 'not a validator before create-validator');
  const r = await cliOk(t, joined.index, 'tx', 'staking', 'create-validator', '--from', 'devnet4', '--amount', `${10n * PROOF}uproof`, '--moniker', 'joiner',
    '--pubkey', path.join(joined.home, 'config', 'priv_validator_key.json'), '--commission-rate', '0.05', ...FEES);
  t.is(r.code, 0);
  t.regex(r.validator, /^proofvaloper1/);
  await net.waitFor(async () => (await cometSet(0)).get(addr) === 10n, 60_000, 'the new validator in /validators', 300);
  // CometBFT applies an update returned at height H from H+2: it is in the set two blocks after the tx.
  const set = await cometSet(0);
  t.is(set.size, 5, `set: ${[...set].join(' ')}; signing infos: ${JSON.stringify((await cli(0, 'query', 'slashing', 'signing-infos')).json)}`);
  await waitSigns(t, addr);
  const v = await validatorJson(0, 'devnet4');
  t.is(v.status, 'BOND_STATUS_BONDED');
  t.is(v.tokens, (10n * PROOF).toString());
  t.is(v.commission.commission_rates.rate, '0.050000000000000000');
});

test.serial('(b) a validator unbonds below one unit of power and leaves the CometBFT set', async (t) => {
  t.timeout(180_000);
  const addr = consAddrOf(net.nodeHome(1));
  t.true((await cometSet(0)).has(addr));
  const r = await cliOk(t, 0, 'tx', 'staking', 'unbond', 'devnet1', `${9_500_000n}uproof`, '--from', 'devnet1', ...FEES);
  t.regex(r.completion_time, /^[0-9]+$/);
  await net.waitFor(async () => !(await cometSet(0)).has(addr), 60_000, 'validator 1 out of /validators', 300);
  const v = await validatorJson(0, 'devnet1');
  t.is(v.status, 'BOND_STATUS_UNBONDING');
  t.is(v.tokens, '500000');
  const ubd = await cliOk(t, 0, 'query', 'staking', 'unbonding-delegations', 'devnet1');
  t.is(ubd.unbonding_responses.length, 1);
  t.is(ubd.unbonding_responses[0].entries[0].balance, '9500000');
  // Node 1 keeps following the chain as a full node.
  await net.waitForHeight(1, (await net.height(0)) + 2);
});

test.serial('CLI: delegate, redelegate, edit-validator and the staking / slashing queries', async (t) => {
  t.timeout(180_000);
  await cliOk(t, 0, 'tx', 'staking', 'delegate', 'devnet0', '1000uproof', '--from', 'devnet5', ...FEES);
  const r = await cliOk(t, 0, 'tx', 'staking', 'redelegate', 'devnet0', 'devnet2', '500uproof', '--from', 'devnet5', ...FEES);
  t.regex(r.completion_time, /^[0-9]+$/);
  const ds = await cliOk(t, 0, 'query', 'staking', 'delegations', 'devnet5');
  t.deepEqual(ds.delegation_responses.map((d: any) => d.balance.amount).sort(), ['500', '500']);
  const d = await cliOk(t, 0, 'query', 'staking', 'delegation', 'devnet5', 'devnet2');
  t.is(d.delegation_response.balance.amount, '500');
  await cliOk(t, 0, 'tx', 'staking', 'edit-validator', '--from', 'devnet0', '--moniker', 'renamed', '--website', 'https://example.org', ...FEES);
  const v = await validatorJson(0, 'devnet0');
  t.is(v.description.moniker, 'renamed');
  t.is(v.description.website, 'https://example.org');
  const toVal = await cliOk(t, 0, 'query', 'staking', 'delegations', v.operator_address);
  t.true(toVal.delegation_responses.length >= 2);
  const p = await cliOk(t, 0, 'query', 'staking', 'params');
  t.is(p.unbonding_time, '15s');
  const sp = await cliOk(t, 0, 'query', 'slashing', 'params');
  t.is(sp.signed_blocks_window, WINDOW.toString());
  t.is(sp.slash_fraction_double_sign, '0.050000000000000000');
  const infos = await cliOk(t, 0, 'query', 'slashing', 'signing-infos');
  t.is(infos.info.length, 5);
  // A failing tx exits 1 with the app's log: unjailing a validator that is not jailed.
  const bad = await cli(0, 'tx', 'slashing', 'unjail', '--from', 'devnet0', ...FEES);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /not jailed/);
});

test.serial('(c) a validator run twice with one key double-signs: evidence reaches the app, it is slashed, jailed and tombstoned', async (t) => {
  t.timeout(420_000);
  const addr = consAddrOf(net.nodeHome(3));
  const before = BigInt((await validatorJson(0, 'devnet3')).tokens);
  // The copy prevotes nil at once (1 ms propose timeout) where the original prevotes the proposed block.
  const copy = await addFullNode(net, { validatorKeyOf: 3, timeouts: { timeout_propose: '1ms', timeout_propose_delta: '0ms' } });
  extra.push(copy);
  t.is(copy.validatorAddress(), addr);
  // Transactions through the copy and through node 0 make the two copies' proposals (and mempools) differ.
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(6), makeCosmoshubPath(7)] });
  const [a6, a7] = await wallet.getAccounts();
  let stop = false;
  const spam = (async () => {
    for (let k = 0; !stop; k++) {
      const url = k % 2 === 0 ? copy.rpcUrl : net.rpcUrl(0);
      try {
        const c = await SigningStargateClient.connectWithSigner(url, wallet, { broadcastPollIntervalMs: 300, broadcastTimeoutMs: 20_000 });
        try { await c.sendTokens(k % 2 === 0 ? a6!.address : a7!.address, k % 2 === 0 ? a7!.address : a6!.address, [{ denom: 'uproof', amount: '1' }], { amount: [{ denom: 'uproof', amount: '2000' }], gas: '200000' }); } finally { c.disconnect(); }
      } catch { /* the copy may be catching up; keep going */ }
    }
  })();
  let info: any;
  try {
    await net.waitFor(async () => {
      info = (await cli(0, 'query', 'slashing', 'signing-info', 'devnet3')).json;
      return info?.tombstoned === true;
    }, 360_000, 'validator 3 tombstoned', 2000);
  } finally {
    stop = true;
    await spam;
    await copy.stop();
  }
  // The evidence CometBFT committed: a DuplicateVoteEvidence of that address in some block.
  const top = await net.height(0);
  let evidenceHeight = 0;
  for (let h = top; h >= 2 && evidenceHeight === 0; h--) {
    const b = await net.rpc<{ block: { evidence: { evidence: { type: string; value: { vote_a: { validator_address: string } } }[] } } }>(0, 'block', { height: h });
    if (b.block.evidence.evidence.some((e) => e.type === 'tendermint/DuplicateVoteEvidence' && e.value.vote_a.validator_address === addr)) evidenceHeight = h;
  }
  t.true(evidenceHeight > 0, 'a block carries DuplicateVoteEvidence of validator 3');
  t.log(`DuplicateVoteEvidence committed in block ${evidenceHeight}`);
  t.is(info.jailed_until, '253402300799');
  const v = await validatorJson(0, 'devnet3');
  t.true(v.jailed);
  t.is(BigInt(v.tokens), before - ((before / PROOF) * PROOF) / 20n, '5 % slashed');
  await net.waitFor(async () => !(await cometSet(0)).has(addr), 60_000, 'validator 3 out of /validators', 300);
  const unjail = await cli(0, 'tx', 'slashing', 'unjail', '--from', 'devnet3', ...FEES);
  t.is(unjail.code, 1, 'a tombstoned validator cannot unjail');
  t.regex(unjail.stderr + unjail.stdout, /tombstoned/);
});

test.serial('(d) a validator stopped past the downtime window is jailed and slashed; restarted, it unjails with the CLI and signs again', async (t) => {
  t.timeout(300_000);
  const addr = consAddrOf(net.nodeHome(2));
  const before = BigInt((await validatorJson(0, 'devnet2')).tokens);
  t.true((await cometSet(0)).has(addr));
  await net.stopNode(2);
  await net.waitFor(async () => (await validatorJson(0, 'devnet2'))?.jailed === true, 120_000, 'validator 2 jailed', 1000);
  const v = await validatorJson(0, 'devnet2');
  // The SDK slashes a fraction of the power-equivalent stake at the infraction: power × 10^6 × 1 %.
  t.is(BigInt(v.tokens), before - ((before / PROOF) * PROOF) / 100n, '1 % slashed');
  await net.waitFor(async () => !(await cometSet(0)).has(addr), 60_000, 'validator 2 out of /validators', 300);
  const info = await cliOk(t, 0, 'query', 'slashing', 'signing-info', 'devnet2');
  t.false(info.tombstoned);
  // Still jailed: unjail before jailed_until is refused (checked when the window is long enough to hit it).
  await net.restartNode(2);
  await net.waitForHeight(2, await net.height(0));
  // Block time must pass jailed_until.
  await net.waitFor(async () => {
    const s = await net.rpc<{ sync_info: { latest_block_time: string } }>(0, 'status');
    return BigInt(Math.floor(Date.parse(s.sync_info.latest_block_time) / 1000)) > BigInt(info.jailed_until);
  }, 60_000, 'block time past jailed_until', 500);
  await cliOk(t, 0, 'tx', 'slashing', 'unjail', '--from', 'devnet2', ...FEES);
  t.false((await validatorJson(0, 'devnet2')).jailed);
  await net.waitFor(async () => (await cometSet(0)).has(addr), 60_000, 'validator 2 back in /validators', 300);
  await waitSigns(t, addr);
});

test.serial('(f) fee rewards withdrawn with the CLI match the split of the allocation events (commission rate, delegator share)', async (t) => {
  t.timeout(180_000);
  const valoper = (await validatorJson(0, 'devnet4')).operator_address as string;
  const r = await cliOk(t, 0, 'tx', 'distribution', 'withdraw-rewards', valoper, '--commission', '--from', 'devnet4', ...FEES);
  const H = Number(r.height);
  const attr = (type: string, key: string): string => {
    const e = (r.events as { type: string; attributes: { key: string; value: string }[] }[]).find((x) => x.type === type);
    return e?.attributes.find((a) => a.key === key)?.value ?? '';
  };
  const paid = (s: string) => (s === '' ? 0n : BigInt(/^([0-9]+)uproof$/.exec(s)![1]!));
  const rewardsPaid = paid(attr('withdraw_rewards', 'amount'));
  const commissionPaid = paid(attr('withdraw_commission', 'amount'));
  // Every allocation to the joiner up to block H (allocation runs in H's begin-block, before the withdraw tx).
  const atto = (s: string) => { const m = /^([0-9]+)\.([0-9]{18})uproof$/.exec(s); return m ? BigInt(m[1]!) * 10n ** 18n + BigInt(m[2]!) : 0n; };
  let rewards = 0n;
  let commission = 0n;
  let blocks = 0;
  for (let h = 1; h <= H; h++) {
    const br = await net.rpc<{ finalize_block_events?: { type: string; attributes: { key: string; value: string }[] }[] }>(0, 'block_results', { height: h });
    const evs = (br.finalize_block_events ?? []).filter((e) => (e.type === 'rewards' || e.type === 'commission') && e.attributes.some((a) => a.key === 'validator' && a.value === valoper));
    let rw = 0n;
    let cm = 0n;
    for (const e of evs) {
      const amt = atto(e.attributes.find((a) => a.key === 'amount')?.value ?? '');
      if (e.type === 'rewards') rw += amt; else cm += amt;
    }
    if (rw > 0n) {
      blocks++;
      // commission = floor(reward × 0.05) (the rate it chose in create-validator)
      t.is(cm, (rw * 5n) / 100n, `commission at height ${h}`);
    }
    rewards += rw;
    commission += cm;
  }
  t.true(blocks > 0 && rewards > 0n, 'the joiner received fee rewards');
  t.log(`joiner: ${blocks} allocations, ${rewards} atto-uproof of rewards, ${commission} commission; withdrew ${rewardsPaid} + ${commissionPaid} uproof at height ${H}`);
  const ONE = 10n ** 18n;
  t.is(commissionPaid, commission / ONE, 'commission withdrawn = floor(Σ commission)');
  // Its operator holds all of its shares: the delegation's rewards are Σ(reward − commission), less F1's per-period
  // truncation (< 1 atto-uproof per token per period), floored to whole uproof.
  const exact = (rewards - commission) / ONE;
  t.true(rewardsPaid === exact || rewardsPaid === exact - 1n, `rewards withdrawn ${rewardsPaid}, expected floor(Σ) = ${exact}`);
});

test.serial('(e) every node has the same app hash at every height', async (t) => {
  t.timeout(180_000);
  const nodes = [0, 1, 2, 3];
  const top = Math.min(...await Promise.all(nodes.map((i) => net.height(i))), joined ? await joined.height() : Infinity);
  t.true(top > 30, `chain at ${top}`);
  const headers = async (i: number): Promise<Map<number, string>> => {
    const out = new Map<number, string>();
    const url = i < net.validators ? net.rpcUrl(i) : joined!.rpcUrl;
    for (let lo = 1; lo <= top; lo += 20) {
      const hi = Math.min(top, lo + 19);
      const res = await fetch(`${url}/blockchain?minHeight=${lo}&maxHeight=${hi}`);
      const body = await res.json() as { result: { block_metas: { header: { height: string; app_hash: string } }[] } };
      for (const m of body.result.block_metas) out.set(Number(m.header.height), m.header.app_hash);
    }
    return out;
  };
  const all = await Promise.all([...nodes, ...(joined ? [joined.index] : [])].map(headers));
  for (let h = 1; h <= top; h++) {
    const ref = all[0]!.get(h);
    t.truthy(ref, `header ${h} on node 0`);
    for (let k = 1; k < all.length; k++) if (all[k]!.get(h) !== ref) t.fail(`app hash at header ${h}: node ${k} ${all[k]!.get(h)} != node 0 ${ref}`);
  }
  t.log(`compared app hashes of headers 1..${top} on ${all.length} nodes`);
  // The set the steps left: 0 (40), 2 (unjailed, 10 − 1 %: power 9) and the joiner (10); 1 unbonded, 3 tombstoned.
  const set = await cometSet(0);
  const expected = new Map([[consAddrOf(net.nodeHome(0)), 40n], [consAddrOf(net.nodeHome(2)), 9n], [joined!.validatorAddress(), 10n]]);
  t.deepEqual(new Map([...set].sort()), new Map([...expected].sort()));
});
