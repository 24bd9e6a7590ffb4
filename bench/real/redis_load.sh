#!/bin/sh
# Real program: a key-value server under its own load generator. redis-server, under the
# allocator being measured, serves redis-benchmark (run without it: LD_PRELOAD is dropped for
# the clients) over a Unix socket: 60 000 x SCALE requests of each of seven commands with
# 64-byte values over 50 000 random keys, then a quarter as many 4000-byte SETs; then it
# shuts down. redis-server links jemalloc, so with no preload library it runs on jemalloc.
# Usage: redis_load.sh [SCALE]
set -eu
scale=${1:-1}
dir=$(mktemp -d)
server=
# However this ends, no server is left behind (a failed run must not skew the next ones).
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$dir"' EXIT
sock=$dir/redis.sock
redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no --dir "$dir" \
  --logfile "$dir/log" --daemonize no &
server=$!
i=0
until [ -S "$sock" ]; do
  i=$((i + 1))
  [ $i -gt 500 ] && { echo "redis-server did not start" >&2; exit 1; }
  sleep 0.01
done
n=$(awk -v s="$scale" 'BEGIN { printf "%d", 60000 * s }')
client() { env -u LD_PRELOAD "$@"; }
client redis-benchmark -s "$sock" -n "$n" -r 50000 -P 16 -q -t set,lpush,sadd,hset,zadd,get,lrange_100 -d 64 >/dev/null
client redis-benchmark -s "$sock" -n "$((n / 4))" -r 50000 -P 16 -q -t set -d 4000 >/dev/null
client redis-cli -s "$sock" dbsize
client redis-cli -s "$sock" shutdown nosave >/dev/null 2>&1 || kill "$server"
wait "$server" || true
server=
