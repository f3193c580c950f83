#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# prepare-tree.sh SERIES TREE
# prepare-tree.sh --list SERIES
#
# Makes a pristine kernel TREE into a vtcio kernel: copies vtcio's own files
# (the overlay: uapi header, tcioDD and ktcioDD, KVM's vmdd relay) into it,
# then applies the hook patches of kernel/patches/SERIES (e.g. 6.1) in order.
# Run it once on a fresh tree; it refuses a tree that already has the files.
#
# With --list, prints every path (relative to the tree) that preparing a tree
# with SERIES adds or changes, one per line, and changes nothing: the runner
# brings a prepared tree to another series by syncing only these.
set -eu

overlay="include/uapi/linux/tciodd.h include/linux/tciodd.h
include/linux/tciodd_compat.h
arch/x86/kvm/vmdd.c arch/x86/kvm/vmdd.h
drivers/misc/tciodd/Kconfig drivers/misc/tciodd/Makefile
drivers/misc/tciodd/tciodd_host.c drivers/misc/tciodd/ktciodd.c
drivers/misc/tciodd/ktciodd_fuzz.c"
here=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --list ]; then
	series=${2:?usage: prepare-tree.sh --list SERIES}
	[ -d "$here/patches/$series" ] || { echo "prepare-tree: no patch series $series" >&2; exit 2; }
	{
		# shellcheck disable=SC2086 # one word per path
		printf '%s\n' $overlay
		sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$here/patches/$series"/*.patch
	} | sort -u
	exit 0
fi

series=${1:?usage: prepare-tree.sh SERIES TREE}
tree=${2:?usage: prepare-tree.sh SERIES TREE}
patches="$here/patches/$series"

[ -f "$tree/Makefile" ] || { echo "prepare-tree: $tree is not a kernel tree" >&2; exit 2; }
[ -d "$patches" ] || { echo "prepare-tree: no patch series $patches" >&2; exit 2; }
if [ -e "$tree/drivers/misc/tciodd" ]; then
	echo "prepare-tree: $tree already has drivers/misc/tciodd (prepare a fresh tree)" >&2
	exit 2
fi

# shellcheck disable=SC2086 # one word per path
for f in $overlay; do
	mkdir -p "$tree/$(dirname "$f")"
	cp "$here/$f" "$tree/$f"
done

for p in "$patches"/*.patch; do
	patch -d "$tree" -p1 --forward --batch --quiet < "$p" || {
		echo "prepare-tree: $p does not apply to $tree" >&2
		exit 1
	}
done
echo "prepare-tree: $tree prepared with series $series"
