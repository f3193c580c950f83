// SPDX-License-Identifier: GPL-2.0
/*
 * tcio-guest-suite: tests of /dev/ktciodd0 and the
 * host's tcService, run inside an L2 guest.  Prints KTAP version 1.
 *
 * The first test opens the device.  EOPNOTSUPP (the host lacks tcioDD)
 * ends the run with one skipped test and exit status 0: whether that is
 * right is for the runner's expectation to decide.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "tcio_cases.h"

/**
 * help() - print the options
 * @out: where
 */
static void help(FILE *out)
{
	fprintf(out,
		"usage: tcio-guest-suite [--device PATH] [--foreign-blob FILE]\n"
		"                        [--measurement HEX]\n"
		"  --device PATH        guest device (default %s)\n"
		"  --foreign-blob FILE  a blob tcio-host-suite --write-blob sealed;\n"
		"                       unsealing it must be DENIED\n"
		"  --measurement HEX    expected program hash (the L2 measurement)\n",
		TCIO_GUEST_DEVICE);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "foreign-blob", required_argument, NULL, 'f' },
		{ "measurement", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tcio_suite s = { .device = TCIO_GUEST_DEVICE, .guest = true };
	struct ktap k;
	int c, fd;

	while ((c = getopt_long(argc, argv, "d:f:m:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			s.device = optarg;
			break;
		case 'f':
			s.foreign_blob = optarg;
			break;
		case 'm':
			s.measurement = optarg;
			break;
		case 'h':
			help(stdout);
			return 0;
		default:
			help(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		help(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		printf("Bail out! libsodium failed to initialise\n");
		return 1;
	}
	s.root = geteuid() == 0;

	fd = tcio_open(s.device, 0);
	if (fd == -EOPNOTSUPP) {
		ktap_start(&k, 1);
		ktap_diag("vtcio: support=unsupported errno=EOPNOTSUPP");
		ktap_result(&k, KTAP_SKIP, "open",
			    "host does not support tcioDD (EOPNOTSUPP)");
		return 0;
	}
	if (fd < 0) {
		ktap_start(&k, 1);
		ktap_diag("open %s: expected success or EOPNOTSUPP, got %s",
			  s.device, tcio_errno_name(fd));
		snprintf(s.reason, sizeof(s.reason), "errno=%s",
			 tcio_errno_name(fd));
		ktap_result(&k, KTAP_FAIL, "open", s.reason);
		return 1;
	}
	close(fd);
	ktap_start(&k, 1 + tcio_count_cases(TCIO_ON_GUEST));
	ktap_diag("vtcio: support=supported");
	ktap_result(&k, KTAP_PASS, "open", NULL);
	tcio_run_cases(&s, &k, TCIO_ON_GUEST);
	ktap_diag("%d passed, %d failed", k.num - k.failed, k.failed);
	return ktap_exit_code(&k);
}
