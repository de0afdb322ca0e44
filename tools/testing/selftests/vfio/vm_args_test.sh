#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host-side test of scripts/vm's argument passing: one quick guest boot (no devices,
# upstream's modules, 1 GiB RAM) runs this script's --print mode with arguments that
# shell quoting, virtme-ng and the kernel command line used to mangle (newlines,
# quotes, $, backslashes, globs, empty strings, 100 KB); the guest prints each argument
# it received in hex and the host compares them with what it sent. Prints TAP, one case
# per kind of argument, and exits non-zero when one fails.
#
#   vm_args_test.sh               (on the host; KDIR as for scripts/vm)
#   vm_args_test.sh --print ARGS  (in the guest: argc, then one hex line per argument)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)

# Hex of a string, on one line (od, not xxd: coreutils is everywhere).
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

if [ "${1:-}" = --print ]; then
	shift
	echo "vm_args: argc $#"
	i=0
	for a in "$@"; do
		echo "vm_args: arg $i $(hex "$a")"
		i=$((i + 1))
	done
	# A code of our own, to check that scripts/vm exits with CMD's.
	exit 7
fi

# The arguments, each labelled with the case it belongs to; empty strings go first,
# in the middle and last, where a splitter is most likely to drop them.
labels=() args=()
add() { labels+=("$1"); args+=("$2"); }
add empty ''
add newline $'echo a\necho b'
add newline $'\n'
add newline $'trailing\n\n'
add single_quote "it's"
add single_quote "'"
add single_quote "'\''"
add double_quote 'say "hi"'
add double_quote '"'
add empty ''
add dollar '$HOME ${HOME} $(echo no) `echo no` $$ $1 $@'
add dollar '$'
add backslash '\'
add backslash 'a\nb\\c\'
add backslash '\$HOME \" \'"'"
add glob '*'
add glob '/*'
add glob '?[a-z]* {a,b} ~ ~root'
add whitespace ' lead, trail '
add whitespace $'tab\there'
add whitespace '  '
add dashes '--'
add dashes '-n'
add dashes '--impl'
add dashes '-e'
add shell_syntax '; exit 1; | & && || > /tmp/x < ( ) # comment'
add utf8 'Grüße, 日本語, ✓'
add control $'\x01\x1b[31m\r\x7f'
long=$(head -c 102400 /dev/zero | tr '\0' 'x')
add long_100k "$long"
add empty ''

out=$repo/out/vm_args_test
mkdir -p "$out"
start=$(date +%s)
rc=0
# Through pipes, not straight into files: virtme-ng's QEMU reopens /proc/self/fd/1 and 2
# (truncating a regular file, and with an offset of its own per chardev). The subshell
# notes its pid, which scripts/vm keeps (exec) and names its argv file after.
{ (echo "$BASHPID" >"$out/vm.pid"
   exec "$repo/scripts/vm" --dev '' --gbpages 0 --mem 1G --impl upstream -- \
	"$here/vm_args_test.sh" --print "${args[@]}" 2>&3 3>&-) | cat >"$out/stdout"
} 3>&1 | cat >"$out/stderr" || rc=$?
vm_pid=$(cat "$out/vm.pid")
secs=$(($(date +%s) - start))

# The guest's lines, without the carriage returns a console may add.
tr -d '\r' <"$out/stdout" | grep '^vm_args: ' >"$out/got" || true

echo "TAP version 13"
names=(vm_exit_code argc)
for l in "${labels[@]}"; do [[ " ${names[*]} " == *" $l "* ]] || names+=("$l"); done
names+=(argv_file_removed)
echo "1..${#names[@]}"
failed=0
n=0
result() { # ok? name [diagnostic]
	n=$((n + 1))
	if [ "$1" = 1 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=1; fi
	[ -z "${3:-}" ] || echo "# $3"
}

result $([ "$rc" = 7 ] && echo 1 || echo 0) vm_exit_code "scripts/vm exited $rc, the command 7 (boot: $secs s)"
got_argc=$(sed -n 's/^vm_args: argc //p' "$out/got")
result $([ "$got_argc" = "${#args[@]}" ] && echo 1 || echo 0) argc "sent ${#args[@]}, got ${got_argc:-none}"
for name in "${names[@]:2:${#names[@]}-3}"; do
	ok=1 diag=""
	for i in "${!args[@]}"; do
		[ "${labels[i]}" = "$name" ] || continue
		want=$(hex "${args[i]}")
		got=$(sed -n "s/^vm_args: arg $i //p" "$out/got")
		# An empty argument has an empty hex: tell it from a missing line.
		if ! grep -q "^vm_args: arg $i " "$out/got"; then
			ok=0 diag+="arg $i missing; "
		elif [ "$got" != "$want" ]; then
			ok=0 diag+="arg $i: sent ${want:0:80}, got ${got:0:80}; "
		fi
	done
	result "$ok" "$name" "$diag"
done
result $([ ! -e "$repo/out/vm/argv.$vm_pid" ] && echo 1 || echo 0) argv_file_removed
if ((failed)); then
	echo "# guest output: $out/stdout, $out/stderr" >&2
	tail -20 "$out/stderr" | sed 's/^/# /' >&2
fi
exit "$failed"
