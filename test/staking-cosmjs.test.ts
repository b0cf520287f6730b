/**
 * Wallet-facing staking surfaces (issue 12 item 1): cosmjs' own `setupStakingExtension` (QueryClient),
 * `StargateClient.getDelegation` and `SigningStargateClient.delegateTokens` / `undelegateTokens` (cosmjs' message
 * types) against the in-process devnet, whose validator is a staking validator through a gentx with the devnet's
 * consensus key; and the REST routes wallets' staking tabs read (validators, delegations).
 */
import test from 'ava';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { QueryClient, SigningStargateClient, StargateClient, setupStakingExtension } from '@cosmjs/stargate';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { loadOrCreateValidatorKey } from '../app/devnet/validator-key.js';
import { DEVNET_MNEMONIC, defaultGenesis, devnetAccounts } from '../genesis/index.js';
import { buildGentx, valoperOf } from '../src/client/gentx.js';
import { devnetKey } from './helpers/chain.js';
import { initVerifierBackend } from '../modules/verifier/index.js';

const PROOF = 1_000_000n;
const FEE = { amount: [{ denom: 'uproof', amount: '2000' }], gas: '400000' };
const CHAIN_ID = 'proofbook-stk-1';

let devnet: Devnet;
let home: string;
let valoper: string;

test.before(async () => {
  await initVerifierBackend();
  home = await mkdtemp(join(tmpdir(), 'staking-cosmjs-'));
  mkdirSync(join(home, 'devnet'), { recursive: true });
  const key = loadOrCreateValidatorKey(join(home, 'devnet', 'priv_validator_key.json'));
  const op = await devnetKey(0);
  valoper = valoperOf(op);
  const appState = defaultGenesis() as any;
  appState.staking = { ...appState.staking, gen_txs: [Buffer.from(buildGentx(op, { chainId: CHAIN_ID, consensusPubkey: key.pubKey, amount: 10n * PROOF, moniker: 'devnet' })).toString('base64')] };
  devnet = await startDevnet({ home, chainId: CHAIN_ID, blockTimeMs: 50, rpcAddress: '127.0.0.1:0', apiAddress: '127.0.0.1:0', appState, logger: pino({ level: 'silent' }) });
  await devnet.waitForHeight(2);
});

test.after.always(async () => {
  await devnet?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

test('cosmjs staking extension, getDelegation, delegateTokens/undelegateTokens and the REST staking routes', async (t) => {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(3)] });
  const delegator = devnetAccounts()[3]!.address;
  const comet = await Comet38Client.connect(devnet.rpcUrl);
  const signer = SigningStargateClient.createWithSigner(comet, wallet, { broadcastPollIntervalMs: 100 });
  const reader = await StargateClient.connect(devnet.rpcUrl);
  const q = QueryClient.withExtensions(await Comet38Client.connect(devnet.rpcUrl), setupStakingExtension);
  t.teardown(() => { signer.disconnect(); reader.disconnect(); });

  // the set as wallets list it
  const bonded = await q.staking.validators('BOND_STATUS_BONDED');
  t.deepEqual(bonded.validators.map((v) => v.operatorAddress), [valoper]);
  t.is(bonded.validators[0]!.tokens, (10n * PROOF).toString());
  t.is(bonded.validators[0]!.description!.moniker, 'devnet');
  t.is((await q.staking.validator(valoper)).validator!.operatorAddress, valoper);
  t.is((await q.staking.params()).params!.bondDenom, 'uproof');
  t.is((await q.staking.pool()).pool!.bondedTokens, (10n * PROOF).toString());
  t.is(await reader.getDelegation(delegator, valoper), null, 'no delegation yet');

  // delegate with cosmjs' own message
  const d = await signer.delegateTokens(delegator, valoper, { denom: 'uproof', amount: (3n * PROOF).toString() }, FEE);
  t.is(d.code, 0, d.rawLog);
  t.deepEqual(await reader.getDelegation(delegator, valoper), { denom: 'uproof', amount: (3n * PROOF).toString() });
  const dd = await q.staking.delegatorDelegations(delegator);
  t.is(dd.delegationResponses.length, 1);
  t.is(dd.delegationResponses[0]!.balance!.amount, (3n * PROOF).toString());
  t.deepEqual((await q.staking.delegatorValidators(delegator)).validators.map((v) => v.operatorAddress), [valoper]);
  t.is((await q.staking.validator(valoper)).validator!.tokens, (13n * PROOF).toString());
  t.is((await q.staking.validatorDelegations(valoper)).delegationResponses.length, 2);

  // undelegate part: an unbonding entry with its completion time
  const u = await signer.undelegateTokens(delegator, valoper, { denom: 'uproof', amount: PROOF.toString() }, FEE);
  t.is(u.code, 0, u.rawLog);
  t.deepEqual(await reader.getDelegation(delegator, valoper), { denom: 'uproof', amount: (2n * PROOF).toString() });
  const ub = await q.staking.delegatorUnbondingDelegations(delegator);
  t.is(ub.unbondingResponses.length, 1);
  t.is(ub.unbondingResponses[0]!.entries[0]!.balance, PROOF.toString());
  t.true(ub.unbondingResponses[0]!.entries[0]!.completionTime!.seconds > 0n);

  // REST, as wallets' staking tabs read it
  const vals = (await (await fetch(`${devnet.apiUrl}/cosmos/staking/v1beta1/validators?status=BOND_STATUS_BONDED`)).json()) as any;
  t.deepEqual(vals.validators.map((v: any) => v.operator_address), [valoper]);
  const dels = (await (await fetch(`${devnet.apiUrl}/cosmos/staking/v1beta1/delegations/${delegator}`)).json()) as any;
  t.is(dels.delegation_responses[0].balance.amount, (2n * PROOF).toString());
});
