/**
 * `proofbook tx verifier register-circuit …` and `proofbook query verifier circuit|circuits|params`.
 * The lead mounts them: txCommand().addCommand(verifierTxCommand()), queryCommand().addCommand(verifierQueryCommand()).
 */
import { Command } from 'commander';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { GasPrice, SigningStargateClient, calculateFee, type StdFee } from '@cosmjs/stargate';
import type { AccountData, EncodeObject } from '@cosmjs/proto-signing';
import type { Comet38Client } from '@cosmjs/tendermint-rpc';
import { Ctx, CliError, EXIT } from './common.js';
import { DEFAULT_GAS_ADJUSTMENT, checkFeeFlags, resolveFee, txResultData, type TxFlags } from './tx.js';
import { connectComet, simulateGas } from '../src/client/tx.js';
import { proofbookRegistry, TYPE_URLS } from '../src/client/registry.js';
import { coinsToProto, parseCoins } from '../src/types/coins.js';
import {
  MsgRegisterCircuit,
  MsgRegisterCircuitResponse,
  ProofSystem,
  QueryCircuitRequest,
  QueryCircuitResponse,
  QueryCircuitsRequest,
  QueryCircuitsResponse,
  QueryParamsRequest,
  QueryParamsResponse,
  type Circuit,
} from '../src/gen/proofbook/verifier/v1/verifier.js';
import { encodeVerifyingKey, verifyingKeyFromSnarkjs } from '../src/zk/groth16.js';
import { circuitToJson, paramsToJson } from '../modules/verifier/genesis.js';
import { circuitIdOf } from '../modules/verifier/keys.js';

const PROOF_SYSTEMS: Record<string, ProofSystem> = {
  groth16: ProofSystem.PROOF_SYSTEM_GROTH16_BN254,
  plonk: ProofSystem.PROOF_SYSTEM_PLONK_BN254,
  fflonk: ProofSystem.PROOF_SYSTEM_FFLONK_BN254,
};

export interface RegisterCircuitOptions {
  creator: string;
  name: string;
  /** snarkjs verification_key.json */
  vkPath: string;
  wasmPath: string;
  zkeyPath: string;
  wasmUri?: string;
  zkeyUri?: string;
  constraints: string;
  proofSystem?: string;
}

export interface BuiltRegistration {
  msg: MsgRegisterCircuit;
  /** The circuit id the chain will assign. */
  circuitId: string;
  /** Files without an explicit URI: served by a node as /artifacts/<sha256> once copied into ${home}/artifacts. */
  localArtifacts: { file: string; sha256: string }[];
}

function fileArtifact(file: string, what: string): { sha256: string; size: bigint } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CliError(`cannot read the ${what} file '${file}': ${(e as Error).message}`, EXIT.USAGE);
  }
  if (bytes.length === 0) throw new CliError(`the ${what} file '${file}' is empty`, EXIT.USAGE);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: BigInt(statSync(file).size) };
}

/** Builds MsgRegisterCircuit from files (no network): hashes and sizes the artifacts, encodes the verifying key. */
export function buildRegisterCircuitMsg(o: RegisterCircuitOptions): BuiltRegistration {
  const ps = PROOF_SYSTEMS[(o.proofSystem ?? 'groth16').toLowerCase()];
  if (ps === undefined) throw new CliError(`--proof-system must be one of ${Object.keys(PROOF_SYSTEMS).join(', ')}, got '${o.proofSystem}'`, EXIT.USAGE);
  if (!/^[1-9][0-9]{0,18}$/.test(o.constraints)) throw new CliError(`--constraints must be a positive integer, got '${o.constraints}'`, EXIT.USAGE);
  let vkBytes: Uint8Array;
  try {
    vkBytes = encodeVerifyingKey(verifyingKeyFromSnarkjs(JSON.parse(readFileSync(o.vkPath, 'utf8'))));
  } catch (e) {
    throw new CliError(`cannot use '${o.vkPath}' as a snarkjs Groth16 verification_key.json: ${(e as Error).message}`, EXIT.USAGE);
  }
  const wasm = fileArtifact(o.wasmPath, 'wasm');
  const zkey = fileArtifact(o.zkeyPath, 'zkey');
  const localArtifacts: BuiltRegistration['localArtifacts'] = [];
  if (!o.wasmUri) localArtifacts.push({ file: o.wasmPath, sha256: wasm.sha256 });
  if (!o.zkeyUri) localArtifacts.push({ file: o.zkeyPath, sha256: zkey.sha256 });
  const msg = MsgRegisterCircuit.fromPartial({
    creator: o.creator,
    name: o.name,
    proofSystem: ps,
    verifyingKey: Buffer.from(vkBytes),
    constraints: BigInt(o.constraints),
    wasm: { sha256: wasm.sha256, uri: o.wasmUri || `/artifacts/${wasm.sha256}`, size: wasm.size },
    provingKey: { sha256: zkey.sha256, uri: o.zkeyUri || `/artifacts/${zkey.sha256}`, size: zkey.size },
  });
  return { msg, circuitId: circuitIdOf({ proofSystem: ps, verifyingKey: vkBytes, wasm, provingKey: zkey, owner: o.creator }), localArtifacts };
}

/** Copies artifacts without a URI into `${home}/artifacts/`, where the node serves them by hash. */
export function stageArtifacts(home: string, items: BuiltRegistration['localArtifacts']): string[] {
  const dir = path.join(home, 'artifacts');
  mkdirSync(dir, { recursive: true });
  return items.map(({ file, sha256 }) => {
    const dest = path.join(dir, `${sha256}${path.extname(file)}`);
    if (!existsSync(dest)) copyFileSync(file, dest);
    return dest;
  });
}

// ---- signing (proofbook registry) ---------------------------------------------------------------------------------

function parsePrice(s: string): GasPrice {
  try {
    return GasPrice.fromString(s);
  } catch (e) {
    throw new CliError(`bad --gas-prices '${s}': ${(e as Error).message}`, EXIT.USAGE, 'e.g. --gas-prices 0.001uproof');
  }
}

/** Registration costs ~250k gas (verify_gas_base for the key checks plus writes of a ~600-byte record). */
export const REGISTER_DEFAULT_GAS = 400_000;

interface RegisterFlags extends TxFlags {
  name: string;
  vk: string;
  wasm: string;
  zkey: string;
  wasmUri?: string;
  zkeyUri?: string;
  constraints: string;
  from: string;
  proofSystem?: string;
  stage: boolean;
}

export function verifierTxCommand(): Command {
  const v = new Command('verifier').description('verifier module transactions (circuit registry)');
  v.command('register-circuit')
    .description('register a circuit: its verifying key (id = sha256 of proof system and key) and prover artifacts; pays params.registration_deposit')
    .requiredOption('--name <name>', 'circuit name (1-64 printable ASCII characters)')
    .requiredOption('--vk <file>', 'snarkjs verification_key.json')
    .requiredOption('--wasm <file>', 'witness generator (circuit.wasm)')
    .requiredOption('--zkey <file>', 'proving key (circuit_final.zkey)')
    .option('--wasm-uri <uri>', 'where provers fetch the wasm (default: /artifacts/<sha256>, served by nodes that hold the file)')
    .option('--zkey-uri <uri>', 'where provers fetch the zkey (default: /artifacts/<sha256>)')
    .requiredOption('--constraints <n>', 'number of constraints (snarkjs r1cs info)')
    .requiredOption('--from <key>', 'name (or address) of the registering key in the keyring')
    .option('--proof-system <system>', 'groth16 (plonk and fflonk are not supported by the chain yet)', 'groth16')
    .option('--no-stage', 'do not copy artifacts without a URI into ${home}/artifacts')
    .option('--fees <coins>', 'fee to pay, e.g. 5000uproof')
    .option('--gas <limit>', `gas limit: a number or "auto" (default ${REGISTER_DEFAULT_GAS})`)
    .option('--gas-prices <price>', 'price per gas unit, e.g. 0.001uproof')
    .option('--gas-adjustment <factor>', 'multiplier for --gas auto', String(DEFAULT_GAS_ADJUSTMENT))
    .option('--memo <text>', 'transaction memo', '')
    .option('--chain-id <id>', "expected chain id (checked against the node's)")
    .addHelpText('after', `
Artifacts given without --wasm-uri/--zkey-uri are copied into \${home}/artifacts, from where a node using that home
serves them at /artifacts/<sha256>. Prints the circuit id.

Example:
  $ proofbook tx verifier register-circuit --name hashchain2 --vk verification_key.json --wasm circuit.wasm \\
      --zkey circuit_final.zkey --constraints 4741 --from devnet0 --fees 5000uproof`)
    .action(async (f: RegisterFlags, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      checkFeeFlags(f);
      const kr = ctx.keyring();
      const key = await kr.resolve(f.from);
      const built = buildRegisterCircuitMsg({
        creator: key.address, name: f.name, vkPath: f.vk, wasmPath: f.wasm, zkeyPath: f.zkey, wasmUri: f.wasmUri, zkeyUri: f.zkeyUri,
        constraints: f.constraints, proofSystem: f.proofSystem,
      });
      const staged = f.stage ? stageArtifacts(ctx.home, built.localArtifacts) : [];
      const { wallet } = await kr.signer(key.name);
      const comet = await connectComet(ctx.node);
      const client = SigningStargateClient.createWithSigner(comet, wallet, { registry: proofbookRegistry(), broadcastPollIntervalMs: 300, broadcastTimeoutMs: 60_000 });
      try {
        const chainId = await client.getChainId();
        if (f.chainId !== undefined && f.chainId !== chainId) throw new CliError(`--chain-id ${f.chainId} does not match the node's chain id ${chainId}`, EXIT.USAGE);
        const msgs: EncodeObject[] = [{ typeUrl: TYPE_URLS.registerCircuit, value: built.msg }];
        const [account] = await wallet.getAccounts();
        const fee = await resolveFee(client, comet, account, msgs, f, REGISTER_DEFAULT_GAS);
        const r = await client.signAndBroadcast(key.address, msgs, fee, f.memo ?? '');
        const data = { ...txResultData(r), circuitId: built.circuitId, stagedArtifacts: staged };
        if (r.code === 0 && r.msgResponses[0]) data.circuitId = MsgRegisterCircuitResponse.decode(r.msgResponses[0].value).circuitId;
        ctx.print(data, () =>
          [`txhash: ${data.txhash}`, `height: ${data.height}`, `code: ${data.code}`, `gas_used: ${data.gasUsed}`, `circuit_id: ${data.circuitId}`,
            ...staged.map((s) => `staged: ${s}`), ...(data.log ? [`log: ${data.log}`] : [])].join('\n'),
        );
        if (r.code !== 0) throw new CliError(`transaction ${r.transactionHash} failed in block ${r.height} with code ${r.code}: ${r.rawLog ?? ''}`, EXIT.FAILED);
      } finally {
        client.disconnect();
      }
    });
  return v;
}

// ---- queries --------------------------------------------------------------------------------------------------------

async function abciQuery(ctx: Ctx, p: string, data: Uint8Array): Promise<Uint8Array> {
  const comet = await connectComet(ctx.node);
  try {
    const res = await comet.abciQuery({ path: p, data });
    if ((res.code ?? 0) !== 0) throw new CliError(`query ${p} failed (codespace ${res.codespace}, code ${res.code}): ${res.log}`, EXIT.FAILED);
    return res.value;
  } finally {
    comet.disconnect();
  }
}

export function circuitText(c: Circuit): string {
  const j = circuitToJson(c);
  return [
    `id: ${j.id}`, `name: ${j.name}`, `proof_system: ${j.proof_system}`, `constraints: ${j.constraints}`, `num_public_inputs: ${j.num_public_inputs}`,
    `wasm: ${j.wasm.uri} (sha256 ${j.wasm.sha256}, ${j.wasm.size} bytes)`,
    `proving_key: ${j.proving_key.uri} (sha256 ${j.proving_key.sha256}, ${j.proving_key.size} bytes)`,
    `owner: ${j.owner}`, `registered_height: ${j.registered_height}`,
    `deposit: ${j.deposit.map((d) => d.amount + d.denom).join(',') || '(none)'}`,
  ].join('\n');
}

export function verifierQueryCommand(): Command {
  const v = new Command('verifier').description('verifier module queries (circuit registry)');
  v.command('circuit')
    .argument('<id>', 'circuit id (64 hex characters)')
    .description('one registered circuit')
    .addHelpText('after', '\nExample:\n  $ proofbook query verifier circuit 3f5a… --output json')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const norm = id.toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(norm)) throw new CliError(`'${id}' is not a circuit id (64 hex characters)`, EXIT.USAGE, 'list ids with `proofbook query verifier circuits`');
      const c = QueryCircuitResponse.decode(await abciQuery(ctx, '/proofbook.verifier.v1.Query/Circuit', QueryCircuitRequest.encode({ id: norm }).finish())).circuit!;
      ctx.print(circuitToJson(c), () => circuitText(c));
    });
  v.command('circuits')
    .description('registered circuits in id order (paginated)')
    .option('--limit <n>', 'page size (default 100)')
    .option('--offset <n>', 'skip this many circuits')
    .option('--page-key <hex>', 'next_key of the previous page')
    .addHelpText('after', '\nExample:\n  $ proofbook query verifier circuits --limit 10 --output json')
    .action(async (o: { limit?: string; offset?: string; pageKey?: string }, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const num = (s: string | undefined, what: string) => {
        if (s === undefined) return 0n;
        if (!/^[0-9]{1,9}$/.test(s)) throw new CliError(`--${what} must be a non-negative integer, got '${s}'`, EXIT.USAGE);
        return BigInt(s);
      };
      if (o.pageKey !== undefined && !/^([0-9a-fA-F]{2})+$/.test(o.pageKey)) throw new CliError(`--page-key must be hex, got '${o.pageKey}'`, EXIT.USAGE);
      const req = QueryCircuitsRequest.encode({
        pagination: { key: Buffer.from(o.pageKey ?? '', 'hex'), offset: num(o.offset, 'offset'), limit: num(o.limit, 'limit'), countTotal: true, reverse: false },
      }).finish();
      const r = QueryCircuitsResponse.decode(await abciQuery(ctx, '/proofbook.verifier.v1.Query/Circuits', req));
      const nextKey = Buffer.from(r.pagination?.nextKey ?? []).toString('hex');
      ctx.print({ circuits: r.circuits.map(circuitToJson), pagination: { next_key: nextKey, total: (r.pagination?.total ?? 0n).toString() } }, () =>
        [...r.circuits.map((c) => `${c.id}  ${c.name}  inputs=${c.numPublicInputs} constraints=${c.constraints}`), ...(nextKey ? [`next page: --page-key ${nextKey}`] : [])].join('\n') || 'no circuits',
      );
    });
  v.command('params')
    .description('verifier parameters (registration deposit, verification gas, VK size limit)')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = Ctx.of(cmd);
      const p = QueryParamsResponse.decode(await abciQuery(ctx, '/proofbook.verifier.v1.Query/Params', QueryParamsRequest.encode({}).finish())).params!;
      const j = paramsToJson(p);
      ctx.print(j, () =>
        [`registration_deposit: ${j.registration_deposit.map((c) => c.amount + c.denom).join(',') || '(none)'}`, `verify_gas_base: ${j.verify_gas_base}`,
          `verify_gas_per_input: ${j.verify_gas_per_input}`, `max_verifying_key_bytes: ${j.max_verifying_key_bytes}`].join('\n'),
      );
    });
  return v;
}
