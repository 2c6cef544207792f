# cgroup v2 manager against the VM's real cgroup2 (all controllers): see cgroups-probe.ts.
. "$TSBOX_VM_CASES/../lib.sh"

# A RAM disk gives the io controller a real block device to throttle (the VM has none).
ram=""
if [ -b /dev/ram0 ] || $TSBOX_VM_BUSYBOX insmod "/lib/modules/$(uname -r)/kernel/drivers/block/brd.ko" rd_nr=1 rd_size=16384; then
  i=0
  while [ ! -b /dev/ram0 ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  [ -b /dev/ram0 ] && ram=/dev/ram0
fi
vm_record cgroups block-device "$(vm_json_string "$ram")"

VM_BLOCK_DEVICE=$ram node "$TSBOX_VM_INPUT/cgroups-probe.mjs"
