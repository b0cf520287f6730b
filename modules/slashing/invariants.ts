/** Slashing invariant: every signing info's missed_blocks_counter equals its marked window positions, ≤ the window. */
import { ValidatorSigningInfo } from 'cosmjs-types/cosmos/slashing/v1beta1/slashing';
import type { Invariant } from '../../src/framework/module.js';
import { iteratePrefix } from '../../src/store/kv.js';
import type { SlashingKeeperImpl } from './keeper.js';
import { INFO_PREFIX, missedPrefix } from './keys.js';

export function slashingInvariants(k: SlashingKeeperImpl): Invariant[] {
  return [{
    name: 'missed-blocks',
    check(ctx) {
      const kv = k.store(ctx);
      const window = k.params(ctx).signedBlocksWindow;
      const problems: string[] = [];
      for (const [key, v] of iteratePrefix(kv, INFO_PREFIX)) {
        const info = ValidatorSigningInfo.decode(v);
        const cons = new Uint8Array(Buffer.from(key.slice(2), 'latin1'));
        let n = 0n;
        for (const _ of iteratePrefix(kv, missedPrefix(cons))) n++;
        if (n !== info.missedBlocksCounter) problems.push(`${info.address}: counter ${info.missedBlocksCounter}, ${n} missed blocks marked`);
        if (info.missedBlocksCounter < 0n || info.missedBlocksCounter > window) problems.push(`${info.address}: counter ${info.missedBlocksCounter} outside [0, ${window}]`);
      }
      return problems.length ? problems.slice(0, 5).join('; ') : undefined;
    },
  }];
}
