import test from 'ava';
import { createHash } from 'node:crypto';
import { headerHash, merkleRoot, merkleProof, leafHash } from '../app/devnet/hashing.js';
import { parseQuery, matches, compareDecimal } from '../app/devnet/query.js';

const sha = (s: string | Uint8Array) => new Uint8Array(createHash('sha256').update(s).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

test('header hash matches CometBFT TestHeaderHash vector', (t) => {
  const zeros = new Uint8Array(32);
  const h = headerHash({
    version: { block: 1n, app: 2n },
    chainId: 'chainId',
    height: 3n,
    time: { seconds: BigInt(Date.UTC(2019, 9, 13, 16, 14, 44) / 1000), nanos: 0 },
    lastBlockId: { hash: zeros, partSetHeader: { total: 6, hash: zeros } },
    lastCommitHash: sha('last_commit_hash'),
    dataHash: sha('data_hash'),
    validatorsHash: sha('validators_hash'),
    nextValidatorsHash: sha('next_validators_hash'),
    consensusHash: sha('consensus_hash'),
    appHash: sha('app_hash'),
    lastResultsHash: sha('last_results_hash'),
    evidenceHash: sha('evidence_hash'),
    proposerAddress: sha('proposer_address').slice(0, 20),
  });
  t.is(hex(h), 'F740121F553B5418C3EFBD343C2DBFE9E007BB67B0D020A0741374BAB65242A4');
});

test('merkle root (RFC 6962) and proofs', (t) => {
  t.is(hex(merkleRoot([])), hex(sha(new Uint8Array())));
  const items = [1, 2, 3, 4, 5].map((i) => Uint8Array.of(i));
  const l = items.map(leafHash);
  const inner = (a: Uint8Array, b: Uint8Array) => sha(Buffer.concat([Buffer.of(1), a, b]));
  // split at the largest power of two < n: ((1,2),(3,4)),5
  t.is(hex(merkleRoot(items)), hex(inner(inner(inner(l[0]!, l[1]!), inner(l[2]!, l[3]!)), l[4]!)));
  for (let i = 0; i < items.length; i++) {
    const p = merkleProof(items, i);
    t.is(hex(p.root), hex(merkleRoot(items)));
  }
  t.is(merkleProof(items, 4).aunts.length, 1);
  t.is(merkleProof(items, 0).aunts.length, 3);
});

test('event query parsing and matching', (t) => {
  const ev = new Map<string, string[]>([['tm.event', ['Tx']], ['transfer.amount', ['100', '7']], ['app.key', ['bob']], ['tx.height', ['12']]]);
  t.true(matches(parseQuery("tm.event='Tx'"), ev));
  t.true(matches(parseQuery("tm.event = 'Tx' AND app.key='bob'"), ev));
  t.false(matches(parseQuery("tm.event='Tx' AND app.key='alice'"), ev));
  t.true(matches(parseQuery('transfer.amount > 99'), ev));
  t.true(matches(parseQuery('transfer.amount <= 7 AND tx.height >= 12'), ev));
  t.false(matches(parseQuery('transfer.amount > 100'), ev));
  t.true(matches(parseQuery("app.key CONTAINS 'o'"), ev));
  t.true(matches(parseQuery('app.key EXISTS'), ev));
  t.false(matches(parseQuery('other.key EXISTS'), ev));
  t.throws(() => parseQuery("tm.event='Tx"));
  t.throws(() => parseQuery("tm.event='Tx' OR app.key='x'"));
  t.throws(() => parseQuery(''));
  t.is(compareDecimal('10', '9'), 1);
  t.is(compareDecimal('-1.5', '-1.25'), -1);
  t.is(compareDecimal('007', '7.000'), 0);
  t.is(compareDecimal('123456789012345678901234567890', '123456789012345678901234567891'), -1);
});
