#!/usr/bin/env bash
# Installs CometBFT v0.38.26 with `go install` unless that exact version is already available, then prints
# the binary's path. Looks on PATH first, then in $(go env GOPATH)/bin.
set -euo pipefail

WANT="${COMETBFT_VERSION:-v0.38.26}"
WANT_PLAIN="${WANT#v}"

version_of() {
  "$1" version 2>/dev/null | head -n1 | tr -d '[:space:]' || true
}

GOBIN_DIR=""
if command -v go >/dev/null 2>&1; then
  GOBIN_DIR="$(go env GOBIN)"
  [ -n "$GOBIN_DIR" ] || GOBIN_DIR="$(go env GOPATH)/bin"
fi

for candidate in "$(command -v cometbft 2>/dev/null || true)" "${GOBIN_DIR:+$GOBIN_DIR/cometbft}"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    have="$(version_of "$candidate")"
    if [ "$have" = "$WANT_PLAIN" ] || [ "$have" = "$WANT" ]; then
      echo "$candidate"
      exit 0
    fi
    echo "found $candidate at version '${have:-unknown}', want $WANT" >&2
  fi
done

if ! command -v go >/dev/null 2>&1; then
  echo "error: CometBFT $WANT is not installed and Go is not available to build it (need Go >= 1.22.11)." >&2
  echo "Install Go from https://go.dev/dl/ and re-run: npm run install-cometbft" >&2
  exit 1
fi

echo "installing github.com/cometbft/cometbft/cmd/cometbft@$WANT with $(go version)" >&2
go install "github.com/cometbft/cometbft/cmd/cometbft@$WANT"

bin="$GOBIN_DIR/cometbft"
have="$(version_of "$bin")"
if [ "$have" != "$WANT_PLAIN" ] && [ "$have" != "$WANT" ]; then
  echo "error: installed $bin reports version '$have', expected $WANT" >&2
  exit 1
fi
echo "$bin"
