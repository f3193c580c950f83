# shellcheck shell=sh disable=SC2154 # variables and functions of guest-images/l1/init
# Scenario "service-kill" (L1): tcService is killed with requests in flight, from an L2 guest
# (tcio-hostile service-kill, through its agent) and from a host process (tcio-hostile
# inflight). The callers must get NO_SERVICE answers, not hang; while no service runs, a
# process of uid 65534 must not take the service slot (tcio-hostile take-slot) and new
# requests are answered NO_SERVICE at once; after tcService restarts, the guest's requests
# succeed with the same keys and identity, and a blob sealed before the kill unseals.
# Then host_checks. Needs l2_append vtcio.scenario=agent.
checks_init
host_baseline
prepare_qemu_root
make_l2_initrd /tmp/g1
echo "vtcio-l1: l2 start smp=$l2_smp cpu=$l2_cpu"
start_heartbeat
start_agent /tmp/g1 /dev/ttyS1
if ctl_wait /tmp/g1 ready 600 && step /tmp/g1 service-kill ready-kill 120; then
	# Stopped, the service reads nothing: requests stay in flight until it dies.
	kill -STOP "$svc"
	tcio-hostile --device /dev/tcioDD0 inflight 2 NO_SERVICE > /tmp/host-inflight.ktap &
	host_client=$!
	step /tmp/g1 send sent 120
	wait_stats - 6 - 60
	r=$?
	echo "vtcio-l1: tciodd $(tciodd_stats)"
	[ $r = 0 ]
	check requests_in_flight $? "expected 6 requests pending (4 guest, 2 host), got $(tciodd_stats)"
	kill -KILL "$svc"
	wait "$svc" 2>/dev/null
	rm -f /run/tcservice.ready
	echo "vtcio-l1: tcService killed; tciodd $(tciodd_stats)"
	[ "$(tciodd_stat service)" = 0 ]
	check service_slot_freed $? "after the kill: $(tciodd_stats)"
	ctl_wait /tmp/g1 noservice-seen 120
	check guest_answered_no_service $? "the guest did not report its answers"
	wait "$host_client"
	check host_answered_no_service $? "see the host client's KTAP"
	check_ktap /tmp/host-inflight.ktap
	tcio-hostile --device /dev/tcioDD0 take-slot > /tmp/take-slot.ktap
	check_ktap /tmp/take-slot.ktap
	[ "$(tciodd_stat service)" = 0 ]
	check slot_still_empty $? "after uid 65534 tried: $(tciodd_stats)"
	step /tmp/g1 gap gap-ok 120
	start_tcservice
	step /tmp/g1 restarted "done" 300
	ctl_send /tmp/g1 exit
else
	check guest_ready 1 "the guest never got ready for the kill"
fi
wait_agent /tmp/g1 120
stop_heartbeat
checks_begin
host_checks
checks_end
stop_tcservice
finish 0
