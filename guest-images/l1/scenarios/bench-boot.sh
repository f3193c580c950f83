# shellcheck shell=sh
# shellcheck disable=SC2154 # l2_* and svc are set by guest-images/l1/init, which sources this
# bench-boot (issue 7): where the start of L2 goes, side by side in one L1 boot.
#
# Launches L2 (whose bench-boot scenario reboots at once) several times, QEMU each time run
# from L0's root shared over 9p and mounted with one of several cache modes. A 9p device can
# be mounted once, so mode K of the list comes from its own device, tag benchK (the matrix
# gives L1 these with l1_qemu). Launch 1 of a mode finds its cache cold, as the single launch
# of an ordinary cell does; later ones find it warm. Each launch prints "vtcio-l1: bench-boot
# launch N cache=MODE" before and "vtcio-l1: bench-boot exit N status=S" after; the runner's
# stamps on both consoles time the launch to L2's first line, to its init and to QEMU's exit.
#
# Kernel command line (l1_append): vtcio.bench_launches=N per mode (default 2),
# vtcio.bench_modes=LIST of 9p cache modes, comma-separated (default none,loose).
launches=$(arg bench_launches)
modes=$(arg bench_modes | tr , ' ')
: "${launches:=2}" "${modes:=none loose}"

# Mounts L0's root once per mode (device benchK, cache=MODE) on /host-MODE, prepared as
# prepare_qemu_root does /host.
k=0
for mode in $modes; do
	mkdir -p "/host-$mode"
	mount -t 9p -o "trans=virtio,version=9p2000.L,ro,cache=$mode" "bench$k" "/host-$mode" ||
		fail "cannot mount 9p device bench$k with cache=$mode (is it on L1's QEMU command line?)"
	mount -t tmpfs tmpfs "/host-$mode/tmp"
	mount -t devtmpfs devtmpfs "/host-$mode/dev"
	mount -t proc proc "/host-$mode/proc"
	mount -t sysfs sysfs "/host-$mode/sys"
	k=$((k + 1))
done

make_l2_initrd /tmp/vtcio
echo "vtcio-l1: l2 start smp=$l2_smp cpu=$l2_cpu"
i=0
rc=0
while [ $i -lt "$launches" ]; do
	i=$((i + 1))
	for mode in $modes; do
		root=/host-$mode
		mkdir -p "$root/tmp/vtcio"
		[ -e "$root/tmp/vtcio/bzImage" ] || mount --bind /tmp/vtcio "$root/tmp/vtcio"
		echo "vtcio-l1: bench-boot launch $i cache=$mode"
		# shellcheck disable=SC2086
		tcvm-launch --kernel /tmp/vtcio/bzImage --initrd /tmp/vtcio/initrd \
			--append "console=ttyS0 panic=-1 loglevel=5 $l2_append" -- \
			/bin/chroot "$root" /usr/bin/qemu-system-x86_64 -accel kvm -cpu "$l2_cpu" \
			-smp "$l2_smp" -m "$l2_mem" -nographic -nodefaults -no-reboot \
			-chardev "serial,id=con,path=/dev/ttyS1" -serial chardev:con $l2_qemu
		s=$?
		[ $s -eq 0 ] || rc=$s
		echo "vtcio-l1: bench-boot exit $i status=$s"
	done
done
echo "vtcio-l1: l2 exited status=$rc"
stop_tcservice
finish "$rc"
