#!/usr/bin/env bash
# Runs every heap-bug probe under one allocator and prints one line per probe:
#   <family>/<probe>/<size> caught|NOT_CAUGHT
# A probe that prints NOT_CAUGHT got past its bug; one stopped by a signal or an abort
# (any exit without NOT_CAUGHT) was caught; one still running after 20 s was not.
# Usage: run.sh PROBE_DIR [PRELOAD_LIBRARY]   (no library: the C library's malloc)
set -uo pipefail
dir=$1
lib=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
while read -r family probe sizes; do
  case $family in '' | \#*) continue ;; esac
  for size in $sizes; do
    out=$(env ${lib:+LD_PRELOAD=$lib} timeout 20 "$dir/probe_$family" "$probe" "$size" 2>/dev/null)
    rc=$?
    if [[ $out == *NOT_CAUGHT* || $rc == 124 ]]; then verdict=NOT_CAUGHT; else verdict=caught; fi
    echo "$family/$probe/$size $verdict"
  done
done <"$here/probes.txt"
