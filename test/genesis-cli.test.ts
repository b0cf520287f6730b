/**
 * A genesis from several independent operators through the CLI (issue 12 item 5): `proofbook genesis add-account`,
 * `genesis gentx` (each operator in its own home, with its own keyring and CometBFT consensus key) and
 * `genesis collect-gentxs` at the coordinator; the resulting app_state boots the app, whose InitChain answers with the
 * validator set the gentxs create. Bad input exits with a reason and leaves genesis.json as it was.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBech32 } from '@cosmjs/encoding';
import { main } from '../cli/main.js';
import { TestChain, TEST_CHAIN_ID } from './helpers/chain.js';

async function run(home: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ew = process.stderr.write.bind(process.stderr);
  const ow = process.stdout.write.bind(process.stdout);
  (process.stderr as any).write = (s: string | Uint8Array) => ((err += String(s)), true);
  (process.stdout as any).write = (s: string | Uint8Array) => ((out += String(s)), true);
  try {
    const code = await main(['node', 'proofbook', '--home', home, ...args]);
    return { code, out, err };
  } finally {
    (process.stderr as any).write = ew;
    (process.stdout as any).write = ow;
  }
}

/** A CometBFT-style priv_validator_key.json (only pub_key is read) with a fresh ed25519 key; returns its base64. */
function consensusKeyFile(path: string): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const b64 = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
  writeFileSync(path, JSON.stringify({ address: '', pub_key: { type: 'tendermint/PubKeyEd25519', value: b64 }, priv_key: { type: 'tendermint/PrivKeyEd25519', value: '' } }));
  return b64;
}

test.serial('two operators: add-account, gentx, collect-gentxs; InitChain returns their validator set', async (t) => {
  const coord = mkdtempSync(join(tmpdir(), 'genesis-coord-'));
  t.is((await run(coord, 'init', '--chain-id', TEST_CHAIN_ID)).code, 0);
  const ops = [] as { home: string; address: string; cons: string; keyFile: string }[];
  for (let i = 0; i < 2; i++) {
    const home = mkdtempSync(join(tmpdir(), `genesis-op${i}-`));
    t.is((await run(home, 'init', '--chain-id', TEST_CHAIN_ID)).code, 0);
    const add = await run(home, 'keys', 'add', 'op', '--keyring-backend', 'test', '-o', 'json');
    t.is(add.code, 0, add.err);
    const keyFile = join(home, 'priv_validator_key.json');
    ops.push({ home, address: JSON.parse(add.out).address, cons: consensusKeyFile(keyFile), keyFile });
  }
  const genesisFile = join(coord, 'genesis.json');
  // the coordinator funds both operators
  for (const [i, op] of ops.entries()) {
    const r = await run(coord, 'genesis', 'add-account', op.address, `${(i + 3) * 10_000_000}uproof`, '-o', 'json');
    t.is(r.code, 0, r.err);
  }
  // a second add adds up
  t.is((await run(coord, 'genesis', 'add-account', ops[0]!.address, '5uproof')).code, 0);
  const funded = JSON.parse(readFileSync(genesisFile, 'utf8'));
  t.is(funded.app_state.bank.balances.find((b: any) => b.address === ops[0]!.address).coins[0].amount, '30000005');

  // bad input exits with a reason and changes nothing
  const before = readFileSync(genesisFile, 'utf8');
  t.is((await run(coord, 'genesis', 'add-account', toBech32('cosmos', new Uint8Array(20)), '5uproof')).code, 2, 'another chain\'s address');
  t.is((await run(coord, 'genesis', 'add-account', ops[0]!.address, '5ufoo')).code, 2);
  t.is(readFileSync(genesisFile, 'utf8'), before);

  // each operator signs its gentx against the funded genesis (distributed by the coordinator)
  for (const [i, op] of ops.entries()) {
    copyFileSync(genesisFile, join(op.home, 'genesis.json'));
    const bad = await run(op.home, 'genesis', 'gentx', 'op', '10uproof', '--pubkey', 'not-a-key', '--moniker', 'x');
    t.is(bad.code, 2, 'a malformed consensus key is a usage error');
    const poor = await run(op.home, 'genesis', 'gentx', 'op', '999999999999uproof', '--pubkey', op.keyFile, '--moniker', 'x');
    t.is(poor.code, 1);
    t.regex(poor.err, /less than the self-delegation/);
    const r = await run(op.home, 'genesis', 'gentx', 'op', `${(i + 2) * 10_000_000}uproof`, '--pubkey', op.keyFile, '--moniker', `op${i}`, '--commission-rate', '0.05', '-o', 'json');
    t.is(r.code, 0, r.err);
    const file = JSON.parse(r.out).file as string;
    mkdirSync(join(coord, 'gentx'), { recursive: true });
    copyFileSync(file, join(coord, 'gentx', `gentx-op${i}.json`));
  }
  const col = await run(coord, 'genesis', 'collect-gentxs', '-o', 'json');
  t.is(col.code, 0, col.err);
  t.is(JSON.parse(col.out).gen_txs, 2);
  t.is((await run(coord, 'genesis', 'collect-gentxs')).code, 0, 'collecting again adds nothing');
  const genesis = JSON.parse(readFileSync(genesisFile, 'utf8'));
  t.is(genesis.app_state.staking.gen_txs.length, 2);

  // a gentx for another chain is refused
  writeFileSync(join(coord, 'gentx', 'gentx-zz.json'), JSON.stringify({ chain_id: 'other-1', gentx: genesis.app_state.staking.gen_txs[0] }));
  const wrong = await run(coord, 'genesis', 'collect-gentxs');
  t.is(wrong.code, 1);
  t.regex(wrong.err, /signed for chain other-1/);

  // the genesis boots: InitChain answers with both validators, power = bonded PROOF
  const chain = await TestChain.create({ appState: genesis.app_state });
  t.teardown(() => chain.close());
  const set = chain.genesisValidators.map((v) => [Buffer.from(v.pubKey.ed25519!).toString('base64'), v.power]).sort();
  t.deepEqual(set, [[ops[0]!.cons, 20n], [ops[1]!.cons, 30n]].sort());
});
