/**
 * Issue 10 item 8: JSON-RPC batches on the devnet are capped at CometBFT's default of 10 requests, and the reply size
 * is capped, with clear JSON-RPC errors; the node keeps serving and producing blocks.
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevnet } from '../app/devnet/index.js';
import { rpcLimits } from '../app/devnet/rpc.js';
import { DevnetKvApp } from './fixtures/devnet-kv-app.js';

async function rpc(url: string, body: unknown): Promise<{ status: number; json: any; bytes: number }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, bytes: text.length };
}

const calls = (n: number, method = 'health') => Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method, params: {} }));

test.serial('batches over 10 requests are refused; replies over the size cap are refused; the node keeps going', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'devnet-rpc-limits-'));
  const app = await DevnetKvApp.open(join(home, 'app'));
  const devnet = await startDevnet({ home, app, blockTimeMs: 0, rpcAddress: '127.0.0.1:0', appState: { greeting: 'hello' } });
  t.teardown(async () => {
    await devnet.close();
    await rm(home, { recursive: true, force: true });
  });
  await devnet.produceBlock();
  const url = devnet.rpcUrl;

  const ten = await rpc(url, calls(10));
  t.is(ten.status, 200);
  t.is(ten.json.length, 10);

  // A 5,000-call batch (within the 1 MB body limit): refused before any call runs, with CometBFT's message.
  const huge = await rpc(url, calls(5_000));
  t.is(huge.status, 400);
  t.is(huge.json.error.code, -32600);
  t.is(huge.json.error.data, 'batch request exceeds maximum (10) allowed number of requests');
  t.true(huge.bytes < 1000);

  const limit = rpcLimits.maxResponseBytes;
  try {
    rpcLimits.maxResponseBytes = 1500;
    const big = await rpc(url, calls(10, 'status'));
    t.is(big.status, 500);
    t.is(big.json.error.code, -32603);
    t.regex(big.json.error.data, /response exceeds the maximum of 1500 bytes/);
    t.true(big.bytes < 1500);
  } finally {
    rpcLimits.maxResponseBytes = limit;
  }
  await devnet.produceBlock();
  const after = await rpc(url, { jsonrpc: '2.0', id: 1, method: 'status', params: {} });
  t.is(after.status, 200);
  t.is(after.json.result.sync_info.latest_block_height, '2');
});
