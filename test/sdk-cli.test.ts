/**
 * The requester CLI (cli/request.ts, cli/market-book.ts) in-process against a devnet, with the test as the prover:
 * `request prove --wait` prints its stages, writes proof.json/public.json (verified with snarkjs) and exits 0;
 * status/list/book/quote print what the chain holds; expiry exits 5, a timeout 6, cancel works.
 */
import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Command, CommanderError } from 'commander';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { startDevnet } from '../app/devnet/index.js';
import { DEVNET_MNEMONIC } from '../genesis/index.js';
import { buildProgram } from '../cli/main.js';
import { describeError } from '../cli/common.js';
import { requestCommand } from '../cli/request.js';
import { marketCommand, marketBookCommands } from '../cli/market-book.js';
import { ProofbookClient, RequestStatus } from '../src/index.js';
import { GENESIS_CIRCUIT } from '../src/zk/genesis.js';
import { loadSnarkjs, proveWithSnarkjs, terminateSnarkjs } from '../src/zk/prove.js';

test.after.always(() => terminateSnarkjs());

function program(): Command {
  const p = buildProgram();
  if (!p.commands.some((c) => c.name() === 'request')) p.addCommand(requestCommand());
  const market = p.commands.find((c) => c.name() === 'market');
  if (!market) p.addCommand(marketCommand());
  else for (const c of marketBookCommands()) if (!market.commands.some((x) => x.name() === c.name())) market.addCommand(c);
  const override = (c: Command): void => { c.exitOverride(); c.commands.forEach(override); };
  override(p);
  return p;
}

/** Runs the CLI in-process; returns its exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => { out += String(s); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { err += String(s); return true; }) as typeof process.stderr.write;
  let code = 0;
  try {
    await program().parseAsync(['node', 'proofbook', ...args]);
  } catch (x) {
    if (x instanceof CommanderError) code = x.exitCode === 0 ? 0 : 2;
    else { const d = describeError(x); code = d.exitCode; err += d.message; }
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
  return { code, out, err };
}

test('requester CLI: prove --wait (0, files), status, list, book, quote, expiry (5), timeout (6), cancel', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'sdk-cli-'));
  const work = await mkdtemp(join(tmpdir(), 'sdk-cli-work-'));
  const devnet = await startDevnet({ home: join(home, 'chain'), blockTimeMs: 100, rpcAddress: '127.0.0.1:0', logger: pino({ level: 'warn' }) });
  process.env.PROOFBOOK_KEYRING_BACKEND = 'test';
  const g = ['--home', home, '--node', devnet.rpcUrl];
  let prover: ProofbookClient | undefined;
  try {
    await devnet.waitForHeight(1);
    const imp = await cli([...g, 'keys', 'import-devnet']);
    t.is(imp.code, 0, imp.err);
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(DEVNET_MNEMONIC, { prefix: 'proof', hdPaths: [makeCosmoshubPath(4)] });
    prover = await ProofbookClient.connect(devnet.rpcUrl, wallet, { pollIntervalMs: 100 });
    const circuit = (await prover.circuits()).circuits.find((c) => c.name === 'hashchain')!;
    await prover.bond(1_000_000n);
    const { askId } = await prover.postAsk({ circuitId: circuit.id, price: 6_000n, capacity: 2n });

    // quote before: two free units at 6000; one proof -> the second unit is left out and sets the price.
    const q = await cli([...g, 'market', 'quote', '--circuit', 'hashchain', '--count', '1']);
    t.is(q.code, 0, q.err);
    t.regex(q.out, /likely price now: 6000uproof per proof/);
    t.regex(q.out, /how this was estimated/);
    const q0 = await cli([...g, 'market', 'quote', '--circuit', 'hashchain', '--window', '30']);
    t.regex(q0.out, /--patience auto for a 30-block window: 8 blocks \(no delivery by an assigned prover in the stats window: a quarter of the window\)/, q0.out);
    const book = await cli([...g, 'market', 'book', '--circuit', circuit.id]);
    t.is(book.code, 0, book.err);
    t.regex(book.out, /6000\s+2\s+1/);

    const input = join(work, 'input.json');
    await writeFile(input, JSON.stringify({ preimage: '31337', nonce: '5' }));
    const proving = cli([...g, 'request', 'prove', '--from', 'devnet0', '--circuit', 'hashchain', '--input', input, '--max-fee', '40000', '--window', '30', '--patience', 'auto', '--wait', '--timeout', '180']);
    let done = false;
    void proving.then(() => { done = true; });
    let submitted = false;
    for (let i = 0; i < 900 && !done && !submitted; i++) {
      const { requests } = await prover.requests({ status: RequestStatus.REQUEST_STATUS_ASSIGNED });
      const mine = requests.find((r) => r.assignment?.prover === prover!.address);
      if (!mine) { await new Promise((r) => setTimeout(r, 100)); continue; }
      const p = await proveWithSnarkjs(GENESIS_CIRCUIT.wasmPath, GENESIS_CIRCUIT.zkeyPath, JSON.parse(Buffer.from(mine.inputInline).toString()) as Record<string, unknown>, { singleThread: true });
      await prover.submitProof(mine.id, p.proofJson, p.publicJson);
      submitted = true;
    }
    const res = await proving;
    t.is(res.code, 0, res.err + res.out);
    t.regex(res.out, /submitted: request 1/);
    // --patience auto: a quarter of the 30-block window while the circuit has no delivery (src/client/patience.ts)
    t.regex(res.out, /patience: 8 blocks \(auto: from the circuit's recent deliveries\): from height \d+/);
    t.regex(res.out, /assigned: prover proof1/);
    t.regex(res.out, /proving: the prover has until height \d+/);
    t.regex(res.out, /verified: proof accepted on chain at height \d+, paid 6000/);
    const proof = JSON.parse(await readFile(join(work, 'proof.json'), 'utf8')) as unknown;
    const pub = JSON.parse(await readFile(join(work, 'public.json'), 'utf8')) as string[];
    t.is(pub[1], '5');
    const vk = JSON.parse(await readFile(GENESIS_CIRCUIT.verificationKeyPath, 'utf8')) as unknown;
    t.true(await (await loadSnarkjs()).groth16.verify(vk, pub, proof));

    const st = await cli([...g, 'request', 'status', '1']);
    t.is(st.code, 0, st.err);
    t.regex(st.out, /request 1: FULFILLED/);
    t.regex(st.out, /submitted[\s\S]*assigned[\s\S]*fulfilled/);
    const stJson = await cli([...g, '-o', 'json', 'request', 'status', '1']);
    t.is((JSON.parse(stJson.out) as { request: { status: string } }).request.status, 'REQUEST_STATUS_FULFILLED');
    const list = await cli([...g, 'request', 'list', '--status', 'fulfilled']);
    t.is(list.code, 0, list.err);
    t.regex(list.out, /^1\s+FULFILLED/m);
    t.is((await cli([...g, 'request', 'status', '99'])).code, 1);
    t.is((await cli([...g, 'request', 'list', '--status', 'bogus'])).code, 2);

    // No capacity left: expiry -> exit 5; a short timeout -> exit 6; cancel an open request.
    await prover.cancelAsk(askId);
    const exp = await cli([...g, 'request', 'prove', '--from', 'devnet0', '--circuit', 'hashchain', '--input', input, '--max-fee', '40000', '--window', '5', '--lifetime', '20', '--patience', 'auto', '--wait']); // 2 s at 100 ms blocks, no ask: never assigned
    t.is(exp.code, 5, exp.err + exp.out);
    // --patience auto now reads request 1's delivery: twice its blocks from assignment to proof + 3
    const delivered = (await prover.statsHistory(circuit.id)).blocks.filter((b) => b.assignedFills > 0n);
    t.is(delivered.length, 1, 'one delivery by an assigned prover in the stats window');
    t.regex(exp.out, new RegExp(`patience: ${(2n * delivered[0]!.meanAssignedBlocksToProofMilli + 999n) / 1000n + 3n} blocks \\(auto: from`), exp.out);
    // market quote --window says the same before a request is sent, and why; a quote without a delivery said a quarter
    const autoP = (2n * delivered[0]!.meanAssignedBlocksToProofMilli + 999n) / 1000n + 3n;
    const qp = await cli([...g, 'market', 'quote', '--circuit', 'hashchain', '--window', '5']);
    t.is(qp.code, 0, qp.err);
    t.regex(qp.out, new RegExp(`--patience auto for a 5-block window: ${autoP} blocks \\(twice the median [0-9.]+ blocks from assignment to proof`), qp.out);
    t.is(JSON.parse((await cli([...g, '-o', 'json', 'market', 'quote', '--circuit', 'hashchain', '--window', '5'])).out).patience, autoP.toString());
    t.is((await cli([...g, 'market', 'quote', '--circuit', 'hashchain', '--window', '0'])).code, 2);
    t.regex(exp.err, /expired without a proof/);
    const to = await cli([...g, 'request', 'prove', '--from', 'devnet0', '--circuit', 'hashchain', '--input', input, '--max-fee', '40000', '--window', '5', '--lifetime', '500', '--patience', '7', '--wait', '--timeout', '1']);
    t.is(to.code, 6, to.err + to.out);
    t.regex(to.out, /queued: waiting in the book/);
    const id = /submitted: request (\d+)/.exec(to.out)![1]!;
    // --patience is the request's fallback_after_blocks: shown with the height it opens the request to any prover
    const shownP = (await cli([...g, 'request', 'status', id])).out;
    const submittedAt = BigInt(/submitted \(height (\d+)\)|height (\d+): submitted/.exec(shownP)?.slice(1).find((x) => x) ?? '0');
    t.regex(shownP, new RegExp(`patience: +from height ${submittedAt + 7n} `), shownP);
    t.is((await cli([...g, 'request', 'prove', '--from', 'devnet0', '--circuit', 'hashchain', '--input', input, '--max-fee', '40000', '--window', '5', '--patience', 'soon'])).code, 2);
    const cancel = await cli([...g, 'request', 'cancel', id, '--from', 'devnet0']);
    t.is(cancel.code, 0, cancel.err);
    t.regex((await cli([...g, 'request', 'status', id])).out, new RegExp(`request ${id}: CANCELLED`));
    const badFee = await cli([...g, 'request', 'prove', '--from', 'devnet0', '--circuit', 'hashchain', '--input', input, '--max-fee', 'lots', '--window', '5']);
    t.is(badFee.code, 2);
  } finally {
    delete process.env.PROOFBOOK_KEYRING_BACKEND;
    prover?.disconnect();
    await devnet.close();
    await rm(home, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
});
