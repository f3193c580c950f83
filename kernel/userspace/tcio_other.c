// SPDX-License-Identifier: GPL-2.0
/*
 * tcio-other: a second program for tcio-host-suite, so the
 * suite can show that a blob sealed by one program is refused to another.
 *
 *   tcio-other [--device PATH] seal     stdin: data  -> stdout: blob
 *   tcio-other [--device PATH] unseal   stdin: blob  -> stdout: data
 *   tcio-other [--device PATH] hash     stdout: own program hash in hex
 *
 * Exit status: 0 success, 1 error, 2 usage, 3 status DENIED, 4 another
 * status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "tcio_client.h"

/**
 * read_stdin() - all of standard input
 * @buf: where
 * @cap: room
 *
 * Return: bytes read, or -1 on error or if it does not fit.
 */
static ssize_t read_stdin(unsigned char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		if (len == cap)
			return -1;
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return (ssize_t)len;
		len += (size_t)n;
	}
}

/**
 * write_stdout() - write all bytes to standard output
 * @buf: bytes
 * @len: how many
 *
 * Return: 0 or -1.
 */
static int write_stdout(const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(STDOUT_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	static unsigned char in[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	const char *device = TCIO_HOST_DEVICE, *mode;
	unsigned char hash[TCIO_SHA256_LEN];
	char hex[2 * TCIO_SHA256_LEN + 1];
	size_t out_len = 0;
	ssize_t in_len = 0;
	__u32 st = 0;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, "d:", lopts, NULL)) != -1) {
		if (c != 'd')
			goto usage;
		device = optarg;
	}
	if (optind + 1 != argc)
		goto usage;
	mode = argv[optind];
	if (strcmp(mode, "seal") && strcmp(mode, "unseal") &&
	    strcmp(mode, "hash"))
		goto usage;
	if (sodium_init() < 0)
		return 1;
	if (strcmp(mode, "hash")) {
		in_len = read_stdin(in, sizeof(in) - 4);
		if (in_len < 0) {
			fprintf(stderr, "tcio-other: bad input\n");
			return 1;
		}
	}
	fd = tcio_open(device, 0);
	if (fd < 0) {
		fprintf(stderr, "tcio-other: %s: %s\n", device, strerror(-fd));
		return 1;
	}
	if (!strcmp(mode, "seal"))
		rc = tcio_seal(fd, in, (size_t)in_len, out, sizeof(out),
			       &out_len, &st);
	else if (!strcmp(mode, "unseal"))
		rc = tcio_unseal(fd, in, (size_t)in_len, out, sizeof(out),
				 &out_len, &st);
	else
		rc = tcio_prog_hash(fd, 0, hash, &st);
	close(fd);
	if (rc) {
		fprintf(stderr, "tcio-other: %s: %s\n", mode,
			tcio_errno_name(rc));
		return 1;
	}
	if (st != TCIO_STATUS_SUCCESS) {
		fprintf(stderr, "tcio-other: %s: status %s\n", mode,
			tcio_status_name(st));
		return st == TCIO_STATUS_DENIED ? 3 : 4;
	}
	if (!strcmp(mode, "hash")) {
		tcio_hex(hash, sizeof(hash), hex);
		printf("%s\n", hex);
		return 0;
	}
	return write_stdout(out, out_len) ? 1 : 0;
usage:
	fprintf(stderr, "usage: tcio-other [--device PATH] seal|unseal|hash\n");
	return 2;
}
