#!/usr/bin/env bash
# Configures, builds and runs the consumer project in BUILD_DIR against SOURCE_DIR.
# Usage: run.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="$1"
build="$2"
here="$(cd "$(dirname "$0")" && pwd)"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DFASTPOOL_SOURCE_DIR="$src" >/dev/null
cmake --build "$build" -j"$(nproc)" --target consumer >/dev/null
"$build/consumer"
