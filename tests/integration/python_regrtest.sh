#!/usr/bin/env bash
# A handful of CPython's own regression test modules, with and without the preload.
# Usage: python_regrtest.sh LIB [MODULE...]; the default modules are quick and
# allocation-heavy (containers, strings, serialisation).
set -euo pipefail
here=$(dirname "$(realpath "$0")")
source "$here/common.sh" "$@"
shift
modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=(test_list test_dict test_set test_unicode test_json
  test_collections test_sort test_bytes)
fp_require python3
export PYTHONMALLOC=malloc

# Debian's python3 ships the test package separately (libpython3.X-testsuite).
if ! python3 -c 'import test.support' 2>/dev/null; then
  echo "FAIL: $(command -v python3) has no 'test' package (Debian: libpython3-testsuite)" >&2
  exit 1
fi
fp_assert_binds python3 -c pass

fp_compare regrtest python3 "$here/regrtest_driver.py" "${modules[@]}"
