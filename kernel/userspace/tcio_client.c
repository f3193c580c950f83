// SPDX-License-Identifier: GPL-2.0
/*
 * Talking to /dev/tcioDD0 or /dev/ktciodd0, and printing
 * KTAP, for the vtcio clients.
 *
 * Requests are written whole; each carries a cookie in hdr.procid (and the
 * writer's pid in hdr.origprocid), which the device echoes, so an answer
 * is matched to its request by cookie, never by order.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "tcio_client.h"

/**
 * tcio_open() - open a tcio device
 * @path: the device
 * @flags: extra open flags (O_NONBLOCK)
 *
 * Return: the file descriptor (close-on-exec), or -errno.
 */
int tcio_open(const char *path, int flags)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | flags);

	return fd < 0 ? -errno : fd;
}

/**
 * tcio_cookie() - a cookie for the next request
 *
 * Starts at a random value and counts up, so cookies of one process never
 * repeat within 2^30 requests.
 *
 * Return: the cookie.
 */
__s32 tcio_cookie(void)
{
	static __u32 next;

	if (!next)
		next = (randombytes_random() & 0x3fffffff) | 1;
	return (__s32)(next++ & 0x7fffffff);
}

/**
 * tcio_write_raw() - write() once, as the device sees it
 * @fd: the device
 * @buf: bytes
 * @len: how many
 *
 * Return: 0 if all @len bytes were accepted, -errno, or -EIO for a short
 * write (the device must take a message whole).
 */
int tcio_write_raw(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/**
 * tcio_send() - write one request
 * @fd: the device
 * @code: request code
 * @payload: payload bytes
 * @len: payload length (at most TCIO_MAX_PAYLOAD)
 * @cookie: echoed in the answer's procid
 *
 * Return: 0 or -errno.
 */
int tcio_send(int fd, __u32 code, const void *payload, size_t len,
	      __s32 cookie)
{
	struct tcio_msg m;

	if (len > TCIO_MAX_PAYLOAD)
		return -EMSGSIZE;
	memset(&m.hdr, 0, sizeof(m.hdr));
	m.hdr.procid = cookie;
	m.hdr.req_id = code;
	m.hdr.req_size = (__u32)len;
	m.hdr.origprocid = (__s32)getpid();
	if (len)
		memcpy(m.payload, payload, len);
	return tcio_write_raw(fd, &m, TCIO_HDR_LEN + len);
}

/**
 * tcio_wait() - wait until an answer can be read
 * @fd: the device
 * @timeout_ms: how long
 *
 * Return: 0 when readable (or when poll reports an error, which the next
 * read will show), -ETIMEDOUT, or -errno.
 */
int tcio_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

/**
 * tcio_recv() - read the next answer
 * @fd: the device
 * @m: the answer
 *
 * Waits at most TCIO_ANSWER_TIMEOUT_MS for it.
 *
 * Return: its length, -ETIMEDOUT, -EPROTO if it is malformed, or -errno.
 */
int tcio_recv(int fd, struct tcio_msg *m)
{
	ssize_t n;
	int rc;

	rc = tcio_wait(fd, TCIO_ANSWER_TIMEOUT_MS);
	if (rc)
		return rc;
	do {
		n = read(fd, m, sizeof(*m));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n < TCIO_HDR_LEN || m->hdr.req_size != n - TCIO_HDR_LEN)
		return -EPROTO;
	return (int)n;
}

/**
 * tcio_recv_cookie() - read the answer to the request with @cookie
 * @fd: the device
 * @cookie: the request's cookie
 * @m: the answer
 *
 * Return: its length, -EPROTO if the next answer is another one's or is
 * malformed, or -errno.
 */
int tcio_recv_cookie(int fd, __s32 cookie, struct tcio_msg *m)
{
	int n = tcio_recv(fd, m);

	if (n < 0)
		return n;
	if (m->hdr.procid != cookie || m->hdr.origprocid != (__s32)getpid())
		return -EPROTO;
	return n;
}

/**
 * tcio_call() - send a request and read its answer
 * @fd: the device, with nothing else outstanding
 * @code: request code
 * @payload: payload
 * @len: payload length
 * @ans: the answer
 *
 * Return: the answer's length, or -errno.
 */
int tcio_call(int fd, __u32 code, const void *payload, size_t len,
	      struct tcio_msg *ans)
{
	__s32 cookie = tcio_cookie();
	int rc;

	rc = tcio_send(fd, code, payload, len, cookie);
	if (rc)
		return rc;
	return tcio_recv_cookie(fd, cookie, ans);
}

/**
 * tcio_buf_init() - start an empty payload
 * @b: the payload
 */
void tcio_buf_init(struct tcio_buf *b)
{
	b->len = 0;
	b->bad = false;
}

/**
 * tcio_buf_bytes() - append bytes
 * @b: the payload
 * @p: bytes
 * @len: how many
 */
void tcio_buf_bytes(struct tcio_buf *b, const void *p, size_t len)
{
	if (b->bad || len > sizeof(b->p) - b->len) {
		b->bad = true;
		return;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

/**
 * tcio_buf_s32() - append a native s32
 * @b: the payload
 * @v: the value
 */
void tcio_buf_s32(struct tcio_buf *b, __s32 v)
{
	tcio_buf_bytes(b, &v, sizeof(v));
}

/**
 * tcio_buf_str() - append s32 length | bytes of a string (no NUL)
 * @b: the payload
 * @s: the string
 */
void tcio_buf_str(struct tcio_buf *b, const char *s)
{
	size_t len = strlen(s);

	tcio_buf_s32(b, (__s32)len);
	tcio_buf_bytes(b, s, len);
}

/**
 * tcio_get_typed() - parse an answer that is one typed buffer
 * @m: the answer
 * @type: expected TCIO_BUF_*
 * @out: its bytes
 * @len: expected size
 *
 * Return: 0, or -EPROTO if the payload is not exactly
 * u32 @type | s32 @len | @len bytes.
 */
int tcio_get_typed(const struct tcio_msg *m, __u32 type, unsigned char *out,
		   size_t len)
{
	__u32 t;
	__s32 size;

	if (m->hdr.req_size != sizeof(t) + sizeof(size) + len)
		return -EPROTO;
	memcpy(&t, m->payload, sizeof(t));
	memcpy(&size, m->payload + sizeof(t), sizeof(size));
	if (t != type || size < 0 || (size_t)size != len)
		return -EPROTO;
	memcpy(out, m->payload + sizeof(t) + sizeof(size), len);
	return 0;
}

/**
 * tcio_get_sized() - parse an answer that is s32 size | bytes
 * @m: the answer
 * @p: set to the bytes (inside @m)
 * @len: set to their number
 *
 * Return: 0, or -EPROTO if the size disagrees with the payload.
 */
int tcio_get_sized(const struct tcio_msg *m, const unsigned char **p,
		   size_t *len)
{
	__s32 size;

	if (m->hdr.req_size < sizeof(size))
		return -EPROTO;
	memcpy(&size, m->payload, sizeof(size));
	if (size < 0 || (size_t)size != m->hdr.req_size - sizeof(size))
		return -EPROTO;
	*p = m->payload + sizeof(size);
	*len = (size_t)size;
	return 0;
}

/**
 * tcio_get_s32() - parse an answer that is one s32
 * @m: the answer
 * @v: the value
 *
 * Return: 0 or -EPROTO.
 */
int tcio_get_s32(const struct tcio_msg *m, __s32 *v)
{
	if (m->hdr.req_size != sizeof(*v))
		return -EPROTO;
	memcpy(v, m->payload, sizeof(*v));
	return 0;
}

/**
 * tcio_prog_hash() - request 7
 * @fd: the device
 * @pid: 0 for the caller
 * @hash: the hash, when @status is success
 * @status: the answer's status
 *
 * Return: 0 when an answer arrived (see @status), -errno or -EPROTO.
 */
int tcio_prog_hash(int fd, __s32 pid, unsigned char *hash, __u32 *status)
{
	struct tcio_msg m;
	int n;

	n = tcio_call(fd, TCIO_REQ_GET_PROG_HASH, &pid, sizeof(pid), &m);
	if (n < 0)
		return n;
	*status = m.hdr.status;
	if (m.hdr.req_id != TCIO_ANS_GET_PROG_HASH)
		return -EPROTO;
	if (*status != TCIO_STATUS_SUCCESS)
		return m.hdr.req_size ? -EPROTO : 0;
	return tcio_get_typed(&m, TCIO_BUF_SHA256, hash, TCIO_SHA256_LEN);
}

/**
 * tcio_sized_call() - a request and answer that are both s32 size | bytes
 * @fd: the device
 * @code: the request
 * @in: request bytes
 * @len: their number
 * @out: answer bytes
 * @cap: room in @out
 * @out_len: their number
 * @status: the answer's status
 *
 * Return: 0 when an answer arrived (see @status), -errno or -EPROTO.
 */
static int tcio_sized_call(int fd, __u32 code, const void *in, size_t len,
			   unsigned char *out, size_t cap, size_t *out_len,
			   __u32 *status)
{
	static struct tcio_buf b;
	const unsigned char *p;
	struct tcio_msg m;
	int n;

	tcio_buf_init(&b);
	tcio_buf_s32(&b, (__s32)len);
	tcio_buf_bytes(&b, in, len);
	if (b.bad)
		return -EMSGSIZE;
	n = tcio_call(fd, code, b.p, b.len, &m);
	if (n < 0)
		return n;
	*status = m.hdr.status;
	*out_len = 0;
	if (m.hdr.req_id != code + 1)
		return -EPROTO;
	if (*status != TCIO_STATUS_SUCCESS)
		return m.hdr.req_size ? -EPROTO : 0;
	n = tcio_get_sized(&m, &p, out_len);
	if (n)
		return n;
	if (*out_len > cap)
		return -EMSGSIZE;
	memcpy(out, p, *out_len);
	return 0;
}

/**
 * tcio_seal() - request 9
 * @fd: the device
 * @data: to seal
 * @len: its length
 * @blob: the sealed blob
 * @cap: room in @blob
 * @blob_len: its length
 * @status: the answer's status
 *
 * Return: 0 when an answer arrived (see @status), -errno or -EPROTO.
 */
int tcio_seal(int fd, const void *data, size_t len, unsigned char *blob,
	      size_t cap, size_t *blob_len, __u32 *status)
{
	return tcio_sized_call(fd, TCIO_REQ_SEAL, data, len, blob, cap,
			       blob_len, status);
}

/**
 * tcio_unseal() - request 11
 * @fd: the device
 * @blob: a sealed blob
 * @len: its length
 * @data: what was sealed
 * @cap: room in @data
 * @data_len: its length
 * @status: the answer's status
 *
 * Return: 0 when an answer arrived (see @status), -errno or -EPROTO.
 */
int tcio_unseal(int fd, const void *blob, size_t len, unsigned char *data,
		size_t cap, size_t *data_len, __u32 *status)
{
	return tcio_sized_call(fd, TCIO_REQ_UNSEAL, blob, len, data, cap,
			       data_len, status);
}

/**
 * tcio_status_name() - name of a TCIO_STATUS_* value
 * @status: the value
 *
 * Return: its name, or "?".
 */
const char *tcio_status_name(__u32 status)
{
	static const char *const names[] = {
		[TCIO_STATUS_SUCCESS] = "SUCCESS",
		[TCIO_STATUS_FAILED] = "FAILED",
		[TCIO_STATUS_NO_SERVICE] = "NO_SERVICE",
		[TCIO_STATUS_NO_MEMORY] = "NO_MEMORY",
		[TCIO_STATUS_NO_RESOURCE] = "NO_RESOURCE",
		[TCIO_STATUS_NO_TPM] = "NO_TPM",
		[TCIO_STATUS_BAD_REQUEST] = "BAD_REQUEST",
		[TCIO_STATUS_DENIED] = "DENIED",
		[TCIO_STATUS_STALE] = "STALE",
	};

	if (status < ARRAY_SIZE(names))
		return names[status];
	return "?";
}

/**
 * tcio_errno_name() - symbolic name of an errno value
 * @err: the value, positive or negative
 *
 * Return: e.g. "EINVAL", or "E?" for one not listed.
 */
const char *tcio_errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ 0, "0" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" },
		{ ESRCH, "ESRCH" }, { EINTR, "EINTR" }, { EIO, "EIO" },
		{ ENXIO, "ENXIO" }, { E2BIG, "E2BIG" }, { EBADF, "EBADF" },
		{ EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
		{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
		{ EINVAL, "EINVAL" }, { EMFILE, "EMFILE" },
		{ ENOTTY, "ENOTTY" }, { ENOSPC, "ENOSPC" },
		{ ENOMSG, "ENOMSG" },
		{ EPROTO, "EPROTO" }, { EMSGSIZE, "EMSGSIZE" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { ETIMEDOUT, "ETIMEDOUT" },
	};
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	return "E?";
}

/**
 * tcio_hex() - lower-case hex of bytes
 * @p: bytes
 * @len: how many
 * @out: 2 * @len + 1 chars
 */
void tcio_hex(const unsigned char *p, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, p, len);
}

/**
 * tcio_sha256_file() - SHA-256 of a file's bytes
 * @path: the file
 * @hash: the digest
 *
 * Return: 0 or -errno.
 */
int tcio_sha256_file(const char *path, unsigned char *hash)
{
	crypto_hash_sha256_state st;
	unsigned char buf[65536];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	crypto_hash_sha256_init(&st);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
	}
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	crypto_hash_sha256_final(&st, hash);
	return 0;
}

/**
 * ktap_start() - print the KTAP version and plan lines
 * @k: the printer
 * @plan: number of tests
 */
void ktap_start(struct ktap *k, int plan)
{
	k->num = 0;
	k->failed = 0;
	printf("KTAP version 1\n1..%d\n", plan);
	fflush(stdout);
}

/**
 * ktap_diag() - print a diagnostic line "# ..."
 * @fmt: printf format
 *
 * The line is written with one write() so output of forked children does
 * not interleave within a line.
 */
void ktap_diag(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	line[0] = '#';
	line[1] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(line + 2, sizeof(line) - 3, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += 2;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	fflush(stdout);
	if (write(STDOUT_FILENO, line, n) < 0)
		return;
}

/**
 * ktap_result() - print a result line
 * @k: the printer
 * @res: pass, fail or skip
 * @name: test name
 * @reason: for a skip, why (required); for a failure, optional
 */
void ktap_result(struct ktap *k, enum ktap_result res, const char *name,
		 const char *reason)
{
	k->num++;
	if (res == KTAP_FAIL)
		k->failed++;
	printf("%s %d %s", res == KTAP_FAIL ? "not ok" : "ok", k->num, name);
	if (res == KTAP_SKIP)
		printf(" # SKIP %s", reason ? reason : "");
	else if (res == KTAP_FAIL && reason && *reason)
		printf(" # %s", reason);
	printf("\n");
	fflush(stdout);
}

/**
 * ktap_exit_code() - exit status for a finished run
 * @k: the printer
 *
 * Return: 0 if nothing failed, 1 otherwise.
 */
int ktap_exit_code(const struct ktap *k)
{
	return k->failed ? 1 : 0;
}
