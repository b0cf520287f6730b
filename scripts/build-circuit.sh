#!/usr/bin/env bash
# Rebuilds the genesis circuit artifacts in genesis/circuits/hashchain/ from circuits/hashchain.circom and the
# committed powers of tau (genesis/ptau/pot13_final.ptau, 2^13, phase 2 prepared).
#
#   bash scripts/build-circuit.sh               # compile + groth16 setup + one zkey contribution (~40 s on 2 cores)
#   bash scripts/build-circuit.sh --fresh-ptau  # also regenerate the powers of tau first (+~3 min on 2 cores)
#
# The contributions use fixed entropy strings so the script runs unattended, but snarkjs mixes OS randomness into
# every contribution: a rebuild yields an equivalent, not byte-identical, key. The committed artifacts are the
# canonical genesis ones; never rebuild them casually (a new zkey invalidates every existing proof).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SNARKJS="$ROOT/node_modules/.bin/snarkjs"
CIRCOM="$ROOT/node_modules/.bin/circom2"
NAME=hashchain
PTAU="$ROOT/genesis/ptau/pot13_final.ptau"
OUT="$ROOT/genesis/circuits/$NAME"
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
start=$(date +%s)

if [[ "${1:-}" == "--fresh-ptau" || ! -f "$PTAU" ]]; then
  echo "== powers of tau 2^13 (new, contribute, prepare phase2)"
  mkdir -p "$(dirname "$PTAU")"
  "$SNARKJS" powersoftau new bn128 13 "$BUILD/pot13_0000.ptau"
  "$SNARKJS" powersoftau contribute "$BUILD/pot13_0000.ptau" "$BUILD/pot13_0001.ptau" \
    --name="proofbook genesis" -e="proofbook genesis ceremony 2026-11-24"
  "$SNARKJS" powersoftau prepare phase2 "$BUILD/pot13_0001.ptau" "$PTAU"
fi

echo "== compile circuits/$NAME.circom (circom2, --O2)"
"$CIRCOM" "circuits/$NAME.circom" --r1cs --wasm --sym --O2 -l node_modules -o "$BUILD"
"$SNARKJS" r1cs info "$BUILD/$NAME.r1cs"

echo "== groth16 setup + one contribution"
"$SNARKJS" groth16 setup "$BUILD/$NAME.r1cs" "$PTAU" "$BUILD/${NAME}_0000.zkey"
"$SNARKJS" zkey contribute "$BUILD/${NAME}_0000.zkey" "$BUILD/${NAME}_final.zkey" \
  --name="proofbook genesis circuit" -e="proofbook genesis hashchain contribution 2026-11-24"
"$SNARKJS" zkey verify "$BUILD/$NAME.r1cs" "$PTAU" "$BUILD/${NAME}_final.zkey"
"$SNARKJS" zkey export verificationkey "$BUILD/${NAME}_final.zkey" "$BUILD/verification_key.json"

mkdir -p "$OUT"
cp "$BUILD/${NAME}_js/$NAME.wasm" "$OUT/circuit.wasm"
cp "$BUILD/${NAME}_final.zkey" "$OUT/circuit_final.zkey"
cp "$BUILD/verification_key.json" "$OUT/verification_key.json"
[[ -f "$OUT/input.json" ]] || printf '{ "preimage": "123456789", "nonce": "42" }\n' > "$OUT/input.json"

echo "== sanity proof"
"$SNARKJS" groth16 fullprove "$OUT/input.json" "$OUT/circuit.wasm" "$OUT/circuit_final.zkey" "$BUILD/proof.json" "$BUILD/public.json"
"$SNARKJS" groth16 verify "$OUT/verification_key.json" "$BUILD/public.json" "$BUILD/proof.json"
cp "$BUILD/public.json" "$OUT/public.example.json"
echo "== done in $(( $(date +%s) - start )) s; artifacts in $OUT"
ls -la "$OUT"
