# The VM test suite: one boot runs every case in tests/vm/cases (or the ones named), in
# name order, each with sh. A case records its observations as JSON lines (see lib.sh);
# the suite records each case's exit status as {"case":C,"name":"exit","data":{...}}.
#
#   tests/vm/run-in-vm.sh tests/vm/suite.sh /work/main/tests/vm/cases [CASE...]
#
# To add a case: drop tests/vm/cases/<name>.sh; if it needs a node script, write
# tests/vm/<name>-probe.ts, which the host side bundles to $TSBOX_VM_INPUT/<name>-probe.mjs.
cases_dir=$1
shift
export TSBOX_VM_CASES="$cases_dir"
. "$cases_dir/../lib.sh"

names="$*"
[ -n "$names" ] || names=$(cd "$cases_dir" && ls -- *.sh | sed 's/\.sh$//')

# Seconds from kernel start to here: the boot's cost, reported by the host-side test.
vm_record suite boot "{\"uptimeS\":$(cut -d' ' -f1 /proc/uptime)}"

failed=0
for name in $names; do
  echo "=== case $name"
  started=$(date +%s%N)
  # Cases are batch jobs: not the VM's console on stdin, or every tsbox run in them would
  # get a terminal (tsbox allocates one whenever stdin is one).
  sh "$cases_dir/$name.sh" </dev/null
  status=$?
  vm_record "$name" exit "{\"status\":$status,\"ms\":$((($(date +%s%N) - started) / 1000000))}"
  echo "=== case $name: exit $status"
  [ "$status" -eq 0 ] || failed=1
done
exit $failed
