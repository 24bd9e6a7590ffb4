#!/usr/bin/env bash
# The `fastpool` command from the build tree: --version, options, run (library first in
# LD_PRELOAD, --secure, --stats, --option) and its errors (unknown option, malformed
# value, missing program, setuid program, missing library).
# Usage: launcher.sh LAUNCHER WORK_DIR README
set -euo pipefail
fastpool=$1
work=$2
readme=$3
. "$(dirname "$0")/common.sh"
# expect_error CODE TEXT CMD...: CMD exits with CODE and says TEXT on stderr.
expect_error() {
  local code=$1 text=$2 rc=0
  shift 2
  "$@" 2>"$work/err" >/dev/null || rc=$?
  [ "$rc" = "$code" ] || fail "$* exited $rc, not $code: $(cat "$work/err")"
  grep -qF -- "$text" "$work/err" || fail "$*: no '$text' in: $(cat "$work/err")"
  echo "ok: $* -> $code, '$text'"
}

grep -qE '^fastpool [0-9]+\.[0-9]+\.[0-9]+$' <<<"$("$fastpool" --version)" || fail "--version"
echo "ok: $("$fastpool" --version)"

# options: every variable, its default and the value in force; the README has them all.
"$fastpool" options >"$work/options"
vars=$(awk 'NR > 1 && /^FASTPOOL_/ { print $1 }' "$work/options")
[ "$(wc -l <<<"$vars")" -ge 4 ] || fail "options lists too few variables"
"$fastpool" options --markdown >"$work/table"
while IFS= read -r row; do
  grep -qxF -- "$row" "$readme" || fail "README's options table lacks the row: $row"
done <"$work/table"
for v in $vars; do grep -qF "| \`$v\` |" "$work/table" || fail "--markdown lacks $v"; done
grep -qE '^FASTPOOL_PURGE_DELAY_MS +1000 +25 ' <<<"$(FASTPOOL_PURGE_DELAY_MS=25 "$fastpool" options)" ||
  fail "options does not show the value in force"
echo "ok: options lists $(wc -w <<<"$vars") variables, all in the README"

# run: the library goes first in LD_PRELOAD, what was there stays after it.
out=$(LD_PRELOAD=libexisting.so "$fastpool" run -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
case $out in
  */libfastpool_preload.so:libexisting.so) echo "ok: LD_PRELOAD=$out" ;;
  *) fail "LD_PRELOAD is '$out'" ;;
esac
# Run twice (or once more with --secure), fastpool's library is in LD_PRELOAD once.
out=$(LD_PRELOAD="/x/libfastpool_preload.so liba.so:/y/libfastpool_preload_secure.so" \
  "$fastpool" run --secure -- sh -c 'echo "$LD_PRELOAD"' 2>/dev/null)
case $out in
  */libfastpool_preload_secure.so:liba.so) echo "ok: deduplicated: LD_PRELOAD=$out" ;;
  *) fail "LD_PRELOAD is '$out'" ;;
esac
grep -q 'libfastpool_preload\.so' <<<"$("$fastpool" run cat /proc/self/maps)" || fail "not preloaded"
grep -q 'libfastpool_preload_secure\.so' <<<"$("$fastpool" run --secure cat /proc/self/maps)" ||
  fail "--secure"
echo "ok: run and run --secure map their library"
report=$("$fastpool" run --stats -- bash -c : 2>&1)
grep -q "fastpool statistics" <<<"$report" || fail "--stats: $report"
[ "$("$fastpool" run --option purge_delay_ms=7 -- sh -c 'echo $FASTPOOL_PURGE_DELAY_MS')" = 7 ] ||
  fail "--option"
[ "$("$fastpool" run --option FASTPOOL_SEGMENT_CACHE=2 sh -c 'echo $FASTPOOL_SEGMENT_CACHE')" = 2 ] ||
  fail "--option with the full name"
echo "ok: --stats, --option"
"$fastpool" run -- sh -c 'exit 3' || [ $? = 3 ] || fail "the program's exit code is lost"

expect_error 125 "unknown option 'no_such_option'" "$fastpool" run --option no_such_option=1 -- true
expect_error 125 "wants an integer from 0 to" "$fastpool" run --option purge_delay_ms=soon -- true
expect_error 125 "wants an integer from 0 to 64" "$fastpool" run --option segment_cache=1000 -- true
expect_error 125 "wants an integer from 0 to" "$fastpool" run --option purge_delay_ms=18446744073709551615 -- true
grep -qE '^FASTPOOL_SEGMENT_CACHE +8 +8\* ' <<<"$(FASTPOOL_SEGMENT_CACHE=1000 "$fastpool" options)" ||
  fail "options does not flag a value out of range"
expect_error 127 "program name is empty" "$fastpool" run -- ""
expect_error 125 "unknown argument" "$fastpool" options --bogus
expect_error 125 "no program given" "$fastpool" run --stats
expect_error 127 "command not found" "$fastpool" run no-such-program-here
expect_error 127 "no such file or directory" "$fastpool" run /no/such/program
cp /bin/true "$work/setuid-true"
chmod u+s "$work/setuid-true"
expect_error 125 "setuid or setgid" "$fastpool" run "$work/setuid-true"
cp "$fastpool" "$work/fastpool-alone"
expect_error 127 "cannot find libfastpool_preload.so" "$work/fastpool-alone" run true
expect_error 125 "unknown command" "$fastpool" frobnicate
echo "PASS"
