#!/usr/bin/env bash
# Builds and caches the local control plane used by the Kubernetes integration
# tests: kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes),
# etcd (go.etcd.io/etcd/server/v3) and kwok (sigs.k8s.io/kwok/cmd/kwok); and
# metrics-server (sigs.k8s.io/metrics-server), which serves metrics.k8s.io to
# the HPA controller.
#
# Everything comes from the Go module proxy as source; nothing prebuilt is
# downloaded. The binaries land in
#   ${PROXYSIZER_CACHE:-$HOME/.cache/proxysizer}/kube-${K8S_VERSION}/bin
# next to a stamp file (.stamp) naming the versions they were built from;
# metrics-server has its own stamp (.stamp-metrics-server), so adding or
# bumping it leaves the control plane's cache valid and the other way round.
# A second run with the same versions and intact binaries does nothing.
#
# Usage: scripts/kube-harness/build.sh [--print-bin-dir] [--force]
#   --print-bin-dir  print the bin directory on stdout (after building if needed)
#   --force          rebuild even when the cache is valid
#
# The build runs under `nice -n 19` with one package at a time (GOFLAGS=-p=1,
# override with PROXYSIZER_BUILD_PAR) so that it does not starve other work
# on a 2-core machine; a cold build takes ~10-15 minutes there.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.33.4}"          # k8s.io/kubernetes
STAGING_VERSION="v0${K8S_VERSION#v1}"           # k8s.io/api etc.: v0.33.4
ETCD_VERSION="${ETCD_VERSION:-v3.5.21}"        # what kubernetes v1.33.4 pins
KWOK_VERSION="${KWOK_VERSION:-v0.7.0}"         # built against k8s.io v0.33
METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-v0.8.0}" # built against k8s.io v0.33.2
PAR="${PROXYSIZER_BUILD_PAR:-1}"

CACHE_ROOT="${PROXYSIZER_CACHE:-$HOME/.cache/proxysizer}"
DIR="$CACHE_ROOT/kube-$K8S_VERSION"
BIN="$DIR/bin"
SRC="$DIR/src"
STAMP_WANT="k8s=$K8S_VERSION etcd=$ETCD_VERSION kwok=$KWOK_VERSION build=2"
MS_STAMP_WANT="metrics-server=$METRICS_SERVER_VERSION build=1"

print_bin=0
force=0
for a in "$@"; do
  case "$a" in
    --print-bin-dir) print_bin=1 ;;
    --force) force=1 ;;
    *) echo "build.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done

log() { echo "kube-harness: $*" >&2; }

valid_cache() {
  [[ -f "$BIN/.stamp" ]] || return 1
  [[ "$(cat "$BIN/.stamp")" == "$STAMP_WANT" ]] || return 1
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
    [[ -x "$BIN/$b" ]] || return 1
  done
  # The version stamp must be in the binary itself, or discovery reports an
  # unparsable version.
  "$BIN/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes $K8S_VERSION" || return 1
  return 0
}

valid_metrics_server() {
  [[ -f "$BIN/.stamp-metrics-server" ]] || return 1
  [[ "$(cat "$BIN/.stamp-metrics-server")" == "$MS_STAMP_WANT" ]] || return 1
  [[ -x "$BIN/metrics-server" ]] || return 1
  "$BIN/metrics-server" --version 2>/dev/null | grep -qx "$METRICS_SERVER_VERSION" || return 1
  return 0
}

if [[ $force -eq 0 ]] && valid_cache && valid_metrics_server; then
  log "cache valid ($STAMP_WANT; $MS_STAMP_WANT) in $BIN"
  [[ $print_bin -eq 1 ]] && echo "$BIN"
  exit 0
fi

mkdir -p "$BIN" "$SRC"
# One build at a time per cache dir.
exec 9>"$DIR/.lock"
if ! flock -w 3600 9; then log "could not lock $DIR/.lock"; exit 1; fi
start=$(date +%s)

# metrics-server has its own module graph (k8s.io v0.33.2, no replace
# directives) and its own stamp. Its version is stamped where its Makefile
# puts it (k8s.io/client-go/pkg/version), which `metrics-server --version` prints.
build_metrics_server() {
  local t0=$(date +%s)
  rm -f "$BIN/.stamp-metrics-server"
  log "building metrics-server $METRICS_SERVER_VERSION"
  GOFLAGS="-p=$PAR -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=local GOBIN="$DIR/metrics-server-gobin" nice -n 19 \
    go install -trimpath -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION -X k8s.io/client-go/pkg/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.buildDate=1970-01-01T00:00:00Z" \
    "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
  mv "$DIR/metrics-server-gobin/metrics-server" "$BIN/metrics-server"
  echo "$MS_STAMP_WANT" > "$BIN/.stamp-metrics-server"
  if ! valid_metrics_server; then log "metrics-server fails the cache check (version stamp?)"; exit 1; fi
  log "built metrics-server in $(( $(date +%s) - t0 ))s"
}
if [[ $force -eq 1 ]] || ! valid_metrics_server; then
  build_metrics_server
fi
if [[ $force -eq 0 ]] && valid_cache; then
  log "build done in $(( $(date +%s) - start ))s into $BIN"
  [[ $print_bin -eq 1 ]] && echo "$BIN"
  exit 0
fi
rm -f "$BIN/.stamp"

# --- scratch module ---------------------------------------------------------
# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them
# with ./staging/src paths that do not exist outside its repo: map each to its
# published v0.x version. The proxy refuses sample-cli-plugin and
# sample-controller, so they point at empty local stubs.
staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
  cloud-provider cluster-bootstrap code-generator component-base component-helpers
  controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
  endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
  kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
  sample-apiserver)
stubs=(sample-cli-plugin sample-controller)

cd "$SRC"
{
  echo "module proxysizer.local/kubeharness"
  echo
  echo "go 1.24.0"
  echo
  echo "require ("
  echo "	k8s.io/kubernetes $K8S_VERSION"
  echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  echo ")"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do echo "	k8s.io/$m => k8s.io/$m $STAGING_VERSION"; done
  for m in "${stubs[@]}"; do echo "	k8s.io/$m => ./stubs/$m"; done
  echo ")"
} > go.mod.new
if ! cmp -s go.mod.new go.mod 2>/dev/null; then mv go.mod.new go.mod; rm -f go.sum; else rm -f go.mod.new; fi
for m in "${stubs[@]}"; do
  mkdir -p "stubs/$m"
  printf 'module k8s.io/%s\n\ngo 1.24.0\n' "$m" > "stubs/$m/go.mod"
done

export GOFLAGS="-mod=mod -p=$PAR -buildvcs=false"
export CGO_ENABLED=0
export GOTOOLCHAIN=local

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
vflags=()
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  vflags+=("-X '$pkg.gitVersion=$K8S_VERSION'" "-X '$pkg.gitMajor=1'" "-X '$pkg.gitMinor=$minor'"
    "-X '$pkg.gitTreeState=clean'" "-X '$pkg.gitCommit=module-proxy-$K8S_VERSION'"
    "-X '$pkg.buildDate=1970-01-01T00:00:00Z'")
done
ldflags="-s -w ${vflags[*]}"

build() { # name package
  local t0=$(date +%s)
  log "building $1 ($2)"
  nice -n 19 go build -trimpath -ldflags "$ldflags" -o "$BIN/$1.tmp" "$2"
  mv "$BIN/$1.tmp" "$BIN/$1"
  log "built $1 in $(( $(date +%s) - t0 ))s"
}

build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler

# kwok has its own module graph (k8s.io v0.33.0, no replace directives).
t0=$(date +%s)
log "building kwok $KWOK_VERSION"
GOFLAGS="-p=$PAR -buildvcs=false" GOBIN="$DIR/kwok-gobin" nice -n 19 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
mv "$DIR/kwok-gobin/kwok" "$BIN/kwok"
log "built kwok in $(( $(date +%s) - t0 ))s"

echo "$STAMP_WANT" > "$BIN/.stamp"
if ! valid_cache; then log "built binaries fail the cache check (version stamp?)"; exit 1; fi
log "build done in $(( $(date +%s) - start ))s into $BIN"
[[ $print_bin -eq 1 ]] && echo "$BIN"
exit 0
