# tsbox run with resource limits, end to end, against the VM's real cgroup v2.
. "$TSBOX_VM_CASES/../lib.sh"

tsbox="$PWD/bin/tsbox"
export TSBOX_ROOT=/var/lib/tsbox-vm-run
rootfs=/tmp/run-limits.tar
"$tsbox" rootfs from-host "$rootfs" >/dev/null

# record NAME CMD...: the exit status and the stderr of a tsbox command.
record() {
  name=$1
  shift
  err=$("$@" 2>&1 >/dev/null)
  status=$?
  vm_record run-limits "$name" "{\"status\":$status,\"stderr\":$(vm_json_string "$err")}"
}

# A memory hog under --memory 64m: OOM-killed, exit 137, one line saying so.
record oom "$tsbox" run --memory 64m --memory-swap 64m "$rootfs" awk 'BEGIN { s = "x"; while (1) s = s s }'

# A fork bomb under --pids-limit 64: forks fail, the container ends, the VM stays responsive.
start=$(date +%s)
record forkbomb "$tsbox" run --pids-limit 64 "$rootfs" sh -c 'n=0; while [ $n -lt 300 ]; do (sleep 3) & n=$((n+1)); done; wait; true'
vm_record run-limits forkbomb-seconds "$(( $(date +%s) - start ))"

# --cpus 0.5: a busy loop of 3 s gets about 1.5 s of CPU. Measured inside the container, from
# its own cpu.stat and uptime, so that the init's start-up (slow under emulation) is not counted.
out=$("$tsbox" run --cpus 0.5 "$rootfs" sh -c '
  read up0 idle < /proc/uptime; u0=$(grep usage_usec /sys/fs/cgroup/cpu.stat | cut -d" " -f2)
  timeout 3 sh -c "while :; do :; done"
  read up1 idle < /proc/uptime; u1=$(grep usage_usec /sys/fs/cgroup/cpu.stat | cut -d" " -f2)
  echo "$up0 $up1 $u0 $u1"' 2>&1 | tail -1)
vm_record run-limits cpu "$(vm_json_string "$out")"

# memory.swap.max and cpuset.cpus as the container sees them in its own cgroup namespace.
out=$("$tsbox" run --memory 64m --memory-swap 96m --cpuset-cpus 0 "$rootfs" sh -c 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max /sys/fs/cgroup/cpuset.cpus.effective' 2>&1)
vm_record run-limits inside "$(vm_json_string "$out")"

# The report: peak memory of a 100 MiB allocation is at least 100 MiB.
"$tsbox" run --memory 512m --stats-file /tmp/mem.json "$rootfs" awk 'BEGIN { s = sprintf("%104857600s", ""); print length(s) }' >/dev/null 2>&1
vm_record run-limits memory "$(tr -d '\n' < /tmp/mem.json 2>/dev/null || echo null)"

# Nothing of tsbox's remains in the cgroup tree.
left=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name 'tsbox*' 2>/dev/null | grep -v '^/sys/fs/cgroup/tsbox/probe' | tr '\n' ' ')
vm_record run-limits cgroups-left "$(vm_json_string "$left")"
rm -rf "$TSBOX_ROOT" "$rootfs"
