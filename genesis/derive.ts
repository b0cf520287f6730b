import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { makeCosmoshubPath } from '@cosmjs/amino';
import { BECH32_PREFIX } from '../src/crypto/address.js';

export interface DevnetAccount { index: number; hdPath: string; address: string }

/** The first `n` accounts of `mnemonic` on the Cosmos HD path m/44'/118'/0'/0/i with the `proof` prefix. */
export async function deriveDevnetAccounts(mnemonic: string, n: number): Promise<DevnetAccount[]> {
  const hdPaths = Array.from({ length: n }, (_, i) => makeCosmoshubPath(i));
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: BECH32_PREFIX, hdPaths });
  const accounts = await wallet.getAccounts();
  return accounts.map((a, index) => ({ index, hdPath: `m/44'/118'/0'/0/${index}`, address: a.address }));
}
