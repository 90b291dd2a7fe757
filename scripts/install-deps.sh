#!/usr/bin/env bash
# Installs what the integration tests and the demo need, from Debian's packages.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
packages=(haproxy nginx-light wrk chromium prometheus)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian packages start their services; the tests run their own instances.
for svc in haproxy nginx prometheus; do
  command -v service >/dev/null 2>&1 && service "$svc" stop >/dev/null 2>&1 || true
done
