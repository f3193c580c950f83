#!/bin/sh
# vtcio Debian L2 guest: Debian's own kernel and initramfs, and ktcioDD built
# out of tree against that kernel's headers inside the guest's root, the way
# a user would install the driver.  Run as root.
#
#   recipe.sh RELEASE OUTDIR REPO [--guest-suite PATH] [--base DIR]
#       RELEASE  bookworm or trixie
#       OUTDIR   receives vmlinuz, initrd.img, rootfs.ext4 and manifest.txt
#       REPO     the vtcio checkout (kernel/drivers/misc/tciodd, kernel/include,
#                guest-images/debian)
#       --guest-suite PATH  the static tcio-guest-suite (default:
#                OUTDIR/../tcio-guest-suite)
#       --base DIR  a bare tree made by --bootstrap-only, copied instead of
#                running debootstrap
#   recipe.sh --bootstrap-only RELEASE DIR
#       only debootstrap the bare tree (the slow part, cached by the caller)
#
# The guest boots with the root file system as a read-only virtio disk
# (QEMU -drive file=rootfs.ext4,if=virtio,format=raw,readonly=on) and:
#   root=/dev/vda rootfstype=ext4 ro init=/usr/local/sbin/vtcio-init
# (vtcio-init mounts a tmpfs on /tmp).  A writable root works too: "rw" and
# snapshot=on instead of readonly=on.
# The Debian mirror is the one this host's apt uses (read from
# /etc/apt/sources.list*), or $VTCIO_DEBIAN_MIRROR.
#
# Mounts (proc for debootstrap and the chroot) are made in a private mount
# namespace (unshare), so none outlives the script, even when it is killed.
set -eu

say() { printf 'vtcio-recipe: %s\n' "$*"; }
die() {
	printf 'vtcio-recipe: error: %s\n' "$*" >&2
	exit 1
}
now() { date +%s; }
# Phase timing: "vtcio-recipe: phase NAME took Ns" lines in the build log.
phase_start() {
	phase_name=$1
	phase_t0=$(now)
	say "phase $phase_name start"
}
phase_end() { say "phase $phase_name took $(($(now) - phase_t0))s"; }

# The first Debian archive URI of this host's apt sources (deb822 "URIs:"
# lines and one-line "deb" entries); security and other archives are skipped.
debian_mirror() {
	if [ -n "${VTCIO_DEBIAN_MIRROR:-}" ]; then
		echo "$VTCIO_DEBIAN_MIRROR"
		return
	fi
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^[[:space:]]*URIs:[[:space:]]*//p' \
			-e 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p' |
		tr -s '[:blank:]' '\n' | grep -E '^(https?|file)://.*/debian/?$' | head -n 1
}

# vtcio-bootstrap-begin
# Everything from here to vtcio-bootstrap-end decides the bare tree: the
# caller's cache key for it is the release plus this text.
# linux-image/headers: the distro kernel and what builds modules for it;
# gcc, make, libc6-dev: the out-of-tree build; kmod: insmod, modinfo, depmod;
# busybox-static: reboot (minbase has no init system); mount, util-linux:
# what vtcio-init uses.
PACKAGES=linux-image-amd64,linux-headers-amd64,initramfs-tools,gcc,make,libc6-dev,kmod,busybox-static,mount,util-linux

bootstrap() {
	mirror=$(debian_mirror)
	[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*; set VTCIO_DEBIAN_MIRROR"
	say "debootstrap $1 from $mirror"
	unshare --mount --propagation private \
		debootstrap --variant=minbase --include="$PACKAGES" "$1" "$2" "$mirror"
	# The downloaded packages are not needed again (the caller copies this tree).
	rm -f "$2"/var/cache/apt/archives/*.deb
}
# vtcio-bootstrap-end

# in_chroot ROOT CMD...: CMD in ROOT with /proc mounted, a clean environment
# and no network needed.
in_chroot() {
	root=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private sh -c '
		root=$1; shift
		mount -t proc proc "$root/proc" || exit 1
		exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C \
			chroot "$root" "$@"' sh "$root" "$@"
}

check_release() {
	case "$1" in
	bookworm | trixie) ;;
	*) die "unknown release '$1' (expected bookworm or trixie)" ;;
	esac
}

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"

if [ "${1:-}" = "--bootstrap-only" ]; then
	[ $# -eq 3 ] || die "usage: recipe.sh --bootstrap-only RELEASE DIR"
	check_release "$2"
	mkdir -p "$3"
	phase_start debootstrap
	bootstrap "$2" "$3"
	phase_end
	exit 0
fi

[ $# -ge 3 ] || die "usage: recipe.sh RELEASE OUTDIR REPO [--guest-suite PATH] [--base DIR]"
RELEASE=$1
OUTDIR=$2
REPO=$3
shift 3
SUITE=
BASE=
while [ $# -gt 0 ]; do
	case "$1" in
	--guest-suite)
		SUITE=$2
		shift 2
		;;
	--base)
		BASE=$2
		shift 2
		;;
	*) die "unknown option '$1'" ;;
	esac
done
check_release "$RELEASE"
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd -P)
[ -n "$SUITE" ] || SUITE=$OUTDIR/../tcio-guest-suite
[ -f "$SUITE" ] || die "no guest suite at $SUITE (pass --guest-suite PATH)"
SRC=$REPO/kernel/drivers/misc/tciodd
INC=$REPO/kernel/include
HERE=$REPO/guest-images/debian
for f in "$SRC/Makefile" "$SRC/ktciodd.c" "$INC/uapi/linux/tciodd.h" "$HERE/init" "$HERE/foreign-blob"; do
	[ -f "$f" ] || die "missing $f"
done

TREE=$OUTDIR/tree
rm -rf "$TREE"
mkdir -p "$TREE"
if [ -n "$BASE" ]; then
	[ -d "$BASE/lib/modules" ] || die "--base $BASE is not a bootstrapped tree"
	phase_start copy-base
	cp -a "$BASE/." "$TREE/"
	phase_end
else
	phase_start debootstrap
	bootstrap "$RELEASE" "$TREE"
	phase_end
fi

# The kernel: exactly one installed.
set -- "$TREE"/lib/modules/*
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	die "expected one kernel in $TREE/lib/modules, found: $*"
fi
KVER=${1##*/}
[ -f "$TREE/boot/vmlinuz-$KVER" ] || die "no /boot/vmlinuz-$KVER"
in_chroot "$TREE" test -e "/lib/modules/$KVER/build/Makefile" || die "no headers for $KVER (/lib/modules/$KVER/build)"
say "kernel $KVER"

# ktcioDD, out of tree, in the guest's own root, against its own headers.
phase_start module
mkdir -p "$TREE/usr/src/ktciodd"
cp "$SRC/Makefile" "$SRC/ktciodd.c" "$TREE/usr/src/ktciodd/"
cp -R "$INC" "$TREE/usr/src/ktciodd/include"
in_chroot "$TREE" make -C "/lib/modules/$KVER/build" M=/usr/src/ktciodd \
	CONFIG_KTCIODD=m KCPPFLAGS=-I/usr/src/ktciodd/include -j2 modules
[ -f "$TREE/usr/src/ktciodd/ktciodd.ko" ] || die "the module build made no ktciodd.ko"
ref=$(find "$TREE/lib/modules/$KVER/kernel/drivers" -name 'virtio_blk.ko*' | head -n 1)
[ -n "$ref" ] || die "no virtio_blk module to read the kernel's vermagic from"
KO_MAGIC=$(in_chroot "$TREE" modinfo -F vermagic /usr/src/ktciodd/ktciodd.ko)
K_MAGIC=$(in_chroot "$TREE" modinfo -F vermagic "${ref#"$TREE"}")
[ "$KO_MAGIC" = "$K_MAGIC" ] ||
	die "vermagic mismatch: ktciodd.ko '$KO_MAGIC', kernel '$K_MAGIC'"
say "vermagic $KO_MAGIC"
install -D -m 0644 "$TREE/usr/src/ktciodd/ktciodd.ko" "$TREE/lib/modules/$KVER/updates/ktciodd.ko"
phase_end

install -D -m 0755 "$SUITE" "$TREE/usr/local/bin/tcio-guest-suite"
install -D -m 0755 "$HERE/init" "$TREE/usr/local/sbin/vtcio-init"

# The initramfs: only what finds and mounts root on /dev/vda (virtio-blk on
# PCI, ext4), gzip so that the L1 host can append a plain cpio after it.
phase_start initramfs
cat >"$TREE/etc/initramfs-tools/conf.d/vtcio" <<'EOF'
# vtcio: a small initramfs for a virtio-blk ext4 root.
MODULES=list
COMPRESS=gzip
EOF
cat >"$TREE/etc/initramfs-tools/modules" <<'EOF'
# vtcio: root on /dev/vda (virtio-blk over PCI), ext4.
virtio_pci
virtio_blk
ext4
crc32c_generic
EOF
install -D -m 0755 "$HERE/foreign-blob" "$TREE/etc/initramfs-tools/scripts/init-bottom/vtcio-foreign-blob"
rm -f "$TREE/boot/initrd.img-$KVER"
in_chroot "$TREE" update-initramfs -c -k "$KVER"
phase_end

phase_start outputs
cp "$TREE/boot/vmlinuz-$KVER" "$OUTDIR/vmlinuz"
cp "$TREE/boot/initrd.img-$KVER" "$OUTDIR/initrd.img"
# Pad to 512 bytes: a cpio appended after the gzip stream must start 4-byte
# aligned or the kernel rejects it; NUL padding between archives is skipped.
size=$(wc -c <"$OUTDIR/initrd.img")
pad=$(((512 - size % 512) % 512))
[ "$pad" -eq 0 ] || head -c "$pad" /dev/zero >>"$OUTDIR/initrd.img"

{
	echo "release=$RELEASE"
	echo "kernel_release=$KVER"
	# shellcheck disable=SC2016 # a dpkg-query format
	in_chroot "$TREE" dpkg-query -W -f 'package ${Package}=${Version}\n' \
		linux-image-amd64 linux-headers-amd64 "linux-image-$KVER" "linux-headers-$KVER" \
		gcc make kmod initramfs-tools
	echo "ktciodd_vermagic=$KO_MAGIC"
	echo "kernel_vermagic=$K_MAGIC"
	echo "ktciodd_sha256=$(sha256sum <"$TREE/lib/modules/$KVER/updates/ktciodd.ko" | cut -d' ' -f1)"
	echo "guest_suite_sha256=$(sha256sum <"$SUITE" | cut -d' ' -f1)"
	echo "initramfs_modules=$(grep -v '^#' "$TREE/etc/initramfs-tools/modules" | tr '\n' ' ')"
	echo "cmdline=root=/dev/vda rootfstype=ext4 ro init=/usr/local/sbin/vtcio-init"
} >"$OUTDIR/manifest.txt"
phase_end

# The root file system: no apt lists or caches, documentation, locales or
# logs; /boot is in OUTDIR.  The toolchain and headers stay: the guest is a
# system where the driver was built.  Of the kernel's modules only the virtio,
# block, char, file system and library ones stay (the initramfs has loaded
# what finds root, and nothing loads modules after the switch): the rest
# (gpu, sound, net, media...) is over 300 MiB nobody reads.
phase_start rootfs
T=${TREE:?}
mods=$T/lib/modules/$KVER/kernel
for d in "$mods"/* "$mods"/drivers/*; do
	case "${d#"$mods"/}" in
	arch | block | crypto | fs | lib | mm | virt | drivers | drivers/virtio | drivers/block | drivers/char) ;;
	*) rm -rf "$d" ;;
	esac
done
in_chroot "$TREE" depmod "$KVER"
rm -rf "$T"/var/lib/apt/lists/* "$T"/var/cache/apt/* "$T"/var/cache/debconf/*-old \
	"$T"/usr/share/doc/* "$T"/usr/share/man/* "$T"/usr/share/info/* \
	"$T"/usr/share/locale/* "$T"/var/log/* "${T:?}"/boot/* \
	"$T"/usr/src/ktciodd/*.o "$T"/usr/src/ktciodd/.*.cmd
used_kb=$(du -skx "$TREE" | cut -f1)
inodes=$(find "$TREE" -xdev | wc -l)
# Content plus a fifth and 64 MiB for the journal and what the guest writes.
size_kb=$((used_kb + used_kb / 5 + 65536))
rm -f "$OUTDIR/rootfs.ext4"
mke2fs -q -F -t ext4 -m 0 -L vtcio-root -N $((inodes + inodes / 4 + 4096)) \
	-d "$TREE" "$OUTDIR/rootfs.ext4" "${size_kb}k"
e2fsck -fn "$OUTDIR/rootfs.ext4" >/dev/null || die "e2fsck found errors in rootfs.ext4"
echo "rootfs_kb=$size_kb" >>"$OUTDIR/manifest.txt"
rm -rf "$TREE"
phase_end
say "done: $OUTDIR (kernel $KVER)"
