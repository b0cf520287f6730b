/**
 * Wire compatibility of the minimal Cosmos protos in proto/cosmos/** (generated into src/gen/cosmos) with the
 * Cosmos SDK v0.50 definitions as shipped by cosmjs-types: every message, filled with non-default values in every
 * field, encodes to the same bytes with both codecs and decodes across them.
 */
import test from 'ava';
import * as mineTx from '../src/gen/cosmos/tx/v1beta1/tx.js';
import * as mineSvc from '../src/gen/cosmos/tx/v1beta1/service.js';
import * as mineAbci from '../src/gen/cosmos/base/abci/v1beta1/abci.js';
import * as mineBank from '../src/gen/cosmos/bank/v1beta1/query.js';
import * as mineBankTypes from '../src/gen/cosmos/bank/v1beta1/bank.js';
import * as mineBankTx from '../src/gen/cosmos/bank/v1beta1/tx.js';
import * as mineAuth from '../src/gen/cosmos/auth/v1beta1/query.js';
import * as mineAuthTypes from '../src/gen/cosmos/auth/v1beta1/auth.js';
import * as theirsTx from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import * as theirsSvc from 'cosmjs-types/cosmos/tx/v1beta1/service';
import * as theirsAbci from 'cosmjs-types/cosmos/base/abci/v1beta1/abci';
import * as theirsBank from 'cosmjs-types/cosmos/bank/v1beta1/query';
import * as theirsBankTypes from 'cosmjs-types/cosmos/bank/v1beta1/bank';
import * as theirsBankTx from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import * as theirsAuth from 'cosmjs-types/cosmos/auth/v1beta1/query';
import * as theirsAuthTypes from 'cosmjs-types/cosmos/auth/v1beta1/auth';

type Codec = { encode(m: any): { finish(): Uint8Array }; decode(b: Uint8Array): any; fromPartial(o: any): any };

const any = { typeUrl: '/x.Y', value: new Uint8Array([1, 2, 3]) };
const coin = { denom: 'uproof', amount: '12' };
const page = { key: new Uint8Array([9]), offset: 3n, limit: 4n, countTotal: true, reverse: true };
const pageRes = { nextKey: new Uint8Array([8]), total: 5n };
const event = { type: 'transfer', attributes: [{ key: 'k', value: 'v', index: true }] };
const txBody = { messages: [any], memo: 'm', timeoutHeight: 7n, extensionOptions: [any], nonCriticalExtensionOptions: [any] };
const authInfo = {
  signerInfos: [
    { publicKey: any, modeInfo: { single: { mode: 1 } }, sequence: 2n },
    { publicKey: any, modeInfo: { multi: { bitarray: { extraBitsStored: 3, elems: new Uint8Array([5]) }, modeInfos: [{ single: { mode: 127 } }] } }, sequence: 3n },
  ],
  fee: { amount: [coin], gasLimit: 100n, payer: 'p', granter: 'g' },
  tip: { amount: [coin], tipper: 't' },
};
const txResponse = {
  height: 5n, txhash: 'AB', codespace: 'sdk', code: 4, data: '0A', rawLog: 'log', logs: [{ msgIndex: 1, log: 'l', events: [{ type: 'e', attributes: [{ key: 'a', value: 'b' }] }] }],
  info: 'i', gasWanted: 10n, gasUsed: 9n, tx: any, timestamp: '2026-01-01T00:00:00Z', events: [event],
};
const metadata = { description: 'd', denomUnits: [{ denom: 'uproof', exponent: 6, aliases: ['micro'] }], base: 'uproof', display: 'proof', name: 'n', symbol: 's', uri: 'u', uriHash: 'h' };

const cases: [string, Codec, Codec, object][] = [
  ['Tx', mineTx.Tx, theirsTx.Tx, { body: txBody, authInfo, signatures: [new Uint8Array([1])] }],
  ['TxRaw', mineTx.TxRaw, theirsTx.TxRaw, { bodyBytes: new Uint8Array([1]), authInfoBytes: new Uint8Array([2]), signatures: [new Uint8Array([3])] }],
  ['BroadcastTxRequest', mineSvc.BroadcastTxRequest, theirsSvc.BroadcastTxRequest, { txBytes: new Uint8Array([1, 2]), mode: 2 }],
  ['BroadcastTxResponse', mineSvc.BroadcastTxResponse, theirsSvc.BroadcastTxResponse, { txResponse }],
  ['SimulateRequest', mineSvc.SimulateRequest, theirsSvc.SimulateRequest, { tx: { body: txBody, authInfo, signatures: [] }, txBytes: new Uint8Array([7]) }],
  ['SimulateResponse', mineSvc.SimulateResponse, theirsSvc.SimulateResponse, { gasInfo: { gasWanted: 3n, gasUsed: 2n }, result: { data: new Uint8Array([1]), log: 'l', events: [event], msgResponses: [any] } }],
  ['GetTxRequest', mineSvc.GetTxRequest, theirsSvc.GetTxRequest, { hash: 'AB' }],
  ['GetTxResponse', mineSvc.GetTxResponse, theirsSvc.GetTxResponse, { tx: { body: txBody, authInfo, signatures: [] }, txResponse }],
  ['GetTxsEventRequest', mineSvc.GetTxsEventRequest, theirsSvc.GetTxsEventRequest, { events: ['a=b'], pagination: page, orderBy: 2, page: 3n, limit: 4n, query: 'q' }],
  ['GetTxsEventResponse', mineSvc.GetTxsEventResponse, theirsSvc.GetTxsEventResponse, { txs: [{ body: txBody }], txResponses: [txResponse], pagination: pageRes, total: 6n }],
  ['Result', mineAbci.Result, theirsAbci.Result, { data: new Uint8Array([1]), log: 'x', events: [event], msgResponses: [any] }],
  ['MsgSend', mineBankTx.MsgSend, theirsBankTx.MsgSend, { fromAddress: 'a', toAddress: 'b', amount: [coin] }],
  ['QueryBalanceRequest', mineBank.QueryBalanceRequest, theirsBank.QueryBalanceRequest, { address: 'a', denom: 'd' }],
  ['QueryBalanceResponse', mineBank.QueryBalanceResponse, theirsBank.QueryBalanceResponse, { balance: coin }],
  ['QueryAllBalancesRequest', mineBank.QueryAllBalancesRequest, theirsBank.QueryAllBalancesRequest, { address: 'a', pagination: page, resolveDenom: true }],
  ['QueryAllBalancesResponse', mineBank.QueryAllBalancesResponse, theirsBank.QueryAllBalancesResponse, { balances: [coin], pagination: pageRes }],
  ['QuerySpendableBalancesRequest', mineBank.QuerySpendableBalancesRequest, theirsBank.QuerySpendableBalancesRequest, { address: 'a', pagination: page }],
  ['QuerySpendableBalanceByDenomResponse', mineBank.QuerySpendableBalanceByDenomResponse, theirsBank.QuerySpendableBalanceByDenomResponse, { balance: coin }],
  ['QueryTotalSupplyResponse', mineBank.QueryTotalSupplyResponse, theirsBank.QueryTotalSupplyResponse, { supply: [coin], pagination: pageRes }],
  ['QuerySupplyOfResponse', mineBank.QuerySupplyOfResponse, theirsBank.QuerySupplyOfResponse, { amount: coin }],
  ['bank Params', mineBankTypes.Params, theirsBankTypes.Params, { sendEnabled: [{ denom: 'd', enabled: true }], defaultSendEnabled: true }],
  ['QueryDenomsMetadataResponse', mineBank.QueryDenomsMetadataResponse, theirsBank.QueryDenomsMetadataResponse, { metadatas: [metadata], pagination: pageRes }],
  ['QueryAccountResponse', mineAuth.QueryAccountResponse, theirsAuth.QueryAccountResponse, { account: any }],
  ['QueryAccountsRequest', mineAuth.QueryAccountsRequest, theirsAuth.QueryAccountsRequest, { pagination: page }],
  ['QueryAccountsResponse', mineAuth.QueryAccountsResponse, theirsAuth.QueryAccountsResponse, { accounts: [any], pagination: pageRes }],
  ['BaseAccount', mineAuthTypes.BaseAccount, theirsAuthTypes.BaseAccount, { address: 'a', pubKey: any, accountNumber: 3n, sequence: 4n }],
  ['ModuleAccount', mineAuthTypes.ModuleAccount, theirsAuthTypes.ModuleAccount, { baseAccount: { address: 'a', accountNumber: 1n }, name: 'bond', permissions: ['burner'] }],
  ['auth Params', mineAuthTypes.Params, theirsAuthTypes.Params, { maxMemoCharacters: 1n, txSigLimit: 2n, txSizeCostPerByte: 3n, sigVerifyCostEd25519: 4n, sigVerifyCostSecp256k1: 5n }],
];

for (const [name, mine, theirs, value] of cases) {
  test(`${name}: same bytes as cosmjs-types (Cosmos SDK v0.50)`, (t) => {
    const a = mine.encode(mine.fromPartial(value)).finish();
    const b = theirs.encode(theirs.fromPartial(value)).finish();
    t.true(a.length > 2);
    t.deepEqual(Buffer.from(a).toString('hex'), Buffer.from(b).toString('hex'));
    t.deepEqual(Buffer.from(theirs.encode(theirs.decode(a)).finish()).toString('hex'), Buffer.from(b).toString('hex'));
    t.deepEqual(Buffer.from(mine.encode(mine.decode(b)).finish()).toString('hex'), Buffer.from(a).toString('hex'));
  });
}
