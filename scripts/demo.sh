#!/usr/bin/env bash
# `make demo`: the main job on the local embedded default. A short sweep of a
# real proxy on this machine (about 3 minutes on 2 cores): at 2 worker counts
# x 2 CPU limits (one core, and none with the concurrency set explicitly), a
# max-throughput search (1 s steps: it only tells pass from fail), then 4
# rates each measured twice (interleaved), with an app that makes 2 calls
# back out through the proxy per request; then the fit, the recommendation
# (on the searched capacities) and the report.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/proxysizer
out=out/demo

# A proxy to measure: Envoy if it is installed, else haproxy, else nginx.
if ! command -v envoy >/dev/null && ! command -v haproxy >/dev/null && ! command -v nginx >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "demo: installing haproxy (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
    service haproxy stop >/dev/null 2>&1 || true
  elif sudo -n true 2>/dev/null; then
    echo "demo: installing haproxy (sudo apt-get)"
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
  else
    echo "demo: no proxy found. Install one and run again: sudo apt-get install haproxy" >&2
    exit 1
  fi
fi

rm -rf "$out"
errlog=$(mktemp)
trap 'rm -f "$errlog"' EXIT
args=(sweep --concurrency 1,2 --rates 250,500,750,1000 --repeats 2 --outbound-per-request 2
      --duration 2s --warmup 500ms --find-max --search-duration 1s --out "$out")
echo "+ proxysizer ${args[*]} --cpu-limit 1,none"
set +e
"$bin" "${args[@]}" --cpu-limit 1,none 2> >(tee "$errlog" >&2)
status=$?
set -e
wait # for tee
if [ $status -eq 2 ] && grep -q "no writable cgroup" "$errlog"; then
  # Not root (or cgroups read-only): measure without limits, and say so.
  echo "demo: cgroups are not writable here, so this demo runs without CPU limits (--no-cpu-limit); run as root to sweep limits" >&2
  rm -rf "$out"
  echo "+ proxysizer ${args[*]} --no-cpu-limit --cpu-limit none"
  "$bin" "${args[@]}" --no-cpu-limit --cpu-limit none
  exit
fi
exit $status
