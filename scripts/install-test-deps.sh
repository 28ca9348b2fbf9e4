#!/usr/bin/env bash
# What the test suite needs beyond npm: curl (the README walkthrough test) and Debian's python3-etcd3gw (an outside etcd gateway client
# whose own tests run against edgecd) with pytest and oslotest, which those tests import.
set -euo pipefail
pkgs=(python3-etcd3gw python3-pytest python3-oslotest python3-testtools curl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: need root to apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
