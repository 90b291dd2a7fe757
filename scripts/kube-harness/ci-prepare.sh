#!/usr/bin/env bash
# CI preparation step for the Kubernetes integration tests, called by .ci/run
# before `make test`: builds the local control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok) and metrics-server from
# source through the Go module proxy, or reuses the cached binaries when
# their version stamps match (seconds). Cold: ~10-15 minutes on 2 cores,
# metrics-server ~4 of them.
#
# Nothing else runs here: the harness itself is started by the tests
# (internal/kubeharness, one per test binary), which fail if it cannot start.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
# CI has the machine to itself: build two packages at a time.
PROXYSIZER_BUILD_PAR="${PROXYSIZER_BUILD_PAR:-2}" bash scripts/kube-harness/build.sh
echo "kube-harness: binaries ready in $(( $(date +%s) - start ))s ($(bash scripts/kube-harness/build.sh --print-bin-dir 2>/dev/null))"
