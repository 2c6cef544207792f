#!/usr/bin/env bash
# What the test suite needs on a fresh Debian/Ubuntu machine, as root. Every program a
# test runs is here, so that no test skips for a missing tool on a machine set up by the
# README (tests never skip for those: they fail, naming this script). Idempotent.
#   busybox-static  the integration tests' rootfs (tsbox rootfs from-host)
#   tini            its static build is what `tsbox run --init` runs as PID 1
#   iproute2        ip: the leak check lists network links; the network tests make namespaces
#   nftables libnftables1
#                   src/network applies its nft table through libnftables (nft: the fallback,
#                   and the network tests read the table with it)
#   bpftool         the device tests see the container's device program on its cgroup, and gone after
#   tmux            the terminal tests (tests/helpers/tmux.ts)
#   bsdutils        script: a terminal for the TIOCSTI and extraction-progress tests
#   e2fsprogs       chattr: an unremovable leftover in the teardown tests
#   util-linux      setpriv: commands run as a user who is not root
#   mount           mount, umount: tmpfs state roots in the fault tests
#   coreutils tar gzip findutils libc-bin
#                   chroot, du, timeout; tar; gzip; find; ldd (usually there already)
#   docker-registry podman skopeo
#                   the pull tests: a local registry, test images pushed to it
#   apache2-utils openssl
#                   htpasswd (the registry's basic auth), test CAs and token-signing keys
#   zstd xz-utils   tsbox decompresses zstd (on Node 20, without zlib zstd) and xz with these
#   strace          the image test that a warm load never opens its archive
#                   (podman and skopeo also make the image tests' archives)
# and the cgroup v2 VM (qemu, a stock kernel; tests/vm/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=""
for p in busybox-static iproute2 nftables libnftables1 bpftool tini tmux bsdutils e2fsprogs util-linux mount coreutils tar gzip findutils libc-bin docker-registry podman containerd runc skopeo apache2-utils openssl zstd xz-utils strace; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
bash tests/vm/setup.sh
