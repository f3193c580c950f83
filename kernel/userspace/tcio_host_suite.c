// SPDX-License-Identifier: GPL-2.0
/*
 * tcio-host-suite: tests of /dev/tcioDD0 and tcService
 * on the host (L1), run as root while tcservice runs.  Prints KTAP
 * version 1.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
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
		"usage: tcio-host-suite [--device PATH] [--write-blob FILE]\n"
		"                       [--other PATH]\n"
		"  --device PATH      host device (default %s)\n"
		"  --write-blob FILE  write a blob sealed by this program, for\n"
		"                     tcio-guest-suite --foreign-blob\n"
		"  --other PATH       the tcio-other helper (default: next to\n"
		"                     this program)\n",
		TCIO_HOST_DEVICE);
}

/**
 * default_other() - tcio-other in the directory of this program
 * @buf: the path
 * @len: room
 */
static void default_other(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(buf, len, "tcio-other");
		return;
	}
	self[n] = 0;
	snprintf(buf, len, "%s/tcio-other", dirname(self));
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "write-blob", required_argument, NULL, 'w' },
		{ "other", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tcio_suite s = { .device = TCIO_HOST_DEVICE };
	static char other[PATH_MAX];
	struct ktap k;
	int c, fd;

	default_other(other, sizeof(other));
	s.other = other;
	while ((c = getopt_long(argc, argv, "d:w:o:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			s.device = optarg;
			break;
		case 'w':
			s.write_blob = optarg;
			break;
		case 'o':
			s.other = optarg;
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

	ktap_start(&k, 1 + tcio_count_cases(TCIO_ON_HOST));
	if (!s.root)
		ktap_diag("not root: privileged cases are skipped");
	fd = tcio_open(s.device, 0);
	if (fd < 0) {
		ktap_diag("open %s: expected success, got %s", s.device,
			  tcio_errno_name(fd));
		snprintf(s.reason, sizeof(s.reason), "errno=%s",
			 tcio_errno_name(fd));
		ktap_result(&k, KTAP_FAIL, "open", s.reason);
		return 1;
	}
	close(fd);
	ktap_result(&k, KTAP_PASS, "open", NULL);
	tcio_run_cases(&s, &k, TCIO_ON_HOST);
	ktap_diag("%d passed, %d failed", k.num - k.failed, k.failed);
	return ktap_exit_code(&k);
}
