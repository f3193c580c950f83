# shellcheck shell=sh
# shellcheck disable=SC2154 # l2_* and svc are set by guest-images/l1/init, which sources this
# bench-pv (issue 7): the paravirtual path against its alternatives, in one boot.
#
# L1 times echo round trips from a host client through /dev/tcioDD0 to tcService
# (between the host-suite markers, so the runner reads its KTAP as the host suite),
# starts a vsock echo service on port 5000, then launches L2, whose bench-pv scenario
# times the same round trips through /dev/ktciodd0 and through virtio-vsock to that
# echo service. Every measurement is one "# vtcio-bench: ..." line (tcio-bench).
#
# Kernel command line (l1_append): vtcio.bench_seconds=S per measurement (default 2),
# vtcio.bench_clients=LIST (default 1,4), vtcio.bench_sizes=LIST (default 64,1024,8172).
bench_args=
for o in seconds clients sizes; do
	v=$(arg "bench_$o")
	[ -n "$v" ] && bench_args="$bench_args --$o $v"
done

tcio-bench --serve-vsock 5000 2>>/cell/vsock-echo.log &
echo_pid=$!

# How long a 50 us sleep takes in L1 (the timers L1's KVM gives L2 are L1's).
tcio-bench --timer-probe 50
echo "vtcio-l1: host-suite begin"
# shellcheck disable=SC2086
tcio-bench $bench_args --device /dev/tcioDD0
echo "vtcio-l1: host-suite end status=$?"

prepare_qemu_root
make_l2_initrd /tmp/vtcio /usr/bin/tcio-bench
echo "vtcio-l1: l2 start smp=$l2_smp cpu=$l2_cpu"
start_heartbeat
launch_l2 /tmp/vtcio /dev/ttyS1
rc=$?
stop_heartbeat
echo "vtcio-l1: l2 exited status=$rc"
echo "vtcio-l1: tciodd $(tciodd_stats)"
kill "$echo_pid" 2>/dev/null
stop_tcservice
finish "$rc"
