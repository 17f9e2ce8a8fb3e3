#!/usr/bin/env bash
# Load test of `cotar serve` with wrk on loopback: requests/s for small entries.
#
# Builds a tar of ENTRIES small files (200–2000 bytes, fixed seed), makes a .tar.co, serves it
# on 127.0.0.1 and runs wrk against random /v1/file/ paths for DURATION. Loopback only;
# bounded in time; cleans up the server and its temporary files on exit.
#
#   bash Benchmarks/serve-load.sh                 # release build, 10 s, 2 threads, 32 connections
#   COTAR=.build/release/cotar DURATION=20s CONNECTIONS=64 bash Benchmarks/serve-load.sh
#   ACCESS_LOG=1 bash Benchmarks/serve-load.sh    # with the per-request log (to /dev/null)
#
# Needs wrk (Debian: apt-get install -y wrk), python3 and curl.
set -euo pipefail

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
ENTRIES=${ENTRIES:-10000}
PORT=${PORT:-18080}
ACCESS_LOG=${ACCESS_LOG:-0}
root=$(cd "$(dirname "$0")/.." && pwd)

command -v wrk >/dev/null || { echo "serve-load: wrk is missing; apt-get install -y wrk" >&2; exit 1; }
if [ -z "${COTAR:-}" ]; then
  swift build -c release --product cotar --package-path "$root" >&2
  COTAR="$root/.build/release/cotar"
fi

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/tiles.tar" "$ENTRIES" <<'PY'
import io, random, sys, tarfile
path, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
    for i in range(count):
        data = rng.randbytes(rng.randint(200, 2000))
        info = tarfile.TarInfo(f"tiles/{i // 100}/{i % 100}.pbf")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
PY
"$COTAR" create "$work/tiles.tar" >&2

quiet=(--quiet)
[ "$ACCESS_LOG" = "1" ] && quiet=()
"$COTAR" serve "$work/tiles.tar.co" --host 127.0.0.1 --port "$PORT" "${quiet[@]}" 2>/dev/null &
server=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { echo "serve-load: server did not start" >&2; exit 1; }

cat > "$work/paths.lua" <<LUA
math.randomseed(42)
local count = $ENTRIES
request = function()
  local i = math.random(0, count - 1)
  return wrk.format("GET", "/v1/file/tiles/" .. math.floor(i / 100) .. "/" .. (i % 100) .. ".pbf")
end
LUA

echo "cotar serve: $ENTRIES entries of 200-2000 bytes, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, access log: $ACCESS_LOG"
timeout 300 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s --latency -s "$work/paths.lua" \
  "http://127.0.0.1:$PORT"
