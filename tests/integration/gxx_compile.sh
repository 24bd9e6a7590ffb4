#!/usr/bin/env bash
# g++ compiling (and linking) a file that includes much of the standard library, with
# and without the preload: the object file must be byte-identical and the program's
# output the same. LD_PRELOAD reaches cc1plus, as and ld through the environment.
# Usage: gxx_compile.sh LIB [extra g++ flags...]
set -euo pipefail
here=$(dirname "$(realpath "$0")")
source "$here/common.sh" "$@"
shift
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(-O1)
fp_require g++ sha256sum
fp_assert_binds "$(g++ -print-prog-name=cc1plus)" --version

workload() {
  cp "$here/stdlib_heavy.cpp" .
  # A fixed random seed and no absolute paths in debug info keep the object identical.
  g++ -std=c++20 -frandom-seed=fastpool -fdebug-prefix-map="$PWD"=. "${flags[@]}" -c stdlib_heavy.cpp -o stdlib_heavy.o
  sha256sum stdlib_heavy.o
  g++ -pthread stdlib_heavy.o -o stdlib_heavy
  ./stdlib_heavy
}
fp_compare gxx workload
