/**
 * Regenerates genesis/devnet-accounts.json from genesis/devnet-mnemonic.txt: the addresses of the first 10 HD accounts
 * (m/44'/118'/0'/0/i, prefix `proof`). Deriving keys is slow-ish (PBKDF2), so the addresses are kept in a file and
 * test/genesis.test.ts checks that the file still matches the mnemonic.
 *   node --import tsx scripts/gen-devnet-accounts.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { deriveDevnetAccounts } from '../genesis/derive.js';

const mnemonic = readFileSync(new URL('../genesis/devnet-mnemonic.txt', import.meta.url), 'utf8').trim();
const accounts = await deriveDevnetAccounts(mnemonic, 10);
writeFileSync(new URL('../genesis/devnet-accounts.json', import.meta.url), JSON.stringify(accounts, null, 2) + '\n');
console.log(accounts.map((a) => `${a.index} ${a.address}`).join('\n'));
