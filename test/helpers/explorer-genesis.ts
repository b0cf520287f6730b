/**
 * Genesis app state with a market history, written by the app's own InitChain (market/bond/bank genesis): `n` settled
 * (FULFILLED) requests with ids 1…n, and `provers` bonded provers (1,000 PROOF each, held by the bond module account)
 * with one ask each on the test circuit. Used by `npm run bench -- explorer` and test/explorer-large.test.ts.
 */
import { createHash } from 'node:crypto';
import { defaultGenesis } from '../../genesis/index.js';
import { addressFromBytes, moduleAddress } from '../../src/crypto/address.js';
import { CIRCUIT } from '../../src/worker/testing.js';

export const REQUESTER = 'proof1rn92uy79tup5dcvfhw35rvxc6zz4595npj74uf';
const PROVER = 'proof1ydrtt8crxezy2jam44r7tm8mmt2s22hktu94nm';

/** `n` settled requests (submitted and fulfilled at height 0), `provers` bonded provers with an ask each. */
export function genesisWith(n: number, provers = 0): object {
  const g = defaultGenesis() as Record<string, any>;
  const requests = [];
  for (let i = 1; i <= n; i++) {
    requests.push({
      id: String(i), requester: REQUESTER, circuit_id: CIRCUIT, input_inline: Buffer.from(`{"preimage":"${i}","nonce":"1"}`).toString('base64'),
      min_fee: '1000', max_fee: '1000', ramp_blocks: '0', proving_window: '20', expiry_height: '100', min_collateral: '0', submitted_height: '0',
      status: 'REQUEST_STATUS_FULFILLED', escrow: '0', fulfilled_height: '0', paid_price: '1000', assignments_count: 1,
      history: [{ height: '0', status: 'REQUEST_STATUS_OPEN', event: 'submitted', prover: '', amount: '1000uproof' }, { height: '0', status: 'REQUEST_STATUS_FULFILLED', event: 'fulfilled', prover: PROVER, amount: '1000' }],
    });
  }
  const bonded = 1_000_000_000n;
  const addrs = Array.from({ length: provers }, (_, i) => addressFromBytes(createHash('sha256').update(`bench-prover-${i}`).digest().subarray(0, 20)));
  const asks = addrs.map((a, i) => ({ id: String(i + 1), prover: a, circuit_id: CIRCUIT, price: String(1000 + i), capacity: '2', active: '0', expiry_height: '0', created_height: '0' }));
  if (provers > 0) {
    g.bond = { ...g.bond, provers: addrs.map((a) => ({ address: a, bonded: [{ denom: 'uproof', amount: String(bonded) }], locked: [], jailed: false, jailed_until: '0', recent_misses: '0', slashed: [] })) };
    g.bank = { ...g.bank, balances: [...g.bank.balances, { address: moduleAddress('bond'), coins: [{ denom: 'uproof', amount: String(bonded * BigInt(provers)) }] }] };
  }
  g.market = { ...g.market, params: { ...g.market.params, settled_retention_blocks: '0' }, requests, asks, next_request_id: String(n + 1), next_ask_id: String(provers + 1) };
  return g;
}

