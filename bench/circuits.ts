/**
 * Benchmark (and test) circuits: the genesis Poseidon hash chain (circuits/hashchain.circom) with N steps, about
 * 237 constraints per step, so N = floor((2^k − 4) / 237) fills a 2^k domain. Artifacts are generated
 * deterministically on first use and cached outside the repository (PROOFBOOK_BENCH_CACHE, default
 * ~/.cache/proofbook/bench-circuits/hashchain-N-<hash>/):
 *
 *   circom2 --O2 (R1CS + witness wasm)  →  native/prover/bin/testsetup (TEST-ONLY, INSECURE Groth16 setup: the
 *   toxic waste is derived from a public seed)  →  snarkjs `zkey export verificationkey` (so snarkjs reads the key).
 *
 * The keys are for measuring speed and testing provers only: anyone who knows the seed can forge proofs.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const NATIVE_DIR = path.join(ROOT, 'native', 'prover');
export const NATIVE_PROVER = path.join(NATIVE_DIR, 'bin', 'prover');
export const TESTSETUP = path.join(NATIVE_DIR, 'bin', 'testsetup');
const SNARKJS = path.join(ROOT, 'node_modules', 'snarkjs', 'cli.js');
const CIRCOM2 = path.join(ROOT, 'node_modules', 'circom2', 'cli.js');

/** The seed of the test-only setup (public on purpose: these keys are insecure by construction). */
export const TEST_SETUP_SEED = 'proofbook-bench-v1';

export interface BenchCircuit {
  name: string;
  steps: number;
  dir: string;
  wasmPath: string;
  zkeyPath: string;
  vkeyPath: string;
  r1csPath: string;
  constraints: number;
  /** log2 of the Groth16 domain. */
  log2Domain: number;
}

/** Steps of the hash chain that fill a domain of 2^k (nConstraints + nPublic + 1 ≤ 2^k). */
export function stepsFor(log2Domain: number): number {
  return Math.max(1, Math.floor((2 ** log2Domain - 4) / 237));
}

/** Builds the native prover and the test setup tool (incremental `go build`: about a second when up to date). */
export function ensureNative(): void {
  execFileSync('bash', [path.join(NATIVE_DIR, 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export function cacheRoot(): string {
  return process.env.PROOFBOOK_BENCH_CACHE || path.join(os.homedir(), '.cache', 'proofbook', 'bench-circuits');
}

function circuitSource(steps: number): string {
  const src = readFileSync(path.join(ROOT, 'circuits', 'hashchain.circom'), 'utf8');
  const out = src.replace(/component main \{public \[nonce\]\} = HashChain\(\d+\);/, `component main {public [nonce]} = HashChain(${steps});`);
  if (out === src && !src.includes(`HashChain(${steps});`)) throw new Error('circuits/hashchain.circom: main component not found');
  return out;
}

/** Input for proof i of a bench circuit (distinct witnesses). */
export function benchInput(i: number): Record<string, string> {
  return { preimage: String(1_000_003 + i * 7919), nonce: String(42 + i) };
}

/**
 * The circuit with `steps` hash-chain steps, generated on first use (circom2 needs relative paths inside its
 * sandbox, so circomlib's sources are copied next to the circuit). `log` reports progress of a slow build.
 */
export function benchCircuit(steps: number, log: (m: string) => void = () => {}): BenchCircuit {
  const src = circuitSource(steps);
  const tag = createHash('sha256').update(src).update(TEST_SETUP_SEED).update(readFileSync(path.join(NATIVE_DIR, 'internal', 'setup', 'setup.go'))).digest('hex').slice(0, 12);
  const name = `hashchain-${steps}`;
  const dir = path.join(cacheRoot(), `${name}-${tag}`);
  const c: BenchCircuit = {
    name, steps, dir,
    wasmPath: path.join(dir, 'circuit_js', 'circuit.wasm'),
    zkeyPath: path.join(dir, 'circuit.zkey'),
    vkeyPath: path.join(dir, 'verification_key.json'),
    r1csPath: path.join(dir, 'circuit.r1cs'),
    constraints: 0, log2Domain: 0,
  };
  const meta = path.join(dir, 'meta.json');
  if (!existsSync(meta)) {
    ensureNative();
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(path.join(tmp, 'circomlib'), { recursive: true });
    cpSync(path.join(ROOT, 'node_modules', 'circomlib', 'circuits'), path.join(tmp, 'circomlib', 'circuits'), { recursive: true, dereference: true });
    writeFileSync(path.join(tmp, 'circuit.circom'), src);
    const t0 = performance.now();
    log(`${name}: compiling with circom2 --O2 …`);
    execFileSync(process.execPath, [CIRCOM2, 'circuit.circom', '--r1cs', '--wasm', '--O2', '-l', '.', '-o', '.'], { cwd: tmp, stdio: ['ignore', 'ignore', 'inherit'] });
    log(`${name}: compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s; test-only setup …`);
    const t1 = performance.now();
    const out = execFileSync(TESTSETUP, ['circuit.r1cs', 'circuit.zkey', TEST_SETUP_SEED], { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    void out;
    log(`${name}: setup in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    execFileSync(process.execPath, [SNARKJS, 'zkey', 'export', 'verificationkey', 'circuit.zkey', 'verification_key.json'], { cwd: tmp, stdio: 'ignore' });
    const info = JSON.parse(readFileSync(path.join(tmp, 'verification_key.json'), 'utf8')) as { nPublic: number };
    if (info.nPublic !== 2) throw new Error(`${name}: unexpected verification key (nPublic ${info.nPublic})`);
    rmSync(path.join(tmp, 'circomlib'), { recursive: true, force: true });
    writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(r1csInfo(path.join(tmp, 'circuit.r1cs'))));
    mkdirSync(path.dirname(dir), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  const m = JSON.parse(readFileSync(meta, 'utf8')) as { constraints: number; log2Domain: number };
  return { ...c, ...m };
}

/** Constraint count and domain of an .r1cs (header section: n8, prime, nWires, nPubOut, nPubIn, nPrvIn, nLabels, nConstraints). */
function r1csInfo(file: string): { constraints: number; log2Domain: number } {
  const b = readFileSync(file);
  let pos = 12;
  const nSections = b.readUInt32LE(8);
  for (let i = 0; i < nSections; i++) {
    const type = b.readUInt32LE(pos);
    const size = Number(b.readBigUInt64LE(pos + 4));
    if (type === 1) {
      const h = pos + 12;
      const n8 = b.readUInt32LE(h);
      const o = h + 4 + n8;
      const nPub = b.readUInt32LE(o + 4) + b.readUInt32LE(o + 8);
      const constraints = b.readUInt32LE(o + 24);
      return { constraints, log2Domain: Math.ceil(Math.log2(constraints + nPub + 1)) };
    }
    pos += 12 + size;
  }
  throw new Error(`${file}: no r1cs header`);
}
