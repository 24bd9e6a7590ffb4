#!/usr/bin/env bash
# Installs the build in BUILD_DIR into a temporary prefix and builds and runs a consumer
# against the installed package: with find_package (link-in override; libfastpool.so)
# and with pkg-config (fastpool-override; fastpool), then runs the installed launcher.
# Usage: install.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null

echo "== find_package"
cmake -S "$here/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake" -j"$(nproc)" >/dev/null
"$work/cmake/consumer_override"
"$work/cmake/consumer_c"
LD_LIBRARY_PATH=$prefix/lib "$work/cmake/consumer_shared"

echo "== pkg-config"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046 # pkg-config prints several words
c++ -std=c++20 -O2 -DCONSUMER_OVERRIDE=1 "$here/consumer/main.cpp" -o "$work/pc_override" \
  $(pkg-config --cflags --libs fastpool-override)
"$work/pc_override"
# shellcheck disable=SC2046
cc -O2 "$here/consumer/main.c" -o "$work/pc_c" $(pkg-config --cflags --libs fastpool-override)
"$work/pc_c"
# shellcheck disable=SC2046
c++ -std=c++20 -O2 "$here/consumer/main.cpp" -o "$work/pc_shared" \
  $(pkg-config --cflags --libs fastpool) -Wl,-rpath,"$(pkg-config --variable=libdir fastpool)"
"$work/pc_shared"
[ "$(pkg-config --modversion fastpool)" = "$("$prefix/bin/fastpool" --version | cut -d' ' -f2)" ]

echo "== installed launcher"
maps=$("$prefix/bin/fastpool" run -- cat /proc/self/maps)
grep -q "$prefix/lib/libfastpool_preload.so" <<<"$maps"
echo "ok: fastpool run preloads $prefix/lib/libfastpool_preload.so"
echo "PASS"
