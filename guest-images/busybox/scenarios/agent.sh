# shellcheck shell=sh disable=SC2154 # sourced by guest-images/busybox/init
# Scenario "agent" (L2, busybox guest): does what the host's scenario script asks, one
# command at a time, over the control line on ttyS1 (L1 gives it as QEMU's pipe chardev, see
# start_agent in guest-images/l1/init). Says "ready", then for each command line:
#   hold N A P    tcio-hostile hold in the background: N channels, A answers queued and P
#                 requests outstanding on each; it says "held N A P"
#   release       ends the holder (its channels close); says "released"
#   fuzz          the ktcioDD fuzz client (CONFIG_KTCIODD_FUZZ; parameters ktciodd_fuzz.* on
#                 the kernel command line), KTAP in the kernel log; says "fuzzed"
#   usermode      hypercalls from user mode; says "usermode-done"
#   churn N       opens and closes the device N times; says "churned"
#   pair          tcio-hostile pair: talks on the control line itself, ends with "pair-done"
#   service-kill  tcio-hostile service-kill: likewise, ends with "done"
#   poweroff      powers off at once, whatever is still open
#   exit          ends the guest normally
# Every program prints its own KTAP document on the console.
ctl=/dev/ttyS1
if ! stty -F "$ctl" raw -echo 2>/dev/null; then
	echo "vtcio-l2: error no control line on $ctl"
	finish 1
fi
exec 3<> "$ctl"
say() { echo "$*" >&3; }
holder=
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
say ready
while IFS= read -r line <&3; do
	# shellcheck disable=SC2086
	set -- $line
	cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $cmd in
	hold)
		tcio-hostile --ctl "$ctl" hold "$@" &
		holder=$!
		;;
	release)
		[ -n "$holder" ] && kill "$holder" && wait "$holder"
		holder=
		say released
		;;
	fuzz)
		if [ -w /sys/kernel/debug/ktciodd_fuzz/run ]; then
			# The client prints at KERN_INFO: show it on the console meanwhile.
			level=$(cut -f1 /proc/sys/kernel/printk)
			echo 7 > /proc/sys/kernel/printk
			echo 1 > /sys/kernel/debug/ktciodd_fuzz/run
			echo "$level" > /proc/sys/kernel/printk
		else
			printf '%s\n' "KTAP version 1" "1..1" \
				"# no /sys/kernel/debug/ktciodd_fuzz: this L2 has no CONFIG_KTCIODD_FUZZ" \
				"not ok 1 fuzz_client"
		fi
		say fuzzed
		;;
	usermode)
		tcio-hostile usermode
		say usermode-done
		;;
	churn)
		tcio-hostile churn "$@"
		say churned
		;;
	pair | service-kill)
		tcio-hostile --ctl "$ctl" "$cmd"
		;;
	poweroff)
		echo "vtcio-l2: powering off with channels open"
		sync
		reboot -f
		;;
	exit)
		finish 0
		;;
	*)
		say "unknown $cmd"
		;;
	esac
done
echo "vtcio-l2: error the control line closed"
finish 1
