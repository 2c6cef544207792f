# Helpers for VM case scripts (sourced; POSIX sh).
#
# Results are JSON lines in $TSBOX_VM_RESULTS/results.jsonl, one object per observation:
#   {"case":"<case>","name":"<what was observed>","data":<any JSON>}
# The host-side test reads them back and asserts on them, so cases record what they saw
# (values, statuses, timings) rather than judging it themselves.

# vm_record CASE NAME JSON
vm_record() {
  printf '{"case":"%s","name":"%s","data":%s}\n' "$1" "$2" "$3" >>"$TSBOX_VM_RESULTS/results.jsonl"
}

# vm_json_string TEXT: TEXT as a JSON string (backslashes, quotes, control characters escaped).
vm_json_string() {
  printf '%s' "$1" | awk 'BEGIN { ORS = ""; print "\"" }
    { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r"); if (NR > 1) print "\\n"; print }
    END { print "\"" }'
}
