# shellcheck shell=sh disable=SC2154 # variables and functions of guest-images/l1/init
# Scenario "disconnect" (L1): an L2 guest holds channels with requests outstanding (tcService
# stopped, so they stay pending) and answers queued, and then goes away in three ways, one
# guest each: it closes them (and, still running, opens and closes the device 3000 times
# while the service is stopped: queued notices stay bounded), it is killed (SIGKILL to its
# QEMU), it powers off. Each time tcioDD must hold nothing for it afterwards. Then
# host_checks (kmemleak on a debug L1). Needs l2_append vtcio.scenario=agent.
checks_init
host_baseline
prepare_qemu_root
make_l2_initrd /tmp/g1
# hold_outstanding: the guest's 4 channels with 2 answers and 8 pending requests each.
hold_outstanding() {
	kill -STOP "$svc"
	step /tmp/g1 "hold 4 2 8" held 120 || return 1
	wait_stats $((base_clients + 4)) 32 8 60
	r=$?
	echo "vtcio-l1: tciodd $(tciodd_stats)"
	[ $r = 0 ]
	check "$1_outstanding_seen" $? "expected clients $((base_clients + 4)) pending 32 answers 8, got $(tciodd_stats)"
}
for way in close kill poweroff; do
	echo "vtcio-l1: l2 start smp=$l2_smp cpu=$l2_cpu way=$way"
	start_heartbeat
	start_agent /tmp/g1 /dev/ttyS1
	if ctl_wait /tmp/g1 ready 600 && hold_outstanding "$way"; then
		case $way in
		close)
			step /tmp/g1 release released 60
			wait_stats "$base_clients" 0 0 30
			check close_leaves_nothing $? "the guest runs on; got $(tciodd_stats)"
			step /tmp/g1 "churn 3000" churned 900
			echo "vtcio-l1: tciodd $(tciodd_stats)"
			n=$(tciodd_stat notices)
			[ "$n" -le 1024 ] && [ "$(tciodd_stat notices_dropped)" -gt 0 ]
			check notices_bounded $? "3000 channels closed with tcService stopped: $(tciodd_stats)"
			ctl_send /tmp/g1 exit
			;;
		kill)
			kill -KILL "$(guest_qemu /tmp/g1)"
			;;
		poweroff)
			ctl_send /tmp/g1 poweroff
			;;
		esac
	else
		check "${way}_guest_ready" 1 "the guest never held its channels"
		ctl_send /tmp/g1 exit
	fi
	wait_agent /tmp/g1 120
	stop_heartbeat
	if [ "$way" != close ]; then
		# tcService still stopped: what is gone was freed by tcioDD alone.
		wait_stats "$base_clients" 0 0 30
		r=$?
		echo "vtcio-l1: tciodd $(tciodd_stats)"
		[ $r = 0 ]
		check "${way}_leaves_nothing" $? "the guest is gone; got $(tciodd_stats)"
	fi
	kill -CONT "$svc"
	i=0
	while [ "$(tciodd_stat queued)" != 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(tciodd_stat queued)" = 0 ]
	check "${way}_notices_drained" $? "tcService resumed; got $(tciodd_stats)"
done
checks_begin
host_checks
checks_end
stop_tcservice
finish 0
