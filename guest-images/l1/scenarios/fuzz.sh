# shellcheck shell=sh disable=SC2154 # variables and functions of guest-images/l1/init
# Scenario "fuzz" (L1): one L2 guest (scenario "agent", an L2 kernel with
# CONFIG_KTCIODD_FUZZ) makes hypercalls from user mode, then runs the ktcioDD fuzz client:
# raw tcioDD hypercalls with hostile arguments, KTAP in its kernel log. Once it is gone, L1
# checks that nothing is left or reported (host_checks: tcioDD's counters, tcService,
# kmemleak on a debug L1, the kernel log). Prints the checks as KTAP.
checks_init
host_baseline
prepare_qemu_root
make_l2_initrd /tmp/g1
echo "vtcio-l1: l2 start smp=$l2_smp cpu=$l2_cpu"
start_heartbeat
start_agent /tmp/g1 /dev/ttyS1
if ctl_wait /tmp/g1 ready 600; then
	# User mode first: refused before KVM looks at the number, so the fuzz client's first
	# call still finds a VM that never reached tcioDD.
	step /tmp/g1 usermode usermode-done 120 && step /tmp/g1 fuzz fuzzed 1800
	ctl_send /tmp/g1 exit
else
	check guest_ready 1 "the guest never said ready"
fi
wait_agent /tmp/g1 120
stop_heartbeat
checks_begin
host_checks
checks_end
stop_tcservice
finish 0
