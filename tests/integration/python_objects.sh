#!/usr/bin/env bash
# python3 building, sorting and serialising a million small objects, with and without
# the preload. PYTHONMALLOC=malloc sends every object to malloc instead of pymalloc.
set -euo pipefail
here=$(dirname "$(realpath "$0")")
source "$here/common.sh" "$@"
fp_require python3
export PYTHONMALLOC=malloc

# Beyond the binding check: a block python itself malloc'ed must be owned by fastpool.
owns=$(LD_PRELOAD="$FP_LIB" python3 -c '
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.fp_owns.argtypes = [ctypes.c_void_p]
print(libc.fp_owns(libc.malloc(64)))')
[ "$owns" = 1 ] || { echo "FAIL: malloc under LD_PRELOAD is not fastpool's (fp_owns=$owns)" >&2; exit 1; }
fp_assert_binds python3 -c pass

fp_compare objects python3 "$here/objects.py"
