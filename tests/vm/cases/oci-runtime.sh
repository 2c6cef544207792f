# tsbox-runtime (the OCI runtime CLI) with config.json's v1-shaped resources, against the VM's
# real cgroup v2: the limits as the kernel stores them after create, update's new value, and
# nothing left after delete. Records only; tests/integration/oci-runtime-vm.test.ts judges.
. "$TSBOX_VM_CASES/../lib.sh"

rt="$PWD/bin/tsbox-runtime"
root=/run/oci-vm-state
b=/tmp/oci-vm-bundle
mkdir -p "$b/rootfs/bin" "$b/rootfs/etc"
cp /bin/busybox "$b/rootfs/bin/busybox"
for c in sh sleep; do ln -s busybox "$b/rootfs/bin/$c"; done
"$rt" spec --bundle "$b"
node -e '
  const fs = require("fs"); const f = process.argv[1] + "/config.json";
  const c = JSON.parse(fs.readFileSync(f, "utf8"));
  c.process.terminal = false; c.process.args = ["sleep", "60"]; c.process.capabilities.ambient = [];
  c.root = { path: "rootfs" };
  c.linux.cgroupsPath = "/oci-vm/c1";
  c.linux.resources = { ...c.linux.resources, memory: { limit: 67108864 }, pids: { limit: 64 }, cpu: { shares: 512, quota: 50000, period: 100000 } };
  fs.writeFileSync(f, JSON.stringify(c));
' "$b"

# stderr to a file, not $(...): the held init inherits it (for its command), and a command
# substitution would wait for the container to end, which waits for start.
"$rt" --root "$root" create --bundle "$b" --pid-file "$b/pid" c1 </dev/null >/dev/null 2>/tmp/oci-vm-create.err
status=$?
vm_record oci-runtime create "{\"status\":$status,\"stderr\":$(vm_json_string "$(cat /tmp/oci-vm-create.err)")}"
g=/sys/fs/cgroup/oci-vm/c1
vm_record oci-runtime files "{\"memory.max\":$(vm_json_string "$(cat $g/memory.max)"),\"pids.max\":$(vm_json_string "$(cat $g/pids.max)"),\"cpu.max\":$(vm_json_string "$(cat $g/cpu.max)"),\"cpu.weight\":$(vm_json_string "$(cat $g/cpu.weight)"),\"procs\":$(vm_json_string "$(cat $g/cgroup.procs)"),\"pid\":$(vm_json_string "$(cat $b/pid)")}"
"$rt" --root "$root" start c1 </dev/null >/dev/null 2>/dev/null
err=$(echo '{"pids":{"limit":32},"memory":{"limit":33554432}}' | "$rt" --root "$root" update --resources - c1 2>&1 >/dev/null)
vm_record oci-runtime update "{\"status\":$?,\"stderr\":$(vm_json_string "$err"),\"pids.max\":$(vm_json_string "$(cat $g/pids.max)"),\"memory.max\":$(vm_json_string "$(cat $g/memory.max)")}"
err=$("$rt" --root "$root" delete --force c1 2>&1 >/dev/null)
status=$?
left=$(ls -d /sys/fs/cgroup/oci-vm "$root/c1" 2>/dev/null)
vm_record oci-runtime delete "{\"status\":$status,\"stderr\":$(vm_json_string "$err"),\"left\":$(vm_json_string "$left")}"
rm -rf "$b" "$root" /tmp/oci-vm-create.err
