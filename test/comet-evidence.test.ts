/**
 * GetBlockByHeight / GetLatestBlock / GetBlockWithTxs re-encode the evidence CometBFT puts in a block. No test network
 * here can make a light-client attack happen, so the reference is CometBFT v0.38.26's own code: the fixture
 * (test/fixtures/comet-evidence/block.json, written by the Go program beside it) holds a block with a
 * DuplicateVoteEvidence and a LightClientAttackEvidence as the `block` RPC serializes it, and the protobuf bytes
 * CometBFT encodes for that block. The gateway's conversion of the JSON must give exactly those bytes.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { Block } from 'cosmjs-types/tendermint/types/block';
import { blocksOf } from '../app/grpc/comet-services.js';
import { headerHash, partSetHeader } from '../app/devnet/hashing.js';
import { GetBlockByHeightResponse } from 'cosmjs-types/cosmos/base/tendermint/v1beta1/query';
import { loadRoutes } from '../app/rest/routes.js';
import { decodeResponse } from '../app/rest/json.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/comet-evidence/block.json', import.meta.url), 'utf8')) as { rpc: any; proto: string };

test('both evidence types re-encode to CometBFT\'s own protobuf bytes of the block', (t) => {
  const { blockId, block, sdkBlock } = blocksOf(fixture.rpc);
  const kinds = block.evidence.evidence.map((e) => Object.keys(e).filter((k) => (e as Record<string, unknown>)[k] !== undefined));
  t.deepEqual(kinds, [['duplicateVoteEvidence'], ['lightClientAttackEvidence']]);
  t.is(Buffer.from(Block.encode(block).finish()).toString('hex'), fixture.proto, 'byte for byte what CometBFT encodes');
  t.deepEqual(headerHash(block.header), blockId.hash, 'header hash = block id');
  t.deepEqual(partSetHeader(Block.encode(block).finish()), blockId.partSetHeader, 'block bytes = part set header');

  const lca = block.evidence.evidence[1]!.lightClientAttackEvidence!;
  const rpcLca = fixture.rpc.block.evidence.evidence[1].value;
  t.is(lca.commonHeight, BigInt(rpcLca.CommonHeight));
  t.is(lca.byzantineValidators.length, rpcLca.ByzantineValidators.length);
  t.is(lca.conflictingBlock!.signedHeader!.commit!.signatures.length, rpcLca.ConflictingBlock.signed_header.commit.signatures.length);
  t.is(lca.conflictingBlock!.validatorSet!.totalVotingPower, 0n, 'as ValidatorSet.ToProto: not on the wire');
  // The SDK's Block carries the same evidence list (only the proposer address differs: bech32 there).
  t.deepEqual(sdkBlock.evidence, block.evidence);
});

test('REST renders the light-client-attack evidence in the gateway JSON (GET /cosmos/base/tendermint/v1beta1/blocks/{height})', (t) => {
  const { blockId, block, sdkBlock } = blocksOf(fixture.rpc);
  const { registry } = loadRoutes();
  const desc = registry.getMessage('cosmos.base.tendermint.v1beta1.GetBlockByHeightResponse')!;
  const json = decodeResponse(desc, GetBlockByHeightResponse.encode({ blockId, block, sdkBlock }).finish(), registry) as any;
  const ev = json.sdk_block.evidence.evidence;
  t.is(ev.length, 2);
  t.false('light_client_attack_evidence' in ev[0], 'an unset oneof member is omitted, as jsonpb does');
  t.is(ev[0].duplicate_vote_evidence.vote_a.height, '8');
  const lca = ev[1].light_client_attack_evidence;
  t.is(lca.common_height, '5');
  t.is(lca.byzantine_validators.length, 2);
  t.is(lca.conflicting_block.signed_header.header.height, '7');
  t.is(lca.conflicting_block.validator_set.validators.length, 4);
  t.is(lca.timestamp, fixture.rpc.block.evidence.evidence[1].value.Timestamp);
});

test('an evidence type CometBFT v0.38 does not have is refused (Unimplemented), never dropped', (t) => {
  const rpc = structuredClone(fixture.rpc);
  rpc.block.evidence.evidence.push({ type: 'tendermint/SomethingNew', value: {} });
  t.throws(() => blocksOf(rpc), { message: /SomethingNew.*cannot be re-encoded/ });
});
