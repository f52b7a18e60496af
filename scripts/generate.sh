#!/usr/bin/env bash
# Compiles the .proto files to protobuf-es v2 descriptors with buf and
# protoc-gen-es (both from npm). The output is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
rm -rf src/gen examples/shop/gen test/gen
buf generate --path proto/google -o src/gen
buf generate --path proto/grpc -o src/gen
buf generate --path proto/opentelemetry -o src/gen
buf generate --path examples/shop/proto/shop --include-imports -o examples/shop/gen
buf generate --path test/proto/ferry --include-imports -o test/gen
buf generate --path test/proto/grpc -o test/gen
