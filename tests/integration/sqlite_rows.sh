#!/usr/bin/env bash
# sqlite3 (the Debian command-line shell) inserting and querying 100k rows, with and
# without the preload. The rows are generated as 100k separate INSERT statements, so
# each one goes through the parser and allocator rather than one bulk CTE.
set -euo pipefail
here=$(dirname "$(realpath "$0")")
source "$here/common.sh" "$@"
fp_require sqlite3 python3
fp_assert_binds sqlite3 -version

python3 -c '
import random
rng = random.Random(7)
print("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, score REAL, blob BLOB);")
print("BEGIN;")
for i in range(100000):
    name = "name%d" % rng.randrange(50000) + "x" * rng.randrange(60)
    print("INSERT INTO t VALUES(%d, %r, %d, %.3f, zeroblob(%d));"
          % (i, name, rng.randrange(100), rng.random() * 1000, rng.randrange(200)))
print("COMMIT;")' >"$FP_TMP/rows.sql"

workload() {
  sqlite3 db.sqlite <"$FP_TMP/rows.sql"
  sqlite3 db.sqlite <<'SQL'
CREATE INDEX t_name ON t(name);
CREATE INDEX t_grp_score ON t(grp, score);
SELECT count(*), count(DISTINCT name), sum(length(blob)), round(avg(score), 3) FROM t;
SELECT grp, count(*), round(max(score), 3), min(name) FROM t GROUP BY grp ORDER BY grp LIMIT 10;
SELECT name, count(*) AS c FROM t GROUP BY name ORDER BY c DESC, name LIMIT 5;
SELECT a.id, b.id FROM t a JOIN t b ON a.name = b.name AND a.id < b.id ORDER BY a.id LIMIT 5;
SELECT group_concat(id) FROM (SELECT id FROM t WHERE name LIKE 'name123%' ORDER BY id);
UPDATE t SET name = upper(name) WHERE grp % 3 = 0;
DELETE FROM t WHERE score < 100;
SELECT count(*), sum(length(name)) FROM t;
VACUUM;
PRAGMA integrity_check;
SQL
}
fp_compare sqlite workload
