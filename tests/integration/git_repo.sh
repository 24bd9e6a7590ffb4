#!/usr/bin/env bash
# git: init, add 1000 files, commit, fsck, repack — with and without the preload.
# Author, committer, dates and config are pinned so both runs produce the same hashes.
set -euo pipefail
here=$(dirname "$(realpath "$0")")
source "$here/common.sh" "$@"
fp_require git python3
fp_assert_binds git --version

export HOME="$FP_TMP" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME=fastpool GIT_AUTHOR_EMAIL=fp@example.com
export GIT_COMMITTER_NAME=fastpool GIT_COMMITTER_EMAIL=fp@example.com
export GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"

workload() {
  git init -q -b main .
  # 1000 files of varied size in 20 directories; content depends only on the index.
  python3 -c '
import os
for i in range(1000):
    d = "dir%02d" % (i % 20)
    os.makedirs(d, exist_ok=True)
    with open("%s/file%04d.txt" % (d, i), "w") as f:
        f.write("".join("line %d of file %d\n" % (j, i) for j in range(i % 97 + 1)))'
  git add .
  git commit -q -m "1000 files"
  # A second commit that edits every tenth file, so there are deltas to compute.
  sed -i 's/^line 0 /LINE 0 /' dir0*/file*0.txt
  git commit -q -a -m "edit a hundred files"
  git rev-parse HEAD 'HEAD^{tree}'
  git log --stat --format='%H %s' | tail -n 5
  git fsck --full --strict --no-progress
  git gc -q --aggressive
  git count-objects -v | grep -v size
  git fsck --full --strict --no-progress
  git diff --stat HEAD~1 | tail -n 1
  git archive HEAD | sha256sum
}
fp_compare git workload
