#!/usr/bin/env bash
# Regenerates src/gen/ (TypeScript types, encoders and gRPC service definitions) from proto/ with ts-proto,
# driven by buf (both ship in node_modules; nothing is downloaded).
set -euo pipefail
cd "$(dirname "$0")/.."
npx buf lint
npx buf generate
# google/api (HTTP annotations, read from descriptors by app/rest) needs no TypeScript; ts-proto still emits it and
# descriptor.proto as dependencies of the annotated files.
rm -rf src/gen/google/api src/gen/google/protobuf/descriptor.ts
echo "generated: $(find src/gen -name '*.ts' | wc -l) files in src/gen"
