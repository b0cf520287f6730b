import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Comet38Client } from '@cosmjs/tendermint-rpc';
import { startDevnet } from '../app/devnet/index.js';
import { DevnetKvApp } from './fixtures/devnet-kv-app.js';

const enc = new TextEncoder();

async function open(home: string) {
  const app = await DevnetKvApp.open(join(home, 'app'));
  const devnet = await startDevnet({ home, app, blockTimeMs: 0, rpcAddress: '127.0.0.1:0', appState: { g: '1' } });
  return { app, devnet };
}

test('restart on the same home continues the chain and keeps state, index and validator key', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'devnet-restart-'));
  try {
    let { app, devnet } = await open(home);
    for (let h = 1; h <= 3; h++) {
      await devnet.node.checkTx(enc.encode(`k${h}=${h}`));
      await devnet.produceBlock();
    }
    let client = await Comet38Client.connect(devnet.rpcUrl);
    const status1 = await client.status();
    const block3 = await client.block(3);
    const results3 = await devnet.node.store.getResults(3n);
    client.disconnect();
    await devnet.close();

    ({ app, devnet } = await open(home));
    t.false(app.calls.includes('initChain'));
    t.is(devnet.height(), 3n);
    await devnet.produceBlock();
    client = await Comet38Client.connect(devnet.rpcUrl);
    const status2 = await client.status();
    t.is(status2.syncInfo.latestBlockHeight, 4);
    t.deepEqual(status2.validatorInfo.address, status1.validatorInfo.address);
    const block4 = await client.block(4);
    t.deepEqual(block4.block.header.lastBlockId!.hash, block3.blockId.hash);
    t.deepEqual(block4.block.header.appHash, results3!.appHash);
    t.true(block4.block.header.time.getTime() >= block3.block.header.time.getTime());
    t.is(Buffer.from((await client.abciQuery({ path: '/', data: enc.encode('k2') })).value).toString(), '2');
    t.is(Buffer.from((await client.abciQuery({ path: '/', data: enc.encode('g') })).value).toString(), '1');
    t.is((await client.txSearch({ query: "app.key='k1'" })).txs[0]!.height, 1);
    client.disconnect();
    await devnet.close();
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

function runChild(home: string, mode: string, height: number, killAfterHeight?: number): Promise<{ code: number | null; signal: string | null; heights: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/devnet-crash-child.ts', home, mode, String(height)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const heights: number[] = [];
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = /^height (\d+)$/.exec(line);
        if (m) {
          heights.push(Number(m[1]));
          if (killAfterHeight !== undefined && Number(m[1]) >= killAfterHeight) {
            // Kill at a pseudo-random point within the next block interval.
            setTimeout(() => child.kill('SIGKILL'), (heights.length * 7) % 11);
          }
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, heights }));
  });
}

for (const mode of ['after-persist', 'before-commit'] as const) {
  test(`SIGKILL ${mode === 'after-persist' ? 'between block persist and FinalizeBlock' : 'between results persist and Commit'}: restart replays the block`, async (t) => {
    const home = await mkdtemp(join(tmpdir(), `devnet-crash-${mode}-`));
    try {
      const r = await runChild(home, mode, 4);
      t.is(r.signal, 'SIGKILL');
      t.deepEqual(r.heights, [1, 2, 3]);
      const { app, devnet } = await open(home);
      try {
        // Block 4 was in the store; the handshake replayed it (FinalizeBlock + Commit) without InitChain.
        t.is(devnet.height(), 4n);
        t.deepEqual(app.calls.slice(0, 4), ['info', 'finalizeBlock', 'commit', 'info']);
        t.is(await app.get('key4'), '4');
        await devnet.produceBlock();
        const client = await Comet38Client.connect(devnet.rpcUrl);
        const b5 = await client.block(5);
        const r4 = await devnet.node.store.getResults(4n);
        t.deepEqual(b5.block.header.appHash, r4!.appHash);
        t.is((await client.txSearch({ query: 'tx.height=4' })).totalCount, 1);
        client.disconnect();
      } finally {
        await devnet.close();
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
}

test('SIGKILL at a random point of a running block loop: restart recovers a consistent chain', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'devnet-crash-loop-'));
  try {
    for (let round = 0; round < 2; round++) {
      const r = await runChild(home, 'loop', 0, 5 + round * 5);
      t.is(r.signal, 'SIGKILL');
      const last = r.heights[r.heights.length - 1]!;
      const { app, devnet } = await open(home);
      try {
        t.true(devnet.height() >= BigInt(last));
        // Every tx committed in the store is applied in the app, and the app hash chain is consistent
        // (the handshake would have thrown otherwise).
        for (let h = 1n; h <= devnet.height(); h++) {
          const b = await devnet.node.store.getBlock(h);
          for (const tx of b!.block.data.txs) {
            const [k, v] = Buffer.from(tx).toString().split('=');
            t.is(await app.get(k!), v);
          }
        }
        await devnet.produceBlock();
      } finally {
        await devnet.close();
      }
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
