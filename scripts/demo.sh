#!/usr/bin/env bash
# `make demo`: the main job on the local embedded default.
# Sizes the seed's example (Mercari: 10000 RPS over 20 replicas, 2 requests per
# call, app 1 CPU at a 70% HPA target) with the newest Istio reference profile.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./bin/proxysizer
echo "+ proxysizer plan --rps 10000 --replicas 20 --requests-per-call 2 --app-cpu-request 1 --hpa-target 70 --sidecar-cpu-request 100m"
"$bin" plan --rps 10000 --replicas 20 --requests-per-call 2 \
  --app-cpu-request 1 --hpa-target 70 --sidecar-cpu-request 100m
