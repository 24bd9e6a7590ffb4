-- Real program: an embedded database's speed test, run as `sqlite3 :memory: < speed.sql`.
-- 150 000 rows of variable-length text inserted, indexed, grouped, joined, updated, deleted
-- and regrouped: SQLite's page cache, its row and string buffers and its sorter all go
-- through malloc. random() makes the rows differ run to run, not their sizes' spread.
PRAGMA cache_size = -65536;
CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c INTEGER, d TEXT);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 150000)
INSERT INTO t SELECT x, hex(randomblob(8 + x % 56)), abs(random()) % 5000,
                     printf('row %d of %d', x, x % 97) FROM n;
CREATE INDEX t_c ON t(c);
CREATE INDEX t_b ON t(b);
SELECT c % 10, count(*), sum(length(b)), max(d) FROM t GROUP BY c % 10;
SELECT count(*) FROM (SELECT DISTINCT substr(b, 1, 6) FROM t);
SELECT length(group_concat(d, ',')) FROM t WHERE c < 500;
UPDATE t SET b = b || hex(randomblob(4)), d = upper(d) WHERE a % 3 = 0;
DELETE FROM t WHERE c % 7 = 0;
SELECT count(*), sum(c) FROM t AS x JOIN t AS y USING (c) WHERE x.a % 100 = 0 AND y.a % 50 = 0;
CREATE TABLE u AS SELECT c, group_concat(b) AS all_b FROM t GROUP BY c;
SELECT count(*), sum(length(all_b)) FROM u;
