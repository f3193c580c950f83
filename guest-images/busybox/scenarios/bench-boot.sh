# shellcheck shell=sh
# bench-boot (issue 7), the guest's half (L1's is guest-images/l1/scenarios/bench-boot.sh):
# reached init, so reboot at once; L1 launches the next L2. No end marker: the runner would
# take the first one as the end of the cell's clients phase.
echo "vtcio-l2: bench-boot up"
sync
reboot -f
