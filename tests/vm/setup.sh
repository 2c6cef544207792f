#!/bin/sh
# Install what the cgroup v2 test VM needs: qemu (software emulation), a stock Debian
# kernel with its modules (virtio + 9p are modules there), and a static busybox for the
# initramfs. Idempotent: packages already present are left alone, so CI can call it on
# every run at the cost of one dpkg query.
set -eu

packages="qemu-system-x86 linux-image-amd64 busybox-static"

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "tests/vm/setup.sh: all present:$(printf ' %s' $packages)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "tests/vm/setup.sh: need root to install:$missing" >&2
  exit 1
fi

echo "tests/vm/setup.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends: qemu's recommends pull in a GUI stack the VM never uses.
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
