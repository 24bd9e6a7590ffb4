#!/usr/bin/env bash
# Fails when a probe listed in EXPECTED (one probe id per line) is not caught under LIB.
# Usage: check.sh PROBE_DIR LIB EXPECTED
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
results=$(bash "$here/run.sh" "$1" "$2")
caught=$(grep -c ' caught$' <<<"$results" || true)
echo "$caught of $(wc -l <<<"$results") probes caught under $(basename "$2")"
status=0
while read -r id; do
  [[ -z $id || $id == \#* ]] && continue
  verdict=$(awk -v id="$id" '$1 == id { print $2 }' <<<"$results")
  if [[ $verdict != caught ]]; then
    echo "REGRESSION: $id ${verdict:-(no such probe)}"
    status=1
  fi
done <"$3"
exit $status
