// SPDX-License-Identifier: GPL-2.0
/*
 * tcio-hostile: the client side of the hostile-guest scenarios
 * (guest-images/<image>/scenarios/).  Each mode prints one KTAP version 1
 * document; modes that take part in a scenario step by step talk to the
 * host's scenario script over a control line (--ctl, a serial port in the
 * guest): one word and its arguments per line.
 *
 *   usermode            hypercalls made from guest user mode
 *   hold N A P          open N channels; on each queue A answers and leave
 *                       P requests outstanding; say "held"; then wait to
 *                       be killed (closing them) or for the guest to die
 *   churn N             open and close the device N times
 *   pair                two guests: exchange blobs and identities with the
 *                       peer (through the host), then try to pass as it
 *   service-kill        requests across a kill and a restart of tcService
 *   inflight N STATUS   N requests whose answers must carry STATUS
 *   take-slot           as uid 65534, try to become the service
 *
 * Exit status: 0 if every test passed, 1 otherwise, 2 for bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <cpuid.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sodium.h>

#include "tcio_client.h"

/* How long a step waits for the host's scenario script. */
#define HOSTILE_CTL_TIMEOUT_S	300
/* How long an answer may take before the caller counts as hung. */
#define HOSTILE_ANSWER_TIMEOUT_MS	60000
/* Longest control line. */
#define HOSTILE_CTL_LINE	4096
/* KVM's answer to a hypercall from user mode (-KVM_EPERM). */
#define HOSTILE_KVM_EPERM	(-1L)
/* Requests of each kind in the "answers not crossed" flood of pair. */
#define HOSTILE_FLOOD_FDS	4
#define HOSTILE_FLOOD_REQS	16

static const char *device = TCIO_GUEST_DEVICE;
static int ctl_fd = -1;

/**
 * now_ms() - a monotonic clock
 *
 * Return: milliseconds.
 */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/**
 * ctl_open() - open the control line
 * @path: a serial port (made raw, no echo) or a pipe
 *
 * Return: 0 or -errno.
 */
static int ctl_open(const char *path)
{
	struct termios t;

	ctl_fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (ctl_fd < 0)
		return -errno;
	if (isatty(ctl_fd) && !tcgetattr(ctl_fd, &t)) {
		cfmakeraw(&t);
		tcsetattr(ctl_fd, TCSANOW, &t);
	}
	return 0;
}

/**
 * ctl_say() - send one line to the host's scenario script
 * @fmt: printf format, without the newline
 */
static void __printf(1, 2) ctl_say(const char *fmt, ...)
{
	char line[HOSTILE_CTL_LINE];
	va_list ap;
	int n;

	if (ctl_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(ctl_fd, line, n) != n)
		ktap_diag("control line: short write");
}

/**
 * ctl_expect() - wait for a line from the host that starts with @word
 * @word: the command word
 * @rest: the rest of the line (after the word and one space)
 * @cap: room in @rest
 *
 * Reads one byte at a time, so nothing after the line is taken from the
 * next reader of the control line.  Other lines are reported and skipped.
 *
 * Return: 0, -ETIMEDOUT after HOSTILE_CTL_TIMEOUT_S, or -errno.
 */
static int ctl_expect(const char *word, char *rest, size_t cap)
{
	long long end = now_ms() + HOSTILE_CTL_TIMEOUT_S * 1000LL;
	static char line[HOSTILE_CTL_LINE];
	size_t len = 0, wl = strlen(word);
	struct pollfd p = { .fd = ctl_fd, .events = POLLIN };
	char c;
	int n;

	if (ctl_fd < 0)
		return -ENOTCONN;
	for (;;) {
		long long left = end - now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			continue;
		n = read(ctl_fd, &c, 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		if (c == '\r')
			continue;
		if (c != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = c;
			continue;
		}
		line[len] = 0;
		len = 0;
		if (!strncmp(line, word, wl) &&
		    (line[wl] == 0 || line[wl] == ' ')) {
			snprintf(rest, cap, "%s", line[wl] ? line + wl + 1 : "");
			return 0;
		}
		ktap_diag("control line: expected \"%s\", skipped \"%.60s\"",
			  word, line);
	}
}

/**
 * open_device() - open the device, telling whether the host supports it
 * @k: the KTAP printer (its plan printed); on EOPNOTSUPP the run's tests
 *     are skipped
 * @plan: the number of tests, to skip them all
 *
 * Return: the fd, or -1 when the caller should stop (exit status in
 * @k.failed: 0 for a skip).
 */
static int open_device(struct ktap *k, int plan)
{
	int fd = tcio_open(device, 0), i;

	if (fd == -EOPNOTSUPP) {
		ktap_diag("vtcio: support=unsupported errno=EOPNOTSUPP");
		for (i = 0; i < plan; i++)
			ktap_result(k, KTAP_SKIP, "not_run",
				    "host does not support tcioDD");
		return -1;
	}
	if (fd < 0) {
		ktap_diag("open %s: expected success, got %s", device,
			  tcio_errno_name(fd));
		for (i = 0; i < plan; i++)
			ktap_result(k, KTAP_FAIL, "not_run", "open failed");
		return -1;
	}
	ktap_diag("vtcio: support=supported");
	return fd;
}

/* ---- usermode ---- */

/**
 * struct um_call - a hypercall made from user mode
 * @nr: the number
 * @what: its name
 */
struct um_call {
	unsigned long nr;
	const char *what;
};

static const struct um_call um_calls[] = {
	{ KVM_HC_TCIODD_CONNECT, "CONNECT" },
	{ KVM_HC_TCIODD_DISCONNECT, "DISCONNECT" },
	{ KVM_HC_TCIODD_READ, "READ" },
	{ KVM_HC_TCIODD_WRITE, "WRITE" },
	{ 13575, "13575 (unknown)" },
	{ 1, "KVM_HC_VAPIC_POLL_IRQ" },
	{ 5, "KVM_HC_KICK_CPU" },
};

/**
 * um_exec() - execute the instruction in this process
 * @amd: vmmcall, else vmcall
 * @nr: the number
 *
 * Return: rax after the instruction.
 */
static long um_exec(bool amd, unsigned long nr)
{
	static unsigned char buf[64];
	long ret;

	if (amd)
		asm volatile("vmmcall"
			     : "=a"(ret)
			     : "a"(nr), "b"(1UL), "c"((unsigned long)buf),
			       "d"(sizeof(buf)), "S"(0UL)
			     : "memory");
	else
		asm volatile("vmcall"
			     : "=a"(ret)
			     : "a"(nr), "b"(1UL), "c"((unsigned long)buf),
			       "d"(sizeof(buf)), "S"(0UL)
			     : "memory");
	return ret;
}

/**
 * um_try() - execute the instruction in a child process
 * @amd: vmmcall, else vmcall
 * @nr: the number
 * @ret: rax, when the child survived
 * @sig: the signal that killed the child, or 0
 *
 * Return: 0, or -errno when the child could not be run.
 */
static int um_try(bool amd, unsigned long nr, long *ret, int *sig)
{
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd))
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		long r;

		close(pipefd[0]);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		r = um_exec(amd, nr);
		_exit(write(pipefd[1], &r, sizeof(r)) == sizeof(r) ? 0 : 3);
	}
	close(pipefd[1]);
	n = read(pipefd[0], ret, sizeof(*ret));
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (!*sig && n != sizeof(*ret))
		return -EIO;
	return 0;
}

/**
 * cpu_is_amd() - whether the CPU calls hypercalls with vmmcall
 *
 * Return: true on AMD and Hygon.
 */
static bool cpu_is_amd(void)
{
	unsigned int a, b, c, d;
	char v[13];

	if (!__get_cpuid(0, &a, &b, &c, &d))
		return false;
	memcpy(v, &b, 4);
	memcpy(v + 4, &d, 4);
	memcpy(v + 8, &c, 4);
	v[12] = 0;
	ktap_diag("CPU vendor %s", v);
	return !strcmp(v, "AuthenticAMD") || !strcmp(v, "HygonGenuine");
}

/**
 * um_run() - one instruction for every number
 * @amd: vmmcall, else vmcall
 * @native: the instruction of this CPU's vendor
 *
 * The native instruction traps to KVM, which refuses every hypercall made
 * above CPL 0 with -KVM_EPERM, before looking at the number.  The other
 * vendor's instruction is undefined on this CPU: KVM may emulate it, but
 * only at CPL 0, so from user mode it must end in a fault (SIGSEGV or
 * SIGILL) or in the same -KVM_EPERM.  Nothing else is acceptable.
 *
 * Return: KTAP_PASS or KTAP_FAIL.
 */
static enum ktap_result um_run(bool amd, bool native)
{
	const char *insn = amd ? "vmmcall" : "vmcall";
	enum ktap_result res = KTAP_PASS;
	size_t i;
	long ret = 0;
	int sig = 0, rc;

	for (i = 0; i < ARRAY_SIZE(um_calls); i++) {
		rc = um_try(amd, um_calls[i].nr, &ret, &sig);
		if (rc) {
			ktap_diag("%s %s: could not run: %s", insn,
				  um_calls[i].what, tcio_errno_name(rc));
			res = KTAP_FAIL;
		} else if (sig) {
			ktap_diag("%s %s from user mode: killed by %s", insn,
				  um_calls[i].what, strsignal(sig));
			if (native || (sig != SIGSEGV && sig != SIGILL))
				res = KTAP_FAIL;
		} else {
			ktap_diag("%s %s from user mode: rax=%ld", insn,
				  um_calls[i].what, ret);
			if (ret != HOSTILE_KVM_EPERM)
				res = KTAP_FAIL;
		}
	}
	if (res == KTAP_FAIL)
		ktap_diag("expected -KVM_EPERM (-1)%s", native ? "" :
			  ", SIGSEGV or SIGILL");
	return res;
}

static int mode_usermode(void)
{
	struct ktap k;
	bool amd;

	ktap_start(&k, 2);
	amd = cpu_is_amd();
	ktap_result(&k, um_run(amd, true), amd ? "vmmcall_from_user_mode" :
			"vmcall_from_user_mode", NULL);
	ktap_result(&k, um_run(!amd, false), amd ? "vmcall_from_user_mode" :
			"vmmcall_from_user_mode", NULL);
	return ktap_exit_code(&k);
}

/* ---- hold, churn ---- */

static int mode_hold(int nfd, int nans, int npend)
{
	int fds[TCIO_MAX_VM_CHANNELS], i, j, rc, bad = 0;
	struct ktap k;

	if (nfd < 1 || nfd > 64 || nans < 0 || npend < 0 ||
	    nans + npend > TCIO_MAX_INFLIGHT)
		return 2;
	ktap_start(&k, 2);
	fds[0] = open_device(&k, 2);
	if (fds[0] < 0)
		return ktap_exit_code(&k);
	for (i = 1; i < nfd; i++) {
		fds[i] = tcio_open(device, 0);
		if (fds[i] < 0) {
			ktap_diag("open #%d: %s", i + 1,
				  tcio_errno_name(fds[i]));
			break;
		}
	}
	ktap_result(&k, i == nfd ? KTAP_PASS : KTAP_FAIL, "channels_opened",
		    NULL);
	nfd = i;
	for (i = 0; i < nfd; i++) {
		/* Answered by tcioDD at once: they wait, queued. */
		for (j = 0; j < nans; j++) {
			rc = tcio_send(fds[i], 999, NULL, 0, tcio_cookie());
			if (rc && bad++ < 4)
				ktap_diag("unknown code on #%d: %s", i + 1,
					  tcio_errno_name(rc));
		}
		/* Forwarded to tcService: outstanding while it does not read. */
		for (j = 0; j < npend; j++) {
			rc = tcio_send(fds[i], TCIO_REQ_GET_POLICY_KEY, NULL, 0,
				       tcio_cookie());
			if (rc && bad++ < 4)
				ktap_diag("policy key on #%d: %s", i + 1,
					  tcio_errno_name(rc));
		}
	}
	ktap_result(&k, bad ? KTAP_FAIL : KTAP_PASS, "requests_accepted",
		    NULL);
	ktap_diag("holding %d channels, %d answers and %d requests each",
		  nfd, nans, npend);
	ctl_say("held %d %d %d", nfd, nans, npend);
	/* Until killed, or until the guest goes away under us. */
	for (;;)
		pause();
}

static int mode_churn(int n)
{
	int i, fd, bad = 0;
	struct ktap k;

	if (n < 1)
		return 2;
	ktap_start(&k, 1);
	fd = open_device(&k, 1);
	if (fd < 0)
		return ktap_exit_code(&k);
	close(fd);
	for (i = 1; i < n; i++) {
		fd = tcio_open(device, 0);
		if (fd < 0) {
			if (bad++ < 4)
				ktap_diag("open #%d: %s", i + 1,
					  tcio_errno_name(fd));
			continue;
		}
		close(fd);
	}
	ktap_diag("opened and closed a channel %d times", n);
	ktap_result(&k, bad ? KTAP_FAIL : KTAP_PASS, "channels_churned", NULL);
	return ktap_exit_code(&k);
}

/* ---- pair ---- */

/**
 * hex_decode() - hex to bytes
 * @hex: the text
 * @out: the bytes
 * @cap: room
 * @len: set to their number
 *
 * Return: 0 or -EINVAL.
 */
static int hex_decode(const char *hex, unsigned char *out, size_t cap,
		      size_t *len)
{
	return sodium_hex2bin(out, cap, hex, strlen(hex), NULL, len, NULL) ?
	       -EINVAL : 0;
}

/**
 * expect_status() - an answer arrived with the status due
 * @rc: what the call returned
 * @got: the answer's status
 * @want: the status due
 * @what: for the diagnostic
 *
 * Return: true if so.
 */
static bool expect_status(int rc, __u32 got, __u32 want, const char *what)
{
	if (rc) {
		ktap_diag("%s: expected an answer, got %s", what,
			  tcio_errno_name(rc));
		return false;
	}
	if (got != want) {
		ktap_diag("%s: expected status %s, got %s", what,
			  tcio_status_name(want), tcio_status_name(got));
		return false;
	}
	return true;
}

/**
 * call_status() - a request whose answer's status alone matters
 * @fd: the device
 * @code: request code
 * @b: payload
 * @m: the answer
 * @status: set to its status
 *
 * Return: 0 when an answer to this request arrived, -errno or -EPROTO.
 */
static int call_status(int fd, __u32 code, const struct tcio_buf *b,
		       struct tcio_msg *m, __u32 *status)
{
	int n = tcio_call(fd, code, b->p, b->len, m);

	if (n < 0)
		return n;
	if (m->hdr.req_id != code + 1)
		return -EPROTO;
	*status = m->hdr.status;
	return 0;
}

/**
 * flood_own() - many requests at once on several channels
 * @hash: the caller's own program hash
 *
 * Run by both guests at the same time: every answer must carry this
 * process's cookie and this VM's program hash, never the peer's.
 *
 * Return: KTAP_PASS or KTAP_FAIL.
 */
static enum ktap_result flood_own(const unsigned char *hash)
{
	__s32 cookies[HOSTILE_FLOOD_FDS][HOSTILE_FLOOD_REQS];
	int fds[HOSTILE_FLOOD_FDS], i, j, rc, got = 0, bad = 0;
	static struct tcio_msg m;
	__s32 pid = 0;
	unsigned char h[TCIO_SHA256_LEN];

	for (i = 0; i < HOSTILE_FLOOD_FDS; i++) {
		fds[i] = tcio_open(device, 0);
		if (fds[i] < 0) {
			ktap_diag("open: %s", tcio_errno_name(fds[i]));
			while (i--)
				close(fds[i]);
			return KTAP_FAIL;
		}
	}
	for (j = 0; j < HOSTILE_FLOOD_REQS; j++)
		for (i = 0; i < HOSTILE_FLOOD_FDS; i++) {
			cookies[i][j] = tcio_cookie();
			rc = tcio_send(fds[i], TCIO_REQ_GET_PROG_HASH, &pid,
				       sizeof(pid), cookies[i][j]);
			if (rc && bad++ < 4)
				ktap_diag("send: %s", tcio_errno_name(rc));
		}
	for (i = 0; i < HOSTILE_FLOOD_FDS; i++)
		for (j = 0; j < HOSTILE_FLOOD_REQS; j++) {
			int k;

			rc = tcio_recv(fds[i], &m);
			if (rc < 0) {
				if (bad++ < 4)
					ktap_diag("answer: %s",
						  tcio_errno_name(rc));
				continue;
			}
			got++;
			for (k = 0; k < HOSTILE_FLOOD_REQS; k++)
				if (m.hdr.procid == cookies[i][k])
					break;
			if (k == HOSTILE_FLOOD_REQS ||
			    m.hdr.origprocid != (__s32)getpid()) {
				if (bad++ < 4)
					ktap_diag("answer cookies %d/%d: not ours",
						  m.hdr.procid,
						  m.hdr.origprocid);
				continue;
			}
			if (m.hdr.status != TCIO_STATUS_SUCCESS ||
			    tcio_get_typed(&m, TCIO_BUF_SHA256, h, sizeof(h)) ||
			    memcmp(h, hash, sizeof(h))) {
				if (bad++ < 4)
					ktap_diag("not our program hash (%s)",
						  tcio_status_name(m.hdr.status));
			}
		}
	for (i = 0; i < HOSTILE_FLOOD_FDS; i++)
		close(fds[i]);
	ktap_diag("%d answers on %d channels, %d wrong", got,
		  HOSTILE_FLOOD_FDS, bad);
	return bad ? KTAP_FAIL : KTAP_PASS;
}

static int mode_pair(void)
{
	static unsigned char blob[TCIO_MAX_PAYLOAD], peer_blob[TCIO_MAX_PAYLOAD];
	static unsigned char out[TCIO_MAX_PAYLOAD];
	static char line[HOSTILE_CTL_LINE], hex[2 * TCIO_MAX_PAYLOAD + 1];
	unsigned char hash[TCIO_SHA256_LEN], peer_hash[TCIO_SHA256_LEN] = { 0 };
	unsigned char secret[32], h[TCIO_SHA256_LEN];
	char hash_hex[2 * TCIO_SHA256_LEN + 1], *sp1, *sp2;
	size_t bl, pbl = 0, ol, hl = 0;
	static struct tcio_buf b;
	static struct tcio_msg m;
	__u32 status = 0;
	enum ktap_result res;
	__s32 peer_vmm = 0;
	struct ktap k;
	int fd, rc;
	bool ok;

	ktap_start(&k, 8);
	fd = open_device(&k, 8);
	if (fd < 0)
		return ktap_exit_code(&k);
	/* 1. Our own identity and a secret sealed to it. */
	rc = tcio_prog_hash(fd, 0, hash, &status);
	ok = expect_status(rc, status, TCIO_STATUS_SUCCESS, "program hash");
	tcio_hex(hash, sizeof(hash), hash_hex);
	ktap_diag("vtcio: program_hash=%s", hash_hex);
	randombytes_buf(secret, sizeof(secret));
	rc = tcio_seal(fd, secret, sizeof(secret), blob, sizeof(blob), &bl,
		       &status);
	ok = expect_status(rc, status, TCIO_STATUS_SUCCESS, "seal") && ok;
	ktap_result(&k, ok ? KTAP_PASS : KTAP_FAIL, "own_identity_and_seal",
		    NULL);
	if (!ok)
		bl = 0;

	/* 2. Through the host: ours out, the peer's in. */
	tcio_hex(blob, bl, hex);
	ctl_say("mine %s %s", hash_hex, bl ? hex : "-");
	rc = ctl_expect("peer", line, sizeof(line));
	sp1 = rc ? NULL : strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp2) {
		*sp1 = 0;
		*sp2 = 0;
		peer_vmm = (__s32)atoi(line);
		if (hex_decode(sp1 + 1, peer_hash, sizeof(peer_hash), &hl) ||
		    hex_decode(sp2 + 1, peer_blob, sizeof(peer_blob), &pbl))
			hl = 0;
	}
	ok = !rc && peer_vmm > 0 && hl == sizeof(peer_hash) && pbl;
	if (!ok)
		ktap_diag("control line: expected \"peer VMM-PID HASH BLOB\", got %s",
			  rc ? tcio_errno_name(rc) : "a malformed line");
	else if (!memcmp(hash, peer_hash, sizeof(hash))) {
		ktap_diag("the peer has our program hash: the two guests must be measured apart");
		ok = false;
	}
	ktap_result(&k, ok ? KTAP_PASS : KTAP_FAIL, "peer_measured_apart",
		    NULL);

	/* 3. The peer's blob is not ours to open; ours is. */
	if (pbl) {
		rc = tcio_unseal(fd, peer_blob, pbl, out, sizeof(out), &ol,
				 &status);
		res = expect_status(rc, status, TCIO_STATUS_DENIED,
				    "unseal the peer's blob") ?
		      KTAP_PASS : KTAP_FAIL;
	} else {
		res = KTAP_FAIL;
	}
	ktap_result(&k, res, "unseal_peer_blob_denied", NULL);
	rc = tcio_unseal(fd, blob, bl, out, sizeof(out), &ol, &status);
	ok = bl && expect_status(rc, status, TCIO_STATUS_SUCCESS,
				 "unseal our own blob");
	if (ok && (ol != sizeof(secret) || memcmp(out, secret, ol))) {
		ktap_diag("our own blob unsealed to other data");
		ok = false;
	}
	ktap_result(&k, ok ? KTAP_PASS : KTAP_FAIL, "unseal_own_blob", NULL);

	/* 4. Passing as the peer: its VMM's program hash, its registration. */
	tcio_buf_init(&b);
	tcio_buf_s32(&b, peer_vmm);
	rc = call_status(fd, TCIO_REQ_GET_PROG_HASH, &b, &m, &status);
	ktap_result(&k, peer_vmm > 0 &&
		    expect_status(rc, status, TCIO_STATUS_DENIED,
				  "program hash of the peer's VMM") ?
		    KTAP_PASS : KTAP_FAIL, "peer_program_hash_denied", NULL);
	tcio_buf_init(&b);
	tcio_buf_s32(&b, peer_vmm);
	tcio_buf_s32(&b, 3);
	tcio_buf_str(&b, "/proc/self/exe");
	tcio_buf_str(&b, "/proc/self/exe");
	tcio_buf_str(&b, "");
	rc = call_status(fd, TCIO_REQ_REGISTER_VM, &b, &m, &status);
	ktap_result(&k, peer_vmm > 0 &&
		    expect_status(rc, status, TCIO_STATUS_DENIED,
				  "register the peer's VMM") ?
		    KTAP_PASS : KTAP_FAIL, "register_as_peer_denied", NULL);
	/* An attestation names our hash, whatever we claim. */
	tcio_buf_init(&b);
	tcio_buf_s32(&b, (__s32)sizeof(peer_hash));
	tcio_buf_bytes(&b, peer_hash, sizeof(peer_hash));
	rc = call_status(fd, TCIO_REQ_ATTEST, &b, &m, &status);
	ok = expect_status(rc, status, TCIO_STATUS_SUCCESS, "attest");
	if (ok) {
		const unsigned char *p;
		size_t len;

		if (tcio_get_sized(&m, &p, &len) || len < sizeof(h)) {
			ktap_diag("attest: malformed answer");
			ok = false;
		} else {
			memcpy(h, p, sizeof(h));
			if (memcmp(h, hash, sizeof(h))) {
				ktap_diag("the attestation names another program hash than ours");
				ok = false;
			}
		}
	}
	ktap_result(&k, ok ? KTAP_PASS : KTAP_FAIL, "attest_names_own_hash",
		    NULL);
	close(fd);

	/* 5. Both guests at once: nobody gets the other's answers. */
	ktap_result(&k, flood_own(hash), "answers_not_crossed", NULL);
	sodium_memzero(secret, sizeof(secret));
	ctl_say("pair-done %d", k.failed);
	return ktap_exit_code(&k);
}

/* ---- service-kill, inflight ---- */

/**
 * await_answers() - wait for the answers to requests already sent
 * @fds: one request outstanding on each
 * @n: how many
 * @want: the status each must carry
 * @max_ms: set to the longest wait
 *
 * Return: the number of answers that came with @want in time.
 */
static int await_answers(const int *fds, int n, __u32 want, long long *max_ms)
{
	long long start = now_ms(), end = start + HOSTILE_ANSWER_TIMEOUT_MS;
	static struct tcio_msg m;
	int i, good = 0, rc;
	ssize_t got;

	*max_ms = 0;
	for (i = 0; i < n; i++) {
		long long left = end - now_ms();

		rc = tcio_wait(fds[i], left > 0 ? (int)left : 0);
		if (rc) {
			ktap_diag("request %d: no answer after %d s (%s): the caller hangs",
				  i + 1, HOSTILE_ANSWER_TIMEOUT_MS / 1000,
				  tcio_errno_name(rc));
			continue;
		}
		got = read(fds[i], &m, sizeof(m));
		if (got < (ssize_t)TCIO_HDR_LEN) {
			ktap_diag("request %d: read %s", i + 1,
				  got < 0 ? tcio_errno_name(errno) : "short");
			continue;
		}
		if (now_ms() - start > *max_ms)
			*max_ms = now_ms() - start;
		if (m.hdr.status != want) {
			ktap_diag("request %d: expected status %s, got %s",
				  i + 1, tcio_status_name(want),
				  tcio_status_name(m.hdr.status));
			continue;
		}
		good++;
	}
	return good;
}

/**
 * send_many() - one policy key request on each of @n new channels
 * @fds: filled with the channels
 * @n: how many
 *
 * Return: the number sent.
 */
static int send_many(int *fds, int n)
{
	int i, rc;

	for (i = 0; i < n; i++) {
		fds[i] = tcio_open(device, 0);
		if (fds[i] < 0) {
			ktap_diag("open: %s", tcio_errno_name(fds[i]));
			break;
		}
		rc = tcio_send(fds[i], TCIO_REQ_GET_POLICY_KEY, NULL, 0,
			       tcio_cookie());
		if (rc) {
			ktap_diag("send: %s", tcio_errno_name(rc));
			close(fds[i]);
			break;
		}
	}
	return i;
}

static int mode_service_kill(void)
{
	static unsigned char blob[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	unsigned char key[TCIO_ED25519_PUBKEY_LEN], key2[sizeof(key)];
	unsigned char hash[TCIO_SHA256_LEN], hash2[sizeof(hash)];
	static const char data[] = "sealed before the kill";
	char rest[64], hash_hex[2 * TCIO_SHA256_LEN + 1];
	size_t bl = 0, ol;
	static struct tcio_msg m;
	int fd, fds[4] = { -1, -1, -1, -1 }, n, good;
	__u32 status = 0;
	long long max_ms;
	struct ktap k;
	bool ok;

	ktap_start(&k, 7);
	fd = open_device(&k, 7);
	if (fd < 0)
		return ktap_exit_code(&k);
	/* Before: the service answers. */
	n = tcio_call(fd, TCIO_REQ_GET_POLICY_KEY, NULL, 0, &m);
	ok = expect_status(n < 0 ? n : 0, m.hdr.status, TCIO_STATUS_SUCCESS,
			   "policy key") &&
	     !tcio_get_typed(&m, TCIO_BUF_ED25519_PUBKEY, key, sizeof(key));
	n = tcio_prog_hash(fd, 0, hash, &status);
	ok = expect_status(n, status, TCIO_STATUS_SUCCESS, "program hash") &&
	     ok;
	tcio_hex(hash, sizeof(hash), hash_hex);
	ktap_diag("vtcio: program_hash=%s", hash_hex);
	n = tcio_seal(fd, data, sizeof(data), blob, sizeof(blob), &bl, &status);
	ok = expect_status(n, status, TCIO_STATUS_SUCCESS, "seal") && ok;
	ktap_result(&k, ok ? KTAP_PASS : KTAP_FAIL, "answers_before_kill",
		    NULL);

	/* In flight when the service dies: the host stops it, we send. */
	ctl_say("ready-kill");
	if (ctl_expect("send", rest, sizeof(rest))) {
		ktap_diag("control line: no \"send\"");
		n = 0;
	} else {
		n = send_many(fds, ARRAY_SIZE(fds));
	}
	ctl_say("sent %d", n);
	good = await_answers(fds, n, TCIO_STATUS_NO_SERVICE, &max_ms);
	ktap_diag("%d of %d requests in flight answered NO_SERVICE, the last after %lld ms",
		  good, n, max_ms);
	ktap_result(&k, n == ARRAY_SIZE(fds) && good == n ? KTAP_PASS :
		    KTAP_FAIL, "inflight_answered_no_service", NULL);
	while (n--)
		close(fds[n]);

	/* No service: an answer at once, not a wait. */
	ctl_say("noservice-seen %d", good);
	ok = !ctl_expect("gap", rest, sizeof(rest));
	n = ok ? send_many(fds, 1) : 0;
	good = await_answers(fds, n, TCIO_STATUS_NO_SERVICE, &max_ms);
	if (n)
		close(fds[0]);
	ktap_diag("request with no service answered after %lld ms", max_ms);
	ktap_result(&k, good == 1 ? KTAP_PASS : KTAP_FAIL,
		    "no_service_answered", NULL);

	/* After the restart: the same keys, the same identity, old blobs. */
	ctl_say("gap-ok");
	ok = !ctl_expect("restarted", rest, sizeof(rest));
	if (!ok)
		ktap_diag("control line: no \"restarted\"");
	n = tcio_call(fd, TCIO_REQ_GET_POLICY_KEY, NULL, 0, &m);
	ok = ok && expect_status(n < 0 ? n : 0, m.hdr.status,
				 TCIO_STATUS_SUCCESS, "policy key") &&
	     !tcio_get_typed(&m, TCIO_BUF_ED25519_PUBKEY, key2, sizeof(key2));
	if (ok && memcmp(key, key2, sizeof(key))) {
		ktap_diag("the policy key changed across the restart");
		ok = false;
	}
	ktap_result(&k, ok ? KTAP_PASS : KTAP_FAIL, "same_keys_after_restart",
		    NULL);
	n = tcio_prog_hash(fd, 0, hash2, &status);
	ok = expect_status(n, status, TCIO_STATUS_SUCCESS,
			   "program hash after the restart");
	if (ok && memcmp(hash, hash2, sizeof(hash))) {
		ktap_diag("the program hash changed across the restart");
		ok = false;
	}
	ktap_result(&k, ok ? KTAP_PASS : KTAP_FAIL,
		    "same_identity_after_restart", NULL);
	n = tcio_unseal(fd, blob, bl, out, sizeof(out), &ol, &status);
	ok = bl && expect_status(n, status, TCIO_STATUS_SUCCESS,
				 "unseal a blob sealed before the kill");
	if (ok && (ol != sizeof(data) || memcmp(out, data, ol))) {
		ktap_diag("the blob unsealed to other data");
		ok = false;
	}
	ktap_result(&k, ok ? KTAP_PASS : KTAP_FAIL, "unseal_across_restart",
		    NULL);
	n = tcio_seal(fd, data, 4, blob, sizeof(blob), &bl, &status);
	ktap_result(&k, expect_status(n, status, TCIO_STATUS_SUCCESS,
				      "seal after the restart") ?
		    KTAP_PASS : KTAP_FAIL, "seal_after_restart", NULL);
	close(fd);
	ctl_say("done %d", k.failed);
	return ktap_exit_code(&k);
}

static int mode_inflight(int n, const char *want_name)
{
	int fds[TCIO_MAX_INFLIGHT], sent, good;
	__u32 want;
	long long max_ms;
	struct ktap k;

	for (want = 0; want < 8; want++)
		if (!strcmp(tcio_status_name(want), want_name))
			break;
	if (want == 8 || n < 1 || n > (int)ARRAY_SIZE(fds))
		return 2;
	ktap_start(&k, 1);
	sent = send_many(fds, n);
	printf("# sent %d\n", sent);
	fflush(stdout);
	ctl_say("sent %d", sent);
	good = await_answers(fds, sent, want, &max_ms);
	ktap_diag("%d of %d answered %s, the last after %lld ms", good, n,
		  want_name, max_ms);
	ktap_result(&k, good == n ? KTAP_PASS : KTAP_FAIL, "inflight_answered",
		    NULL);
	while (sent--)
		close(fds[sent]);
	return ktap_exit_code(&k);
}

/* ---- take-slot ---- */

static int mode_take_slot(void)
{
	struct ktap k;
	int status, fd;
	pid_t pid;

	ktap_start(&k, 1);
	if (geteuid()) {
		ktap_result(&k, KTAP_SKIP, "unprivileged_cannot_take_slot",
			    "needs root to drop to uid 65534");
		return 0;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534)) {
			ktap_diag("could not drop to uid 65534");
			_exit(2);
		}
		fd = tcio_open(device, 0);
		if (fd < 0) {
			ktap_diag("uid 65534 can not open %s: %s", device,
				  tcio_errno_name(fd));
			_exit(0);
		}
		if (!ioctl(fd, TCIODD_IOC_REGISTER_SERVICE)) {
			ktap_diag("uid 65534 became the service");
			_exit(1);
		}
		ktap_diag("uid 65534 registering as the service: %s",
			  tcio_errno_name(errno));
		_exit(errno == EPERM ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	ktap_result(&k, WIFEXITED(status) && !WEXITSTATUS(status) ?
		    KTAP_PASS : KTAP_FAIL, "unprivileged_cannot_take_slot",
		    NULL);
	return ktap_exit_code(&k);
}

static void help(FILE *out)
{
	fprintf(out,
		"usage: tcio-hostile [--device PATH] [--ctl PATH] MODE [ARGS]\n"
		"  usermode | hold N A P | churn N | pair | service-kill |\n"
		"  inflight N STATUS | take-slot\n"
		"  --device PATH  the device (default %s)\n"
		"  --ctl PATH     control line to the host's scenario script\n",
		TCIO_GUEST_DEVICE);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "ctl", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode, *ctl = NULL;
	int c, rc = 2, nargs;

	while ((c = getopt_long(argc, argv, "+d:c:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'c':
			ctl = optarg;
			break;
		case 'h':
			help(stdout);
			return 0;
		default:
			help(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		printf("Bail out! libsodium failed to initialise\n");
		return 1;
	}
	if (ctl && ctl_open(ctl)) {
		printf("Bail out! cannot open the control line %s\n", ctl);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	mode = argv[optind];
	nargs = argc - optind - 1;
	if (!strcmp(mode, "usermode") && !nargs)
		rc = mode_usermode();
	else if (!strcmp(mode, "hold") && nargs == 3)
		rc = mode_hold(atoi(argv[optind + 1]), atoi(argv[optind + 2]),
			       atoi(argv[optind + 3]));
	else if (!strcmp(mode, "churn") && nargs == 1)
		rc = mode_churn(atoi(argv[optind + 1]));
	else if (!strcmp(mode, "pair") && !nargs && ctl)
		rc = mode_pair();
	else if (!strcmp(mode, "service-kill") && !nargs && ctl)
		rc = mode_service_kill();
	else if (!strcmp(mode, "inflight") && nargs == 2)
		rc = mode_inflight(atoi(argv[optind + 1]), argv[optind + 2]);
	else if (!strcmp(mode, "take-slot") && !nargs)
		rc = mode_take_slot();
	if (rc == 2)
		help(stderr);
	return rc;
}
