/**
 * Distribution against the in-process devnet (real ProofbookApp on LevelDB, CometBFT JSON-RPC, REST gateway) whose
 * single validator is also a staking validator (a gentx with the devnet's own consensus key, 10 PROOF, 10 %
 * commission), so every block's decided_last_commit names it:
 *  - cosmjs' own `setupDistributionExtension` (QueryClient) reads rewards, commission, outstanding rewards, community
 *    pool, params, delegator validators / withdraw address, slashes; `SigningStargateClient.delegateTokens` and
 *    `withdrawRewards` (cosmjs' messages) pay exactly the expected split;
 *  - the gRPC Query service and the REST route /cosmos/distribution/v1beta1/delegators/{d}/rewards/{v} (generated
 *    from the proto annotations);
 *  - the CLI: `query distribution rewards|commission|community-pool|params`, `tx distribution withdraw-rewards
 *    [--commission]`, `withdraw-all-rewards`, usage errors.
 * Expected split: with the operator's 10 PROOF and the delegator's 10 PROOF bonded, every 2000uproof tx fee pays
 * 200 commission, 900 to the operator's stake and 900 to the delegator's (allocated in the block after the tx).
 */
import test from 'ava';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import * as grpc from '@grpc/grpc-js';
import { QueryDelegationRewardsRequest, QueryDelegationRewardsResponse } from 'cosmjs-types/cosmos/distribution/v1beta1/query';
import { CommanderError } from 'commander';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { QueryClient, SigningStargateClient, setupDistributionExtension, type DeliverTxResponse } from '@cosmjs/stargate';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { loadOrCreateValidatorKey } from '../app/devnet/validator-key.js';
import { DEVNET_MNEMONIC, defaultGenesis, devnetAccounts } from '../genesis/index.js';
import { buildGentx, valoperOf } from '../src/client/gentx.js';
import { devnetKey } from './helpers/chain.js';
import { buildProgram } from '../cli/main.js';
import { distributionQueryCommand, distributionTxCommand } from '../cli/distribution.js';
import { EXIT, CliError, describeError } from '../cli/common.js';
import { Keyring } from '../src/keyring/index.js';
import { initVerifierBackend } from '../modules/verifier/index.js';

const PROOF = 1_000_000n;
const ATTO = 10n ** 18n;
const FEE = { amount: [{ denom: 'uproof', amount: '2000' }], gas: '400000' };
const CHAIN_ID = 'proofbook-distr-1';

let devnet: Devnet;
let home: string;
let valoper: string;

test.before(async () => {
  await initVerifierBackend();
  home = await mkdtemp(join(tmpdir(), 'distr-devnet-'));
  mkdirSync(join(home, 'devnet'), { recursive: true });
  const key = loadOrCreateValidatorKey(join(home, 'devnet', 'priv_validator_key.json'));
  const op = await devnetKey(0);
  valoper = valoperOf(op);
  const appState = defaultGenesis() as any;
  appState.staking = { ...appState.staking, gen_txs: [Buffer.from(buildGentx(op, { chainId: CHAIN_ID, consensusPubkey: key.pubKey, amount: 10n * PROOF, moniker: 'devnet', rate: ATTO / 10n })).toString('base64')] };
  devnet = await startDevnet({ home, chainId: CHAIN_ID, blockTimeMs: 50, rpcAddress: '127.0.0.1:0', apiAddress: '127.0.0.1:0', grpcAddress: '127.0.0.1:0', appState, logger: pino({ level: 'silent' }) });
  await devnet.waitForHeight(2);
});

test.after.always(async () => {
  await devnet?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

async function clients(i: number) {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(i)] });
  const comet = await Comet38Client.connect(devnet.rpcUrl);
  const signer = SigningStargateClient.createWithSigner(comet, wallet, { broadcastPollIntervalMs: 100 });
  const q = QueryClient.withExtensions(comet, setupDistributionExtension);
  return { signer, q, address: devnetAccounts()[i]!.address, close: () => signer.disconnect() };
}

const uproof = (l: readonly { denom: string; amount: string }[]) => l.filter((c) => c.denom === 'uproof').reduce((a, c) => a + BigInt(c.amount), 0n);
const okTx = (t: { is: (a: unknown, b: unknown, m?: string) => void }, r: DeliverTxResponse) => t.is(r.code, 0, r.rawLog);

/** Runs the CLI in process (distribution commands mounted), capturing output; returns main()'s exit code. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = buildProgram();
  program.commands.find((c) => c.name() === 'tx')!.addCommand(distributionTxCommand().exitOverride());
  program.commands.find((c) => c.name() === 'query')!.addCommand(distributionQueryCommand().exitOverride());
  for (const c of program.commands) for (const s of c.commands) if (s.name() === 'distribution') s.commands.forEach((x) => x.exitOverride());
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  (process.stdout as any).write = (s: string | Uint8Array) => ((stdout += String(s)), true);
  (process.stderr as any).write = (s: string | Uint8Array) => ((stderr += String(s)), true);
  let code: number = EXIT.OK;
  try {
    await program.parseAsync(['node', 'proofbook', '--home', home, '--node', devnet.rpcUrl, ...args]);
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    else {
      const err = e instanceof CliError ? e : describeError(e, { node: devnet.rpcUrl, home });
      stderr += err.message;
      code = err.exitCode;
    }
  } finally {
    (process.stdout as any).write = ow;
    (process.stderr as any).write = ew;
  }
  return { code, stdout, stderr };
}

test.serial('cosmjs: delegateTokens, setupDistributionExtension queries, withdrawRewards pay the expected split; gRPC and REST serve the rewards', async (t) => {
  const d = await clients(3);
  const op = await clients(0);
  t.teardown(() => { d.close(); op.close(); });
  const del = await d.signer.delegateTokens(d.address, valoper, { denom: 'uproof', amount: (10n * PROOF).toString() }, FEE, 'delegate');
  okTx(t, del);
  await devnet.waitForHeight(del.height + 2);
  // One fee (the delegation's 2000) allocated after the delegation: 200 commission, 900 + 900.
  const rewards = await d.q.distribution.delegationRewards(d.address, valoper);
  t.is(uproof(rewards.rewards), 900n * ATTO);
  const total = await d.q.distribution.delegationTotalRewards(d.address);
  t.deepEqual(total.rewards.map((r) => r.validatorAddress), [valoper]);
  t.is(uproof(total.total), 900n * ATTO);
  t.is(uproof((await d.q.distribution.validatorCommission(valoper)).commission!.commission), 200n * ATTO);
  t.is(uproof((await d.q.distribution.validatorOutstandingRewards(valoper)).rewards!.rewards), 2000n * ATTO);
  t.is(uproof((await d.q.distribution.delegationRewards(op.address, valoper)).rewards), 900n * ATTO);
  t.deepEqual((await d.q.distribution.communityPool()).pool, []);
  t.is((await d.q.distribution.params()).params!.communityTax, '0');
  t.deepEqual((await d.q.distribution.delegatorValidators(d.address)).validators, [valoper]);
  t.is((await d.q.distribution.delegatorWithdrawAddress(d.address)).withdrawAddress, d.address);
  t.deepEqual((await d.q.distribution.validatorSlashes(valoper, 1, 1_000_000)).slashes, []);
  // REST: the same number from the gateway route the proto annotation declares
  const res = await fetch(`${devnet.apiUrl}/cosmos/distribution/v1beta1/delegators/${d.address}/rewards/${valoper}`, { signal: AbortSignal.timeout(30_000) });
  t.is(res.status, 200);
  const body = await res.json() as { rewards: { denom: string; amount: string }[] };
  t.is(uproof(body.rewards), 900n * ATTO);
  // gRPC: the same number from the Query service
  const client = new grpc.Client(devnet.grpcAddress!, grpc.credentials.createInsecure());
  const viaGrpc = await new Promise<QueryDelegationRewardsResponse>((resolve, reject) => client.makeUnaryRequest(
    '/cosmos.distribution.v1beta1.Query/DelegationRewards', (r: QueryDelegationRewardsRequest) => Buffer.from(QueryDelegationRewardsRequest.encode(r).finish()),
    (b: Buffer) => QueryDelegationRewardsResponse.decode(b), { delegatorAddress: d.address, validatorAddress: valoper }, (err, res) => (err ? reject(err) : resolve(res!))));
  client.close();
  t.is(uproof(viaGrpc.rewards), 900n * ATTO);
  // withdraw through cosmjs' own message: +900, −2000 fee
  const before = BigInt((await d.signer.getBalance(d.address, 'uproof')).amount);
  const w = await d.signer.withdrawRewards(d.address, valoper, FEE, 'withdraw');
  okTx(t, w);
  t.is(BigInt((await d.signer.getBalance(d.address, 'uproof')).amount), before - 2000n + 900n);
  // a bad validator address: refused by the query with a clear error
  await t.throwsAsync(() => d.q.distribution.delegationRewards(d.address, 'proofvaloper1notanaddress'), { message: /invalid validator_address/ });
});

test.serial('CLI: query rewards / commission / community-pool / params; tx withdraw-rewards --commission and withdraw-all-rewards', async (t) => {
  const kr = Keyring.forHome(home, { backend: 'test' });
  await kr.add('devnet0', { mnemonic: DEVNET_MNEMONIC, hdPath: devnetAccounts()[0]!.hdPath });
  await kr.add('devnet3', { mnemonic: DEVNET_MNEMONIC, hdPath: devnetAccounts()[3]!.hdPath });
  const q = await clients(0);
  t.teardown(() => q.close());
  const height = async () => BigInt((await q.signer.getHeight()));
  await devnet.waitForHeight(Number(await height()) + 2);
  const pending = uproof((await q.q.distribution.delegationRewards(devnetAccounts()[3]!.address, valoper)).rewards);
  const r1 = await cli(['query', 'distribution', 'rewards', 'devnet3', valoper, '--output', 'json']);
  t.is(r1.code, 0, r1.stderr);
  t.deepEqual(JSON.parse(r1.stdout), { rewards: [{ denom: 'uproof', amount: `${pending / ATTO}.${(pending % ATTO).toString().padStart(18, '0')}` }] });
  const all = await cli(['query', 'distribution', 'rewards', devnetAccounts()[3]!.address]);
  t.is(all.code, 0, all.stderr);
  t.regex(all.stdout, new RegExp(`${valoper}: [0-9]+\\.[0-9]{18}uproof\\ntotal: [0-9]+\\.[0-9]{18}uproof`));
  const com = await cli(['query', 'distribution', 'commission', valoper, '--output', 'json']);
  t.is(com.code, 0, com.stderr);
  t.true(JSON.parse(com.stdout).commission[0].amount.endsWith('.000000000000000000'));
  t.is((await cli(['query', 'distribution', 'community-pool'])).stdout.trim(), 'pool: 0');
  t.regex((await cli(['query', 'distribution', 'params'])).stdout, /community_tax: 0\.000000000000000000\nwithdraw_addr_enabled: true/);

  // operator: rewards + commission in one tx; what it received = pending rewards + whole commission − fee
  const opAddr = devnetAccounts()[0]!.address;
  const b0 = BigInt((await q.signer.getBalance(opAddr, 'uproof')).amount);
  const w = await cli(['tx', 'distribution', 'withdraw-rewards', valoper, '--commission', '--from', 'devnet0', '--fees', '2000uproof', '--output', 'json']);
  t.is(w.code, 0, w.stderr);
  const wj = JSON.parse(w.stdout);
  t.is(wj.code, 0);
  const events = (wj.events as { type: string; attributes: { key: string; value: string }[] }[]);
  const paid = events.filter((e) => e.type === 'withdraw_rewards' || e.type === 'withdraw_commission').map((e) => BigInt(e.attributes.find((a) => a.key === 'amount')!.value.replace('uproof', '') || '0'));
  t.is(paid.length, 2);
  t.is(BigInt((await q.signer.getBalance(opAddr, 'uproof')).amount), b0 - 2000n + paid[0]! + paid[1]!);
  t.true(paid[1]! > 0n);
  // delegator: withdraw-all-rewards (one message per delegation)
  const wa = await cli(['tx', 'distribution', 'withdraw-all-rewards', '--from', 'devnet3', '--fees', '2000uproof', '--output', 'json']);
  t.is(wa.code, 0, wa.stderr);
  t.is(JSON.parse(wa.stdout).code, 0);
  // refusals: --commission by a non-operator (usage), a bad validator address (usage), nothing delegated (exit 1)
  t.is((await cli(['tx', 'distribution', 'withdraw-rewards', valoper, '--commission', '--from', 'devnet3', '--fees', '2000uproof'])).code, EXIT.USAGE);
  t.is((await cli(['tx', 'distribution', 'withdraw-rewards', 'proof1xyz', '--from', 'devnet3', '--fees', '2000uproof'])).code, EXIT.USAGE);
  t.is((await cli(['query', 'distribution', 'commission', 'nope'])).code, EXIT.USAGE);
  await kr.add('devnet5', { mnemonic: DEVNET_MNEMONIC, hdPath: devnetAccounts()[5]!.hdPath });
  const none = await cli(['tx', 'distribution', 'withdraw-all-rewards', '--from', 'devnet5', '--fees', '2000uproof']);
  t.is(none.code, EXIT.FAILED);
  t.regex(none.stderr, /no delegations/);
});
