/**
 * `proofbook tx market …` / `proofbook query market …` in process (the real CLI program with the market and bond
 * commands mounted as the lead mounts them) against the in-process devnet (real ProofbookApp, CometBFT JSON-RPC,
 * cosmjs with the proofbook registry): post-ask, submit-request, submit-proof from snarkjs files, submit-request
 * --wait (queued -> assigned -> fulfilled, proof.json/public.json written next to the input), the queries.
 */
import test from 'ava';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { CommanderError } from 'commander';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { SigningStargateClient } from '@cosmjs/stargate';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { buildProgram } from '../cli/main.js';
import { bondTxCommand } from '../cli/bond.js';
import { marketQueryCommand, marketTxCommand } from '../cli/market.js';
import { EXIT, CliError, describeError } from '../cli/common.js';
import { startDevnet, type Devnet } from '../app/devnet/index.js';
import { DEVNET_MNEMONIC, defaultGenesis, devnetAccounts } from '../genesis/index.js';
import { Keyring } from '../src/keyring/index.js';
import { initVerifierBackend } from '../modules/verifier/index.js';
import { proofbookRegistry, TYPE_URLS } from '../src/client/registry.js';
import { decodeProof, proofToSnarkjs } from '../src/zk/groth16.js';
import { terminateSnarkjs } from '../src/zk/prove.js';
import { MsgSubmitProof, MsgSubmitRequest, MsgSubmitRequestResponse, QueryRequestRequest, QueryRequestResponse, RequestStatus } from '../src/gen/proofbook/market/v1/market.js';
import { CIRCUIT, INPUTS, SIGNALS, getProofs } from './helpers/market.js';

interface Run { code: number; stdout: string; stderr: string }
let devnet: Devnet;
let home: string;

test.before(async () => {
  await initVerifierBackend();
  home = await mkdtemp(join(tmpdir(), 'market-cli-'));
  devnet = await startDevnet({ home, blockTimeMs: 50, rpcAddress: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
});
test.after.always(async () => {
  await devnet?.close();
  if (home) await rm(home, { recursive: true, force: true });
  await terminateSnarkjs();
});

async function cli(args: string[], node?: string): Promise<Run> {
  const program = buildProgram();
  program.commands.find((c) => c.name() === 'tx')!.addCommand(bondTxCommand().exitOverride());
  program.commands.find((c) => c.name() === 'tx')!.addCommand(marketTxCommand().exitOverride());
  program.commands.find((c) => c.name() === 'query')!.addCommand(marketQueryCommand().exitOverride());
  for (const c of program.commands) for (const s of c.commands) if (s.name() === 'bond' || s.name() === 'market') s.commands.forEach((x) => x.exitOverride());
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  (process.stdout as any).write = (s: string | Uint8Array) => ((stdout += String(s)), true);
  (process.stderr as any).write = (s: string | Uint8Array) => ((stderr += String(s)), true);
  let code: number = EXIT.OK;
  try {
    await program.parseAsync(['node', 'proofbook', '--home', home, '--node', node ?? devnet.rpcUrl, ...args]);
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    else {
      if (process.env.DBG) console.error(e);
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

async function requestOf(comet: Comet38Client, id: bigint) {
  const r = await comet.abciQuery({ path: '/proofbook.market.v1.Query/Request', data: QueryRequestRequest.encode({ id }).finish() });
  return r.code === 0 ? QueryRequestResponse.decode(r.value).request : undefined;
}

test.serial('post-ask, submit-request, submit-proof, submit-request --wait and the market queries through the CLI', async (t) => {
  const [pf1, pf2] = await getProofs();
  const kr = Keyring.forHome(home, { backend: 'test' });
  const accs = devnetAccounts();
  await kr.add('req', { mnemonic: DEVNET_MNEMONIC, hdPath: accs[6].hdPath });
  await kr.add('prover', { mnemonic: DEVNET_MNEMONIC, hdPath: accs[7].hdPath });
  const fees = ['--fees', '5000uproof'];

  t.is((await cli(['tx', 'bond', 'bond', '1000000uproof', '--from', 'prover', ...fees])).code, 0);
  const ask = await cli(['tx', 'market', 'post-ask', '--circuit', CIRCUIT, '--price', '5000uproof', '--capacity', '1', '--from', 'prover', ...fees, '--output', 'json']);
  t.is(ask.code, 0, ask.stderr);
  t.is(JSON.parse(ask.stdout).ask_id, '1');

  const dir = await mkdtemp(join(tmpdir(), 'market-cli-input-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const input = join(dir, 'input.json');
  await writeFile(input, '{"preimage":"1001","nonce":"8"}');
  const sub = await cli(['tx', 'market', 'submit-request', '--circuit', CIRCUIT, '--input', input, '--max-fee', '9000uproof', '--window', '100', '--from', 'req', ...fees, '--output', 'json']);
  t.is(sub.code, 0, sub.stderr);
  t.is(JSON.parse(sub.stdout).request_id, '1');
  const comet = await Comet38Client.connect(devnet.rpcUrl);
  t.teardown(() => comet.disconnect());
  for (let i = 0; i < 100 && (await requestOf(comet, 1n))?.status !== RequestStatus.REQUEST_STATUS_ASSIGNED; i++) await new Promise((r) => setTimeout(r, 50));
  const shown = await cli(['query', 'market', 'request', '1']);
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /status: ASSIGNED/);
  t.regex(shown.stdout, new RegExp(`assigned: ${accs[7].address} ask #1 price 5000`)); // price rule v2: a lone request pays the ask, not its max fee

  // submit-proof from snarkjs files
  await writeFile(join(dir, 'p.json'), JSON.stringify(proofToSnarkjs(decodeProof(pf1.proof))));
  await writeFile(join(dir, 'pub.json'), JSON.stringify(pf1.signals));
  const sp = await cli(['tx', 'market', 'submit-proof', '1', '--proof', join(dir, 'p.json'), '--public', join(dir, 'pub.json'), '--from', 'prover', ...fees, '--output', 'json']);
  t.is(sp.code, 0, sp.stderr);
  t.is(JSON.parse(sp.stdout).paid, '4950'); // 5000 less the 1 % protocol fee

  // --wait: a prover (cosmjs directly) serves the request while the CLI follows it
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(7)] });
  const client = SigningStargateClient.createWithSigner(comet, wallet, { registry: proofbookRegistry(), broadcastPollIntervalMs: 100 });
  const proverSide = (async () => {
    for (let i = 0; i < 400; i++) {
      const r = await requestOf(comet, 2n);
      if (r?.status === RequestStatus.REQUEST_STATUS_ASSIGNED) {
        const res = await client.signAndBroadcast(accs[7].address, [{ typeUrl: TYPE_URLS.submitProof, value: MsgSubmitProof.fromPartial({ prover: accs[7].address, requestId: 2n, proof: Buffer.from(pf2.proof), publicSignals: pf2.signals }) }], { amount: [{ denom: 'uproof', amount: '5000' }], gas: '1000000' });
        return res.code;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return -1;
  })();
  // request 2 is pf2's statement (the CLI commits to the signals it computes from the input)
  const input2 = join(dir, 'input2.json');
  await writeFile(input2, '{"preimage":"1002","nonce":"9"}');
  const waited = await cli(['tx', 'market', 'submit-request', '--circuit', CIRCUIT, '--input', input2, '--max-fee', '9000uproof', '--from', 'req', ...fees, '--wait', '--wait-timeout', '60']);
  t.is(await proverSide, 0);
  t.is(waited.code, 0, waited.stderr);
  t.regex(waited.stdout, /request 2: queued \(open, waiting for a prover\)/);
  t.regex(waited.stdout, new RegExp(`request 2: assigned to ${accs[7].address} at price 5000`));
  t.regex(waited.stdout, /request 2: fulfilled at height \d+, paid 5000/);
  const proofJson = JSON.parse(await readFile(join(dir, 'proof.json'), 'utf8'));
  t.deepEqual(proofJson, JSON.parse(JSON.stringify(proofToSnarkjs(decodeProof(pf2.proof)))));
  t.deepEqual(JSON.parse(await readFile(join(dir, 'public.json'), 'utf8')), pf2.signals);

  const book = await cli(['query', 'market', 'book', CIRCUIT]);
  t.is(book.code, 0, book.stderr);
  t.regex(book.stdout, /last clearing price 5000/);
  const reqs = await cli(['query', 'market', 'requests', '--requester', 'req', '--status', 'fulfilled', '--output', 'json']);
  t.is(reqs.code, 0, reqs.stderr);
  t.deepEqual(JSON.parse(reqs.stdout).requests.map((r: { id: string }) => r.id), ['1', '2']);
  const rep = await cli(['query', 'market', 'reputation', 'prover']);
  t.regex(rep.stdout, /FULFILLED/);
  const stats = await cli(['query', 'market', 'stats', '--output', 'json']);
  t.is(JSON.parse(stats.stdout).stats[0].fills, '2');
  t.is(JSON.parse(stats.stdout).stats[0].assigned_fills, '2', 'both delivered by their assigned prover');
  const statsText = await cli(['query', 'market', 'stats']);
  t.true(BigInt(JSON.parse(stats.stdout).stats[0].pace_blocks_to_proof_milli) >= 1000n, "the circuit's pace: at least a block per assigned delivery");
  t.regex(statsText.stdout, /BY_ASSIGNEE +ITS_MEAN_BLOCKS +PACE[\s\S]*\n\S+… +2 +\d+ +[\d.]+ +2 +[\d.]+ +[1-9][\d.]* /);
  const params = await cli(['query', 'market', 'params', '--output', 'json']);
  t.is(JSON.parse(params.stdout).collateral_ratio_bps, '20000');
  // the spread rule's window: both assignments went to the one prover (a monopoly: HHI 1), under the starting penalty
  const spread = await cli(['query', 'market', 'spread', '--output', 'json']);
  t.is(spread.code, 0, spread.stderr);
  t.deepEqual(JSON.parse(spread.stdout), { penalty_in_force: '15000', window_assignments: '2', window_hhi_bps: '10000', target_hhi_bps: '2200', provers: [{ prover: accs[7].address, wins: '2' }] });
  const spreadText = await cli(['query', 'market', 'spread']);
  t.regex(spreadText.stdout, new RegExp(`^penalty in force: 15000 \\(steered to HHI 0\\.2200\\)\nwindow: 2 assignments, HHI 1\\.0000\n +PROVER +WINS +SHARE\n[- ]+\n${accs[7].address} +2 +100\\.0 %\n?$`));
  const bad = await cli(['tx', 'market', 'submit-request', '--circuit', 'xyz', '--input', input, '--max-fee', '9000', '--from', 'req', ...fees]);
  t.is(bad.code, EXIT.USAGE);
  client.disconnect();
});

test.serial('fallback through the CLI: submit-proof alone is refused, commit-fallback then submit-proof (a later block) pays', async (t) => {
  const [pf1] = await getProofs();
  const accs = devnetAccounts();
  const fees = ['--fees', '5000uproof'];
  // its own devnet: 50 ms blocks would close the default 10-block reveal window before a CLI run lands its reveal
  const g = defaultGenesis() as { market: { params: Record<string, string> } };
  g.market.params.fallback_reveal_blocks = '400';
  const net = await startDevnet({ home: await mkdtemp(join(tmpdir(), 'market-cli-fb-node-')), blockTimeMs: 50, rpcAddress: '127.0.0.1:0', logger: pino({ level: 'silent' }), appState: g });
  t.teardown(() => net.close());
  const comet = await Comet38Client.connect(net.rpcUrl);
  t.teardown(() => comet.disconnect());
  t.is((await cli(['tx', 'bond', 'bond', '1000000uproof', '--from', 'prover', ...fees], net.rpcUrl)).code, 0);
  // a request priced under every ask (never auctioned) whose requester's patience (1 block) opens the fallback
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(6)] });
  const client = SigningStargateClient.createWithSigner(comet, wallet, { registry: proofbookRegistry(), broadcastPollIntervalMs: 100 });
  t.teardown(() => client.disconnect());
  const h = BigInt((await comet.status()).syncInfo.latestBlockHeight);
  const res = await client.signAndBroadcast(accs[6].address, [{
    typeUrl: TYPE_URLS.submitRequest,
    value: MsgSubmitRequest.fromPartial({
      requester: accs[6].address, circuitId: CIRCUIT, inputInline: Buffer.from(JSON.stringify(INPUTS[0])), expectedPublicSignals: SIGNALS[0],
      minFee: '1000', maxFee: '1000', provingWindow: 10n, expiryHeight: h + 500n, minCollateral: '0', fallbackAfterBlocks: 1n,
    }),
  }], { amount: [{ denom: 'uproof', amount: '5000' }], gas: '1000000' });
  t.is(res.code, 0, res.rawLog);
  const id = MsgSubmitRequestResponse.decode(res.msgResponses[0]!.value).requestId.toString();
  const dir = await mkdtemp(join(tmpdir(), 'market-cli-fb-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'p.json'), JSON.stringify(proofToSnarkjs(decodeProof(pf1.proof))));
  await writeFile(join(dir, 'pub.json'), JSON.stringify(pf1.signals));
  const files = ['--proof', join(dir, 'p.json'), '--public', join(dir, 'pub.json'), '--from', 'prover', ...fees];
  const direct = await cli(['tx', 'market', 'submit-proof', id, ...files], net.rpcUrl);
  t.not(direct.code, 0);
  t.regex(direct.stderr + direct.stdout, /commit to the proof first/);
  const c = await cli(['tx', 'market', 'commit-fallback', id, ...files, '--output', 'json'], net.rpcUrl);
  t.is(c.code, 0, c.stderr);
  t.true(BigInt(JSON.parse(c.stdout).reveal_until_height) > h);
  const sp = await cli(['tx', 'market', 'submit-proof', id, ...files, '--output', 'json'], net.rpcUrl);
  t.is(sp.code, 0, sp.stderr);
  t.is(JSON.parse(sp.stdout).paid, '990'); // the fee less 1 %; the commit deposit came back with it
  t.is((await requestOf(comet, BigInt(id)))?.status, RequestStatus.REQUEST_STATUS_FULFILLED);
});
