#!/usr/bin/env bash
# Builds the native Groth16 prover (native/prover/bin/prover) and the test-only setup tool (bin/testsetup) with
# `go build`; modules (gnark-crypto) come from the Go module proxy on first build, then from the module cache.
#   bash native/prover/build.sh             # fail without Go (CI, npm run build:native)
#   bash native/prover/build.sh --optional  # npm ci's prepare hook: without Go, say so and succeed
# Without the binary the worker's 'auto' backend uses snarkjs only and says so; backend 'native' refuses to start.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v go >/dev/null 2>&1; then
  msg="native prover: 'go' not found; install Go >= 1.26 and run 'npm run build:native' (the worker falls back to snarkjs)"
  if [[ "${1:-}" == "--optional" ]]; then echo "$msg" >&2; exit 0; fi
  echo "$msg" >&2
  exit 1
fi
go build -trimpath -o bin/prover ./cmd/prover
go build -trimpath -o bin/testsetup ./cmd/testsetup
echo "native prover: built $(pwd)/bin/prover ($(go version | awk '{print $3}'))"
