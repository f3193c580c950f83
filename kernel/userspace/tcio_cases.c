// SPDX-License-Identifier: GPL-2.0
/*
 * Test cases of tcio-host-suite and tcio-guest-suite.
 *
 * Each case opens its own file on the device, so a failing case leaves no
 * stray answer for the next one.  Failures are explained in "# " lines
 * ("expected X, got Y") before the result line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sodium.h>

#include "tcio_cases.h"

/* A case that runs longer than this is reported as timed out. */
#define TCIO_CASE_TIMEOUT_S	180
/* Rounds of seal/unseal per child in the concurrency case. */
#define TCIO_CONC_ROUNDS	6

static const char *watch_name;
static int watch_num;

/**
 * fail() - print a diagnostic and fail
 * @fmt: printf format
 *
 * Return: KTAP_FAIL.
 */
static enum ktap_result __printf(1, 2)
fail(const char *fmt, ...)
{
	char line[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ktap_diag("%s", line);
	return KTAP_FAIL;
}

/**
 * skip() - skip with a reason
 * @s: the suite (holds the reason)
 * @reason: why
 *
 * Return: KTAP_SKIP.
 */
static enum ktap_result skip(struct tcio_suite *s, const char *reason)
{
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	return KTAP_SKIP;
}

/**
 * dev_open() - open the device for one case
 * @s: the suite
 * @flags: extra open flags
 *
 * Return: the fd, or -1 after printing why.
 */
static int dev_open(struct tcio_suite *s, int flags)
{
	int fd = tcio_open(s->device, flags);

	if (fd < 0) {
		ktap_diag("open %s: expected success, got %s", s->device,
			  tcio_errno_name(fd));
		return -1;
	}
	return fd;
}

/**
 * answer_ok() - check an answer's code and status
 * @m: the answer
 * @code: expected req_id
 * @status: expected status
 * @what: what was asked, for the diagnostic
 *
 * Return: true if both match (and a failed answer has no payload).
 */
static bool answer_ok(const struct tcio_msg *m, __u32 code, __u32 status,
		      const char *what)
{
	if (m->hdr.req_id != code) {
		ktap_diag("%s: expected answer code %u, got %u", what, code,
			  m->hdr.req_id);
		return false;
	}
	if (m->hdr.status != status) {
		ktap_diag("%s: expected status %s, got %s (%u)", what,
			  tcio_status_name(status),
			  tcio_status_name(m->hdr.status), m->hdr.status);
		return false;
	}
	if (status != TCIO_STATUS_SUCCESS && m->hdr.req_size) {
		ktap_diag("%s: status %s with a %u-byte payload", what,
			  tcio_status_name(status), m->hdr.req_size);
		return false;
	}
	return true;
}

/**
 * call_ok() - request and check the answer's code and status
 * @fd: the device
 * @code: request code
 * @payload: payload
 * @len: its length
 * @ans_code: expected answer code
 * @status: expected status
 * @m: the answer
 * @what: for the diagnostic
 *
 * Return: true if an answer came and matched.
 */
static bool call_ok(int fd, __u32 code, const void *payload, size_t len,
		    __u32 ans_code, __u32 status, struct tcio_msg *m,
		    const char *what)
{
	int n = tcio_call(fd, code, payload, len, m);

	if (n < 0) {
		ktap_diag("%s: expected an answer, got %s", what,
			  tcio_errno_name(n));
		return false;
	}
	return answer_ok(m, ans_code, status, what);
}

/**
 * all_zero() - whether bytes are all zero
 * @p: bytes
 * @len: how many
 *
 * Return: true if so.
 */
static bool all_zero(const unsigned char *p, size_t len)
{
	return sodium_is_zero(p, len);
}

/**
 * child_read() - read() in a child process, so a read that blocks can be
 * told apart from one that fails
 * @fd: the device (the child shares the open file)
 * @len: buffer length
 * @timeout_s: how long the read may take
 * @err: errno of a failed read
 *
 * Return: bytes read, -1 with *@err set, or -2 if the read blocked.
 */
static int child_read(int fd, size_t len, int timeout_s, int *err)
{
	int pipefd[2], res[2], status;
	static struct tcio_msg m;
	pid_t pid;
	ssize_t n;

	if (pipe(pipefd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		alarm((unsigned int)timeout_s);
		n = read(fd, &m, len);
		res[0] = (int)n;
		res[1] = n < 0 ? errno : 0;
		if (write(pipefd[1], res, sizeof(res)) < 0)
			_exit(2);
		_exit(0);
	}
	close(pipefd[1]);
	*err = 0;
	n = pid < 0 ? -1 : read(pipefd[0], res, sizeof(res));
	close(pipefd[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (n != sizeof(res)) {
		*err = EIO;
		return -2;
	}
	*err = res[1];
	return res[0] < 0 ? -1 : res[0];
}

/* ---- requests 1, 3, 5 ---- */

static enum ktap_result case_policy_key(struct tcio_suite *s)
{
	unsigned char key[32];
	struct tcio_msg m;
	__s32 cookie = tcio_cookie();
	int fd, n, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	n = tcio_send(fd, TCIO_REQ_GET_POLICY_KEY, NULL, 0, cookie);
	if (n) {
		fail("write: expected 20, got %s", tcio_errno_name(n));
		goto out;
	}
	n = tcio_recv(fd, &m);
	if (n < 0) {
		fail("read: expected an answer, got %s", tcio_errno_name(n));
		goto out;
	}
	if (m.hdr.procid != cookie || m.hdr.origprocid != (__s32)getpid()) {
		fail("procid/origprocid: expected %d/%d echoed, got %d/%d",
		     cookie, (int)getpid(), m.hdr.procid, m.hdr.origprocid);
		goto out;
	}
	if (m.hdr.status == TCIO_STATUS_NO_SERVICE) {
		fail("status NO_SERVICE: is tcservice running on the host?");
		goto out;
	}
	if (!answer_ok(&m, TCIO_ANS_GET_POLICY_KEY, TCIO_STATUS_SUCCESS,
		       "get policy key"))
		goto out;
	if (tcio_get_typed(&m, TCIO_BUF_ED25519_PUBKEY, key, sizeof(key))) {
		fail("payload: expected u32 %u | s32 32 | key, got %u bytes",
		     TCIO_BUF_ED25519_PUBKEY, m.hdr.req_size);
		goto out;
	}
	if (all_zero(key, sizeof(key))) {
		fail("policy key is all zero");
		goto out;
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

static enum ktap_result case_os_hash(struct tcio_suite *s)
{
	unsigned char hash[32];
	char hex[65];
	struct tcio_msg m;
	int fd, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	if (!call_ok(fd, TCIO_REQ_GET_OS_HASH, NULL, 0, TCIO_ANS_GET_OS_HASH,
		     TCIO_STATUS_SUCCESS, &m, "get os hash"))
		goto out;
	if (tcio_get_typed(&m, TCIO_BUF_SHA256, hash, sizeof(hash)) ||
	    all_zero(hash, sizeof(hash))) {
		fail("payload: expected a non-zero typed SHA-256");
		goto out;
	}
	tcio_hex(hash, sizeof(hash), hex);
	ktap_diag("os_hash=%s", hex);
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

static enum ktap_result case_os_creds(struct tcio_suite *s)
{
	struct tcio_msg m;
	int fd, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	if (!call_ok(fd, TCIO_REQ_GET_OS_CREDS, NULL, 0,
		     TCIO_ANS_GET_OS_CREDS, TCIO_STATUS_SUCCESS, &m,
		     "get os credentials"))
		goto out;
	if (tcio_get_typed(&m, TCIO_BUF_ED25519_PUBKEY, s->attest_pk,
			   sizeof(s->attest_pk)) ||
	    all_zero(s->attest_pk, sizeof(s->attest_pk))) {
		fail("payload: expected a non-zero typed Ed25519 key");
		goto out;
	}
	s->have_pk = true;
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

/* ---- request 7 ---- */

static enum ktap_result case_prog_hash(struct tcio_suite *s)
{
	unsigned char hash[32], want[32];
	char hex[65], whex[65];
	__u32 st;
	int fd, n, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	n = tcio_prog_hash(fd, 0, hash, &st);
	if (n || st != TCIO_STATUS_SUCCESS) {
		fail("get program hash (pid 0): expected SUCCESS, got %s/%s",
		     tcio_errno_name(n), tcio_status_name(st));
		goto out;
	}
	if (all_zero(hash, sizeof(hash))) {
		fail("program hash is all zero");
		goto out;
	}
	tcio_hex(hash, sizeof(hash), hex);
	/* The runner reads "vtcio: key=value" facts from the guest. */
	if (s->guest)
		ktap_diag("vtcio: program_hash=%s", hex);
	else
		ktap_diag("program_hash=%s", hex);
	memcpy(s->prog_hash, hash, sizeof(hash));
	s->have_hash = true;
	if (s->guest && s->measurement && strcmp(hex, s->measurement)) {
		fail("program hash: expected the measurement %s, got %s",
		     s->measurement, hex);
		goto out;
	}
	if (!s->guest) {
		n = tcio_sha256_file("/proc/self/exe", want);
		tcio_hex(want, sizeof(want), whex);
		if (n || memcmp(hash, want, sizeof(want))) {
			fail("program hash: expected SHA-256 of /proc/self/exe %s, got %s",
			     whex, hex);
			goto out;
		}
		n = tcio_prog_hash(fd, (__s32)getpid(), want, &st);
		if (n || st != TCIO_STATUS_SUCCESS ||
		    memcmp(hash, want, sizeof(want))) {
			fail("program hash by own pid: expected the same hash, got %s/%s",
			     tcio_errno_name(n), tcio_status_name(st));
			goto out;
		}
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

/**
 * dead_pid() - a pid that no longer exists (a reaped child's)
 *
 * Return: the pid, or -1.
 */
static pid_t dead_pid(void)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid;
}

/**
 * start_sleeper() - a child running /bin/sleep, once it has executed it
 * @self: SHA-256 of this program, to tell when the exec happened
 *
 * Return: its pid, or -1.
 */
static pid_t start_sleeper(const unsigned char *self)
{
	unsigned char h[32];
	char path[64];
	pid_t pid;
	int i;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	for (i = 0; i < 200; i++) {
		if (!tcio_sha256_file(path, h) && memcmp(h, self, 32))
			return pid;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static enum ktap_result case_prog_hash_other(struct tcio_suite *s)
{
	unsigned char hash[32], want[32], self[32];
	__u32 st = 0;
	int fd, n, rc = KTAP_FAIL;
	pid_t pid;

	if (!s->guest && !s->root)
		return skip(s, "needs root (see nonroot_denied)");
	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	n = tcio_prog_hash(fd, 1, hash, &st);
	if (s->guest) {
		if (n || st != TCIO_STATUS_DENIED) {
			fail("pid 1 from a guest: expected DENIED, got %s/%s",
			     tcio_errno_name(n), tcio_status_name(st));
			goto out;
		}
		rc = KTAP_PASS;
		goto out;
	}
	if (n || (st != TCIO_STATUS_SUCCESS && st != TCIO_STATUS_FAILED)) {
		fail("pid 1 as root: expected SUCCESS (or FAILED if unreadable), got %s/%s",
		     tcio_errno_name(n), tcio_status_name(st));
		goto out;
	}
	if (tcio_sha256_file("/proc/self/exe", self) ||
	    tcio_sha256_file("/bin/sleep", want)) {
		fail("can not hash /proc/self/exe or /bin/sleep");
		goto out;
	}
	pid = start_sleeper(self);
	if (pid < 0) {
		fail("could not start /bin/sleep");
		goto out;
	}
	n = tcio_prog_hash(fd, pid, hash, &st);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (n || st != TCIO_STATUS_SUCCESS || memcmp(hash, want, 32)) {
		fail("child running /bin/sleep: expected its SHA-256, got %s/%s",
		     tcio_errno_name(n), tcio_status_name(st));
		goto out;
	}
	n = tcio_prog_hash(fd, dead_pid(), hash, &st);
	if (n || st != TCIO_STATUS_FAILED) {
		fail("exited pid: expected FAILED, got %s/%s",
		     tcio_errno_name(n), tcio_status_name(st));
		goto out;
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

/* ---- requests 9, 11 ---- */

static enum ktap_result case_seal_unseal(struct tcio_suite *s)
{
	static const size_t sizes[] = { 0, 1, 64, 1000, 8000 };
	static unsigned char data[8000], blob[TCIO_MAX_PAYLOAD];
	static unsigned char out[TCIO_MAX_PAYLOAD];
	size_t i, bl, ol;
	__u32 st = 0;
	int fd, n, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	randombytes_buf(data, sizeof(data));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		n = tcio_seal(fd, data, sizes[i], blob, sizeof(blob), &bl, &st);
		if (n || st != TCIO_STATUS_SUCCESS) {
			fail("seal %zu bytes: expected SUCCESS, got %s/%s",
			     sizes[i], tcio_errno_name(n),
			     tcio_status_name(st));
			goto out;
		}
		if (bl <= sizes[i]) {
			fail("seal %zu bytes: blob of only %zu bytes",
			     sizes[i], bl);
			goto out;
		}
		n = tcio_unseal(fd, blob, bl, out, sizeof(out), &ol, &st);
		if (n || st != TCIO_STATUS_SUCCESS) {
			fail("unseal %zu bytes: expected SUCCESS, got %s/%s",
			     sizes[i], tcio_errno_name(n),
			     tcio_status_name(st));
			goto out;
		}
		if (ol != sizes[i] || memcmp(out, data, ol)) {
			fail("unseal: expected the %zu bytes sealed, got %zu other bytes",
			     sizes[i], ol);
			goto out;
		}
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

static enum ktap_result case_unseal_tampered(struct tcio_suite *s)
{
	static unsigned char blob[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	size_t bl, ol, i, pos[5];
	__u32 st = 0;
	int fd, n, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	n = tcio_seal(fd, "tamper with me", 14, blob, sizeof(blob), &bl, &st);
	if (n || st != TCIO_STATUS_SUCCESS || bl < 2) {
		fail("seal: expected SUCCESS, got %s/%s", tcio_errno_name(n),
		     tcio_status_name(st));
		goto out;
	}
	pos[0] = 0;
	pos[1] = bl / 4;
	pos[2] = bl / 2;
	pos[3] = bl - 17;
	pos[4] = bl - 1;
	for (i = 0; i < 5; i++) {
		blob[pos[i]] ^= 0x40;
		n = tcio_unseal(fd, blob, bl, out, sizeof(out), &ol, &st);
		blob[pos[i]] ^= 0x40;
		if (n || st != TCIO_STATUS_FAILED) {
			fail("byte %zu of %zu flipped: expected FAILED, got %s/%s",
			     pos[i], bl, tcio_errno_name(n),
			     tcio_status_name(st));
			goto out;
		}
	}
	n = tcio_unseal(fd, blob, bl - 1, out, sizeof(out), &ol, &st);
	if (n || st != TCIO_STATUS_FAILED) {
		fail("truncated blob: expected FAILED, got %s/%s",
		     tcio_errno_name(n), tcio_status_name(st));
		goto out;
	}
	n = tcio_unseal(fd, blob, bl, out, sizeof(out), &ol, &st);
	if (n || st != TCIO_STATUS_SUCCESS) {
		fail("untouched blob: expected SUCCESS, got %s/%s",
		     tcio_errno_name(n), tcio_status_name(st));
		goto out;
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

/**
 * run_other() - run the tcio-other helper with @in on stdin
 * @s: the suite
 * @mode: "seal" or "unseal"
 * @in: its stdin
 * @in_len: length of @in
 * @out: its stdout
 * @cap: room in @out
 * @out_len: length of @out
 *
 * Return: the helper's exit status, or -1.
 */
static int run_other(struct tcio_suite *s, const char *mode,
		     const void *in, size_t in_len, unsigned char *out,
		     size_t cap, size_t *out_len)
{
	int inp[2], outp[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(inp))
		return -1;
	if (pipe(outp)) {
		close(inp[0]);
		close(inp[1]);
		return -1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(inp[0], STDIN_FILENO);
		dup2(outp[1], STDOUT_FILENO);
		close(inp[0]);
		close(inp[1]);
		close(outp[0]);
		close(outp[1]);
		execl(s->other, s->other, "--device", s->device, mode,
		      (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", s->other, strerror(errno));
		_exit(127);
	}
	close(inp[0]);
	close(outp[1]);
	if (pid > 0 && in_len && write(inp[1], in, in_len) != (ssize_t)in_len)
		ktap_diag("could not feed %s", s->other);
	close(inp[1]);
	*out_len = 0;
	while (pid > 0 && *out_len < cap) {
		n = read(outp[0], out + *out_len, cap - *out_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*out_len += (size_t)n;
	}
	close(outp[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static enum ktap_result case_unseal_other_program(struct tcio_suite *s)
{
	static const char secret[] = "sealed by tcio-other";
	static unsigned char blob[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	size_t bl, ol;
	__u32 st = 0;
	int fd, n, rc = KTAP_FAIL;

	if (access(s->other, X_OK))
		return skip(s, "tcio-other helper not found (use --other)");
	n = run_other(s, "seal", secret, strlen(secret), blob, sizeof(blob),
		      &bl);
	if (n != 0 || !bl)
		return fail("tcio-other seal: expected exit 0 and a blob, got exit %d, %zu bytes",
			    n, bl);
	/* Control: the blob is good, for the program that sealed it. */
	n = run_other(s, "unseal", blob, bl, out, sizeof(out), &ol);
	if (n != 0 || ol != strlen(secret) || memcmp(out, secret, ol))
		return fail("tcio-other unseal of its own blob: expected exit 0, got %d",
			    n);
	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	n = tcio_unseal(fd, blob, bl, out, sizeof(out), &ol, &st);
	if (n || st != TCIO_STATUS_DENIED) {
		fail("unseal of tcio-other's blob: expected DENIED, got %s/%s",
		     tcio_errno_name(n), tcio_status_name(st));
		goto out;
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

static enum ktap_result case_write_blob(struct tcio_suite *s)
{
	static const char secret[] = "vtcio: sealed by tcio-host-suite";
	static unsigned char blob[TCIO_MAX_PAYLOAD];
	size_t bl;
	__u32 st = 0;
	int fd, out, n;

	if (!s->write_blob)
		return skip(s, "no --write-blob FILE");
	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	n = tcio_seal(fd, secret, strlen(secret), blob, sizeof(blob), &bl,
		      &st);
	close(fd);
	if (n || st != TCIO_STATUS_SUCCESS)
		return fail("seal: expected SUCCESS, got %s/%s",
			    tcio_errno_name(n), tcio_status_name(st));
	out = open(s->write_blob, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		   0644);
	if (out < 0)
		return fail("%s: %s", s->write_blob, strerror(errno));
	n = write(out, blob, bl) == (ssize_t)bl ? 0 : -1;
	if (close(out) || n)
		return fail("%s: short write", s->write_blob);
	ktap_diag("wrote a %zu-byte blob to %s", bl, s->write_blob);
	return KTAP_PASS;
}

static enum ktap_result case_foreign_blob(struct tcio_suite *s)
{
	static unsigned char blob[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	size_t ol;
	ssize_t bl;
	__u32 st = 0;
	int fd, n;

	if (!s->foreign_blob)
		return skip(s, "no --foreign-blob FILE");
	fd = open(s->foreign_blob, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail("%s: %s", s->foreign_blob, strerror(errno));
	bl = read(fd, blob, sizeof(blob) - 4);
	close(fd);
	if (bl <= 0)
		return fail("%s: empty or unreadable", s->foreign_blob);
	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	n = tcio_unseal(fd, blob, (size_t)bl, out, sizeof(out), &ol, &st);
	close(fd);
	if (n || st != TCIO_STATUS_DENIED)
		return fail("unseal of a blob sealed on the host: expected DENIED, got %s/%s",
			    tcio_errno_name(n), tcio_status_name(st));
	return KTAP_PASS;
}

/* ---- request 13 ---- */

static enum ktap_result case_attest(struct tcio_suite *s)
{
	unsigned char data[48], digest[32];
	crypto_hash_sha256_state hs;
	const unsigned char *p;
	static struct tcio_buf b;
	struct tcio_msg m;
	size_t len;
	int fd, rc = KTAP_FAIL;

	if (!s->have_pk || !s->have_hash)
		return fail("needs the key of get_os_creds and the hash of get_program_hash");
	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	randombytes_buf(data, sizeof(data));
	tcio_buf_init(&b);
	tcio_buf_s32(&b, sizeof(data));
	tcio_buf_bytes(&b, data, sizeof(data));
	if (!call_ok(fd, TCIO_REQ_ATTEST, b.p, b.len, TCIO_ANS_ATTEST,
		     TCIO_STATUS_SUCCESS, &m, "attest"))
		goto out;
	if (tcio_get_sized(&m, &p, &len) ||
	    len != TCIO_SHA256_LEN + TCIO_ED25519_SIG_LEN) {
		fail("attest payload: expected s32 96 | hash | signature, got %u bytes",
		     m.hdr.req_size);
		goto out;
	}
	if (memcmp(p, s->prog_hash, TCIO_SHA256_LEN)) {
		fail("attested hash: expected the program hash of request 7");
		goto out;
	}
	crypto_hash_sha256_init(&hs);
	crypto_hash_sha256_update(&hs, (const unsigned char *)TCIO_ATTEST_PREFIX,
				  strlen(TCIO_ATTEST_PREFIX));
	crypto_hash_sha256_update(&hs, data, sizeof(data));
	crypto_hash_sha256_update(&hs, s->prog_hash, TCIO_SHA256_LEN);
	crypto_hash_sha256_final(&hs, digest);
	if (crypto_sign_verify_detached(p + TCIO_SHA256_LEN, digest,
					sizeof(digest), s->attest_pk)) {
		fail("signature: expected valid under the key of request 5, got invalid");
		goto out;
	}
	digest[5] ^= 1;
	if (!crypto_sign_verify_detached(p + TCIO_SHA256_LEN, digest,
					 sizeof(digest), s->attest_pk)) {
		fail("signature verifies over other data");
		goto out;
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

/* ---- requests 15, 17 ---- */

/**
 * start_payload() - payload of request 15
 * @b: the payload
 * @argv: NULL-terminated arguments
 */
static void start_payload(struct tcio_buf *b, const char *const *argv)
{
	int n = 0;

	while (argv[n])
		n++;
	tcio_buf_init(b);
	tcio_buf_s32(b, n);
	for (n = 0; argv[n]; n++)
		tcio_buf_str(b, argv[n]);
}

/**
 * proc_gone() - wait until a process has terminated
 * @pid: the process
 * @ms: how long to wait
 *
 * Return: true if /proc/@pid vanished or shows a zombie within @ms.
 */
static bool proc_gone(pid_t pid, int ms)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (; ms > 0; ms -= 50) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return true;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			p = strrchr(buf, ')');
			if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
				return true;
		}
		usleep(50000);
	}
	return false;
}

static enum ktap_result case_start_terminate(struct tcio_suite *s)
{
	static const char *const sleep_argv[] = { "/bin/sleep", "30", NULL };
	static const char *const true_argv[] = { "/bin/true", NULL };
	static const char *const rel_argv[] = { "sleep", "1", NULL };
	static const char *const none_argv[] = { "/nonexistent/x", NULL };
	unsigned char hash[32], want[32];
	static struct tcio_buf b;
	struct tcio_msg m;
	__s32 pid = 0, own = (__s32)getpid();
	__u32 st = 0;
	int fd, n, rc = KTAP_FAIL;

	if (!s->guest && !s->root)
		return skip(s, "needs root (see nonroot_denied)");
	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	start_payload(&b, sleep_argv);
	if (s->guest) {
		if (call_ok(fd, TCIO_REQ_START_APP, b.p, b.len,
			    TCIO_ANS_START_APP, TCIO_STATUS_DENIED, &m,
			    "start app from a guest") &&
		    call_ok(fd, TCIO_REQ_TERMINATE_APP, &own, sizeof(own),
			    TCIO_ANS_TERMINATE_APP, TCIO_STATUS_DENIED, &m,
			    "terminate app from a guest"))
			rc = KTAP_PASS;
		goto out;
	}
	if (!call_ok(fd, TCIO_REQ_START_APP, b.p, b.len, TCIO_ANS_START_APP,
		     TCIO_STATUS_SUCCESS, &m, "start /bin/sleep 30"))
		goto out;
	if (tcio_get_s32(&m, &pid) || pid <= 0) {
		fail("start app: expected s32 pid > 0, got %u bytes",
		     m.hdr.req_size);
		goto out;
	}
	ktap_diag("started /bin/sleep as pid %d", pid);
	if (proc_gone(pid, 1)) {
		fail("started pid %d does not run", pid);
		goto out;
	}
	n = tcio_prog_hash(fd, pid, hash, &st);
	if (n || st != TCIO_STATUS_SUCCESS ||
	    tcio_sha256_file(sleep_argv[0], want) ||
	    memcmp(hash, want, sizeof(want))) {
		fail("hash of the started app: expected SHA-256 of %s, got %s/%s",
		     sleep_argv[0], tcio_errno_name(n), tcio_status_name(st));
		goto out;
	}
	if (!call_ok(fd, TCIO_REQ_TERMINATE_APP, &pid, sizeof(pid),
		     TCIO_ANS_TERMINATE_APP, TCIO_STATUS_SUCCESS, &m,
		     "terminate the started app"))
		goto out;
	if (!proc_gone(pid, 5000)) {
		fail("pid %d still runs 5 s after terminate", pid);
		goto out;
	}
	if (!call_ok(fd, TCIO_REQ_TERMINATE_APP, &own, sizeof(own),
		     TCIO_ANS_TERMINATE_APP, TCIO_STATUS_DENIED, &m,
		     "terminate a process the service did not start"))
		goto out;
	start_payload(&b, true_argv);
	if (!call_ok(fd, TCIO_REQ_START_APP, b.p, b.len, TCIO_ANS_START_APP,
		     TCIO_STATUS_SUCCESS, &m, "start /bin/true"))
		goto out;
	start_payload(&b, rel_argv);
	if (!call_ok(fd, TCIO_REQ_START_APP, b.p, b.len, TCIO_ANS_START_APP,
		     TCIO_STATUS_BAD_REQUEST, &m, "start a relative path"))
		goto out;
	start_payload(&b, none_argv);
	if (!call_ok(fd, TCIO_REQ_START_APP, b.p, b.len, TCIO_ANS_START_APP,
		     TCIO_STATUS_FAILED, &m, "start a missing program"))
		goto out;
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

/* ---- request 21 ---- */

/**
 * vm_payload() - payload of request 21
 * @b: the payload
 * @pid: the VMM
 * @nargs: the argument count to claim
 * @kernel: kernel path
 * @initrd: initrd path
 * @cmdline: kernel command line
 */
static void vm_payload(struct tcio_buf *b, __s32 pid, __s32 nargs,
		       const char *kernel, const char *initrd,
		       const char *cmdline)
{
	tcio_buf_init(b);
	tcio_buf_s32(b, pid);
	tcio_buf_s32(b, nargs);
	tcio_buf_str(b, kernel);
	tcio_buf_str(b, initrd);
	tcio_buf_str(b, cmdline);
}

/**
 * make_file() - a temporary file of random bytes
 * @path: template, replaced by the name
 * @len: how many bytes
 * @st: SHA-256 state fed with them
 *
 * Return: 0 or -1.
 */
static int make_file(char *path, size_t len, crypto_hash_sha256_state *st)
{
	unsigned char buf[4096];
	int fd = mkstemp(path);
	size_t n;

	if (fd < 0)
		return -1;
	while (len) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		randombytes_buf(buf, n);
		crypto_hash_sha256_update(st, buf, n);
		if (write(fd, buf, n) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		len -= n;
	}
	return close(fd);
}

static enum ktap_result case_register_vm(struct tcio_suite *s)
{
	static const char cmdline[] = "console=ttyS0 vtcio=suite";
	char kernel[] = "/tmp/tcio-kernel-XXXXXX";
	char initrd[] = "/tmp/tcio-initrd-XXXXXX";
	unsigned char want[32], got[32];
	crypto_hash_sha256_state hs;
	static struct tcio_buf b;
	struct tcio_msg m;
	pid_t vmm = -1;
	int fd, rc = KTAP_FAIL;

	if (!s->guest && !s->root)
		return skip(s, "needs root (see nonroot_denied)");
	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	if (s->guest) {
		vm_payload(&b, 1, 3, "/boot/vmlinuz", "/boot/initrd.img", "");
		if (call_ok(fd, TCIO_REQ_REGISTER_VM, b.p, b.len,
			    TCIO_ANS_REGISTER_VM, TCIO_STATUS_DENIED, &m,
			    "register VM from a guest"))
			rc = KTAP_PASS;
		close(fd);
		return rc;
	}
	crypto_hash_sha256_init(&hs);
	if (make_file(kernel, 200000, &hs) || make_file(initrd, 100000, &hs)) {
		fail("could not write temporary files in /tmp");
		goto out;
	}
	crypto_hash_sha256_update(&hs, (const unsigned char *)cmdline,
				  strlen(cmdline));
	crypto_hash_sha256_final(&hs, want);
	fflush(stdout);
	vmm = fork();
	if (vmm == 0) {
		pause();
		_exit(0);
	}
	vm_payload(&b, vmm, 3, kernel, initrd, cmdline);
	if (!call_ok(fd, TCIO_REQ_REGISTER_VM, b.p, b.len,
		     TCIO_ANS_REGISTER_VM, TCIO_STATUS_SUCCESS, &m,
		     "register VM"))
		goto out;
	if (tcio_get_typed(&m, TCIO_BUF_SHA256, got, sizeof(got)) ||
	    memcmp(got, want, sizeof(want))) {
		fail("measurement: expected SHA-256(kernel | initrd | cmdline)");
		goto out;
	}
	vm_payload(&b, vmm, 2, kernel, initrd, cmdline);
	if (!call_ok(fd, TCIO_REQ_REGISTER_VM, b.p, b.len,
		     TCIO_ANS_REGISTER_VM, TCIO_STATUS_BAD_REQUEST, &m,
		     "register VM with nargs 2"))
		goto out;
	vm_payload(&b, vmm, 3, "tmp/kernel", initrd, cmdline);
	if (!call_ok(fd, TCIO_REQ_REGISTER_VM, b.p, b.len,
		     TCIO_ANS_REGISTER_VM, TCIO_STATUS_BAD_REQUEST, &m,
		     "register VM with a relative kernel path"))
		goto out;
	kill(vmm, SIGKILL);
	waitpid(vmm, NULL, 0);
	vm_payload(&b, vmm, 3, kernel, initrd, cmdline);
	if (!call_ok(fd, TCIO_REQ_REGISTER_VM, b.p, b.len,
		     TCIO_ANS_REGISTER_VM, TCIO_STATUS_FAILED, &m,
		     "register an exited VMM"))
		goto out;
	vmm = -1;
	rc = KTAP_PASS;
out:
	if (vmm > 0) {
		kill(vmm, SIGKILL);
		waitpid(vmm, NULL, 0);
	}
	unlink(kernel);
	unlink(initrd);
	close(fd);
	return rc;
}

/* ---- several clients, several requests ---- */

/**
 * allowed_cpus() - CPUs this process may run on
 * @cpus: filled with their numbers
 * @max: room
 *
 * Return: how many.
 */
static int allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int i, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (i = 0; i < CPU_SETSIZE && n < max; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	return n;
}

/**
 * move_cpu() - pin the calling process to the next allowed CPU
 * @cpus: allowed CPUs
 * @n: how many
 * @cur: index of the current one, advanced
 */
static void move_cpu(const int *cpus, int n, int *cur)
{
	cpu_set_t set;

	if (n < 2)
		return;
	*cur = (*cur + 1) % n;
	CPU_ZERO(&set);
	CPU_SET(cpus[*cur], &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/**
 * conc_child() - one client of the concurrency case
 * @s: the suite
 * @id: the child's number
 * @cpus: allowed CPUs
 * @ncpus: how many
 *
 * Return: exit status: 0 if every round came back right.
 */
static int conc_child(struct tcio_suite *s, int id, const int *cpus,
		      int ncpus)
{
	static unsigned char data[256], blob[TCIO_MAX_PAYLOAD];
	static struct tcio_buf b;
	const unsigned char *p;
	struct tcio_msg m;
	int fd, round, cur = id % (ncpus ? ncpus : 1), n;
	size_t len, dlen;
	__s32 cookie;

	move_cpu(cpus, ncpus, &cur);
	fd = tcio_open(s->device, 0);
	if (fd < 0) {
		ktap_diag("child %d: open: %s", id, tcio_errno_name(fd));
		return 1;
	}
	for (round = 0; round < TCIO_CONC_ROUNDS; round++) {
		dlen = (size_t)snprintf((char *)data, sizeof(data),
					"child %d round %d ", id, round);
		randombytes_buf(data + dlen, 64);
		dlen += 64;
		tcio_buf_init(&b);
		tcio_buf_s32(&b, (__s32)dlen);
		tcio_buf_bytes(&b, data, dlen);
		cookie = tcio_cookie();
		n = tcio_send(fd, TCIO_REQ_SEAL, b.p, b.len, cookie);
		move_cpu(cpus, ncpus, &cur);
		if (!n)
			n = tcio_recv_cookie(fd, cookie, &m);
		if (n < 0 || m.hdr.status != TCIO_STATUS_SUCCESS ||
		    tcio_get_sized(&m, &p, &len)) {
			ktap_diag("child %d round %d: seal: expected SUCCESS, got %s/%s",
				  id, round, tcio_errno_name(n),
				  tcio_status_name(m.hdr.status));
			return 1;
		}
		memcpy(blob, p, len);
		tcio_buf_init(&b);
		tcio_buf_s32(&b, (__s32)len);
		tcio_buf_bytes(&b, blob, len);
		cookie = tcio_cookie();
		n = tcio_send(fd, TCIO_REQ_UNSEAL, b.p, b.len, cookie);
		move_cpu(cpus, ncpus, &cur);
		if (!n)
			n = tcio_recv_cookie(fd, cookie, &m);
		if (n < 0 || m.hdr.status != TCIO_STATUS_SUCCESS ||
		    tcio_get_sized(&m, &p, &len) || len != dlen ||
		    memcmp(p, data, len)) {
			ktap_diag("child %d round %d: unseal: expected our data, got %s/%s",
				  id, round, tcio_errno_name(n),
				  tcio_status_name(m.hdr.status));
			return 1;
		}
	}
	close(fd);
	return 0;
}

static enum ktap_result case_concurrent(struct tcio_suite *s)
{
	int cpus[CPU_SETSIZE], ncpus, nchild, i, status, bad = 0;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t pids[256];

	ncpus = allowed_cpus(cpus, CPU_SETSIZE);
	nchild = online < 2 ? 2 : (online > 256 ? 256 : (int)online);
	ktap_diag("%d clients, %d rounds each, moving between %d CPUs",
		  nchild, TCIO_CONC_ROUNDS, ncpus);
	fflush(stdout);
	for (i = 0; i < nchild; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(conc_child(s, i, cpus, ncpus));
		if (pids[i] < 0) {
			bad++;
			break;
		}
	}
	nchild = i;
	for (i = 0; i < nchild; i++) {
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			ktap_diag("child %d: expected exit 0, got status 0x%x",
				  i, status);
			bad++;
		}
	}
	return bad ? KTAP_FAIL : KTAP_PASS;
}

static enum ktap_result case_outstanding(struct tcio_suite *s)
{
	enum { N = 8 };
	static unsigned char data[N][40], blobs[N][256];
	static struct tcio_buf b;
	size_t blen[N], len;
	__s32 cookies[N];
	const unsigned char *p;
	struct tcio_msg m;
	int fd, i, j, n, seen = 0, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	/* Eight seals of distinct data, all written before any read. */
	for (i = 0; i < N; i++) {
		randombytes_buf(data[i], sizeof(data[i]));
		tcio_buf_init(&b);
		tcio_buf_s32(&b, sizeof(data[i]));
		tcio_buf_bytes(&b, data[i], sizeof(data[i]));
		cookies[i] = tcio_cookie();
		n = tcio_send(fd, TCIO_REQ_SEAL, b.p, b.len, cookies[i]);
		if (n) {
			fail("write %d: expected success, got %s", i,
			     tcio_errno_name(n));
			goto out;
		}
	}
	for (j = 0; j < N; j++) {
		n = tcio_recv(fd, &m);
		if (n < 0) {
			fail("read %d: expected an answer, got %s", j,
			     tcio_errno_name(n));
			goto out;
		}
		for (i = 0; i < N && cookies[i] != m.hdr.procid; i++)
			;
		if (i == N || (seen & (1 << i))) {
			fail("answer with cookie %d: expected one of ours, once",
			     m.hdr.procid);
			goto out;
		}
		seen |= 1 << i;
		if (!answer_ok(&m, TCIO_ANS_SEAL, TCIO_STATUS_SUCCESS, "seal") ||
		    tcio_get_sized(&m, &p, &len) || len > sizeof(blobs[i])) {
			fail("seal answer %d malformed", i);
			goto out;
		}
		memcpy(blobs[i], p, len);
		blen[i] = len;
	}
	/* Now all the unseals at once; each must give its own data. */
	for (i = 0; i < N; i++) {
		tcio_buf_init(&b);
		tcio_buf_s32(&b, (__s32)blen[i]);
		tcio_buf_bytes(&b, blobs[i], blen[i]);
		cookies[i] = tcio_cookie();
		if (tcio_send(fd, TCIO_REQ_UNSEAL, b.p, b.len, cookies[i])) {
			fail("unseal write %d failed", i);
			goto out;
		}
	}
	for (j = 0; j < N; j++) {
		n = tcio_recv(fd, &m);
		for (i = 0; n >= 0 && i < N && cookies[i] != m.hdr.procid; i++)
			;
		if (n < 0 || i == N) {
			fail("unseal read %d: expected an answer with one of our cookies, got %s",
			     j, tcio_errno_name(n));
			goto out;
		}
		if (!answer_ok(&m, TCIO_ANS_UNSEAL, TCIO_STATUS_SUCCESS,
			       "unseal") ||
		    tcio_get_sized(&m, &p, &len) || len != sizeof(data[i]) ||
		    memcmp(p, data[i], len)) {
			fail("answer with cookie %d: expected the data of request %d",
			     m.hdr.procid, i);
			goto out;
		}
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

static enum ktap_result case_inflight_limit(struct tcio_suite *s)
{
	struct tcio_msg m;
	int fd, i, n, err, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	for (i = 0; i < TCIO_MAX_INFLIGHT; i++) {
		n = tcio_send(fd, TCIO_REQ_GET_OS_HASH, NULL, 0, 1000 + i);
		if (n) {
			fail("write %d of %d: expected success, got %s", i + 1,
			     TCIO_MAX_INFLIGHT, tcio_errno_name(n));
			goto drain;
		}
	}
	n = tcio_send(fd, TCIO_REQ_GET_OS_HASH, NULL, 0, 2000);
	if (n != -EAGAIN) {
		fail("write %d: expected EAGAIN, got %s",
		     TCIO_MAX_INFLIGHT + 1, tcio_errno_name(n));
		if (!n)
			i++;
		goto drain;
	}
	rc = KTAP_PASS;
drain:
	for (; i > 0; i--) {
		n = tcio_recv(fd, &m);
		if (n < 0) {
			rc = fail("drain: expected %d more answers, got %s", i,
				  tcio_errno_name(n));
			break;
		}
	}
	n = child_read(fd, sizeof(m), 5, &err);
	if (rc == KTAP_PASS && (n != -1 || err != ENOMSG))
		rc = fail("read after draining: expected ENOMSG, got %s",
			  n == -2 ? "a blocked read" :
			  n >= 0 ? "an answer" : tcio_errno_name(err));
	close(fd);
	return rc;
}

/* ---- write() errors ---- */

static enum ktap_result case_undersized(struct tcio_suite *s)
{
	static const size_t lens[] = { 0, 1, 12, 19 };
	struct tcio_hdr h = { .req_id = TCIO_REQ_GET_OS_HASH };
	size_t i;
	int fd, n, rc = KTAP_PASS;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		n = tcio_write_raw(fd, &h, lens[i]);
		if (n != -EINVAL)
			rc = fail("write of %zu bytes: expected EINVAL, got %s",
				  lens[i], tcio_errno_name(n));
	}
	close(fd);
	return rc;
}

static enum ktap_result case_oversized(struct tcio_suite *s)
{
	static unsigned char buf[2 * TCIO_MAX_MSG];
	static const size_t lens[] = { TCIO_MAX_MSG + 1, 2 * TCIO_MAX_MSG };
	struct tcio_hdr h = { .req_id = 999 };
	struct tcio_msg m;
	size_t i;
	int fd, n, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		h.req_size = (__u32)(lens[i] - sizeof(h));
		memcpy(buf, &h, sizeof(h));
		n = tcio_write_raw(fd, buf, lens[i]);
		if (n != -EMSGSIZE) {
			fail("write of %zu bytes: expected EMSGSIZE, got %s",
			     lens[i], tcio_errno_name(n));
			goto out;
		}
	}
	/* Exactly TCIO_MAX_MSG is accepted (and 999 rejected as a code). */
	h.req_size = TCIO_MAX_MSG - sizeof(h);
	h.procid = tcio_cookie();
	h.origprocid = (__s32)getpid();
	memcpy(buf, &h, sizeof(h));
	n = tcio_write_raw(fd, buf, TCIO_MAX_MSG);
	if (n) {
		fail("write of %d bytes: expected success, got %s",
		     TCIO_MAX_MSG, tcio_errno_name(n));
		goto out;
	}
	n = tcio_recv_cookie(fd, h.procid, &m);
	if (n < 0) {
		fail("answer to a %d-byte message: expected one, got %s",
		     TCIO_MAX_MSG, tcio_errno_name(n));
		goto out;
	}
	if (!answer_ok(&m, 999, TCIO_STATUS_BAD_REQUEST, "code 999, 8192 bytes"))
		goto out;
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

static enum ktap_result case_req_size_mismatch(struct tcio_suite *s)
{
	static const __u32 sizes[] = { 0, 3, 5, 8, 0xffffffff };
	unsigned char buf[24] = { 0 };
	struct tcio_hdr h = { .req_id = TCIO_REQ_GET_PROG_HASH };
	size_t i;
	int fd, n, rc = KTAP_PASS;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		h.req_size = sizes[i];
		memcpy(buf, &h, sizeof(h));
		n = tcio_write_raw(fd, buf, sizeof(buf));
		if (n != -EINVAL)
			rc = fail("24-byte write with req_size %u: expected EINVAL, got %s",
				  sizes[i], tcio_errno_name(n));
	}
	close(fd);
	return rc;
}

static enum ktap_result case_bad_payload(struct tcio_suite *s)
{
	struct tcio_msg m;
	static struct tcio_buf b;
	__s32 pid = 0;
	int fd, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	tcio_buf_init(&b);
	tcio_buf_s32(&b, 100);
	tcio_buf_bytes(&b, "abcd", 4);
	if (!call_ok(fd, TCIO_REQ_SEAL, b.p, b.len, TCIO_ANS_SEAL,
		     TCIO_STATUS_BAD_REQUEST, &m, "seal, size 100 with 4 bytes"))
		goto out;
	tcio_buf_init(&b);
	tcio_buf_s32(&b, -1);
	if (!call_ok(fd, TCIO_REQ_UNSEAL, b.p, b.len, TCIO_ANS_UNSEAL,
		     TCIO_STATUS_BAD_REQUEST, &m, "unseal, size -1"))
		goto out;
	if (!call_ok(fd, TCIO_REQ_ATTEST, NULL, 0, TCIO_ANS_ATTEST,
		     TCIO_STATUS_BAD_REQUEST, &m, "attest, empty payload"))
		goto out;
	if (!call_ok(fd, TCIO_REQ_GET_PROG_HASH, &pid, 2,
		     TCIO_ANS_GET_PROG_HASH, TCIO_STATUS_BAD_REQUEST, &m,
		     "program hash, 2-byte payload"))
		goto out;
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

static enum ktap_result case_rejected_codes(struct tcio_suite *s)
{
	static const struct {
		__u32 code;
		__u32 status;
	} codes[] = {
		{ 999, TCIO_STATUS_BAD_REQUEST },
		{ 0, TCIO_STATUS_BAD_REQUEST },
		{ 25, TCIO_STATUS_BAD_REQUEST },
		{ TCIO_ANS_ECHO, TCIO_STATUS_DENIED },
		{ TCIO_ANS_GET_POLICY_KEY, TCIO_STATUS_DENIED },
		{ TCIO_SVC_HELLO, TCIO_STATUS_DENIED },
		{ TCIO_SVC_TERMINATE, TCIO_STATUS_DENIED },
	};
	struct tcio_msg m;
	char what[48];
	size_t i;
	int fd, rc = KTAP_PASS;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		snprintf(what, sizeof(what), "code %u", codes[i].code);
		/* Answered with the code unchanged. */
		if (!call_ok(fd, codes[i].code, NULL, 0, codes[i].code,
			     codes[i].status, &m, what))
			rc = KTAP_FAIL;
	}
	close(fd);
	return rc;
}

/* ---- read() and poll() ---- */

static enum ktap_result case_read_too_small(struct tcio_suite *s)
{
	static const size_t small[] = { 1, 19, 20, 59 };
	__s32 cookie = tcio_cookie();
	struct tcio_msg m;
	size_t i;
	ssize_t n;
	int fd, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	/* The answer to request 1 is 20 + 40 = 60 bytes. */
	if (tcio_send(fd, TCIO_REQ_GET_POLICY_KEY, NULL, 0, cookie) ||
	    tcio_wait(fd, TCIO_ANSWER_TIMEOUT_MS)) {
		fail("no answer to get policy key");
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(small); i++) {
		n = read(fd, &m, small[i]);
		if (n != -1 || errno != EMSGSIZE) {
			fail("read of %zu bytes: expected EMSGSIZE, got %s",
			     small[i], n < 0 ? tcio_errno_name(errno) :
			     "data");
			goto out;
		}
	}
	n = tcio_recv_cookie(fd, cookie, &m);
	if (n != 60 || !answer_ok(&m, TCIO_ANS_GET_POLICY_KEY,
				  TCIO_STATUS_SUCCESS, "kept answer")) {
		fail("read after EMSGSIZE: expected the 60-byte answer, got %s",
		     n < 0 ? tcio_errno_name((int)n) : "another length");
		goto out;
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

static enum ktap_result case_nonblock(struct tcio_suite *s)
{
	enum { N = 32 };
	static unsigned char data[4000];
	static struct tcio_buf b;
	struct tcio_msg m;
	int fd, i, got = 0, eagain = 0, n, rc = KTAP_FAIL;

	fd = dev_open(s, O_NONBLOCK);
	if (fd < 0)
		return KTAP_FAIL;
	randombytes_buf(data, sizeof(data));
	tcio_buf_init(&b);
	tcio_buf_s32(&b, sizeof(data));
	tcio_buf_bytes(&b, data, sizeof(data));
	for (i = 0; i < N; i++) {
		n = tcio_send(fd, TCIO_REQ_SEAL, b.p, b.len, tcio_cookie());
		if (n) {
			fail("write %d: expected success, got %s", i,
			     tcio_errno_name(n));
			goto out;
		}
	}
	/* Read without waiting; the service can not keep up every time. */
	while (got < N) {
		n = (int)read(fd, &m, sizeof(m));
		if (n >= 0) {
			got++;
			continue;
		}
		if (errno != EAGAIN) {
			fail("non-blocking read: expected an answer or EAGAIN, got %s",
			     tcio_errno_name(errno));
			goto out;
		}
		eagain++;
		if (tcio_wait(fd, TCIO_ANSWER_TIMEOUT_MS)) {
			fail("poll after EAGAIN: expected POLLIN in time");
			goto out;
		}
	}
	if (got != N) {
		fail("expected %d answers, got %d", N, got);
		goto out;
	}
	n = (int)read(fd, &m, sizeof(m));
	if (n != -1 || errno != ENOMSG) {
		fail("non-blocking read with nothing in flight: expected ENOMSG, got %s",
		     n < 0 ? tcio_errno_name(errno) : "an answer");
		goto out;
	}
	if (!eagain) {
		rc = skip(s, "every answer was ready before its read (no EAGAIN seen)");
		goto out;
	}
	ktap_diag("EAGAIN seen %d times", eagain);
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

static enum ktap_result case_poll(struct tcio_suite *s)
{
	struct pollfd p;
	struct tcio_msg m;
	__s32 cookie = tcio_cookie();
	int fd, n, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	if (tcio_send(fd, TCIO_REQ_GET_OS_CREDS, NULL, 0, cookie)) {
		fail("write failed");
		goto out;
	}
	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	n = poll(&p, 1, TCIO_ANSWER_TIMEOUT_MS);
	if (n != 1 || !(p.revents & POLLIN)) {
		fail("poll with an answer due: expected POLLIN, got %d, revents 0x%x",
		     n, p.revents);
		goto out;
	}
	n = tcio_recv_cookie(fd, cookie, &m);
	if (n < 0) {
		fail("read after POLLIN: expected the answer, got %s",
		     tcio_errno_name(n));
		goto out;
	}
	p.revents = 0;
	n = poll(&p, 1, 0);
	if (n < 0 || (p.revents & POLLIN)) {
		fail("poll with nothing queued: expected no POLLIN, got revents 0x%x",
		     p.revents);
		goto out;
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

static enum ktap_result case_read_nothing(struct tcio_suite *s)
{
	struct tcio_msg m;
	int fd, n, err, rc = KTAP_FAIL;

	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	n = child_read(fd, sizeof(m), 5, &err);
	if (n != -1 || err != ENOMSG) {
		fail("read on a fresh file: expected ENOMSG, got %s",
		     n == -2 ? "a read that blocked" :
		     n >= 0 ? "data" : tcio_errno_name(err));
		goto out;
	}
	if (tcio_call(fd, TCIO_REQ_GET_OS_HASH, NULL, 0, &m) < 0) {
		fail("get os hash failed");
		goto out;
	}
	n = child_read(fd, sizeof(m), 5, &err);
	if (n != -1 || err != ENOMSG) {
		fail("read after the only answer: expected ENOMSG, got %s",
		     n == -2 ? "a read that blocked" :
		     n >= 0 ? "data" : tcio_errno_name(err));
		goto out;
	}
	rc = KTAP_PASS;
out:
	close(fd);
	return rc;
}

/* ---- host only: the service ioctl, unprivileged callers ---- */

static enum ktap_result case_register_busy(struct tcio_suite *s)
{
	int fd, n;

	if (!s->root)
		return skip(s, "needs root");
	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	n = ioctl(fd, TCIODD_IOC_REGISTER_SERVICE) ? -errno : 0;
	close(fd);
	if (n != -EBUSY)
		return fail("register as service while tcservice runs: expected EBUSY, got %s",
			    tcio_errno_name(n));
	return KTAP_PASS;
}

/**
 * nonroot_checks() - in a child that dropped to uid 65534
 * @s: the suite
 * @rootfd: a file opened before dropping root
 *
 * Return: exit status: the number of failed checks.
 */
static int nonroot_checks(struct tcio_suite *s, int rootfd)
{
	static const char *const argv[] = { "/bin/true", NULL };
	static struct tcio_buf b;
	struct tcio_msg m;
	__s32 pid = 1;
	int fd, bad = 0;

	if (ioctl(rootfd, TCIODD_IOC_REGISTER_SERVICE) == 0 || errno != EPERM) {
		ktap_diag("register as service as uid 65534: expected EPERM, got %s",
			  tcio_errno_name(errno));
		bad++;
	}
	fd = tcio_open(s->device, 0);
	if (fd < 0) {
		ktap_diag("uid 65534 can not open %s (%s): privileged requests not checked",
			  s->device, tcio_errno_name(fd));
		return bad;
	}
	if (!call_ok(fd, TCIO_REQ_GET_PROG_HASH, &pid, sizeof(pid),
		     TCIO_ANS_GET_PROG_HASH, TCIO_STATUS_DENIED, &m,
		     "uid 65534: program hash of pid 1"))
		bad++;
	start_payload(&b, argv);
	if (!call_ok(fd, TCIO_REQ_START_APP, b.p, b.len, TCIO_ANS_START_APP,
		     TCIO_STATUS_DENIED, &m, "uid 65534: start app"))
		bad++;
	if (!call_ok(fd, TCIO_REQ_TERMINATE_APP, &pid, sizeof(pid),
		     TCIO_ANS_TERMINATE_APP, TCIO_STATUS_DENIED, &m,
		     "uid 65534: terminate app"))
		bad++;
	vm_payload(&b, (__s32)getpid(), 3, "/proc/self/exe", "/proc/self/exe",
		   "");
	if (!call_ok(fd, TCIO_REQ_REGISTER_VM, b.p, b.len,
		     TCIO_ANS_REGISTER_VM, TCIO_STATUS_DENIED, &m,
		     "uid 65534: register VM"))
		bad++;
	pid = 0;
	if (!call_ok(fd, TCIO_REQ_GET_PROG_HASH, &pid, sizeof(pid),
		     TCIO_ANS_GET_PROG_HASH, TCIO_STATUS_SUCCESS, &m,
		     "uid 65534: own program hash"))
		bad++;
	close(fd);
	return bad;
}

static enum ktap_result case_nonroot(struct tcio_suite *s)
{
	int fd, status;
	pid_t pid;

	if (!s->root)
		return skip(s, "needs root to drop to uid 65534");
	fd = dev_open(s, 0);
	if (fd < 0)
		return KTAP_FAIL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
			ktap_diag("could not drop to uid 65534: %s",
				  strerror(errno));
			_exit(100);
		}
		_exit(nonroot_checks(s, fd));
	}
	close(fd);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return fail("fork failed");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail("uid 65534: expected every check to pass, got status 0x%x",
			    status);
	return KTAP_PASS;
}

/**
 * service_pid() - the pid of the running tcservice
 *
 * Return: its pid, or -1 when /proc shows none.
 */
static pid_t service_pid(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = -1;

	if (!d)
		return -1;
	while (found < 0 && (e = readdir(d))) {
		char path[64], comm[32];
		pid_t pid = (pid_t)atoi(e->d_name);
		FILE *f;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "tcservice\n"))
			found = pid;
		fclose(f);
	}
	closedir(d);
	return found;
}

/**
 * stale_after() - a child asks for its own program hash, then exec's
 * /bin/sleep or exits, while tcservice is stopped
 * @s: the suite
 * @svc: tcservice's pid
 * @exec: exec /bin/sleep (true) or exit (false)
 *
 * The child shares the suite's file, so the suite reads the answer: it
 * must be TCIO_STATUS_STALE, never the hash of the program that took the
 * writer's place (sleep, or whichever process gets the pid).
 *
 * Return: true if the answer is TCIO_STATUS_STALE.
 */
static bool stale_after(struct tcio_suite *s, pid_t svc, bool exec)
{
	const char *what = exec ? "program hash asked before an exec" :
				  "program hash asked before an exit";
	int fd, sync[2], status = 0, n = -1;
	bool ok = false, stopped;
	struct tcio_msg m;
	__s32 self = 0;
	pid_t child;
	char c;

	fd = dev_open(s, 0);
	if (fd < 0)
		return false;
	if (pipe2(sync, O_CLOEXEC)) {
		ktap_diag("pipe: %s", strerror(errno));
		close(fd);
		return false;
	}
	stopped = kill(svc, SIGSTOP) == 0;
	if (!stopped)
		ktap_diag("SIGSTOP tcservice (pid %d): %s", (int)svc,
			  strerror(errno));
	fflush(stdout);
	child = stopped ? fork() : -1;
	if (child == 0) {
		close(sync[0]);
		if (tcio_send(fd, TCIO_REQ_GET_PROG_HASH, &self, sizeof(self),
			      tcio_cookie()) < 0)
			_exit(1);
		if (exec)
			execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(exec ? 2 : 0);
	}
	close(sync[1]);
	/* End of file once the child has exec'd (close-on-exec) or exited. */
	if (child > 0)
		n = read(sync[0], &c, 1);
	if (child > 0 && !exec)
		waitpid(child, &status, 0);
	if (stopped)
		kill(svc, SIGCONT);
	close(sync[0]);
	if (child < 0) {
		if (stopped)
			ktap_diag("fork: %s", strerror(errno));
		goto out;
	}
	if (n != 0) {
		ktap_diag("%s: the child wrote to its sync pipe", what);
		goto out;
	}
	if (exec && waitpid(child, &status, WNOHANG) != 0) {
		ktap_diag("%s: the child ended (status 0x%x) instead of exec'ing /bin/sleep",
			  what, status);
		child = 0;
		goto out;
	}
	if (tcio_wait(fd, 10000) < 0 || tcio_recv(fd, &m) < 0) {
		ktap_diag("%s: no answer within 10 s", what);
		goto out;
	}
	ok = answer_ok(&m, TCIO_ANS_GET_PROG_HASH, TCIO_STATUS_STALE, what);
out:
	if (exec && child > 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}
	close(fd);
	return ok;
}

static enum ktap_result case_stale_caller(struct tcio_suite *s)
{
	pid_t svc;
	bool ok;

	if (!s->root)
		return skip(s, "needs root to stop tcservice");
	svc = service_pid();
	if (svc < 0)
		return skip(s, "no tcservice process in /proc");
	ok = stale_after(s, svc, true);
	if (!stale_after(s, svc, false))
		ok = false;
	return ok ? KTAP_PASS : KTAP_FAIL;
}

static const struct tcio_case cases[] = {
	{ "get_policy_key", case_policy_key, TCIO_ON_BOTH },
	{ "get_os_hash", case_os_hash, TCIO_ON_BOTH },
	{ "get_os_creds", case_os_creds, TCIO_ON_BOTH },
	{ "get_program_hash", case_prog_hash, TCIO_ON_BOTH },
	{ "get_program_hash_other_pid", case_prog_hash_other, TCIO_ON_BOTH },
	{ "seal_unseal_round_trip", case_seal_unseal, TCIO_ON_BOTH },
	{ "unseal_tampered_blob", case_unseal_tampered, TCIO_ON_BOTH },
	{ "unseal_other_program_blob", case_unseal_other_program,
	  TCIO_ON_HOST },
	{ "write_blob_for_guest", case_write_blob, TCIO_ON_HOST },
	{ "unseal_foreign_blob", case_foreign_blob, TCIO_ON_GUEST },
	{ "attest_verified", case_attest, TCIO_ON_BOTH },
	{ "start_terminate_app", case_start_terminate, TCIO_ON_BOTH },
	{ "register_vm", case_register_vm, TCIO_ON_BOTH },
	{ "concurrent_clients", case_concurrent, TCIO_ON_BOTH },
	{ "outstanding_matched_by_cookie", case_outstanding, TCIO_ON_BOTH },
	{ "inflight_limit", case_inflight_limit, TCIO_ON_BOTH },
	{ "write_undersized", case_undersized, TCIO_ON_BOTH },
	{ "write_oversized", case_oversized, TCIO_ON_BOTH },
	{ "write_req_size_mismatch", case_req_size_mismatch, TCIO_ON_BOTH },
	{ "inconsistent_payload", case_bad_payload, TCIO_ON_BOTH },
	{ "unknown_and_service_codes", case_rejected_codes, TCIO_ON_BOTH },
	{ "read_too_small", case_read_too_small, TCIO_ON_BOTH },
	{ "read_nonblock", case_nonblock, TCIO_ON_BOTH },
	{ "poll_readable", case_poll, TCIO_ON_BOTH },
	{ "read_nothing_outstanding", case_read_nothing, TCIO_ON_BOTH },
	{ "register_service_busy", case_register_busy, TCIO_ON_HOST },
	{ "nonroot_denied", case_nonroot, TCIO_ON_HOST },
	{ "stale_caller", case_stale_caller, TCIO_ON_HOST },
};

/**
 * tcio_count_cases() - number of cases that run on @where
 * @where: TCIO_ON_HOST or TCIO_ON_GUEST
 *
 * Return: the count.
 */
int tcio_count_cases(unsigned int where)
{
	size_t i;
	int n = 0;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		if (cases[i].where & where)
			n++;
	return n;
}

/**
 * tcio_watchdog() - SIGALRM: the running case took too long
 * @sig: SIGALRM
 *
 * Reports the case as failed and ends the run; the plan then shows the
 * cases that did not run.
 */
static void tcio_watchdog(int sig)
{
	char line[256];
	int n;

	(void)sig;
	n = snprintf(line, sizeof(line),
		     "# timeout after %d s\nnot ok %d %s # timeout\n",
		     TCIO_CASE_TIMEOUT_S, watch_num,
		     watch_name ? watch_name : "?");
	if (n > 0 && write(STDOUT_FILENO, line, (size_t)n) < 0)
		_exit(2);
	_exit(1);
}

/**
 * tcio_run_cases() - run the cases for @where, printing their results
 * @s: the suite
 * @k: the KTAP printer (its plan already printed)
 * @where: TCIO_ON_HOST or TCIO_ON_GUEST
 */
void tcio_run_cases(struct tcio_suite *s, struct ktap *k,
		    unsigned int where)
{
	enum ktap_result res;
	size_t i;

	signal(SIGALRM, tcio_watchdog);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!(cases[i].where & where))
			continue;
		watch_name = cases[i].name;
		watch_num = k->num + 1;
		s->reason[0] = 0;
		alarm(TCIO_CASE_TIMEOUT_S);
		res = cases[i].run(s);
		alarm(0);
		ktap_result(k, res, cases[i].name, s->reason);
	}
}
