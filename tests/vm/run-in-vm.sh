#!/bin/sh
# Run a shell script as root inside a throw-away qemu VM whose kernel offers every cgroup v2
# controller. The development machine is hybrid (memory, cpu, pids... bound to cgroup v1), so
# this is where real cgroup v2 limits are tested.
#
#   tests/vm/run-in-vm.sh [--timeout SECONDS] SCRIPT [ARG...]
#
# Inside the VM:
#   - the host's / is mounted read-only (virtio-9p), so the project and its dist/ are at the
#     same paths; a fresh tmpfs covers each directory in TSBOX_VM_WRITABLE (host content
#     hidden), and the project directory is shared once more on top, read-only, so that a
#     checkout under /tmp or /root is visible too;
#   - cgroup2 is mounted at /sys/fs/cgroup with all controllers;
#   - SCRIPT runs with /bin/sh as root, in the caller's working directory, with the caller's
#     PATH, and TSBOX_VM_RESULTS naming a writable directory whose files come back to the host;
#     TSBOX_VM_INPUT names the copy of the host's $TSBOX_VM_INPUT (if given), and
#     TSBOX_VM_BUSYBOX a static busybox (insmod, ip...; the host may lack them).
#
# On the host: the script's output (stdout and stderr together) is printed on stdout; its
# files in TSBOX_VM_RESULTS are copied to $TSBOX_VM_RESULTS on the host if that is set (else to
# a new temporary directory, named on stderr); the exit status is the script's. Failures of
# the harness itself exit 125 (124 on timeout) after printing the VM console's tail.
#
# Environment (host side):
#   TSBOX_VM_RESULTS   host directory to receive the results (created if missing)
#   TSBOX_VM_INPUT     host directory copied into the VM, named by $TSBOX_VM_INPUT inside
#                      (for files the script needs that live where the VM has a tmpfs, or
#                      that are built for the run, like a bundled node script)
#   TSBOX_VM_CACHE     where the initramfs is built and kept (default /var/tmp/tsbox-vm)
#   TSBOX_VM_KERNEL    kernel image (default: the newest /boot/vmlinuz-6.1*)
#   TSBOX_VM_TIMEOUT   seconds before the VM is killed (default 600; --timeout overrides)
#   TSBOX_VM_WRITABLE  directories that get a tmpfs (default: /tmp /run /var/tmp /var/lib /root)
#   TSBOX_VM_MEMORY    guest memory (default 2G); TSBOX_VM_SMP guest CPUs (default 2)
#   TSBOX_VM_VERBOSE=1 copy the VM console to stderr as it happens
set -eu

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
timeout_s=${TSBOX_VM_TIMEOUT:-600}
if [ "${1:-}" = "--timeout" ]; then
  timeout_s=$2
  shift 2
fi
if [ $# -lt 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 [--timeout SECONDS] SCRIPT [ARG...]   (script '${1:-}' not found)" >&2
  exit 125
fi
script=$1
shift

die() {
  echo "run-in-vm: $*" >&2
  exit 125
}

command -v qemu-system-x86_64 >/dev/null 2>&1 || die "qemu-system-x86_64 not found; run tests/vm/setup.sh"

# --- inputs -----------------------------------------------------------------------------
kernel=${TSBOX_VM_KERNEL:-$(ls /boot/vmlinuz-6.1* 2>/dev/null | sort -V | tail -n 1)}
[ -n "$kernel" ] && [ -r "$kernel" ] || die "no kernel image (/boot/vmlinuz-6.1*); run tests/vm/setup.sh"
kver=${kernel##*/vmlinuz-}
moddir=/lib/modules/$kver
[ -d "$moddir" ] || die "no modules for kernel $kver at $moddir"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox not found; run tests/vm/setup.sh"
# The initramfs runs busybox with no libraries: it must be the static build.
if ldd "$busybox" >/dev/null 2>&1; then
  die "$busybox is dynamically linked; install busybox-static"
fi

# virtio-9p and its dependencies, in load order (the stock kernel builds them as modules).
modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"

cache=${TSBOX_VM_CACHE:-/var/tmp/tsbox-vm}
mkdir -p "$cache"

# --- the initramfs (built once per set of inputs) ----------------------------------------
# Its key covers everything that goes into it: this harness (which holds both init scripts),
# busybox, the kernel version and the module files.
module_files=""
for m in $modules; do
  f=$(find "$moddir/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n 1)
  [ -n "$f" ] || die "module $m not found under $moddir"
  module_files="$module_files $f"
done
# shellcheck disable=SC2086
key=$( (echo "$kver"; cat "$0" "$busybox" $module_files) | sha256sum | cut -c1-16)
initramfs=$cache/initramfs-$key.cpio.gz

build_initramfs() {
  work=$(mktemp -d "$cache/build.XXXXXX")
  mkdir -p "$work/bin" "$work/proc" "$work/sys" "$work/dev" "$work/newroot" "$work/modules"
  cp "$busybox" "$work/bin/busybox"
  for f in $module_files; do
    name=$(basename "$f")
    case "$name" in
      *.ko.xz) xz -dc "$f" >"$work/modules/${name%.xz}" ;;
      *.ko.zst) zstd -qdc "$f" >"$work/modules/${name%.zst}" ;;
      *.ko.gz) gzip -dc "$f" >"$work/modules/${name%.gz}" ;;
      *) cp "$f" "$work/modules/$name" ;;
    esac
  done
  echo "$modules" >"$work/modules/order"
  write_stage1 >"$work/init"
  write_stage2 >"$work/stage2.sh"
  chmod +x "$work/init" "$work/stage2.sh"
  (cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$work.cpio.gz"
  mv -f "$work.cpio.gz" "$initramfs" # atomic: a concurrent run sees all or nothing
  rm -rf "$work"
  # Older builds are of no use any more.
  for old in "$cache"/initramfs-*.cpio.gz; do
    [ "$old" = "$initramfs" ] || rm -f "$old"
  done
}

# Stage 1, PID 1 in the initramfs: load virtio-9p, assemble the new root, switch into it.
write_stage1() {
  cat <<'STAGE1'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() {
  echo "tsbox-vm: stage 1: $*" >/dev/console
  poweroff -f
}
for m in $(cat /modules/order); do
  insmod "/modules/$m.ko" || fail "insmod $m"
done
writable=""
project=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    tsbox.writable=*) writable=$(echo "${arg#tsbox.writable=}" | tr ',' ' ') ;;
    tsbox.project=*) project=${arg#tsbox.project=} ;;
  esac
done
# cache=loose: the host root does not change under a test run, and it makes node start fast.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot || fail "mount host root"
for d in $writable; do
  mode=0755
  case "$d" in /tmp | /var/tmp) mode=1777 ;; esac
  # A directory the host lacks can only be made under a tmpfs mounted before it.
  [ -d "/newroot$d" ] || mkdir -p "/newroot$d" || fail "$d is missing on the host and its parent is read-only"
  mount -t tmpfs -o "mode=$mode" tmpfs "/newroot$d" || fail "tmpfs on $d"
done
# The project again, where a tmpfs above may have hidden it (a checkout under /tmp or /root).
if [ -n "$project" ]; then
  mkdir -p "/newroot$project" || fail "cannot make the mount point $project"
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose project "/newroot$project" || fail "mount project share"
fi
mkdir -p /newroot/run/tsbox-vm/job || fail "/run must be in tsbox.writable"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 job /newroot/run/tsbox-vm/job || fail "mount job share"
cp /bin/busybox /stage2.sh /newroot/run/tsbox-vm/
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /run/tsbox-vm/busybox sh /run/tsbox-vm/stage2.sh
STAGE1
}

# Stage 2, PID 1 in the host's root: kernel file systems, then the job, then power off.
write_stage2() {
  cat <<'STAGE2'
bb=/run/tsbox-vm/busybox
job=/run/tsbox-vm/job
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t cgroup2 cgroup2 /sys/fs/cgroup
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777 tmpfs /dev/shm
$bb hostname tsbox-vm
$bb ip link set lo up 2>/dev/null
. "$job/env"
mkdir -p "$TSBOX_VM_RESULTS"
cd "$TSBOX_VM_CWD" 2>/dev/null || cd /
{
  /bin/sh "$job/script.sh" "$@"
  echo $? >"$job/exit-code"
} 2>&1 | $bb tee "$job/output.log" >/dev/console
$bb sync
$bb poweroff -f
STAGE2
}

(
  # Two runs building the same initramfs at once: one builds, the other waits and reuses.
  flock 9
  [ -f "$initramfs" ] || build_initramfs
) 9>"$cache/lock"

# --- the job -----------------------------------------------------------------------------
job=$(mktemp -d /var/tmp/tsbox-vm-job.XXXXXX)
cleanup() { rm -rf "$job"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
cp "$script" "$job/script.sh"
mkdir -p "$job/results" "$job/input"
if [ -n "${TSBOX_VM_INPUT:-}" ]; then
  [ -d "$TSBOX_VM_INPUT" ] || die "TSBOX_VM_INPUT=$TSBOX_VM_INPUT is not a directory"
  cp -a "$TSBOX_VM_INPUT/." "$job/input/"
fi
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
  echo "export PATH=$(quote "$PATH")"
  echo "export HOME=/root"
  echo "export TSBOX_VM_RESULTS=/run/tsbox-vm/job/results"
  echo "export TSBOX_VM_INPUT=/run/tsbox-vm/job/input"
  echo "export TSBOX_VM_BUSYBOX=/run/tsbox-vm/busybox"
  echo "export TSBOX_VM_CWD=$(quote "$(pwd)")"
  printf 'set --'
  for a in "$@"; do printf ' %s' "$(quote "$a")"; done
  echo
} >"$job/env"

writable=$(echo "${TSBOX_VM_WRITABLE:-/tmp /run /var/tmp /var/lib /root}" | tr ' ' ',')
# The kernel command line splits on blanks.
case "$project" in *[[:space:]]*) die "the project's path has a blank in it ($project); the VM cannot be told it" ;; esac

# Software emulation on purpose: /dev/kvm here is PVM, and a stock kernel hangs under it.
# qemu runs in the background so that an interrupted harness can stop it (timeout passes
# the signal on to qemu) instead of leaving a VM behind.
started=$(date +%s%N)
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
  -machine pc -cpu max -m "${TSBOX_VM_MEMORY:-2G}" -smp "${TSBOX_VM_SMP:-2}" \
  -nographic -no-reboot -nic none \
  -kernel "$kernel" -initrd "$initramfs" \
  -append "console=ttyS0 quiet panic=-1 tsbox.writable=$writable tsbox.project=$project" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap,id=hostroot \
  -virtfs "local,path=$job,mount_tag=job,security_model=passthrough,id=job" \
  -virtfs "local,path=$project,mount_tag=project,security_model=passthrough,readonly=on,multidevs=remap,id=project" \
  </dev/null >"$job/console.log" 2>&1 &
vm_pid=$!
trap 'kill "$vm_pid" 2>/dev/null; wait "$vm_pid"; exit 130' INT TERM
if [ "${TSBOX_VM_VERBOSE:-}" = 1 ]; then
  tail -n +1 -f --pid="$vm_pid" "$job/console.log" >&2 &
fi
set +e
wait "$vm_pid"
set -e
elapsed_ms=$((($(date +%s%N) - started) / 1000000))

[ -f "$job/output.log" ] && cat "$job/output.log"

# What the script left in its results dir is kept for the caller: in TSBOX_VM_RESULTS, or
# else in a dir of its own under /var/tmp (made only when there is something to keep).
results=${TSBOX_VM_RESULTS:-}
if [ -n "$results" ]; then
  mkdir -p "$results"
  cp -a "$job/results/." "$results/"
elif [ -n "$(ls -A "$job/results" 2>/dev/null)" ]; then
  results=$(mktemp -d /var/tmp/tsbox-vm-results.XXXXXX)
  cp -a "$job/results/." "$results/"
  echo "run-in-vm: results in $results" >&2
fi

if [ ! -f "$job/exit-code" ]; then
  echo "run-in-vm: the script did not finish (timeout ${timeout_s}s, or the VM failed); console tail:" >&2
  tail -n 40 "$job/console.log" >&2
  if grep -q 'tsbox-vm: stage 1' "$job/console.log"; then exit 125; fi
  exit 124
fi
echo "run-in-vm: VM ran for ${elapsed_ms} ms" >&2
exit "$(cat "$job/exit-code")"
