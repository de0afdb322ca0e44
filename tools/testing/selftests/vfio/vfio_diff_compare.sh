#!/usr/bin/env bash
# On the host: compare vfio_diff's output from two guest logs (the reference,
# upstream's C core, and ours) line by line, as one kselftest result. Passes if
# both runs completed (end marker present), printed the same lines, and at
# least MIN lines (VFIO_DIFF_MIN_LINES, default 500: a probe that stopped
# early must not pass). Differences are listed as a unified diff.
# Also writes each run's lines to OUTDIR/vfio_diff-<name>.txt if OUTDIR is set.
#
#   vfio_diff_compare.sh REF_LOG REF_NAME OTHER_LOG OTHER_NAME [OUTDIR]
set -uo pipefail
ref_log=$1 ref_name=$2 other_log=$3 other_name=$4 outdir=${5:-}
min=${VFIO_DIFF_MIN_LINES:-500}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The probe's lines between its markers; the end marker goes to NAME.end.
extract() { # log name
	sed -n '/^# vfio_diff: begin/,/^# vfio_diff: end/p' "$1" >"$tmp/$2.all"
	grep '^# vfio_diff: end' "$tmp/$2.all" >"$tmp/$2.end"
	grep -v '^# vfio_diff: ' "$tmp/$2.all" >"$tmp/$2"
	[ -n "$outdir" ] && cp "$tmp/$2" "$outdir/vfio_diff-$2.txt"
	return 0
}
extract "$ref_log" "$ref_name"
extract "$other_log" "$other_name"

echo "TAP version 13"
echo "1..1"
problems=()
for n in "$ref_name" "$other_name"; do
	[ -s "$tmp/$n.end" ] || problems+=("$n: vfio_diff did not finish (no end marker)")
done
nref=$(wc -l <"$tmp/$ref_name")
[ "$nref" -ge "$min" ] || problems+=("$ref_name: only $nref lines (< $min)")
if ! diff -q "$tmp/$ref_name" "$tmp/$other_name" >/dev/null; then
	ndiff=$(diff "$tmp/$ref_name" "$tmp/$other_name" | grep -c '^[<>]')
	problems+=("$ndiff differing lines ($ref_name vs $other_name)")
fi

if [ ${#problems[@]} = 0 ]; then
	echo "# vfio_diff: $nref identical lines ($ref_name, $other_name)"
	echo "ok 1 vfio_diff_parity"
	echo "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0"
	exit 0
fi
printf '# vfio_diff: %s\n' "${problems[@]}"
diff -U0 --label "$ref_name" --label "$other_name" "$tmp/$ref_name" "$tmp/$other_name" |
	head -400 | sed 's/^/# /'
echo "not ok 1 vfio_diff_parity"
echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
exit 1
