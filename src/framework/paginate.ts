/** The Cosmos SDK's `query.Paginate` over a prefix view of a module's store (used by bank and auth list queries). */
import type { PageRequest, PageResponse } from 'cosmjs-types/cosmos/base/query/v1beta1/pagination';
import { ErrInvalidRequest } from './errors.js';
import { bytesToKey, keyToBytes, type KV, type Key } from '../store/kv.js';

/** The SDK's `query.DefaultLimit`. */
export const DEFAULT_PAGE_LIMIT = 100n;

/**
 * Pages through every entry of `kv` (a prefix view: keys are relative) like the SDK's `query.Paginate`:
 *  - `key` and `offset` are exclusive (InvalidArgument when both are set);
 *  - limit 0 means 100 and implies count_total;
 *  - with `key`: start at that key (inclusive; in reverse, at or below it), no total;
 *  - with `offset`: skip that many; `total` counts all entries when count_total;
 *  - `next_key` is the first key past the page, empty when the page is the last one.
 */
export function paginate(kv: KV, page: PageRequest | undefined, onResult: (key: Key, value: Uint8Array) => void): PageResponse {
  const key = page?.key && page.key.length > 0 ? bytesToKey(page.key) : undefined;
  const offset = page?.offset ?? 0n;
  let limit = page?.limit ?? 0n;
  let countTotal = page?.countTotal ?? false;
  const reverse = page?.reverse ?? false;
  if (offset > 0n && key !== undefined) throw ErrInvalidRequest('paginate: invalid request, either offset or key is expected, got both');
  if (limit === 0n) {
    limit = DEFAULT_PAGE_LIMIT;
    countTotal = true;
  }
  const iterFrom = (start: Key | undefined) =>
    reverse ? kv.iterate('', start === undefined ? undefined : start + '\x00', true) : kv.iterate(start ?? '', undefined, false);

  if (key !== undefined) {
    let count = 0n;
    let nextKey: Uint8Array = new Uint8Array(0);
    for (const [k, v] of iterFrom(key)) {
      if (count === limit) {
        nextKey = keyToBytes(k);
        break;
      }
      onResult(k, v);
      count++;
    }
    return { nextKey, total: 0n };
  }

  const end = offset + limit;
  let count = 0n;
  let nextKey: Uint8Array = new Uint8Array(0);
  for (const [k, v] of iterFrom(undefined)) {
    count++;
    if (count <= offset) continue;
    if (count <= end) onResult(k, v);
    else if (count === end + 1n) {
      nextKey = keyToBytes(k);
      if (!countTotal) break;
    }
  }
  return { nextKey, total: countTotal ? count : 0n };
}


/**
 * Offset/limit paging of a list already in memory (queries that filter per delegator or per validator, where the
 * list is small): `key` paging is refused, limit 0 means DEFAULT_PAGE_LIMIT, `total` is always the list's length.
 */
export function paginateList<T>(all: readonly T[], req: PageRequest | undefined): { items: T[]; pagination: { nextKey: Uint8Array; total: bigint } } {
  if (req?.key && req.key.length > 0) throw ErrInvalidRequest('this query pages by offset only (pagination.key is not supported)');
  const offset = Number(req?.offset ?? 0n);
  const limit = Number(req?.limit && req.limit > 0n ? req.limit : DEFAULT_PAGE_LIMIT);
  const items = (req?.reverse ? [...all].reverse() : all).slice(offset, offset + limit);
  return { items, pagination: { nextKey: new Uint8Array(), total: BigInt(all.length) } };
}
