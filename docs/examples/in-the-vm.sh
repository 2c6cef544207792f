#!/bin/sh
# in-the-vm.sh: run by tests/vm/run-in-vm.sh inside the project's qemu VM, for lessons 0 and 3
# of docs/how-containers-work.md. The VM boots its own kernel, whose cgroup v2 has every
# controller: here a memory limit is enforced, and we watch what happens when it is hit.
tsbox="$PWD/bin/tsbox"
export TSBOX_ROOT=/var/lib/tsbox-lesson
echo "kernel in the VM: $(uname -r)"
echo "cgroup v2 controllers in the VM: $(cat /sys/fs/cgroup/cgroup.controllers)"
"$tsbox" rootfs from-host /tmp/r.tar >/dev/null
# A program that doubles a string until it runs out of memory, under --memory 64m.
"$tsbox" run --memory 64m --memory-swap 64m /tmp/r.tar awk 'BEGIN { s = "x"; while (1) s = s s }'
echo "exit status: $?"
# 40 sleeping children under --pids-limit 20: fork fails at the limit.
"$tsbox" run --pids-limit 20 /tmp/r.tar sh -c 'for i in $(seq 40); do sleep 2 & done; wait' 2>&1 | sort -u | head -1
# The limit as the container sees it in its own cgroup namespace: its group is /.
"$tsbox" run --memory 64m /tmp/r.tar cat /sys/fs/cgroup/memory.max
