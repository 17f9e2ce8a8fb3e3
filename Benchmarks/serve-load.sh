#!/usr/bin/env bash
# Load test of `cotar serve` with wrk on loopback: requests/s for small entries, side by side
# with nginx serving the same files loose.
#
# Builds a tar of ENTRIES small files (200–2000 bytes, fixed seed), makes a .tar.co, serves it
# on 127.0.0.1 with `cotar serve` (quiet, and with the access log to /dev/null) and, when
# nginx is installed, extracts the same files and serves them with nginx (access log off,
# and on to /dev/null) under the same /v1/file/ paths. wrk runs against random paths for
# DURATION, the servers interleaved for ROUNDS rounds; the table at the end gives requests/s
# per run and the ratio Cotar / nginx. Loopback only; bounded in time; cleans up the servers
# and temporary files on exit.
#
#   bash Benchmarks/serve-load.sh                 # release build, 10 s, 2 threads, 32 connections
#   COTAR=.build/release/cotar DURATION=20s CONNECTIONS=64 ROUNDS=3 bash Benchmarks/serve-load.sh
#
# Needs wrk (Debian: apt-get install -y wrk), python3 and curl; nginx (apt-get install -y
# nginx-light) for the comparison.
set -euo pipefail

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
ENTRIES=${ENTRIES:-10000}
PORT=${PORT:-18080}
ROUNDS=${ROUNDS:-2}
NGINX_PORT=${NGINX_PORT:-18081}
root=$(cd "$(dirname "$0")/.." && pwd)

command -v wrk >/dev/null || { echo "serve-load: wrk is missing; apt-get install -y wrk" >&2; exit 1; }
if [ -z "${COTAR:-}" ]; then
  swift build -c release --product cotar --package-path "$root" >&2
  COTAR="$root/.build/release/cotar"
fi

work=$(mktemp -d)
server=""
nginx_pid=""
stop_server() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  server=""
}
stop_nginx() {
  if [ -n "$nginx_pid" ]; then kill -QUIT "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
  nginx_pid=""
}
cleanup() {
  stop_server
  stop_nginx
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

wait_for() {
  for _ in $(seq 1 100); do
    curl -sf "$1" >/dev/null && return 0
    sleep 0.1
  done
  echo "serve-load: $1 did not answer" >&2
  exit 1
}

start_cotar() {  # $1: 1 for the access log
  local log=(--quiet)
  [ "$1" = "1" ] && log=()
  "$COTAR" serve "$work/tiles.tar.co" --host 127.0.0.1 --port "$PORT" "${log[@]}" 2>/dev/null &
  server=$!
  wait_for "http://127.0.0.1:$PORT/health"
}

nginx_bin=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
if [ -n "$nginx_bin" ]; then
  mkdir -p "$work/www/v1/file" "$work/nginx"
  tar -xf "$work/tiles.tar" -C "$work/www/v1/file"
  chmod -R a+rX "$work"  # nginx workers may run as another user
fi
start_nginx() {  # $1: 1 for the access log
  local access="access_log off;"
  [ "$1" = "1" ] && access="access_log /dev/null;"
  cat > "$work/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  $access
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  default_type application/octet-stream;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$NGINX_PORT; root $work/www; }
}
CONF
  "$nginx_bin" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' \
    2>"$work/nginx/stderr" &
  nginx_pid=$!
  wait_for "http://127.0.0.1:$NGINX_PORT/v1/file/tiles/0/0.pbf"
}

cat > "$work/paths.lua" <<LUA
math.randomseed(42)
local count = $ENTRIES
request = function()
  local i = math.random(0, count - 1)
  return wrk.format("GET", "/v1/file/tiles/" .. math.floor(i / 100) .. "/" .. (i % 100) .. ".pbf")
end
LUA

cpu_ticks() {  # user + system clock ticks of the given processes (threads included)
  local total=0 pid
  for pid in "$@"; do total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done
  echo "$total"
}

run_wrk() {  # $1: port, then the server's pids; prints "requests/s server-CPU-µs-per-request"
  local port=$1
  shift
  local before after
  before=$(cpu_ticks "$@")
  timeout 300 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s --latency -s "$work/paths.lua" \
    "http://127.0.0.1:$port" > "$work/wrk.out"
  after=$(cpu_ticks "$@")
  cat "$work/wrk.out" >&2
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ { count = $1 }
    /Requests\/sec:/ { rps = $2 }
    END { printf "%d %.1f", rps, (count > 0 ? ticks * 1e6 / hz / count : 0) }' "$work/wrk.out"
}

echo "serve-load: $ENTRIES entries of 200-2000 bytes, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds" >&2
echo "serve-load: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start; nothing pinned" >&2
results=()
for round in $(seq 1 "$ROUNDS"); do
  for log in 0 1; do
    start_cotar "$log"
    echo "== round $round: cotar serve, access log $log" >&2
    read -r cotar_rps cotar_cpu <<< "$(run_wrk "$PORT" "$server")"
    stop_server
    nginx_rps="-"
    nginx_cpu="-"
    if [ -n "$nginx_bin" ]; then
      start_nginx "$log"
      echo "== round $round: nginx, access log $log" >&2
      read -r nginx_rps nginx_cpu <<< "$(run_wrk "$NGINX_PORT" "$nginx_pid" $(pgrep -P "$nginx_pid"))"
      stop_nginx
    fi
    results+=("$round $log $cotar_rps $nginx_rps $cotar_cpu $nginx_cpu")
  done
done

# cpu µs/req: CPU time (user + system, all threads or worker processes) of the server during
# the run, per request answered. On a shared machine it is steadier than requests/s, which
# also depends on how much of the CPU the server got.
echo
printf '%-6s %-11s %14s %14s %8s %14s %14s\n' round access-log "cotar req/s" "nginx req/s" ratio "cotar µs/req" "nginx µs/req"
for line in "${results[@]}"; do
  set -- $line
  ratio="-"
  [ "$4" != "-" ] && ratio=$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.2f", a / b }')
  printf '%-6s %-11s %14s %14s %8s %14s %14s\n' "$1" "$2" "$3" "$4" "$ratio" "$5" "$6"
done

# Medians over the rounds (robust against a round disturbed by other load on the machine).
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%d", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for log in 0 1; do
  cotar_median=$(printf '%s\n' "${results[@]}" | awk -v l="$log" '$2 == l { print $3 }' | median)
  nginx_median=$(printf '%s\n' "${results[@]}" | awk -v l="$log" '$2 == l && $4 != "-" { print $4 }' | median)
  ratio="-"
  [ "$nginx_median" != "-" ] && ratio=$(awk -v a="$cotar_median" -v b="$nginx_median" 'BEGIN { printf "%.2f", a / b }')
  cotar_cpu=$(printf '%s\n' "${results[@]}" | awk -v l="$log" '$2 == l { print $5 }' | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }')
  nginx_cpu=$(printf '%s\n' "${results[@]}" | awk -v l="$log" '$2 == l && $6 != "-" { print $6 }' | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }')
  printf '%-6s %-11s %14s %14s %8s %14s %14s\n' median "$log" "$cotar_median" "$nginx_median" "$ratio" "$cotar_cpu" "$nginx_cpu"
done
