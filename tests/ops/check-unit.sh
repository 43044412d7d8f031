#!/bin/sh
# The systemd unit: `systemd-analyze verify` accepts it, and `systemd-analyze
# security` rates it 2.0 or lower. Skipped (exit 77) without systemd-analyze.
set -eu
unit_in="$1"; docprocd="$2"
command -v systemd-analyze >/dev/null 2>&1 || { echo "no systemd-analyze: skipped"; exit 77; }
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
sed -e "s|@sbindir@|$(dirname "$docprocd")|g" -e "s|@sysconfdir@|/etc|g" "$unit_in" > "$dir/docprocd.service"
systemd-analyze verify --man=no "$dir/docprocd.service"
out=$(systemd-analyze security --offline=yes "$dir/docprocd.service" 2>&1 | tail -n 3)
echo "$out"
score=$(echo "$out" | sed -n 's/.*Overall exposure level for docprocd.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { echo "no exposure level in the output"; exit 1; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "exposure $score is above 2.0"; exit 1; }
echo "exposure level $score: OK"
