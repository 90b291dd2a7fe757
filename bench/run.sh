#!/usr/bin/env bash
# Benchmarks proxysizer's load engine (`proxysizer load`) against wrk: both
# drive the same trivial HTTP/1.1 server (bench/server) with the same
# connections, pinned with taskset to the same core(s), the server on other
# core(s). `make bench` runs it after building bin/proxysizer.
#
# 1. Efficiency: BENCH_ROUNDS rounds, each a wrk run then an engine run at
#    max rate, back to back so that both see the same machine; prints each
#    side's rate, CPU, requests per core and p50/p99 latency, and the
#    engine/wrk ratio of requests per core, per round and their median.
# 2. Holding the schedule: fixed-rate runs at 25%, 50% and 75% of the
#    engine's own maximum (the median of its rounds), each on the pool the
#    engine sizes for its rate when calls take up to the p99 latency the
#    maximum runs measured (--connections auto --expected-latency P99; set
#    BENCH_RATE_CONNECTIONS to a number to use that many instead); prints
#    the connections, achieved/requested, the share of calls behind schedule
#    (and of those, waiting for a connection), p99 and intended p99, the
#    generator's CPU wait, and whether each run is valid.
#
# The machine's load average is printed before and after: on a shared
# machine other processes take the CPUs the runs are pinned to.
#
# Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (32),
# BENCH_SERVER_RT (1: the server at real-time priority where allowed),
# BENCH_RATE_CONNECTIONS (sized from the maximum's p99),
# BENCH_ROUNDS (3), BENCH_SERVER_CPUS (0), BENCH_GENERATOR_CPUS (1),
# PROXYSIZER (bin/proxysizer).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-10}
conns=${BENCH_CONNECTIONS:-32}
rate_conns=${BENCH_RATE_CONNECTIONS:-sized}
rounds=${BENCH_ROUNDS:-3}
server_cpus=${BENCH_SERVER_CPUS:-0}
gen_cpus=${BENCH_GENERATOR_CPUS:-1}
bin=${PROXYSIZER:-bin/proxysizer}

for tool in wrk taskset go awk; do
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
# The server runs at real-time priority where allowed (BENCH_SERVER_RT=0:
# not): on a shared machine other processes' compiles on its CPU made it,
# not the generator under test, miss the schedule (p99 50 ms at 75% of the
# maximum, every late call waiting for its reply). The kernel caps
# real-time tasks at 95% of a CPU (sched_rt_runtime_us).
server_prio=()
if [ "${BENCH_SERVER_RT:-1}" != 0 ] && command -v chrt >/dev/null && chrt -r 1 true 2>/dev/null; then
  server_prio=(chrt -r 1)
fi
taskset -c "$server_cpus" "${server_prio[@]}" "$work/server" >"$work/addr" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/addr" ] && break; sleep 0.1; done
addr=$(head -n1 "$work/addr")
[ -n "$addr" ] || { echo "bench: server did not start: $(cat "$work/server.log")" >&2; exit 1; }
url="http://$addr/"
gen_threads=$(taskset -c "$gen_cpus" nproc)

# json_field FILE KEY: the first value after "KEY": in proxysizer's indented JSON.
json_field() { grep -o "\"$2\": [-0-9.e+a-z]*" "$1" | head -n1 | awk '{gsub(",", "", $2); print $2}'; }
# p_of FILE OBJECT P: OBJECT's percentile P (p50, p99) in ms (latency_ms or intended_latency_ms).
p_of() { awk -v obj="\"$2\":" -v key="\"$3\":" '$1 == obj {inside=1} inside && $1 == key {gsub(",", "", $2); print $2; exit}' "$1"; }
# wrk_ms FILE P: wrk --latency's percentile P (50%, 99%) in ms.
wrk_ms() {
  awk -v p="$2" '$1 == p {v=$2; u=v; gsub(/[0-9.]/, "", u); sub(/[a-z]+$/, "", v)
    f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.3f", v * f; exit}' "$1"
}
load() { taskset -c "$gen_cpus" "$bin" load "$url" --warmup 2s --no-progress -o json "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

echo "bench: server on cpu $server_cpus${server_prio:+ (real-time)}, generators on cpu $gen_cpus ($gen_threads), $conns connections, ${duration}s runs, $url"
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

taskset -c "$gen_cpus" wrk -t"$gen_threads" -c"$conns" -d2s "$url" >/dev/null # warm the server, as the engine's warm-up does
TIMEFORMAT='%U %S %R' # bash's time: wrk's user and system CPU seconds, and wall seconds
printf '\n%-6s %-8s %10s %7s %10s %8s %8s\n' "round" "tool" "rps" "cores" "rps/core" "p50 ms" "p99 ms"
ratios=() maxes=() p99s=()
for round in $(seq "$rounds"); do
  { time taskset -c "$gen_cpus" wrk -t"$gen_threads" -c"$conns" -d"${duration}s" --latency "$url" >"$work/wrk.txt"; } 2>"$work/wrk.time"
  wrk_rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
  wrk_cpu=$(awk '{printf "%.3f", ($1 + $2) / $3}' "$work/wrk.time")
  wrk_core=$(ratio "$wrk_rps" "$wrk_cpu")
  printf '%-6s %-8s %10.0f %7.2f %10.0f %8s %8s\n' "$round" "wrk" "$wrk_rps" "$wrk_cpu" "$wrk_core" \
    "$(wrk_ms "$work/wrk.txt" 50%)" "$(wrk_ms "$work/wrk.txt" 99%)"

  load --qps max --connections "$conns" --duration "${duration}s" >"$work/max.json"
  eng_rps=$(json_field "$work/max.json" actual_qps)
  eng_cpu=$(json_field "$work/max.json" generator_cpu_cores)
  eng_core=$(ratio "$eng_rps" "$eng_cpu")
  printf '%-6s %-8s %10.0f %7.2f %10.0f %8.3f %8.3f\n' "$round" "engine" "$eng_rps" "$eng_cpu" "$eng_core" \
    "$(p_of "$work/max.json" latency_ms p50)" "$(p_of "$work/max.json" latency_ms p99)"
  ratios+=("$(ratio "$eng_core" "$wrk_core")")
  maxes+=("$eng_rps")
  p99s+=("$(p_of "$work/max.json" latency_ms p99)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
echo "requests per core, engine/wrk: ${ratios[*]} (median $(median "${ratios[@]}"))"
max_rps=$(median "${maxes[@]}")
pool=(--connections "$rate_conns")
if [ "$rate_conns" = sized ]; then
  p99=$(median "${p99s[@]}")
  pool=(--connections auto --expected-latency "$(awk -v p="$p99" 'BEGIN {printf "%.0fus", p * 1000}')")
  echo "fixed rates: connections sized for calls of up to ${p99} ms (the maximum's median p99)"
fi

printf '\n%-6s %9s %5s %10s %9s %8s %7s %8s %9s %8s %6s\n' "share" "requested" "conns" "achieved" "ach/req" "behind" "(conn)" "p99 ms" "int. p99" "cpu wait" "valid"
for pct in 25 50 75; do
  qps=$(awk -v m="$max_rps" -v p="$pct" 'BEGIN {printf "%.0f", m * p / 100}')
  load --qps "$qps" "${pool[@]}" --duration "${duration}s" >"$work/at$pct.json"
  printf '%-6s %9s %5s %10.1f %9.4f %8.4f %7.4f %8.3f %9.3f %7.2fs %6s\n' "$pct%" "$qps" "$(json_field "$work/at$pct.json" connections)" \
    "$(json_field "$work/at$pct.json" actual_qps)" "$(json_field "$work/at$pct.json" achieved_ratio)" \
    "$(json_field "$work/at$pct.json" behind_ratio)" "$(json_field "$work/at$pct.json" behind_busy_ratio)" \
    "$(p_of "$work/at$pct.json" latency_ms p99)" "$(p_of "$work/at$pct.json" intended_latency_ms p99)" \
    "$(json_field "$work/at$pct.json" generator_cpu_wait_s)" "$(json_field "$work/at$pct.json" valid)"
done
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
