# shellcheck shell=sh
# bench-pv (issue 7), the guest's half (L1's is guest-images/l1/scenarios/bench-pv.sh):
# times echo round trips through /dev/ktciodd0 to tcService in L1 and, side by side for
# each size and number of clients, through virtio-vsock to the echo service L1 runs on
# port 5000, with the tcio-bench L1 put in /vtcio/. Prints KTAP (tcio-bench), one
# "# vtcio-bench: ..." line per measurement.
#
# Kernel command line (l2_append): vtcio.bench_seconds=S, vtcio.bench_clients=LIST,
# vtcio.bench_sizes=LIST, as for L1; vtcio.bench_sweep=PARAM=V1,V2 (below).
bench_args=
for o in seconds clients sizes; do
	v=$(arg "bench_$o")
	[ -n "$v" ] && bench_args="$bench_args --$o $v"
done
# vtcio.bench_sweep=PARAM=V1,V2: measure ktcioDD once per value of its module parameter PARAM.
sweep=$(arg bench_sweep)
[ -n "$sweep" ] && bench_args="$bench_args --sweep /sys/module/ktciodd/parameters/$sweep"
# How long a 50 us sleep takes in L2: ktcioDD waits in such sleeps.
/vtcio/tcio-bench --timer-probe 50
# shellcheck disable=SC2086
/vtcio/tcio-bench $bench_args --device /dev/ktciodd0 --vsock 2:5000
finish $?
