// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of svc_core with fake callers and a fake
 * system, printing KTAP.
 *
 * Every answer the core gives is checked for the invariants of the
 * service leg (code + 1, tag and identity echoed, size consistent, empty
 * unless successful, no secret inside) besides what each test expects.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_core.h"
#include "tcio_client.h"

#define FAKE_MAX_PROCS	160
#define FAKE_MAX_FILES	8

/**
 * struct fake_proc - a process of the fake system
 * @pid: its pid
 * @start: its start time
 * @id: identity of its executable
 * @hash: SHA-256 of its executable
 * @alive: it exists
 */
struct fake_proc {
	pid_t pid;
	__u64 start;
	struct svc_exe_id id;
	unsigned char hash[TCIO_SHA256_LEN];
	bool alive;
};

/**
 * struct fake_file - a file of the fake system
 * @path: its path
 * @data: its bytes
 * @len: their number
 */
struct fake_file {
	const char *path;
	const unsigned char *data;
	size_t len;
};

/**
 * struct fake - the fake system behind &struct svc_ops
 * @procs: processes
 * @files: files
 * @exe_hash_calls: how often exe_hash ran
 * @exe_hash_rc: if non-zero, exe_hash fails with it
 * @reuse_pid: if non-zero, exe_hash of this pid gives it a new start
 *             time afterwards, as if the pid were reused while hashing
 * @spawn_rc: if non-zero, spawn fails with it
 * @spawn_argv: copy of the last argv spawned, joined by '|'
 * @next_pid: pid of the next spawned program
 * @killed: pid last passed to kill_app
 * @ino: counter for executable identities
 */
struct fake {
	struct fake_proc procs[FAKE_MAX_PROCS];
	struct fake_file files[FAKE_MAX_FILES];
	int exe_hash_calls;
	int exe_hash_rc;
	pid_t reuse_pid;
	int spawn_rc;
	char spawn_argv[512];
	pid_t next_pid;
	pid_t killed;
	__u64 ino;
};

static struct fake fk;
static struct svc_keys keys;
static unsigned char os_hash[TCIO_SHA256_LEN];
static bool failed;

/* Answer of the last request. */
static unsigned char ans_buf[SVC_MSG_MAX];
static size_t ans_len;
static struct tcio_hdr ans_hdr;
static const unsigned char *ans_pl;
static size_t ans_pl_len;

/**
 * check() - record a failed expectation
 * @ok: the expectation held
 * @fmt: what was expected and what was found
 *
 * Return: @ok.
 */
static bool __printf(2, 3)
check(bool ok, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (ok)
		return true;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ktap_diag("%s", line);
	failed = true;
	return false;
}

/**
 * expect_status() - check an answer's status
 * @got: the status
 * @want: the expected one
 * @what: what was asked
 * @line: source line
 *
 * Return: whether they match.
 */
static bool expect_status(__u32 got, __u32 want, const char *what, int line)
{
	return check(got == want, "%s: expected status %s, got %s (line %d)",
		     what, tcio_status_name(want),
		     got == UINT32_MAX ? "no answer" : tcio_status_name(got),
		     line);
}

/**
 * expect_int() - check a number
 * @got: the number
 * @want: the expected one
 * @what: what it is
 * @line: source line
 *
 * Return: whether they match.
 */
static bool expect_int(long long got, long long want, const char *what,
		       int line)
{
	return check(got == want, "%s: expected %lld, got %lld (line %d)",
		     what, want, got, line);
}

#define EXPECT_STATUS(got, want, what) \
	expect_status((got), (want), (what), __LINE__)
#define EXPECT_INT(got, want, what) \
	expect_int((long long)(got), (long long)(want), (what), __LINE__)

/**
 * prog_hash_of() - fake SHA-256 of a named program
 * @name: the program
 * @out: its hash
 */
static void prog_hash_of(const char *name, unsigned char *out)
{
	crypto_hash_sha256(out, (const unsigned char *)name, strlen(name));
}

/**
 * fake_proc() - the fake process @pid
 * @pid: the pid
 *
 * Return: it, or NULL.
 */
static struct fake_proc *fake_proc(pid_t pid)
{
	size_t i;

	for (i = 0; i < FAKE_MAX_PROCS; i++)
		if (fk.procs[i].alive && fk.procs[i].pid == pid)
			return &fk.procs[i];
	return NULL;
}

/**
 * proc_set() - create or replace the fake process @pid
 * @pid: the pid
 * @start: its start time
 * @prog: name of the program it runs
 */
static void proc_set(pid_t pid, __u64 start, const char *prog)
{
	struct fake_proc *p = fake_proc(pid);
	size_t i;

	for (i = 0; !p && i < FAKE_MAX_PROCS; i++)
		if (!fk.procs[i].alive)
			p = &fk.procs[i];
	if (!p)
		abort();
	p->pid = pid;
	p->start = start;
	p->alive = true;
	memset(&p->id, 0, sizeof(p->id));
	p->id.ino = ++fk.ino;
	prog_hash_of(prog, p->hash);
}

/**
 * proc_kill() - the fake process @pid exits
 * @pid: the pid
 */
static void proc_kill(pid_t pid)
{
	struct fake_proc *p = fake_proc(pid);

	if (p)
		p->alive = false;
}

static int fake_start_time(void *ctx, pid_t pid, __u64 *start)
{
	struct fake_proc *p = fake_proc(pid);

	(void)ctx;
	if (!p)
		return -ESRCH;
	*start = p->start;
	return 0;
}

static int fake_exe_id(void *ctx, pid_t pid, struct svc_exe_id *id)
{
	struct fake_proc *p = fake_proc(pid);

	(void)ctx;
	if (!p)
		return -ESRCH;
	*id = p->id;
	return 0;
}

static int fake_exe_hash(void *ctx, pid_t pid, unsigned char *hash,
			 struct svc_exe_id *id)
{
	struct fake_proc *p = fake_proc(pid);

	(void)ctx;
	fk.exe_hash_calls++;
	if (fk.exe_hash_rc)
		return fk.exe_hash_rc;
	if (!p)
		return -ESRCH;
	memcpy(hash, p->hash, TCIO_SHA256_LEN);
	*id = p->id;
	if (fk.reuse_pid == pid)
		p->start += 100000;
	return 0;
}

static int fake_hash_file(void *ctx, const char *path,
			  crypto_hash_sha256_state *st)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < FAKE_MAX_FILES; i++) {
		if (fk.files[i].path && !strcmp(fk.files[i].path, path)) {
			crypto_hash_sha256_update(st, fk.files[i].data,
						  fk.files[i].len);
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_spawn(void *ctx, char *const argv[], pid_t *pid,
		      unsigned char *hash, struct svc_exe_id *id)
{
	struct fake_proc *p;
	size_t i;

	(void)ctx;
	if (fk.spawn_rc)
		return fk.spawn_rc;
	fk.spawn_argv[0] = 0;
	for (i = 0; argv[i]; i++) {
		if (i)
			strncat(fk.spawn_argv, "|", sizeof(fk.spawn_argv) -
				strlen(fk.spawn_argv) - 1);
		strncat(fk.spawn_argv, argv[i], sizeof(fk.spawn_argv) -
			strlen(fk.spawn_argv) - 1);
	}
	*pid = fk.next_pid++;
	proc_set(*pid, 5000 + (__u64)*pid, argv[0]);
	p = fake_proc(*pid);
	if (!p)
		return -ESRCH;
	memcpy(hash, p->hash, TCIO_SHA256_LEN);
	*id = p->id;
	return 0;
}

static int fake_kill_app(void *ctx, pid_t pid)
{
	(void)ctx;
	fk.killed = pid;
	return 0;
}

static const struct svc_ops fake_ops = {
	.start_time = fake_start_time,
	.exe_id = fake_exe_id,
	.exe_hash = fake_exe_hash,
	.hash_file = fake_hash_file,
	.spawn = fake_spawn,
	.kill_app = fake_kill_app,
};

/* Callers. */
static const struct tcio_svc_ext host_root = {
	.caller_kind = TCIO_CALLER_HOST, .pid = 100, .uid = 0,
};

static const struct tcio_svc_ext host_user = {
	.caller_kind = TCIO_CALLER_HOST, .pid = 101, .uid = 1000,
};

static const struct tcio_svc_ext host_other = {
	.caller_kind = TCIO_CALLER_HOST, .pid = 102, .uid = 1000,
};

static const struct tcio_svc_ext vm_caller = {
	.caller_kind = TCIO_CALLER_VM, .pid = 200, .uid = 0, .vm_id = 7,
	.channel = 3,
};

static const struct tcio_svc_ext driver_caller = {
	.caller_kind = TCIO_CALLER_DRIVER, .pid = 0, .uid = 0,
};

/**
 * reset_fake() - a fresh fake system with the standard processes
 */
static void reset_fake(void)
{
	static const unsigned char kernel[] = "fake kernel image bytes";
	static const unsigned char initrd[] = "fake initrd bytes";

	memset(&fk, 0, sizeof(fk));
	fk.next_pid = 3000;
	proc_set(1, 1, "/sbin/init");
	proc_set(100, 1000, "/usr/bin/root-client");
	proc_set(101, 1001, "/usr/bin/client-a");
	proc_set(102, 1002, "/usr/bin/client-b");
	proc_set(200, 2000, "/usr/bin/qemu-system-x86_64");
	fk.files[0].path = "/boot/vmlinuz";
	fk.files[0].data = kernel;
	fk.files[0].len = sizeof(kernel) - 1;
	fk.files[1].path = "/boot/initrd.img";
	fk.files[1].data = initrd;
	fk.files[1].len = sizeof(initrd) - 1;
}

/**
 * contains() - whether @hay holds the bytes @needle
 * @hay: where to look
 * @len: its length
 * @needle: what to look for
 * @nlen: its length
 *
 * Return: true if found.
 */
static bool contains(const unsigned char *hay, size_t len,
		     const unsigned char *needle, size_t nlen)
{
	return memmem(hay, len, needle, nlen);
}

/**
 * raw() - hand a raw message to the core and check the answer's invariants
 * @c: the core
 * @msg: the message
 * @len: its length
 *
 * Return: svc_core_handle()'s return value.
 */
static int raw(struct svc_core *c, const void *msg, size_t len)
{
	struct tcio_hdr req_hdr;
	struct tcio_svc_ext req_ext, ext;
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	int rc;

	memset(ans_buf, 0xa5, sizeof(ans_buf));
	rc = svc_core_handle(c, msg, len, ans_buf, sizeof(ans_buf), &ans_len);
	memset(&ans_hdr, 0, sizeof(ans_hdr));
	ans_pl = NULL;
	ans_pl_len = 0;
	if (rc || !ans_len)
		return rc;
	if (!check(ans_len >= SVC_HDR_LEN && ans_len <= SVC_MSG_MAX,
		   "answer length %zu out of range", ans_len))
		return rc;
	memcpy(&req_hdr, msg, sizeof(req_hdr));
	memcpy(&req_ext, (const unsigned char *)msg + sizeof(req_hdr),
	       sizeof(req_ext));
	memcpy(&ans_hdr, ans_buf, sizeof(ans_hdr));
	memcpy(&ext, ans_buf + sizeof(ans_hdr), sizeof(ext));
	ans_pl = ans_buf + SVC_HDR_LEN;
	ans_pl_len = ans_len - SVC_HDR_LEN;
	check(ans_hdr.req_id == req_hdr.req_id + 1,
	      "answer code: expected %u, got %u", req_hdr.req_id + 1,
	      ans_hdr.req_id);
	check(ans_hdr.req_size == ans_pl_len,
	      "answer req_size: expected %zu, got %u", ans_pl_len,
	      ans_hdr.req_size);
	check(ans_pl_len <= TCIO_MAX_PAYLOAD,
	      "answer payload of %zu bytes would not reach the application",
	      ans_pl_len);
	check(ans_hdr.procid == req_hdr.procid &&
	      ans_hdr.origprocid == req_hdr.origprocid,
	      "answer procid/origprocid not echoed");
	check(!memcmp(&ext, &req_ext, sizeof(ext)),
	      "answer svc_ext (tag) not echoed");
	check(ans_hdr.status == TCIO_STATUS_SUCCESS || ans_pl_len == 0,
	      "status %s with a %zu-byte payload",
	      tcio_status_name(ans_hdr.status), ans_pl_len);
	/* No secret may leave the service. */
	crypto_sign_seed_keypair(pk, sk, keys.attest_seed);
	check(!contains(ans_buf, ans_len, keys.seal, 16) &&
	      !contains(ans_buf, ans_len, keys.attest_seed, 16) &&
	      !contains(ans_buf, ans_len, keys.policy_seed, 16) &&
	      !contains(ans_buf, ans_len, sk, 16),
	      "answer contains secret key material");
	return rc;
}

/**
 * req() - send one request from @caller and return the answer's status
 * @c: the core
 * @caller: who asks
 * @code: request code
 * @payload: payload
 * @len: its length
 *
 * Return: the status, or UINT32_MAX if there was no answer.
 */
static __u32 req(struct svc_core *c, const struct tcio_svc_ext *caller,
		 __u32 code, const void *payload, size_t len)
{
	static unsigned char msg[SVC_MSG_MAX + 16];
	static __u64 tag = 0x1000;
	struct tcio_hdr hdr = {
		.procid = 0x4242, .req_id = code, .req_size = (__u32)len,
		.origprocid = -7,
	};
	struct tcio_svc_ext ext = *caller;

	ext.tag = ++tag;
	memcpy(msg, &hdr, sizeof(hdr));
	memcpy(msg + sizeof(hdr), &ext, sizeof(ext));
	memcpy(msg + SVC_HDR_LEN, payload, len);
	if (raw(c, msg, SVC_HDR_LEN + len) || !ans_len)
		return UINT32_MAX;
	return ans_hdr.status;
}

/**
 * req_buf() - req() with a &struct tcio_buf payload
 * @c: the core
 * @caller: who asks
 * @code: request code
 * @b: payload
 *
 * Return: as req().
 */
static __u32 req_buf(struct svc_core *c, const struct tcio_svc_ext *caller,
		     __u32 code, const struct tcio_buf *b)
{
	return req(c, caller, code, b->p, b->len);
}

/**
 * get_typed() - parse the last answer as a typed buffer
 * @type: expected type
 * @out: bytes
 * @len: expected size
 *
 * Return: true if it is one.
 */
static bool get_typed(__u32 type, unsigned char *out, size_t len)
{
	__u32 t;
	__s32 s;

	if (!check(ans_pl_len == 8 + len, "typed answer: expected %zu bytes, got %zu",
		   8 + len, ans_pl_len))
		return false;
	memcpy(&t, ans_pl, 4);
	memcpy(&s, ans_pl + 4, 4);
	if (!check(t == type && s == (__s32)len,
		   "typed answer: expected type %u size %zu, got %u %d",
		   type, len, t, s))
		return false;
	memcpy(out, ans_pl + 8, len);
	return true;
}

/**
 * get_sized() - parse the last answer as s32 size | bytes
 * @out: bytes
 * @cap: room
 * @len: their number
 *
 * Return: true if it is one.
 */
static bool get_sized(unsigned char *out, size_t cap, size_t *len)
{
	__s32 s;

	if (!check(ans_pl_len >= 4, "sized answer: only %zu bytes",
		   ans_pl_len))
		return false;
	memcpy(&s, ans_pl, 4);
	if (!check(s >= 0 && (size_t)s == ans_pl_len - 4 && (size_t)s <= cap,
		   "sized answer: size %d but %zu bytes follow", s,
		   ans_pl_len - 4))
		return false;
	memcpy(out, ans_pl + 4, (size_t)s);
	*len = (size_t)s;
	return true;
}

static __u32 prog_hash(struct svc_core *c, const struct tcio_svc_ext *who,
		       __s32 pid, unsigned char *hash)
{
	__u32 st = req(c, who, TCIO_REQ_GET_PROG_HASH, &pid, sizeof(pid));

	if (st == TCIO_STATUS_SUCCESS)
		get_typed(TCIO_BUF_SHA256, hash, TCIO_SHA256_LEN);
	return st;
}

static __u32 seal(struct svc_core *c, const struct tcio_svc_ext *who,
		  const void *data, size_t len, unsigned char *blob,
		  size_t *blob_len)
{
	static struct tcio_buf b;
	__u32 st;

	tcio_buf_init(&b);
	tcio_buf_s32(&b, (__s32)len);
	tcio_buf_bytes(&b, data, len);
	st = req_buf(c, who, TCIO_REQ_SEAL, &b);
	*blob_len = 0;
	if (st == TCIO_STATUS_SUCCESS)
		get_sized(blob, TCIO_MAX_PAYLOAD, blob_len);
	return st;
}

static __u32 unseal(struct svc_core *c, const struct tcio_svc_ext *who,
		    const void *blob, size_t len, unsigned char *data,
		    size_t *data_len)
{
	static struct tcio_buf b;
	__u32 st;

	tcio_buf_init(&b);
	tcio_buf_s32(&b, (__s32)len);
	tcio_buf_bytes(&b, blob, len);
	st = req_buf(c, who, TCIO_REQ_UNSEAL, &b);
	*data_len = 0;
	if (st == TCIO_STATUS_SUCCESS)
		get_sized(data, TCIO_MAX_PAYLOAD, data_len);
	return st;
}

static struct svc_core *new_core(void)
{
	struct svc_core *c = svc_core_new(&fake_ops, NULL, &keys, os_hash);

	if (!c) {
		printf("Bail out! svc_core_new failed\n");
		exit(1);
	}
	return c;
}

static void test_keyfile(void)
{
	unsigned char buf[SVC_KEYFILE_LEN];
	struct svc_keys k2;

	EXPECT_INT(svc_keys_encode(&keys, buf, sizeof(buf)), 0, "encode");
	EXPECT_INT(svc_keys_decode(&k2, buf, sizeof(buf)), 0, "decode");
	check(!memcmp(&k2, &keys, sizeof(k2)), "decoded keys differ");
	EXPECT_INT(svc_keys_decode(&k2, buf, sizeof(buf) - 1), -EINVAL,
		   "decode short");
	buf[4] = 2;
	EXPECT_INT(svc_keys_decode(&k2, buf, sizeof(buf)), -EINVAL,
		   "decode version 2");
	buf[4] = SVC_KEYFILE_VERSION;
	buf[0] = 'X';
	EXPECT_INT(svc_keys_decode(&k2, buf, sizeof(buf)), -EINVAL,
		   "decode bad magic");
	EXPECT_INT(svc_keys_encode(&keys, buf, sizeof(buf) + 1), -EINVAL,
		   "encode wrong size");
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(&k2, sizeof(k2));
}

static void test_start_time(void)
{
	static const char normal[] =
		"1234 (sleep) S 1 1234 1234 0 -1 4194304 100 0 0 0 0 0 0 0 "
		"20 0 1 0 987654 5660672 180 18446744073709551615 1 1 0 0 0 "
		"0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
	static const char odd[] =
		"77 (a) b) (c ) R 1 77 77 0 -1 4194304 100 0 0 0 0 0 0 0 "
		"20 0 1 0 42 5660672 180\n";
	static const char trunc[] = "77 (x) R 1 77 77 0 -1 4194304 100 0";
	static const char over[] =
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
		"99999999999999999999999 0\n";
	__u64 st = 0;

	EXPECT_INT(svc_parse_start_time(normal, strlen(normal), &st), 0,
		   "parse normal");
	EXPECT_INT(st, 987654, "start time");
	EXPECT_INT(svc_parse_start_time(odd, strlen(odd), &st), 0,
		   "parse comm with ') ('");
	EXPECT_INT(st, 42, "start time with odd comm");
	EXPECT_INT(svc_parse_start_time(trunc, strlen(trunc), &st), -EINVAL,
		   "parse truncated");
	EXPECT_INT(svc_parse_start_time(over, strlen(over), &st), -EINVAL,
		   "parse overflow");
	EXPECT_INT(svc_parse_start_time("", 0, &st), -EINVAL, "parse empty");
}

static void test_keys_and_os_hash(void)
{
	struct svc_core *c = new_core();
	unsigned char pk[32], sk[64], got[32], attest[32];

	reset_fake();
	crypto_sign_seed_keypair(pk, sk, keys.policy_seed);
	EXPECT_STATUS(req(c, &vm_caller, TCIO_REQ_GET_POLICY_KEY, NULL, 0),
		      TCIO_STATUS_SUCCESS, "policy key");
	if (get_typed(TCIO_BUF_ED25519_PUBKEY, got, 32))
		check(!memcmp(got, pk, 32), "policy key is not the policy seed's");

	crypto_sign_seed_keypair(attest, sk, keys.attest_seed);
	EXPECT_STATUS(req(c, &host_user, TCIO_REQ_GET_OS_CREDS, NULL, 0),
		      TCIO_STATUS_SUCCESS, "os creds");
	if (get_typed(TCIO_BUF_ED25519_PUBKEY, got, 32))
		check(!memcmp(got, attest, 32), "os creds is not the attestation key");
	check(memcmp(pk, attest, 32), "policy and attestation keys are the same");

	EXPECT_STATUS(req(c, &driver_caller, TCIO_REQ_GET_OS_HASH, NULL, 0),
		      TCIO_STATUS_SUCCESS, "os hash");
	if (get_typed(TCIO_BUF_SHA256, got, 32))
		check(!memcmp(got, os_hash, 32), "os hash differs");

	EXPECT_STATUS(req(c, &host_user, TCIO_REQ_GET_POLICY_KEY, "x", 1),
		      TCIO_STATUS_BAD_REQUEST, "policy key with payload");
	EXPECT_STATUS(req(c, &host_user, TCIO_REQ_GET_OS_HASH, "xxxx", 4),
		      TCIO_STATUS_BAD_REQUEST, "os hash with payload");
	sodium_memzero(sk, sizeof(sk));
	svc_core_free(c);
}

static void test_prog_hash(void)
{
	struct svc_core *c = new_core();
	unsigned char h[32], want[32];
	__s32 pid;

	reset_fake();
	prog_hash_of("/usr/bin/client-a", want);
	EXPECT_STATUS(prog_hash(c, &host_user, 0, h), TCIO_STATUS_SUCCESS,
		      "own hash (pid 0)");
	check(!memcmp(h, want, 32), "own hash differs from the executable's");
	EXPECT_STATUS(prog_hash(c, &host_user, 101, h), TCIO_STATUS_SUCCESS,
		      "own hash (own pid)");
	check(!memcmp(h, want, 32), "own hash by pid differs");

	EXPECT_STATUS(prog_hash(c, &host_user, 102, h), TCIO_STATUS_DENIED,
		      "non-root asking another pid");
	EXPECT_STATUS(prog_hash(c, &host_user, 1, h), TCIO_STATUS_DENIED,
		      "non-root asking pid 1");
	EXPECT_STATUS(prog_hash(c, &host_root, 102, h), TCIO_STATUS_SUCCESS,
		      "root asking another pid");
	prog_hash_of("/usr/bin/client-b", want);
	check(!memcmp(h, want, 32), "root: hash of pid 102 differs");
	EXPECT_STATUS(prog_hash(c, &host_root, 4242, h), TCIO_STATUS_FAILED,
		      "root asking an unknown pid");

	EXPECT_STATUS(prog_hash(c, &vm_caller, 0, h), TCIO_STATUS_FAILED,
		      "unregistered VM");
	EXPECT_INT(ans_pl_len, 0, "unregistered VM answer payload");
	EXPECT_STATUS(prog_hash(c, &vm_caller, 1, h), TCIO_STATUS_DENIED,
		      "VM asking pid 1");
	EXPECT_STATUS(prog_hash(c, &driver_caller, 0, h), TCIO_STATUS_FAILED,
		      "driver caller has no program hash");

	pid = -1;
	EXPECT_STATUS(req(c, &host_root, TCIO_REQ_GET_PROG_HASH, &pid, 4),
		      TCIO_STATUS_BAD_REQUEST, "negative pid");
	EXPECT_STATUS(req(c, &host_root, TCIO_REQ_GET_PROG_HASH, &pid, 2),
		      TCIO_STATUS_BAD_REQUEST, "2-byte payload");
	EXPECT_STATUS(req(c, &host_root, TCIO_REQ_GET_PROG_HASH, NULL, 0),
		      TCIO_STATUS_BAD_REQUEST, "empty payload");
	EXPECT_STATUS(req(c, &host_root, TCIO_REQ_GET_PROG_HASH, "\0\0\0\0\0",
			  5), TCIO_STATUS_BAD_REQUEST, "5-byte payload");

	fk.exe_hash_rc = -ENOMEM;
	proc_set(103, 1003, "/usr/bin/new");
	EXPECT_STATUS(prog_hash(c, &host_root, 103, h),
		      TCIO_STATUS_NO_MEMORY, "out of memory while hashing");
	fk.exe_hash_rc = -EACCES;
	EXPECT_STATUS(prog_hash(c, &host_root, 103, h), TCIO_STATUS_FAILED,
		      "hashing fails");
	fk.exe_hash_rc = 0;
	svc_core_free(c);
}

static void test_hash_cache(void)
{
	struct svc_core *c = new_core();
	struct tcio_svc_ext gone = host_user;
	unsigned char h[32];
	int calls;

	reset_fake();
	prog_hash(c, &host_user, 0, h);
	calls = fk.exe_hash_calls;
	prog_hash(c, &host_user, 0, h);
	prog_hash(c, &host_user, 0, h);
	EXPECT_INT(fk.exe_hash_calls, calls, "hash cached for (pid, start)");
	EXPECT_INT(req(c, &gone, TCIO_SVC_TERMINATE, NULL, 0), UINT32_MAX,
		   "terminate gets no answer");
	prog_hash(c, &host_user, 0, h);
	EXPECT_INT(fk.exe_hash_calls, calls + 1,
		   "hash computed again after TCIO_SVC_TERMINATE");
	svc_core_free(c);
}

static void test_seal_unseal(void)
{
	static unsigned char data[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	static unsigned char blob[TCIO_MAX_PAYLOAD], blob2[TCIO_MAX_PAYLOAD];
	static const size_t sizes[] = { 0, 1, 100, 4096, SVC_SEAL_MAX_DATA };
	struct svc_core *c = new_core();
	size_t i, bl, bl2, ol;
	char what[64];

	reset_fake();
	randombytes_buf(data, sizeof(data));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(what, sizeof(what), "seal %zu bytes", sizes[i]);
		if (!EXPECT_STATUS(seal(c, &host_user, data, sizes[i], blob, &bl),
				   TCIO_STATUS_SUCCESS, what))
			continue;
		EXPECT_INT(bl, sizes[i] + SVC_BLOB_OVERHEAD, "blob length");
		check(!contains(blob, bl, data, sizes[i] < 16 ? 0 : 16) ||
		      sizes[i] < 16, "blob holds the plaintext");
		snprintf(what, sizeof(what), "unseal %zu bytes", sizes[i]);
		if (!EXPECT_STATUS(unseal(c, &host_user, blob, bl, out, &ol),
				   TCIO_STATUS_SUCCESS, what))
			continue;
		EXPECT_INT(ol, sizes[i], "unsealed length");
		check(!memcmp(out, data, ol), "unsealed data differ");
	}
	seal(c, &host_user, "same", 4, blob, &bl);
	seal(c, &host_user, "same", 4, blob2, &bl2);
	check(bl == bl2 && memcmp(blob, blob2, bl),
	      "two seals of the same data are identical (nonce not random)");
	EXPECT_STATUS(seal(c, &host_user, data, SVC_SEAL_MAX_DATA + 1, blob,
			   &bl), TCIO_STATUS_BAD_REQUEST,
		      "seal one byte more than fits");
	EXPECT_STATUS(seal(c, &vm_caller, "x", 1, blob, &bl),
		      TCIO_STATUS_FAILED, "seal from an unregistered VM");
	EXPECT_STATUS(seal(c, &driver_caller, "x", 1, blob, &bl),
		      TCIO_STATUS_FAILED, "seal from the driver");
	svc_core_free(c);
}

static void test_seal_restart(void)
{
	static unsigned char blob[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	struct svc_keys saved = keys;
	struct svc_core *c = new_core();
	size_t bl, ol;

	reset_fake();
	EXPECT_STATUS(seal(c, &host_user, "persist", 7, blob, &bl),
		      TCIO_STATUS_SUCCESS, "seal");
	svc_core_free(c);
	c = new_core();
	EXPECT_STATUS(unseal(c, &host_user, blob, bl, out, &ol),
		      TCIO_STATUS_SUCCESS, "unseal after a restart with the same keys");
	check(ol == 7 && !memcmp(out, "persist", 7), "data after restart differ");
	svc_core_free(c);
	svc_keys_generate(&keys);
	c = new_core();
	EXPECT_STATUS(unseal(c, &host_user, blob, bl, out, &ol),
		      TCIO_STATUS_FAILED, "unseal under other keys");
	svc_core_free(c);
	keys = saved;
	sodium_memzero(&saved, sizeof(saved));
}

static void test_unseal_other_program(void)
{
	static unsigned char blob[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	struct tcio_svc_ext same_prog = host_user;
	struct svc_core *c = new_core();
	size_t bl, ol;

	reset_fake();
	seal(c, &host_user, "secret of a", 11, blob, &bl);
	EXPECT_STATUS(unseal(c, &host_other, blob, bl, out, &ol),
		      TCIO_STATUS_DENIED, "another program unseals");
	EXPECT_INT(ans_pl_len, 0, "denied answer payload");
	EXPECT_STATUS(unseal(c, &host_root, blob, bl, out, &ol),
		      TCIO_STATUS_DENIED, "root running another program unseals");
	/* Another process of the same program may unseal. */
	proc_set(150, 1500, "/usr/bin/client-a");
	same_prog.pid = 150;
	EXPECT_STATUS(unseal(c, &same_prog, blob, bl, out, &ol),
		      TCIO_STATUS_SUCCESS, "another process of the same program");
	svc_core_free(c);
}

static void test_tamper(void)
{
	static unsigned char blob[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	struct svc_core *c = new_core();
	size_t bl, ol, i, bad = 0;
	__u32 st;

	reset_fake();
	seal(c, &host_user, "tamper me", 9, blob, &bl);
	for (i = 0; i < bl; i++) {
		blob[i] ^= 0x01;
		st = unseal(c, &host_user, blob, bl, out, &ol);
		blob[i] ^= 0x01;
		if (st != TCIO_STATUS_FAILED) {
			ktap_diag("flipped byte %zu: expected FAILED, got %s", i,
				  tcio_status_name(st));
			bad++;
		}
	}
	EXPECT_INT(bad, 0, "tampered blobs accepted or misreported");
	for (i = 0; i < bl; i++) {
		st = unseal(c, &host_user, blob, i, out, &ol);
		if (st != TCIO_STATUS_FAILED) {
			ktap_diag("truncated to %zu: expected FAILED, got %s", i,
				  tcio_status_name(st));
			bad++;
		}
	}
	EXPECT_INT(bad, 0, "truncated blobs accepted or misreported");
	blob[bl] = 0;
	EXPECT_STATUS(unseal(c, &host_user, blob, bl + 1, out, &ol),
		      TCIO_STATUS_FAILED, "blob with a byte appended");
	EXPECT_STATUS(unseal(c, &host_user, blob, bl, out, &ol),
		      TCIO_STATUS_SUCCESS, "untouched blob still unseals");
	svc_core_free(c);
}

static void test_malformed(void)
{
	static const __u32 codes[] = {
		TCIO_REQ_SEAL, TCIO_REQ_UNSEAL, TCIO_REQ_ATTEST,
	};
	static const __s32 sizes[] = { -1, INT_MIN, INT_MAX, 5, 3 };
	struct svc_core *c = new_core();
	struct tcio_buf b;
	char what[80];
	size_t i, j;

	reset_fake();
	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		for (j = 0; j < ARRAY_SIZE(sizes); j++) {
			/* size field, then 4 bytes of data */
			tcio_buf_init(&b);
			tcio_buf_s32(&b, sizes[j]);
			tcio_buf_bytes(&b, "abcd", 4);
			snprintf(what, sizeof(what), "code %u, size %d, 4 bytes",
				 codes[i], sizes[j]);
			EXPECT_STATUS(req_buf(c, &host_user, codes[i], &b),
				      TCIO_STATUS_BAD_REQUEST, what);
		}
		snprintf(what, sizeof(what), "code %u, empty payload", codes[i]);
		EXPECT_STATUS(req(c, &host_user, codes[i], NULL, 0),
			      TCIO_STATUS_BAD_REQUEST, what);
		snprintf(what, sizeof(what), "code %u, 3-byte payload", codes[i]);
		EXPECT_STATUS(req(c, &host_user, codes[i], "abc", 3),
			      TCIO_STATUS_BAD_REQUEST, what);
	}
	svc_core_free(c);
}

static void test_attest(void)
{
	static const char data[] = "nonce from a verifier";
	unsigned char pk[32], hash[32], digest[32], sig[64], got[96];
	struct svc_core *c = new_core();
	crypto_hash_sha256_state st;
	struct tcio_buf b;
	size_t len;

	reset_fake();
	req(c, &host_user, TCIO_REQ_GET_OS_CREDS, NULL, 0);
	get_typed(TCIO_BUF_ED25519_PUBKEY, pk, 32);
	prog_hash(c, &host_user, 0, hash);

	tcio_buf_init(&b);
	tcio_buf_s32(&b, (__s32)strlen(data));
	tcio_buf_bytes(&b, data, strlen(data));
	if (!EXPECT_STATUS(req_buf(c, &host_user, TCIO_REQ_ATTEST, &b),
			   TCIO_STATUS_SUCCESS, "attest"))
		goto out;
	if (!get_sized(got, sizeof(got), &len) ||
	    !EXPECT_INT(len, SVC_ATTEST_LEN, "attestation length"))
		goto out;
	check(!memcmp(got, hash, 32), "attested hash is not the program hash");
	memcpy(sig, got + 32, 64);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)"JLMQUOTE", 8);
	crypto_hash_sha256_update(&st, (const unsigned char *)data,
				  strlen(data));
	crypto_hash_sha256_update(&st, hash, 32);
	crypto_hash_sha256_final(&st, digest);
	check(!crypto_sign_verify_detached(sig, digest, 32, pk),
	      "signature does not verify with the os creds key");
	digest[0] ^= 1;
	check(crypto_sign_verify_detached(sig, digest, 32, pk),
	      "signature verifies over other data");

	tcio_buf_init(&b);
	tcio_buf_s32(&b, 0);
	EXPECT_STATUS(req_buf(c, &host_user, TCIO_REQ_ATTEST, &b),
		      TCIO_STATUS_SUCCESS, "attest empty data");
	EXPECT_STATUS(req_buf(c, &vm_caller, TCIO_REQ_ATTEST, &b),
		      TCIO_STATUS_FAILED, "attest from an unregistered VM");
out:
	svc_core_free(c);
}

static void start_args(struct tcio_buf *b, int n, const char *const *args)
{
	int i;

	tcio_buf_init(b);
	tcio_buf_s32(b, n);
	for (i = 0; i < n; i++)
		tcio_buf_str(b, args[i]);
}

static void test_start_terminate(void)
{
	static const char *const sleep_args[] = { "/bin/sleep", "30", "" };
	static const char *const rel[] = { "sleep", "1" };
	struct svc_core *c = new_core();
	struct tcio_svc_ext app;
	unsigned char h[32], want[32];
	struct tcio_buf b;
	__s32 pid = 0, v;
	int i;

	reset_fake();
	start_args(&b, 3, sleep_args);
	if (EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
			  TCIO_STATUS_SUCCESS, "root starts an app")) {
		EXPECT_INT(ans_pl_len, 4, "start app answer length");
		memcpy(&pid, ans_pl, 4);
		EXPECT_INT(pid, 3000, "pid of the started app");
		check(!strcmp(fk.spawn_argv, "/bin/sleep|30|"),
		      "spawned argv: expected '/bin/sleep|30|', got '%s'",
		      fk.spawn_argv);
	}
	prog_hash_of("/bin/sleep", want);
	EXPECT_STATUS(prog_hash(c, &host_root, pid, h), TCIO_STATUS_SUCCESS,
		      "hash of the started app");
	check(!memcmp(h, want, 32), "hash of the started app differs");
	app = host_user;
	app.pid = pid;
	app.uid = 0;
	i = fk.exe_hash_calls;
	EXPECT_STATUS(prog_hash(c, &app, 0, h), TCIO_STATUS_SUCCESS,
		      "the app's own hash");
	check(!memcmp(h, want, 32), "the app's own hash differs");
	EXPECT_INT(fk.exe_hash_calls, i, "recorded hash reused");

	EXPECT_STATUS(req_buf(c, &host_user, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_DENIED, "non-root starts an app");
	EXPECT_STATUS(req_buf(c, &vm_caller, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_DENIED, "VM starts an app");
	start_args(&b, 2, rel);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_BAD_REQUEST, "relative argv[0]");
	start_args(&b, 3, sleep_args);
	b.len--;
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_BAD_REQUEST, "truncated");
	start_args(&b, 3, sleep_args);
	tcio_buf_bytes(&b, "x", 1);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_BAD_REQUEST, "trailing byte");
	start_args(&b, 2, sleep_args);
	memcpy(&v, b.p, 4);
	v = 3;
	memcpy(b.p, &v, 4);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_BAD_REQUEST, "nargs larger than present");
	for (v = -1; v <= 0; v++) {
		tcio_buf_init(&b);
		tcio_buf_s32(&b, v);
		EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
			      TCIO_STATUS_BAD_REQUEST, "nargs <= 0");
	}
	tcio_buf_init(&b);
	tcio_buf_s32(&b, SVC_MAX_ARGS + 1);
	for (i = 0; i <= SVC_MAX_ARGS; i++)
		tcio_buf_str(&b, "/x");
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_BAD_REQUEST, "too many arguments");
	tcio_buf_init(&b);
	tcio_buf_s32(&b, 1);
	tcio_buf_s32(&b, 4);
	tcio_buf_bytes(&b, "/a\0b", 4);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_BAD_REQUEST, "NUL inside an argument");
	tcio_buf_init(&b);
	tcio_buf_s32(&b, 1);
	tcio_buf_s32(&b, -4);
	tcio_buf_bytes(&b, "/abc", 4);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_BAD_REQUEST, "negative argument length");

	start_args(&b, 3, sleep_args);
	fk.spawn_rc = -ENOENT;
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_FAILED, "exec fails");
	fk.spawn_rc = -ENOMEM;
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_NO_MEMORY, "out of memory");
	fk.spawn_rc = 0;

	/* terminate */
	EXPECT_STATUS(req(c, &host_user, TCIO_REQ_TERMINATE_APP, &pid, 4),
		      TCIO_STATUS_DENIED, "non-root terminates");
	EXPECT_STATUS(req(c, &vm_caller, TCIO_REQ_TERMINATE_APP, &pid, 4),
		      TCIO_STATUS_DENIED, "VM terminates");
	v = 101;
	EXPECT_STATUS(req(c, &host_root, TCIO_REQ_TERMINATE_APP, &v, 4),
		      TCIO_STATUS_DENIED, "terminate a process not started");
	EXPECT_INT(fk.killed, 0, "nothing killed yet");
	EXPECT_STATUS(req(c, &host_root, TCIO_REQ_TERMINATE_APP, &pid, 3),
		      TCIO_STATUS_BAD_REQUEST, "terminate, 3-byte payload");
	v = 0;
	EXPECT_STATUS(req(c, &host_root, TCIO_REQ_TERMINATE_APP, &v, 4),
		      TCIO_STATUS_BAD_REQUEST, "terminate pid 0");
	EXPECT_STATUS(req(c, &host_root, TCIO_REQ_TERMINATE_APP, &pid, 4),
		      TCIO_STATUS_SUCCESS, "terminate the started app");
	EXPECT_INT(fk.killed, pid, "killed pid");
	EXPECT_INT(ans_pl_len, 0, "terminate answer payload");
	proc_kill(pid);
	svc_core_child_exited(c, pid);
	fk.killed = 0;
	EXPECT_STATUS(req(c, &host_root, TCIO_REQ_TERMINATE_APP, &pid, 4),
		      TCIO_STATUS_DENIED, "terminate an app already reaped");
	EXPECT_INT(fk.killed, 0, "reaped pid not killed");

	/* The table of apps is bounded. */
	start_args(&b, 3, sleep_args);
	for (i = 0; i < SVC_MAX_APPS; i++)
		if (req_buf(c, &host_root, TCIO_REQ_START_APP, &b) !=
		    TCIO_STATUS_SUCCESS)
			break;
	EXPECT_INT(i, SVC_MAX_APPS, "apps started before the table is full");
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_START_APP, &b),
		      TCIO_STATUS_NO_RESOURCE, "start with the table full");
	svc_core_free(c);
}

static void vm_args(struct tcio_buf *b, __s32 pid, __s32 n,
		    const char *kernel, const char *initrd,
		    const char *cmdline)
{
	tcio_buf_init(b);
	tcio_buf_s32(b, pid);
	tcio_buf_s32(b, n);
	tcio_buf_str(b, kernel);
	tcio_buf_str(b, initrd);
	tcio_buf_str(b, cmdline);
}

static void expected_measurement(const char *cmdline, unsigned char *out)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, fk.files[0].data, fk.files[0].len);
	crypto_hash_sha256_update(&st, fk.files[1].data, fk.files[1].len);
	crypto_hash_sha256_update(&st, (const unsigned char *)cmdline,
				  strlen(cmdline));
	crypto_hash_sha256_final(&st, out);
}

static void test_register_vm(void)
{
	static unsigned char blob[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	static const char cmd[] = "console=ttyS0 quiet";
	unsigned char want[32], got[32];
	struct tcio_svc_ext vm2 = vm_caller;
	struct svc_core *c = new_core();
	struct tcio_buf b;
	size_t bl, ol;

	reset_fake();
	expected_measurement(cmd, want);
	vm_args(&b, 200, 3, "/boot/vmlinuz", "/boot/initrd.img", cmd);
	EXPECT_STATUS(req_buf(c, &host_user, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_DENIED, "non-root registers");
	EXPECT_STATUS(req_buf(c, &vm_caller, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_DENIED, "VM registers");
	if (EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
			  TCIO_STATUS_SUCCESS, "root registers") &&
	    get_typed(TCIO_BUF_SHA256, got, 32))
		check(!memcmp(got, want, 32), "measurement differs");
	EXPECT_STATUS(prog_hash(c, &vm_caller, 0, got), TCIO_STATUS_SUCCESS,
		      "VM program hash");
	check(!memcmp(got, want, 32), "VM program hash is not its measurement");

	EXPECT_STATUS(seal(c, &vm_caller, "vm secret", 9, blob, &bl),
		      TCIO_STATUS_SUCCESS, "VM seals");
	EXPECT_STATUS(unseal(c, &vm_caller, blob, bl, out, &ol),
		      TCIO_STATUS_SUCCESS, "VM unseals");
	check(ol == 9 && !memcmp(out, "vm secret", 9), "VM unsealed data differ");
	EXPECT_STATUS(unseal(c, &host_root, blob, bl, out, &ol),
		      TCIO_STATUS_DENIED, "host unseals the VM's blob");

	vm2.pid = 201;
	proc_set(201, 2001, "/usr/bin/qemu-system-x86_64");
	EXPECT_STATUS(prog_hash(c, &vm2, 0, got), TCIO_STATUS_FAILED,
		      "VM of another VMM is not registered");
	vm2 = vm_caller;
	vm2.vm_id = 8;
	EXPECT_STATUS(prog_hash(c, &vm2, 0, got), TCIO_STATUS_FAILED,
		      "another VM of the same VMM process");

	vm_args(&b, 200, 2, "/boot/vmlinuz", "/boot/initrd.img", cmd);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_BAD_REQUEST, "nargs 2 with 3 strings");
	vm_args(&b, 200, 4, "/boot/vmlinuz", "/boot/initrd.img", cmd);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_BAD_REQUEST, "nargs 4");
	vm_args(&b, 200, 3, "boot/vmlinuz", "/boot/initrd.img", cmd);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_BAD_REQUEST, "relative kernel path");
	vm_args(&b, 200, 3, "/boot/vmlinuz", "", cmd);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_BAD_REQUEST, "empty initrd path");
	vm_args(&b, 0, 3, "/boot/vmlinuz", "/boot/initrd.img", cmd);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_BAD_REQUEST, "vmm pid 0");
	vm_args(&b, 200, 3, "/boot/vmlinuz", "/boot/initrd.img", cmd);
	b.len -= 2;
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_BAD_REQUEST, "truncated cmdline");
	vm_args(&b, 4242, 3, "/boot/vmlinuz", "/boot/initrd.img", cmd);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_FAILED, "unknown vmm pid");
	vm_args(&b, 201, 3, "/boot/missing", "/boot/initrd.img", cmd);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_FAILED, "missing kernel file");
	vm_args(&b, 201, 3, "/boot/vmlinuz", "/boot/initrd.img", "");
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_SUCCESS, "empty cmdline");
	expected_measurement("", want);
	if (get_typed(TCIO_BUF_SHA256, got, 32))
		check(!memcmp(got, want, 32), "measurement with empty cmdline");
	svc_core_free(c);
}

static void test_vm_lifetime(void)
{
	struct tcio_svc_ext gone = vm_caller;
	struct svc_core *c = new_core();
	unsigned char h[32];
	struct tcio_buf b;

	reset_fake();
	vm_args(&b, 200, 3, "/boot/vmlinuz", "/boot/initrd.img", "a");
	req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b);
	EXPECT_STATUS(prog_hash(c, &vm_caller, 0, h), TCIO_STATUS_SUCCESS,
		      "registered VM");

	/* A channel closing leaves the VM registered. */
	EXPECT_INT(req(c, &gone, TCIO_SVC_TERMINATE, NULL, 0), UINT32_MAX,
		   "terminate of a channel gets no answer");
	EXPECT_STATUS(prog_hash(c, &vm_caller, 0, h), TCIO_STATUS_SUCCESS,
		      "VM after one channel closed");
	/* The VM going away (channel 0) forgets it. */
	gone.channel = 0;
	EXPECT_INT(req(c, &gone, TCIO_SVC_TERMINATE, NULL, 0), UINT32_MAX,
		   "terminate of the VM gets no answer");
	EXPECT_STATUS(prog_hash(c, &vm_caller, 0, h), TCIO_STATUS_FAILED,
		      "VM after TCIO_SVC_TERMINATE of the VM");

	/* pid reuse: the VMM exits, a new process gets its pid. */
	req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b);
	EXPECT_STATUS(prog_hash(c, &vm_caller, 0, h), TCIO_STATUS_SUCCESS,
		      "registered again");
	proc_set(200, 2999, "/usr/bin/qemu-system-x86_64");
	EXPECT_STATUS(prog_hash(c, &vm_caller, 0, h), TCIO_STATUS_FAILED,
		      "VM of a new process reusing the VMM's pid");
	proc_set(200, 2000, "/usr/bin/qemu-system-x86_64");
	EXPECT_STATUS(prog_hash(c, &vm_caller, 0, h), TCIO_STATUS_FAILED,
		      "registration stays dropped");
	proc_kill(200);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_FAILED, "register a dead VMM");
	svc_core_free(c);
}

static void test_vm_table(void)
{
	struct svc_core *c = new_core();
	struct tcio_buf b;
	int i;

	reset_fake();
	for (i = 0; i < SVC_MAX_VMS; i++) {
		proc_set(10000 + i, 7, "/usr/bin/qemu");
		vm_args(&b, 10000 + i, 3, "/boot/vmlinuz", "/boot/initrd.img",
			"");
		if (req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b) !=
		    TCIO_STATUS_SUCCESS)
			break;
	}
	EXPECT_INT(i, SVC_MAX_VMS, "VMs registered");
	vm_args(&b, 200, 3, "/boot/vmlinuz", "/boot/initrd.img", "");
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_NO_RESOURCE, "table full of live VMMs");
	proc_kill(10005);
	EXPECT_STATUS(req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b),
		      TCIO_STATUS_SUCCESS, "slot of a dead VMM reused");
	svc_core_free(c);
}

static void test_host_pid_reuse(void)
{
	static unsigned char blob[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	unsigned char h[32], want[32];
	struct svc_core *c = new_core();
	size_t bl, ol;

	reset_fake();
	seal(c, &host_user, "a's data", 8, blob, &bl);
	/* client-a exits; a process of another program gets pid 101. */
	proc_set(101, 1777, "/usr/bin/intruder");
	EXPECT_STATUS(unseal(c, &host_user, blob, bl, out, &ol),
		      TCIO_STATUS_DENIED, "new process reusing the pid unseals");
	prog_hash_of("/usr/bin/intruder", want);
	EXPECT_STATUS(prog_hash(c, &host_user, 0, h), TCIO_STATUS_SUCCESS,
		      "hash of the new process");
	check(!memcmp(h, want, 32), "the new process inherited the old hash");

	/* Same process (same start time) execs another program. */
	proc_set(101, 1001, "/usr/bin/client-a");
	EXPECT_STATUS(unseal(c, &host_user, blob, bl, out, &ol),
		      TCIO_STATUS_SUCCESS, "client-a again");
	fake_proc(101)->id.ino = ++fk.ino;
	prog_hash_of("/usr/bin/exec-ed", fake_proc(101)->hash);
	EXPECT_STATUS(unseal(c, &host_user, blob, bl, out, &ol),
		      TCIO_STATUS_DENIED, "after exec of another program");

	/* A new process of the same program reusing the pid is re-hashed. */
	proc_set(101, 1888, "/usr/bin/client-a");
	fake_proc(101)->id.ino = 1;
	prog_hash(c, &host_user, 0, h);
	ol = (size_t)fk.exe_hash_calls;
	proc_set(101, 1889, "/usr/bin/client-a");
	fake_proc(101)->id.ino = 1;
	prog_hash(c, &host_user, 0, h);
	EXPECT_INT(fk.exe_hash_calls, ol + 1,
		   "new process, same executable: hashed afresh");

	/* The pid is reused while its executable is hashed. */
	proc_set(101, 1900, "/usr/bin/client-a");
	fk.reuse_pid = 101;
	EXPECT_STATUS(prog_hash(c, &host_user, 0, h), TCIO_STATUS_FAILED,
		      "pid reused while hashing");
	fk.reuse_pid = 0;

	/* A process gone after hashing (pid reused meanwhile) fails. */
	proc_kill(101);
	EXPECT_STATUS(unseal(c, &host_user, blob, bl, out, &ol),
		      TCIO_STATUS_FAILED, "caller gone");
	svc_core_free(c);
}

static void test_codes(void)
{
	static const __u32 codes[] = {
		0, 2, 4, 8, 19, 20, 22, 24, 25, 99, 101, 999, 0x7fffffff,
	};
	struct svc_core *c = new_core();
	char what[48];
	size_t i;

	reset_fake();
	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		snprintf(what, sizeof(what), "code %u", codes[i]);
		EXPECT_STATUS(req(c, &host_root, codes[i], "abcd", 4),
			      TCIO_STATUS_BAD_REQUEST, what);
	}
	EXPECT_INT(req(c, &host_root, TCIO_SVC_TERMINATE, "abcd", 4),
		   UINT32_MAX, "TCIO_SVC_TERMINATE with payload: no answer");
	EXPECT_INT(req(c, &driver_caller, TCIO_SVC_TERMINATE, NULL, 0),
		   UINT32_MAX, "TCIO_SVC_TERMINATE from the driver: no answer");
	svc_core_free(c);
}

static void test_echo(void)
{
	static const size_t lens[] = { 0, 1, 64, 1024, TCIO_MAX_PAYLOAD };
	static const struct tcio_svc_ext *callers[] = {
		&host_user, &vm_caller, &driver_caller,
	};
	static unsigned char data[TCIO_MAX_PAYLOAD];
	struct svc_core *c = new_core();
	char what[64];
	size_t i, j;

	reset_fake();
	randombytes_buf(data, sizeof(data));
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		for (j = 0; j < ARRAY_SIZE(callers); j++) {
			snprintf(what, sizeof(what), "echo of %zu bytes (%zu)",
				 lens[i], j);
			EXPECT_STATUS(req(c, callers[j], TCIO_REQ_ECHO, data,
					  lens[i]),
				      TCIO_STATUS_SUCCESS, what);
			EXPECT_INT(ans_pl_len, lens[i], what);
			check(ans_pl && !memcmp(ans_pl, data, lens[i]),
			      "%s: payload not echoed unchanged", what);
		}
	}
	/* Echo asks nothing of the system: no program is hashed. */
	EXPECT_INT(fk.exe_hash_calls, 0, "echo hashed a program");
	svc_core_free(c);
}

static void test_framing(void)
{
	static unsigned char msg[SVC_MSG_MAX + 8];
	struct svc_core *c = new_core();
	struct tcio_hdr hdr = { .req_id = TCIO_REQ_GET_POLICY_KEY };
	struct tcio_svc_ext ext = host_user;
	size_t len;

	reset_fake();
	memcpy(msg, &hdr, sizeof(hdr));
	memcpy(msg + sizeof(hdr), &ext, sizeof(ext));
	EXPECT_INT(raw(c, msg, SVC_HDR_LEN - 1), -EINVAL,
		   "message shorter than the headers");
	EXPECT_INT(ans_len, 0, "no answer to a headless message");
	EXPECT_INT(raw(c, msg, SVC_MSG_MAX + 1), -EINVAL,
		   "message longer than the maximum");

	hdr.req_size = 4;
	memcpy(msg, &hdr, sizeof(hdr));
	EXPECT_INT(raw(c, msg, SVC_HDR_LEN), 0, "req_size 4, no payload");
	EXPECT_STATUS(ans_hdr.status, TCIO_STATUS_BAD_REQUEST,
		      "req_size larger than the payload");
	hdr.req_size = 0;
	memcpy(msg, &hdr, sizeof(hdr));
	EXPECT_INT(raw(c, msg, SVC_HDR_LEN + 4), 0, "req_size 0, 4 bytes");
	EXPECT_STATUS(ans_hdr.status, TCIO_STATUS_BAD_REQUEST,
		      "req_size smaller than the payload");
	EXPECT_INT(raw(c, msg, SVC_HDR_LEN), 0, "well formed");
	EXPECT_STATUS(ans_hdr.status, TCIO_STATUS_SUCCESS, "well formed");
	EXPECT_INT(svc_core_handle(c, msg, SVC_HDR_LEN, ans_buf,
				   SVC_MSG_MAX - 1, &len), -EINVAL,
		   "answer buffer too small");
	svc_core_free(c);
}

/*
 * A restarted tcService must still know the VMs that are running: their
 * channels stay open across the restart and their guests go on sealing.
 */
static void test_vm_restart(void)
{
	static unsigned char blob[TCIO_MAX_PAYLOAD], out[TCIO_MAX_PAYLOAD];
	static unsigned char file[SVC_VMFILE_MAX];
	struct tcio_svc_ext other_vm = vm_caller;
	unsigned char h[32], want[32];
	struct svc_core *c = new_core();
	unsigned int gen;
	struct tcio_buf b;
	size_t bl, ol, fl;

	reset_fake();
	expected_measurement("r", want);
	gen = svc_core_vms_generation(c);
	vm_args(&b, 200, 3, "/boot/vmlinuz", "/boot/initrd.img", "r");
	req_buf(c, &host_root, TCIO_REQ_REGISTER_VM, &b);
	check(svc_core_vms_generation(c) != gen,
	      "registering a VM does not change the generation");
	gen = svc_core_vms_generation(c);
	EXPECT_STATUS(seal(c, &vm_caller, "kept", 4, blob, &bl),
		      TCIO_STATUS_SUCCESS, "VM seals before the restart");
	check(svc_core_vms_generation(c) != gen,
	      "binding the vm_id does not change the generation");
	EXPECT_INT(svc_core_vms_encode(c, file, sizeof(file) - 1, &fl),
		   -EINVAL, "encode into too small a buffer");
	EXPECT_INT(svc_core_vms_encode(c, file, sizeof(file), &fl), 0,
		   "encode");
	EXPECT_INT(fl, 8 + SVC_VMFILE_REC_LEN, "VM file length");
	svc_core_free(c);

	/* The restart: without the file the VM has no program hash. */
	c = new_core();
	EXPECT_STATUS(prog_hash(c, &vm_caller, 0, h), TCIO_STATUS_FAILED,
		      "VM after a restart, nothing restored");
	EXPECT_INT(svc_core_vms_restore(c, file, fl), 1, "restore");
	if (EXPECT_STATUS(prog_hash(c, &vm_caller, 0, h), TCIO_STATUS_SUCCESS,
			  "VM program hash after the restart"))
		check(!memcmp(h, want, 32), "restored measurement differs");
	EXPECT_STATUS(unseal(c, &vm_caller, blob, bl, out, &ol),
		      TCIO_STATUS_SUCCESS, "VM unseals across the restart");
	check(ol == 4 && !memcmp(out, "kept", 4), "unsealed data differ");
	other_vm.vm_id = 8;
	EXPECT_STATUS(prog_hash(c, &other_vm, 0, h), TCIO_STATUS_FAILED,
		      "another VM of the VMM after the restart (binding kept)");
	EXPECT_INT(svc_core_vms_restore(c, file, fl), 0,
		   "restore a VM already registered");
	svc_core_free(c);

	/* The VMM exited, or another process got its pid, while no service ran. */
	proc_set(200, 2999, "/usr/bin/qemu-system-x86_64");
	c = new_core();
	EXPECT_INT(svc_core_vms_restore(c, file, fl), 0,
		   "restore when the VMM's pid was reused");
	EXPECT_STATUS(prog_hash(c, &vm_caller, 0, h), TCIO_STATUS_FAILED,
		      "VM of a new process reusing the VMM's pid");
	svc_core_free(c);
	proc_kill(200);
	c = new_core();
	EXPECT_INT(svc_core_vms_restore(c, file, fl), 0,
		   "restore when the VMM is gone");
	EXPECT_INT(svc_core_vms_restore(c, file, fl - 1), -EINVAL,
		   "restore a cut file");
	EXPECT_INT(svc_core_vms_restore(c, file, 4), -EINVAL,
		   "restore a file shorter than its header");
	file[4] = 2;
	EXPECT_INT(svc_core_vms_restore(c, file, fl), -EINVAL,
		   "restore a file of version 2");
	svc_core_free(c);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "keyfile_format", test_keyfile },
	{ "proc_stat_start_time", test_start_time },
	{ "policy_key_os_hash_os_creds", test_keys_and_os_hash },
	{ "program_hash", test_prog_hash },
	{ "program_hash_cache_and_terminate", test_hash_cache },
	{ "seal_unseal_round_trip", test_seal_unseal },
	{ "seal_survives_restart", test_seal_restart },
	{ "unseal_other_program_denied", test_unseal_other_program },
	{ "unseal_tampered_failed", test_tamper },
	{ "malformed_sized_payloads", test_malformed },
	{ "attest_verifies", test_attest },
	{ "start_and_terminate_app", test_start_terminate },
	{ "register_vm", test_register_vm },
	{ "vm_terminate_and_pid_reuse", test_vm_lifetime },
	{ "vm_table_bounded", test_vm_table },
	{ "vm_registrations_survive_restart", test_vm_restart },
	{ "host_pid_reuse_and_exec", test_host_pid_reuse },
	{ "unknown_and_service_codes", test_codes },
	{ "echo_any_caller_any_size", test_echo },
	{ "message_framing", test_framing },
};

int main(void)
{
	size_t n = ARRAY_SIZE(tests), i;
	struct ktap k;

	if (sodium_init() < 0) {
		printf("Bail out! sodium_init failed\n");
		return 1;
	}
	svc_keys_generate(&keys);
	randombytes_buf(os_hash, sizeof(os_hash));
	ktap_start(&k, (int)n);
	for (i = 0; i < n; i++) {
		failed = false;
		tests[i].fn();
		ktap_result(&k, failed ? KTAP_FAIL : KTAP_PASS, tests[i].name,
			    NULL);
	}
	printf("# %d passed, %d failed\n", k.num - k.failed, k.failed);
	sodium_memzero(&keys, sizeof(keys));
	return ktap_exit_code(&k);
}
