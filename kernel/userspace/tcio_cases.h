/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test cases shared by tcio-host-suite and tcio-guest-suite.
 */
#ifndef TCIO_CASES_H
#define TCIO_CASES_H

#include "tcio_client.h"

/* Where a case runs. */
#define TCIO_ON_HOST	0x1
#define TCIO_ON_GUEST	0x2
#define TCIO_ON_BOTH	(TCIO_ON_HOST | TCIO_ON_GUEST)

/**
 * struct tcio_suite - what the cases know about the run
 * @device: the device path
 * @guest: running in a guest against /dev/ktciodd0
 * @root: running with euid 0
 * @foreign_blob: guest: a blob another program sealed (or NULL)
 * @write_blob: host: where to write a blob for the guest (or NULL)
 * @other: host: path of the tcio-other helper
 * @measurement: guest: expected program hash in hex (or NULL)
 * @have_hash: @prog_hash is known
 * @prog_hash: the caller's program hash (request 7)
 * @have_pk: @attest_pk is known
 * @attest_pk: the service's attestation key (request 5)
 * @reason: set by a case to say why it skipped
 */
struct tcio_suite {
	const char *device;
	bool guest;
	bool root;
	const char *foreign_blob;
	const char *write_blob;
	const char *other;
	const char *measurement;
	bool have_hash;
	unsigned char prog_hash[TCIO_SHA256_LEN];
	bool have_pk;
	unsigned char attest_pk[TCIO_ED25519_PUBKEY_LEN];
	char reason[256];
};

/**
 * struct tcio_case - one test case
 * @name: its KTAP name
 * @run: the test
 * @where: TCIO_ON_*
 */
struct tcio_case {
	const char *name;
	enum ktap_result (*run)(struct tcio_suite *s);
	unsigned int where;
};

int tcio_count_cases(unsigned int where);
void tcio_run_cases(struct tcio_suite *s, struct ktap *k,
		    unsigned int where);

#endif /* TCIO_CASES_H */
