#!/usr/bin/env bash
# Regenerates src/gen/ (TypeScript types, encoders and gRPC service definitions) and src/gen-sdk/ (the SDK's
# service-free, Buffer-free proofbook messages) from proto/ with ts-proto,
# driven by buf (both ship in node_modules; nothing is downloaded).
set -euo pipefail
cd "$(dirname "$0")/.."
npx buf lint
npx buf generate
# google/api (HTTP annotations, read from descriptors by app/rest) needs no TypeScript; ts-proto still emits it and
# descriptor.proto as dependencies of the annotated files.
rm -rf src/gen/google/api src/gen/google/protobuf/descriptor.ts
# The SDK's browser-safe copy of proofbook's messages (no grpc-js services, no Buffer): buf.gen.sdk.yaml.
npx buf generate --template buf.gen.sdk.yaml --path proto/proofbook
rm -rf src/gen-sdk/google
echo "generated: $(find src/gen -name '*.ts' | wc -l) files in src/gen, $(find src/gen-sdk -name '*.ts' | wc -l) in src/gen-sdk"
