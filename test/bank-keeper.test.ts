import test from 'ava';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { createBankModule, BANK_MODULE_NAMES, balanceKey, parseBalanceKey, type BankKeeper } from '../modules/bank/index.js';
import { ErrInsufficientFunds, ErrInvalidAddress, ErrInvalidCoins, ErrUnauthorized, AppError } from '../src/framework/errors.js';
import { addressFromBytes, moduleAddress, type Address } from '../src/crypto/address.js';
import { GasKV, GasMeter } from '../src/framework/gas.js';
import { iteratePrefix } from '../src/store/kv.js';
import type { Coins } from '../src/types/coins.js';
import { SortedArrayKV, TestAccounts, newContext } from './bank-kv.js';

const addr = (b: number, len = 20) => addressFromBytes(new Uint8Array(len).fill(b)) as Address;
const A = addr(1);
const B = addr(2);
const C32 = addr(3, 32);
const c = (amount: bigint | number, denom = 'uproof') => ({ denom, amount: BigInt(amount) });

function setup() {
  const kv = new SortedArrayKV();
  const ctx = newContext(kv);
  const accounts = new TestAccounts();
  const { module, keeper } = createBankModule({ accounts, moduleAccounts: ['market'] });
  module.initGenesis!(ctx, {
    balances: [
      { address: A, coins: [{ denom: 'uproof', amount: '1000' }, { denom: 'ufoo', amount: '50' }] },
      { address: B, coins: [{ denom: 'uproof', amount: '10' }] },
    ],
  });
  ctx.events.length = 0;
  return { kv, ctx, accounts, module, keeper };
}

const ev = (ctx: ReturnType<typeof newContext>) => ctx.events.map((e) => [e.type, ...e.attributes.map((a) => `${a.key}=${a.value}`)].join(' '));

test('genesis sets balances and supply, and creates accounts in file order', (t) => {
  const { ctx, keeper, accounts } = setup();
  t.is(keeper.balance(ctx, A, 'uproof'), 1000n);
  t.deepEqual(keeper.balances(ctx, A), [c(50, 'ufoo'), c(1000)]);
  t.is(keeper.supply(ctx, 'uproof'), 1010n);
  t.deepEqual(keeper.totalSupply(ctx), [c(50, 'ufoo'), c(1010)]);
  t.deepEqual(accounts.created, [A, B]);
  t.is(keeper.balance(ctx, C32, 'uproof'), 0n);
});

test('send moves coins, creates the recipient account, emits SDK events in SDK order', (t) => {
  const { ctx, keeper, accounts } = setup();
  keeper.send(ctx, A, C32, [c(100), c(5, 'ufoo')]);
  t.is(keeper.balance(ctx, A, 'uproof'), 900n);
  t.is(keeper.balance(ctx, A, 'ufoo'), 45n);
  t.deepEqual(keeper.balances(ctx, C32), [c(5, 'ufoo'), c(100)]);
  t.deepEqual(accounts.created, [A, B, C32]);
  t.deepEqual(ev(ctx), [
    `coin_spent spender=${A} amount=5ufoo,100uproof`,
    `coin_received receiver=${C32} amount=5ufoo,100uproof`,
    `transfer recipient=${C32} sender=${A} amount=5ufoo,100uproof`,
    `message sender=${A}`,
  ]);
  t.is(keeper.supply(ctx, 'uproof'), 1010n, 'transfers do not change supply');
});

test('sending the whole balance deletes the key (zero balances are not stored)', (t) => {
  const { ctx, kv, keeper } = setup();
  keeper.send(ctx, B, A, [c(10)]);
  t.is(kv.get('bank/' + balanceKey(B, 'uproof')), undefined);
  t.deepEqual(keeper.balances(ctx, B), []);
  t.is(keeper.balance(ctx, A, 'uproof'), 1010n);
});

test('overdraft is rejected with have/need in the message and no state change', (t) => {
  const { ctx, kv, keeper } = setup();
  const before = kv.dump();
  // First denom is fine, second is short: nothing at all may be written.
  const err = t.throws(() => keeper.send(ctx, B, A, [c(5), c(1, 'uzzz')]), { instanceOf: AppError });
  t.true(ErrInsufficientFunds.is(err));
  t.regex(err!.message, /spendable balance 0uzzz is smaller than 1uzzz/);
  const err2 = t.throws(() => keeper.send(ctx, B, A, [c(11)]));
  t.regex(err2!.message, /10uproof is smaller than 11uproof/);
  t.deepEqual(kv.dump(), before);
  t.deepEqual(ctx.events, []);
});

test('self-send keeps the balance', (t) => {
  const { ctx, keeper } = setup();
  keeper.send(ctx, A, A, [c(1000)]);
  t.is(keeper.balance(ctx, A, 'uproof'), 1000n);
  t.throws(() => keeper.send(ctx, A, A, [c(1001)]), { message: /insufficient funds/ });
});

test('keeper rejects bad coins and ignores zero entries', (t) => {
  const { ctx, kv, keeper } = setup();
  const before = kv.dump();
  t.true(ErrInvalidCoins.is(t.throws(() => keeper.send(ctx, A, B, [c(-1)]))));
  t.true(ErrInvalidCoins.is(t.throws(() => keeper.send(ctx, A, B, [c(1), c(2)]))), 'duplicate denom');
  t.true(ErrInvalidCoins.is(t.throws(() => keeper.send(ctx, A, B, [c(1, '1bad')]))));
  keeper.send(ctx, A, B, [c(0)]);
  t.deepEqual(kv.dump(), before);
});

test('module account flows: to module, between modules, from module', (t) => {
  const { ctx, keeper, accounts } = setup();
  const market = keeper.moduleAccount('market');
  t.is(market, moduleAddress('market'));
  keeper.sendToModule(ctx, A, 'market', [c(300)]);
  t.is(keeper.balance(ctx, market, 'uproof'), 300n);
  t.true(accounts.created.includes(market));
  keeper.moduleToModule(ctx, 'market', 'escrow', [c(100)]);
  t.is(keeper.balance(ctx, keeper.moduleAccount('escrow'), 'uproof'), 100n);
  keeper.sendFromModule(ctx, 'escrow', B, [c(60)]);
  t.is(keeper.balance(ctx, B, 'uproof'), 70n);
  t.is(keeper.balance(ctx, keeper.moduleAccount('escrow'), 'uproof'), 40n);
  t.throws(() => keeper.sendFromModule(ctx, 'escrow', B, [c(41)]), { message: /40uproof is smaller than 41uproof/ });
  t.is(keeper.supply(ctx, 'uproof'), 1010n);
  t.throws(() => keeper.moduleAccount(''), { message: /invalid module account name/ });
});

test('mint raises supply, burn lowers it and counts burned-so-far', (t) => {
  const { ctx, keeper } = setup();
  keeper.mint(ctx, 'mint', [c(500), c(7, 'unew')]);
  const mintAddr = keeper.moduleAccount('mint');
  t.is(keeper.supply(ctx, 'uproof'), 1510n);
  t.is(keeper.supply(ctx, 'unew'), 7n);
  t.is(keeper.balance(ctx, mintAddr, 'uproof'), 500n);
  t.deepEqual(ev(ctx), [`coin_received receiver=${mintAddr} amount=7unew,500uproof`, `coinbase minter=${mintAddr} amount=7unew,500uproof`]);
  ctx.events.length = 0;
  keeper.burn(ctx, 'mint', [c(200)]);
  keeper.burn(ctx, 'mint', [c(7, 'unew')]);
  t.is(keeper.supply(ctx, 'uproof'), 1310n);
  t.is(keeper.supply(ctx, 'unew'), 0n);
  t.deepEqual(keeper.totalSupply(ctx).map((x) => x.denom), ['ufoo', 'uproof'], 'zero supply entry removed');
  t.is(keeper.burned(ctx, 'uproof'), 200n);
  t.is(keeper.burned(ctx, 'unew'), 7n);
  t.is(ev(ctx)[1], `burn burner=${mintAddr} amount=200uproof`);
  const err = t.throws(() => keeper.burn(ctx, 'mint', [c(301)]));
  t.true(ErrInsufficientFunds.is(err));
  t.is(keeper.burned(ctx, 'uproof'), 200n);
  t.is(keeper.supply(ctx, 'uproof'), 1310n);
});

test('balance keys iterate address-then-denom and parse back', (t) => {
  const { ctx, kv, keeper } = setup();
  keeper.send(ctx, A, C32, [c(1), c(1, 'ufoo')]);
  keeper.send(ctx, A, addr(0), [c(1, 'ufoo')]);
  const keys = [...iteratePrefix(kv, 'bank/b')].map(([k]) => parseBalanceKey(k.slice('bank/'.length)));
  t.deepEqual(
    keys.map((k) => `${k.address}:${k.denom}`),
    [`${addr(0)}:ufoo`, `${A}:ufoo`, `${A}:uproof`, `${B}:uproof`, `${C32}:ufoo`, `${C32}:uproof`],
  );
});

test('store access is gas-metered through the context store', (t) => {
  const { kv, keeper } = setup();
  const meter = new GasMeter(1_000_000n);
  const ctx = newContext(new GasKV(kv, meter));
  keeper.send(ctx, A, B, [c(1)]);
  t.true(meter.consumed > 0n);
  const tiny = newContext(new GasKV(kv, new GasMeter(1500n)));
  t.throws(() => keeper.send(tiny, A, B, [c(1)]), { message: /out of gas/ });
});

// ---- MsgSend ---------------------------------------------------------------------------------------------------

function msgRoute(module: ReturnType<typeof setup>['module']) {
  const r = module.msgs!.find((m) => m.typeUrl === '/cosmos.bank.v1beta1.MsgSend')!;
  t_assert(r !== undefined);
  return r;
}
function t_assert(x: boolean): asserts x {
  if (!x) throw new Error('assertion failed');
}

test('MsgSend: decodes from protobuf, signers, validateBasic and handler', (t) => {
  const { ctx, module, keeper } = setup();
  const route = msgRoute(module);
  const bytes = MsgSend.encode(MsgSend.fromPartial({ fromAddress: A, toAddress: B, amount: [{ denom: 'uproof', amount: '25' }] })).finish();
  const msg = route.type.decode(bytes);
  t.deepEqual(route.signers(msg), [A]);
  route.validateBasic!(msg);
  const res = route.handle(ctx, msg);
  t.deepEqual(route.responseType.encode(res).finish(), new Uint8Array(0));
  t.is(route.responseTypeUrl, '/cosmos.bank.v1beta1.MsgSendResponse');
  t.is((keeper as BankKeeper).balance(ctx, B, 'uproof'), 35n);
});

test('MsgSend validateBasic rejects bad addresses and non-positive or invalid coins', (t) => {
  const { module } = setup();
  const route = msgRoute(module);
  const m = (o: object) => MsgSend.fromPartial({ fromAddress: A, toAddress: B, amount: [{ denom: 'uproof', amount: '1' }], ...o });
  const vb = (o: object) => t.throws(() => route.validateBasic!(m(o)), { instanceOf: AppError });
  t.true(ErrInvalidAddress.is(vb({ fromAddress: '' })));
  t.regex(vb({ toAddress: 'cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu' })!.message, /invalid to address: .*prefix 'cosmos'/);
  t.true(ErrInvalidAddress.is(vb({ toAddress: 'proof1notbech32' })));
  t.true(ErrInsufficientFunds.is(vb({ amount: [] })));
  t.true(ErrInsufficientFunds.is(vb({ amount: [{ denom: 'uproof', amount: '0' }] })));
  t.true(ErrInvalidCoins.is(vb({ amount: [{ denom: 'uproof', amount: '-1' }] })));
  t.true(ErrInvalidCoins.is(vb({ amount: [{ denom: 'uproof', amount: '01' }] })));
  t.true(ErrInvalidCoins.is(vb({ amount: [{ denom: 'x', amount: '1' }] })));
  t.true(ErrInvalidCoins.is(vb({ amount: [{ denom: 'uproof', amount: '1' }, { denom: 'uproof', amount: '2' }] })));
  t.throws(() => route.signers(m({ fromAddress: 'junk' })), { message: /invalid from address/ });
});

test('MsgSend to a module account is refused (static list, deps.moduleAccounts, and any credited module)', (t) => {
  const { ctx, kv, module, keeper } = setup();
  const route = msgRoute(module);
  const send = (to: string) => route.handle(ctx, MsgSend.fromPartial({ fromAddress: A, toAddress: to, amount: [{ denom: 'uproof', amount: '1' }] }));
  const before = kv.dump();
  for (const name of [BANK_MODULE_NAMES.feeCollector, 'market']) {
    const err = t.throws(() => send(moduleAddress(name)));
    t.true(ErrUnauthorized.is(err), name);
    t.regex(err!.message, /not allowed to receive funds/);
  }
  t.deepEqual(kv.dump(), before);
  // 'prover_bonds' is not declared, so it is allowed until it holds funds, then refused.
  send(moduleAddress('prover_bonds'));
  keeper.sendFromModule(ctx, 'prover_bonds', A, [c(1)]);
  keeper.sendToModule(ctx, A, 'prover_bonds', [c(2)]);
  t.true(ErrUnauthorized.is(t.throws(() => send(moduleAddress('prover_bonds')))));
  t.true(keeper.isBlockedAddress(ctx, moduleAddress('prover_bonds')));
  t.false(keeper.isBlockedAddress(ctx, B));
});

test('coins are returned in denom order whatever order they were given', (t) => {
  const { ctx, keeper } = setup();
  const coins: Coins = [c(3, 'zzz'), c(1, 'aaa')];
  keeper.mint(ctx, 'mint', coins);
  keeper.sendFromModule(ctx, 'mint', B, coins);
  t.deepEqual(keeper.balances(ctx, B), [c(1, 'aaa'), c(10), c(3, 'zzz')]);
});
