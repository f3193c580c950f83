/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Talking to /dev/tcioDD0 or /dev/ktciodd0, and printing
 * KTAP, for the vtcio clients.
 */
#ifndef TCIO_CLIENT_H
#define TCIO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/tciodd.h>

#include "tcio_util.h"

#define TCIO_HOST_DEVICE	"/dev/tcioDD0"
#define TCIO_GUEST_DEVICE	"/dev/ktciodd0"
#define TCIO_HDR_LEN		sizeof(struct tcio_hdr)
/* How long a client waits for an answer before giving up (ms). */
#define TCIO_ANSWER_TIMEOUT_MS	30000

/**
 * struct tcio_msg - one whole message as read from or written to a device
 * @hdr: header
 * @payload: hdr.req_size bytes
 */
struct tcio_msg {
	struct tcio_hdr hdr;
	unsigned char payload[TCIO_MAX_PAYLOAD];
};

/**
 * struct tcio_buf - a payload being built
 * @p: bytes
 * @len: bytes used
 * @bad: something did not fit
 */
struct tcio_buf {
	unsigned char p[TCIO_MAX_PAYLOAD + 64];
	size_t len;
	bool bad;
};

int tcio_open(const char *path, int flags);
__s32 tcio_cookie(void);
int tcio_write_raw(int fd, const void *buf, size_t len);
int tcio_send(int fd, __u32 code, const void *payload, size_t len,
	      __s32 cookie);
int tcio_wait(int fd, int timeout_ms);
int tcio_recv(int fd, struct tcio_msg *m);
int tcio_recv_cookie(int fd, __s32 cookie, struct tcio_msg *m);
int tcio_call(int fd, __u32 code, const void *payload, size_t len,
	      struct tcio_msg *ans);

void tcio_buf_init(struct tcio_buf *b);
void tcio_buf_s32(struct tcio_buf *b, __s32 v);
void tcio_buf_bytes(struct tcio_buf *b, const void *p, size_t len);
void tcio_buf_str(struct tcio_buf *b, const char *s);

int tcio_get_typed(const struct tcio_msg *m, __u32 type, unsigned char *out,
		   size_t len);
int tcio_get_sized(const struct tcio_msg *m, const unsigned char **p,
		   size_t *len);
int tcio_get_s32(const struct tcio_msg *m, __s32 *v);

int tcio_prog_hash(int fd, __s32 pid, unsigned char *hash, __u32 *status);
int tcio_seal(int fd, const void *data, size_t len, unsigned char *blob,
	      size_t cap, size_t *blob_len, __u32 *status);
int tcio_unseal(int fd, const void *blob, size_t len, unsigned char *data,
		size_t cap, size_t *data_len, __u32 *status);

const char *tcio_status_name(__u32 status);
const char *tcio_errno_name(int err);
void tcio_hex(const unsigned char *p, size_t len, char *out);
int tcio_sha256_file(const char *path, unsigned char *hash);

/**
 * struct ktap - a KTAP version 1 printer
 * @num: number of the last result printed
 * @failed: how many "not ok"
 */
struct ktap {
	int num;
	int failed;
};

enum ktap_result { KTAP_PASS, KTAP_FAIL, KTAP_SKIP };

void ktap_start(struct ktap *k, int plan);
void ktap_diag(const char *fmt, ...) __printf(1, 2);
void ktap_result(struct ktap *k, enum ktap_result res, const char *name,
		 const char *reason);
int ktap_exit_code(const struct ktap *k);

#endif /* TCIO_CLIENT_H */
