#!/usr/bin/env bash
# Benchmarks proxysizer's load engine (fortio's library, through
# `proxysizer load`) against wrk: both drive the same trivial HTTP/1.1 server
# (bench/server) with the same connections, pinned with taskset to the same
# core(s), the server on other core(s). Prints both maximum rates and their
# ratio, then the engine's achieved/requested rate at 25%, 50% and 75% of its
# own maximum. `make bench` runs it after building bin/proxysizer.
#
# Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (32),
# BENCH_SERVER_CPUS (0), BENCH_GENERATOR_CPUS (1), PROXYSIZER (bin/proxysizer).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-32}
server_cpus=${BENCH_SERVER_CPUS:-0}
gen_cpus=${BENCH_GENERATOR_CPUS:-1}
bin=${PROXYSIZER:-bin/proxysizer}

for tool in wrk taskset go; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (make deps installs wrk)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench: $bin not built (make build)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/server" ./bench/server
taskset -c "$server_cpus" "$work/server" >"$work/addr" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/addr" ] && break; sleep 0.1; done
addr=$(head -n1 "$work/addr")
[ -n "$addr" ] || { echo "bench: server did not start: $(cat "$work/server.log")" >&2; exit 1; }
url="http://$addr/"
gen_threads=$(taskset -c "$gen_cpus" nproc)

# json_field FILE KEY: the first number after "KEY": in proxysizer's indented JSON.
json_field() { grep -o "\"$2\": [-0-9.e+]*" "$1" | head -n1 | awk '{print $2}'; }
# p99_of FILE OBJECT: OBJECT's p99 (latency_ms or intended_latency_ms).
p99_of() { awk -v obj="\"$2\":" '$1 == obj {inside=1} inside && $1 == "\"p99\":" {gsub(",", "", $2); print $2; exit}' "$1"; }
load() { taskset -c "$gen_cpus" "$bin" load "$url" --connections "$conns" --warmup 2s --no-progress -o json "$@"; }

echo "bench: server on cpu $server_cpus, generators on cpu $gen_cpus ($gen_threads), $conns connections, ${duration}s runs, $url"

taskset -c "$gen_cpus" wrk -t"$gen_threads" -c"$conns" -d2s "$url" >/dev/null # warm-up, like the engine's
TIMEFORMAT='%U %S %R' # bash's time: wrk's user and system CPU seconds, and wall seconds
{ time taskset -c "$gen_cpus" wrk -t"$gen_threads" -c"$conns" -d"${duration}s" "$url" >"$work/wrk.txt"; } 2>"$work/wrk.time"
wrk_rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
wrk_cpu=$(awk '{printf "%.2f", ($1 + $2) / $3}' "$work/wrk.time")

load --qps max --duration "${duration}s" >"$work/max.json"
max_rps=$(json_field "$work/max.json" actual_qps)
max_cpu=$(json_field "$work/max.json" generator_cpu_cores)

printf '%-28s %10.0f rps  (%.2f cores, %.0f rps per core)\n' "wrk" "$wrk_rps" "$wrk_cpu" "$(awk -v r="$wrk_rps" -v c="$wrk_cpu" 'BEGIN {print r / c}')"
printf '%-28s %10.0f rps  (%.2f cores, %.0f rps per core)\n' "proxysizer load --qps max" "$max_rps" "$max_cpu" "$(awk -v r="$max_rps" -v c="$max_cpu" 'BEGIN {print r / c}')"
awk -v e="$max_rps" -v w="$wrk_rps" 'BEGIN {printf "%-28s %10.3f\n", "ratio engine/wrk (rps)", e / w}'

printf '\n%-6s %10s %10s %16s %14s %8s %9s %15s %6s\n' "share" "requested" "achieved" "actual/requested" "schedule ratio" "behind" "p99 ms" "intended p99 ms" "valid"
for pct in 25 50 75; do
  qps=$(awk -v m="$max_rps" -v p="$pct" 'BEGIN {printf "%.0f", m * p / 100}')
  load --qps "$qps" --duration "${duration}s" >"$work/at$pct.json"
  actual=$(json_field "$work/at$pct.json" actual_qps)
  printf '%-6s %10s %10.1f %16.4f %14.4f %8.3f %9.3f %15.3f %6s\n' "$pct%" "$qps" "$actual" \
    "$(awk -v a="$actual" -v q="$qps" 'BEGIN {print a / q}')" \
    "$(json_field "$work/at$pct.json" achieved_ratio)" "$(json_field "$work/at$pct.json" behind_ratio)" \
    "$(p99_of "$work/at$pct.json" latency_ms)" "$(p99_of "$work/at$pct.json" intended_latency_ms)" \
    "$(grep -o '"valid": [a-z]*' "$work/at$pct.json" | awk '{print $2}')"
done
