/**
 * `proofbook tx staking|slashing …` / `query staking|slashing …` usage errors, in process through cli/main.ts's
 * main() (the lazily mounted groups): each exits 2 before any node is contacted (--node points at a closed port, which
 * would exit 3). The commands against a real network are exercised by test/staking-localnet.test.ts.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/main.js';
import { readConsensusKey } from '../src/client/consensus-key.js';

const home = mkdtempSync(join(tmpdir(), 'staking-cli-'));
const KEY = 'cwtIqMwW2y7FalB6lb1+KmsVmOT4zsn2dwsNGdsw/tM=';

async function run(...args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const ew = process.stderr.write.bind(process.stderr);
  const ow = process.stdout.write.bind(process.stdout);
  (process.stderr as any).write = (s: string | Uint8Array) => ((err += String(s)), true);
  (process.stdout as any).write = () => true;
  try {
    const code = await main(['node', 'proofbook', '--home', home, '--node', 'http://127.0.0.1:1', ...args]);
    return { code, err };
  } finally {
    (process.stderr as any).write = ew;
    (process.stdout as any).write = ow;
  }
}

const cv = ['tx', 'staking', 'create-validator', '--from', 'op', '--moniker', 'm', '--fees', '5000uproof'];

test.serial('create-validator usage errors exit 2 with a reason', async (t) => {
  for (const [args, why] of [
    [[...cv, '--amount', '10uproof', '--pubkey', 'not-a-key'], /base64 32-byte ed25519/],
    [[...cv, '--amount', '10uproof', '--pubkey', '{"type":"tendermint/PubKeySecp256k1","value":"x"}'], /not supported/],
    [[...cv, '--amount', '10uproof,5ufoo', '--pubkey', KEY], /one positive coin/],
    [[...cv, '--amount', '10uproof', '--pubkey', KEY, '--commission-rate', '0.3'], /exceeds --commission-max-rate/],
    [[...cv, '--amount', '10uproof', '--pubkey', KEY, '--commission-max-rate', '1.5'], /above 1/],
    [[...cv, '--amount', '10uproof', '--pubkey', KEY, '--min-self-delegation', '11'], /below --min-self-delegation/],
    [[...cv, '--pubkey', KEY], /required option '--amount/],
  ] as [string[], RegExp][]) {
    const r = await run(...args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.err, why, args.join(' '));
  }
});

test.serial('delegate / unbond / redelegate / edit-validator / queries: usage errors exit 2', async (t) => {
  for (const [args, why] of [
    [['tx', 'staking', 'delegate', 'proofvaloper1xyz', '10uproof', '--from', 'op', '--fees', '1uproof'], /invalid validator/],
    [['tx', 'staking', 'delegate', 'nosuchkey', '10uproof', '--from', 'op', '--fees', '1uproof'], /neither a proofvaloper1/],
    [['tx', 'staking', 'unbond', 'proofvaloper1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqay6k5w', '-3uproof', '--from', 'op', '--fees', '1uproof'], /./],
    [['tx', 'staking', 'edit-validator', '--from', 'op', '--fees', '1uproof'], /nothing to change/],
    [['tx', 'staking', 'edit-validator', '--from', 'op', '--commission-rate', 'x', '--fees', '1uproof'], /not a non-negative decimal/],
    [['query', 'staking', 'validators', '--status', 'sleeping'], /bonded, unbonding or unbonded/],
    [['query', 'staking', 'validators', '--limit', '-1'], /./],
    [['tx', 'slashing', 'unjail'], /required option '--from/],
  ] as [string[], RegExp][]) {
    const r = await run(...args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.err}`);
    t.regex(r.err, why, args.join(' '));
  }
});

test('consensus keys: priv_validator_key.json, show-validator JSON, the SDK form and bare base64 give the same key', (t) => {
  const file = join(home, 'priv_validator_key.json');
  writeFileSync(file, JSON.stringify({ address: 'AB', pub_key: { type: 'tendermint/PubKeyEd25519', value: KEY }, priv_key: { type: 'tendermint/PrivKeyEd25519', value: 'secret' } }));
  const want = Buffer.from(KEY, 'base64');
  for (const arg of [file, JSON.stringify({ type: 'tendermint/PubKeyEd25519', value: KEY }), JSON.stringify({ '@type': '/cosmos.crypto.ed25519.PubKey', key: KEY }), KEY]) {
    t.deepEqual(Buffer.from(readConsensusKey(arg)), want, arg);
  }
});
