# shellcheck shell=sh disable=SC2154 # variables and functions of guest-images/l1/init
# Scenario "two-guests" (L1): two L2 guests at once under this L1, measured apart (their
# initrds differ by one file). Each holds channels with answers queued while the other's
# fuzz client probes every channel id (the other VM's channels must not exist for it); then
# both exchange, through L1, a sealed blob and their identity, and try to open the other's
# blob and pass as the other (tcio-hostile pair). The second guest's console is relayed onto
# L1's, each line prefixed "l2b| ". Then host_checks. Needs l2_append vtcio.scenario=agent and
# an L2 with CONFIG_KTCIODD_FUZZ.
checks_init
host_baseline
prepare_qemu_root
echo a > /tmp/role
make_l2_initrd /tmp/g1 /tmp/role
echo b > /tmp/role
make_l2_initrd /tmp/g2 /tmp/role
echo "vtcio-l1: l2 start smp=$l2_smp cpu=$l2_cpu guests=2"
start_heartbeat
start_agent /tmp/g1 /dev/ttyS1
start_agent /tmp/g2 -
# pair_round: each guest says "mine HASH BLOB"; each gets "peer VMM-PID HASH BLOB" of the other.
pair_round() {
	ctl_send /tmp/g1 pair
	ctl_send /tmp/g2 pair
	ctl_wait /tmp/g1 mine 300 || return 1
	mine1=${ctl_line#mine }
	ctl_wait /tmp/g2 mine 300 || return 1
	mine2=${ctl_line#mine }
	ctl_send /tmp/g1 "peer $(guest_qemu /tmp/g2) $mine2"
	ctl_send /tmp/g2 "peer $(guest_qemu /tmp/g1) $mine1"
	ctl_wait /tmp/g1 pair-done 300 && ctl_wait /tmp/g2 pair-done 300
}
if ctl_wait /tmp/g1 ready 600 && ctl_wait /tmp/g2 ready 600; then
	step /tmp/g1 "hold 4 2 0" held 120 &&
		step /tmp/g2 fuzz fuzzed 1800 &&
		step /tmp/g1 release released 60 &&
		step /tmp/g2 "hold 4 2 0" held 120 &&
		step /tmp/g1 fuzz fuzzed 1800 &&
		step /tmp/g2 release released 60
	pair_round
	check pair_exchange $? "the guests did not finish the exchange"
	ctl_send /tmp/g1 exit
	ctl_send /tmp/g2 exit
else
	check guests_ready 1 "a guest never said ready"
fi
wait_agent /tmp/g1 120
wait_agent /tmp/g2 120
stop_heartbeat
checks_begin
host_checks
checks_end
stop_tcservice
finish 0
