/**
 * Gas for work a message causes after it runs (issue 10: the block gas limit must bound a block's time).
 *
 * Gas meters bytes, signatures, store accesses and proofs as the message executes. Two market messages also cause
 * work in the block's EndBlock auction that no meter sees: a MsgSubmitRequest is read, priced and (when it matches)
 * assigned, with collateral locked and indexes moved; a MsgPostAsk is loaded and matched against. `npm run bench --
 * adversarial` measured blocks of them at ~8–13 ms per million metered gas against ~5–12 for plain sends, so their
 * gas is raised by a fixed amount per message — charged before the message runs, in every mode (Simulate's estimate
 * includes it) — which brings them to about the sends' time per gas and lets one block gas limit bound every kind.
 */
export const MSG_EXTRA_GAS: ReadonlyMap<string, bigint> = new Map([
  // ~0.8–1.3 ms per request assigned by the auction vs ~100,000 metered gas: doubled.
  ['/proofbook.market.v1.MsgSubmitRequest', 100_000n],
  // ~0.25–0.34 ms per ask (with its share of the auction) vs ~31,000 metered gas: doubled.
  ['/proofbook.market.v1.MsgPostAsk', 30_000n],
]);
