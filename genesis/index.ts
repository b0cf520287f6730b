/**
 * The default genesis: every module's default section, with the first 10 accounts of the devnet mnemonic
 * (genesis/devnet-mnemonic.txt, HD path m/44'/118'/0'/0/i) funded. The mnemonic is public: devnet only.
 */
import { readFileSync } from 'node:fs';
import { createModules } from '../app/modules.js';
import { NATIVE_DENOM } from '../src/types/coins.js';
import type { DevnetAccount } from './derive.js';

export const DEVNET_CHAIN_ID = 'proofbook-devnet-1';
export const DEVNET_MNEMONIC = readFileSync(new URL('./devnet-mnemonic.txt', import.meta.url), 'utf8').trim();
/** Each devnet account starts with 1,000,000 PROOF (10^12 uproof). */
export const DEVNET_ACCOUNT_BALANCE = 1_000_000_000_000n;

export function devnetAccounts(): DevnetAccount[] {
  return JSON.parse(readFileSync(new URL('./devnet-accounts.json', import.meta.url), 'utf8')) as DevnetAccount[];
}

export type AppState = Record<string, unknown>;

export function defaultGenesis(): AppState {
  const state: AppState = {};
  for (const m of createModules().modules) if (m.defaultGenesis) state[m.name] = m.defaultGenesis();
  const balances = devnetAccounts().map((a) => ({ address: a.address, coins: [{ denom: NATIVE_DENOM, amount: DEVNET_ACCOUNT_BALANCE.toString() }] }));
  state.bank = { ...(state.bank as object), balances };
  return state;
}
