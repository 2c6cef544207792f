#!/usr/bin/env bash
# What the test suite needs on a fresh Debian/Ubuntu machine, as root: busybox-static
# (the integration tests' rootfs), iproute2 (the leak check lists network links), tini
# (its static build is what `tsbox run --init` runs as PID 1), tmux (the terminal tests), and
# the cgroup v2 VM (qemu, a stock kernel; tests/vm/setup.sh). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=""
for p in busybox-static iproute2 tini tmux docker-registry podman skopeo apache2-utils openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
bash tests/vm/setup.sh
