# The programmatic API under a memory limit the job exceeds: run() resolves (an OOM kill is
# how the container ended, not a failure of tsbox) with reason 'oom'. Needs the VM's real
# cgroup v2 with the memory controller.
. "$TSBOX_VM_CASES/../lib.sh"

export TSBOX_ROOT=/var/lib/tsbox-vm-api
rootfs=/tmp/api-oom.tar
"$PWD/bin/tsbox" rootfs from-host "$rootfs" >/dev/null

out=$(node --input-type=module -e "
  const { run } = await import('$PWD/dist/index.js');
  const r = await run({ rootfs: '$rootfs', memory: '64m', memorySwap: '64m', command: ['awk', 'BEGIN { s = \"x\"; while (1) s = s s }'], stderr: 'ignore' });
  console.log(JSON.stringify({ reason: r.reason, exitCode: r.exitCode, signal: r.signal, oomKilled: r.oomKilled, oomKills: r.stats && r.stats.oomKills }));
" 2>&1)
vm_record api oom "$(vm_json_string "$out")"
rm -rf "$TSBOX_ROOT" "$rootfs"
