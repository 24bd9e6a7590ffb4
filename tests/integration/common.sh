# shellcheck shell=bash
# Sourced by the integration scripts. Usage in a script: `source common.sh "$@"`, with the
# preload library path as the first argument. Provides:
#   FP_LIB              absolute path of libfastpool_preload.so
#   FP_TMP              a private temp dir, removed on exit
#   fp_require TOOL...  fail (never skip) when a tool the test needs is absent
#   fp_assert_binds PROG ARGS...  fail unless PROG's malloc/free bind to FP_LIB
#   fp_compare NAME CMD...        run CMD without and with the preload, diff the output
# Each fp_compare run happens in its own empty working dir ($FP_TMP/NAME.plain and
# NAME.preload); the dir's path is replaced by WORKDIR so the two outputs can match.

FP_LIB=${1:?usage: $0 path/to/libfastpool_preload.so}
FP_LIB=$(realpath "$FP_LIB")
[ -f "$FP_LIB" ] || { echo "FAIL: preload library not found: $FP_LIB" >&2; exit 1; }

FP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fp-integration.XXXXXX")
trap 'rm -rf "$FP_TMP"' EXIT

# Both runs see the same locale and hash seed, so nothing but the allocator differs.
export LC_ALL=C.UTF-8 PYTHONHASHSEED=0
unset LD_PRELOAD

fp_require() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || { echo "FAIL: required tool '$t' is not installed" >&2; exit 1; }
  done
}

# The loader's own account of symbol binding: robust proof that the program really
# allocates through fastpool (a typo in LD_PRELOAD only makes ld.so print a warning).
fp_assert_binds() {
  local log="$FP_TMP/bindings.log"
  LD_DEBUG=bindings LD_PRELOAD="$FP_LIB" "$@" >/dev/null 2>"$log" || true
  local sym
  for sym in malloc free; do
    if ! grep -q "to $FP_LIB \[0\]: normal symbol \`$sym'" "$log"; then
      echo "FAIL: '$*' does not bind $sym to $FP_LIB under LD_PRELOAD" >&2
      exit 1
    fi
  done
}

# Runs CMD (a shell command string or argv) once plainly and once preloaded; output is
# stdout+stderr plus the exit status. Any difference fails the test with a diff.
fp_compare() {
  local name=$1
  shift
  local mode dir
  for mode in plain preload; do
    dir="$FP_TMP/$name.$mode"
    mkdir -p "$dir"
    local rc=0
    if [ "$mode" = preload ]; then
      (cd "$dir" && LD_PRELOAD="$FP_LIB" "$@") >"$dir.out" 2>&1 || rc=$?
    else
      (cd "$dir" && "$@") >"$dir.out" 2>&1 || rc=$?
    fi
    echo "exit status: $rc" >>"$dir.out"
    sed -i "s|$dir|WORKDIR|g" "$dir.out"
  done
  if ! grep -qx "exit status: 0" "$FP_TMP/$name.plain.out"; then
    echo "FAIL: $name: failed even without the preload:" >&2
    tail -n 30 "$FP_TMP/$name.plain.out" >&2
    exit 1
  fi
  if ! diff -u "$FP_TMP/$name.plain.out" "$FP_TMP/$name.preload.out"; then
    echo "FAIL: $name: output under LD_PRELOAD differs from the plain run (diff above)" >&2
    exit 1
  fi
  echo "ok: $name ($(wc -l <"$FP_TMP/$name.plain.out") lines of output identical)"
}
