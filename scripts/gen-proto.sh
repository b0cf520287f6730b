#!/usr/bin/env bash
# Regenerates src/gen/ (TypeScript types, encoders and gRPC service definitions) from proto/ with ts-proto,
# driven by buf (both ship in node_modules; nothing is downloaded).
set -euo pipefail
cd "$(dirname "$0")/.."
npx buf lint
npx buf generate
echo "generated: $(find src/gen -name '*.ts' | wc -l) files in src/gen"
