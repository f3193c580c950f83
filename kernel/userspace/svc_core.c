// SPDX-License-Identifier: GPL-2.0
/*
 * Request handling of tcService, free of I/O.
 *
 * One call of svc_core_handle() takes one service-side request and builds
 * its answer.  Every length read from a message is checked against what is
 * left of the message before it is used; a malformed payload gets
 * TCIO_STATUS_BAD_REQUEST and an empty answer.  Answers carry no secret:
 * plaintext only ever lives in the core's own (sodium_malloc'ed, locked)
 * scratch buffer and is wiped after each request.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc_core.h"

/* Scratch room: plaintext of a seal/unseal, or the strings of a request. */
#define SVC_SCRATCH_LEN		(2 * TCIO_MAX_MSG)

/**
 * struct svc_host - cached program hash of a host process
 * @pid: the process
 * @start: its start time; a different start time is a different process
 * @id: identity of the executable that was hashed
 * @hash: SHA-256 of that executable
 * @used: the core's clock when last used (for eviction)
 * @valid: the slot is in use
 */
struct svc_host {
	pid_t pid;
	__u64 start;
	struct svc_exe_id id;
	unsigned char hash[TCIO_SHA256_LEN];
	__u64 used;
	bool valid;
};

/**
 * struct svc_vm - a VM registered by request 21
 * @pid: the VMM process
 * @start: its start time
 * @vm_id: tcioDD's id of the VM, bound on its first request (0: not yet)
 * @meas: the measurement, used as program hash of the VM's callers
 * @valid: the slot is in use
 */
struct svc_vm {
	pid_t pid;
	__u64 start;
	__u32 vm_id;
	unsigned char meas[TCIO_SHA256_LEN];
	bool valid;
};

/**
 * struct svc_app - a program started by request 15, until it is reaped
 * @pid: its pid (held by the service as the parent until reaped)
 * @start: its start time
 * @valid: the slot is in use
 */
struct svc_app {
	pid_t pid;
	__u64 start;
	bool valid;
};

/**
 * struct svc_core - state of the service
 * @ops: system operations
 * @ctx: their context
 * @seal_key: key of sealed blobs
 * @attest_pk: attestation public key (request 5)
 * @attest_sk: attestation secret key (signs request 13)
 * @policy_pk: policy public key (request 1)
 * @policy_sk: policy secret key (kept for completeness, never used)
 * @os_hash: SHA-256 of the service's executable (request 3)
 * @hosts: cache of host callers' hashes
 * @vms: registered VMs
 * @apps: started programs
 * @clock: counts lookups, for eviction from @hosts
 * @vms_gen: counts changes of @vms, so the caller knows when to save them
 * @scratch: plaintext and string room, wiped after every request
 *
 * Allocated with sodium_malloc() so it is locked in memory and wiped when
 * freed.
 */
struct svc_core {
	const struct svc_ops *ops;
	void *ctx;
	unsigned char seal_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	unsigned char attest_pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char attest_sk[crypto_sign_SECRETKEYBYTES];
	unsigned char policy_pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char policy_sk[crypto_sign_SECRETKEYBYTES];
	unsigned char os_hash[TCIO_SHA256_LEN];
	struct svc_host hosts[SVC_MAX_HOSTS];
	struct svc_vm vms[SVC_MAX_VMS];
	struct svc_app apps[SVC_MAX_APPS];
	__u64 clock;
	unsigned int vms_gen;
	unsigned char scratch[SVC_SCRATCH_LEN];
};

/**
 * struct svc_rd - cursor over a request payload
 * @p: next byte
 * @left: bytes left
 * @bad: a read went past the end or met an invalid value
 */
struct svc_rd {
	const unsigned char *p;
	size_t left;
	bool bad;
};

/**
 * struct svc_wr - cursor over an answer payload
 * @p: start of the payload
 * @len: bytes written
 * @cap: room
 * @bad: a write did not fit
 */
struct svc_wr {
	unsigned char *p;
	size_t len;
	size_t cap;
	bool bad;
};

/**
 * svc_log() - log one line through &svc_ops.log, if there is one
 * @c: the core
 * @fmt: printf format
 *
 * Only for things privileged callers do, so no guest can flood the log.
 */
static void __printf(2, 3)
svc_log(struct svc_core *c, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!c->ops->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->ops->log(c->ctx, line);
}

/**
 * rd_s32() - read a native s32
 * @r: cursor
 *
 * Return: the value, or 0 with @r->bad set if fewer than 4 bytes are left.
 */
static __s32 rd_s32(struct svc_rd *r)
{
	__s32 v;

	if (r->bad || r->left < sizeof(v)) {
		r->bad = true;
		return 0;
	}
	memcpy(&v, r->p, sizeof(v));
	r->p += sizeof(v);
	r->left -= sizeof(v);
	return v;
}

/**
 * rd_len() - read a native s32 length and check that many bytes follow
 * @r: cursor
 *
 * Return: the length, or 0 with @r->bad set if it is negative or larger
 * than what is left.
 */
static size_t rd_len(struct svc_rd *r)
{
	__s32 v = rd_s32(r);

	if (r->bad || v < 0 || (size_t)v > r->left) {
		r->bad = true;
		return 0;
	}
	return (size_t)v;
}

/**
 * rd_bytes() - take @len bytes
 * @r: cursor
 * @len: how many
 *
 * Return: pointer to them, or NULL with @r->bad set if fewer are left.
 */
static const unsigned char *rd_bytes(struct svc_rd *r, size_t len)
{
	const unsigned char *p = r->p;

	if (r->bad || len > r->left) {
		r->bad = true;
		return NULL;
	}
	r->p += len;
	r->left -= len;
	return p;
}

/**
 * rd_end() - check that the payload was consumed exactly
 * @r: cursor
 *
 * Return: true if nothing went wrong and nothing is left over.
 */
static bool rd_end(const struct svc_rd *r)
{
	return !r->bad && r->left == 0;
}

/**
 * wr_bytes() - append bytes to the answer
 * @w: cursor
 * @p: bytes (may be NULL to reserve room)
 * @len: how many
 *
 * Return: where they went, or NULL with @w->bad set if they do not fit.
 */
static unsigned char *wr_bytes(struct svc_wr *w, const void *p, size_t len)
{
	unsigned char *dst;

	if (w->bad || len > w->cap - w->len) {
		w->bad = true;
		return NULL;
	}
	dst = w->p + w->len;
	if (p)
		memcpy(dst, p, len);
	w->len += len;
	return dst;
}

/**
 * wr_s32() - append a native s32
 * @w: cursor
 * @v: value
 */
static void wr_s32(struct svc_wr *w, __s32 v)
{
	wr_bytes(w, &v, sizeof(v));
}

/**
 * wr_typed() - append a typed buffer: u32 type | s32 size | bytes
 * @w: cursor
 * @type: TCIO_BUF_*
 * @p: bytes
 * @len: how many
 */
static void wr_typed(struct svc_wr *w, __u32 type, const void *p,
		     size_t len)
{
	wr_bytes(w, &type, sizeof(type));
	wr_s32(w, (__s32)len);
	wr_bytes(w, p, len);
}

/**
 * errno_status() - status for a negative errno from an operation
 * @err: negative errno
 *
 * Return: TCIO_STATUS_NO_MEMORY for -ENOMEM, TCIO_STATUS_FAILED otherwise.
 */
static __u32 errno_status(int err)
{
	return err == -ENOMEM ? TCIO_STATUS_NO_MEMORY : TCIO_STATUS_FAILED;
}

/**
 * is_root_host() - whether the caller is a host process with uid 0
 * @ext: caller identity
 *
 * Return: true if so.
 */
static bool is_root_host(const struct tcio_svc_ext *ext)
{
	return ext->caller_kind == TCIO_CALLER_HOST && ext->uid == 0;
}

/**
 * host_slot() - find the cache slot of @pid, or one to reuse
 * @c: the core
 * @pid: the process
 *
 * Return: the slot holding @pid, else a free one, else the least recently
 * used one.
 */
static struct svc_host *host_slot(struct svc_core *c, pid_t pid)
{
	struct svc_host *victim = NULL;
	size_t i;

	for (i = 0; i < SVC_MAX_HOSTS; i++)
		if (c->hosts[i].valid && c->hosts[i].pid == pid)
			return &c->hosts[i];
	for (i = 0; i < SVC_MAX_HOSTS; i++) {
		struct svc_host *h = &c->hosts[i];

		if (!h->valid)
			return h;
		if (!victim || h->used < victim->used)
			victim = h;
	}
	return victim;
}

/**
 * host_store() - remember the hash of a host process
 * @c: the core
 * @pid: the process
 * @start: its start time
 * @id: identity of the executable hashed
 * @hash: its SHA-256
 */
static void host_store(struct svc_core *c, pid_t pid, __u64 start,
		       const struct svc_exe_id *id,
		       const unsigned char *hash)
{
	struct svc_host *h = host_slot(c, pid);

	h->pid = pid;
	h->start = start;
	h->id = *id;
	memcpy(h->hash, hash, TCIO_SHA256_LEN);
	h->used = ++c->clock;
	h->valid = true;
}

/**
 * host_hash() - program hash of host process @pid
 * @c: the core
 * @pid: the process
 * @out: the hash
 *
 * The cache is keyed by (pid, start time) and also checks the identity of
 * the executable, so neither a new process reusing the pid nor an exec of
 * another program inherits an old hash.  The start time is read again
 * after hashing so a pid reused meanwhile is noticed.
 *
 * Return: TCIO_STATUS_SUCCESS, or a status saying why there is no hash.
 */
static __u32 host_hash(struct svc_core *c, pid_t pid, unsigned char *out)
{
	struct svc_exe_id id, hashed;
	unsigned char hash[TCIO_SHA256_LEN];
	__u64 start, again;
	size_t i;
	int rc;

	if (pid <= 0)
		return TCIO_STATUS_FAILED;
	rc = c->ops->start_time(c->ctx, pid, &start);
	if (rc)
		return errno_status(rc);
	rc = c->ops->exe_id(c->ctx, pid, &id);
	if (rc)
		return errno_status(rc);
	for (i = 0; i < SVC_MAX_HOSTS; i++) {
		struct svc_host *h = &c->hosts[i];

		if (!h->valid || h->pid != pid)
			continue;
		if (h->start == start && !memcmp(&h->id, &id, sizeof(id))) {
			h->used = ++c->clock;
			memcpy(out, h->hash, TCIO_SHA256_LEN);
			return TCIO_STATUS_SUCCESS;
		}
		h->valid = false;
	}
	rc = c->ops->exe_hash(c->ctx, pid, hash, &hashed);
	if (rc)
		return errno_status(rc);
	rc = c->ops->start_time(c->ctx, pid, &again);
	if (rc)
		return errno_status(rc);
	if (again != start)
		return TCIO_STATUS_FAILED;
	host_store(c, pid, start, &hashed, hash);
	memcpy(out, hash, TCIO_SHA256_LEN);
	return TCIO_STATUS_SUCCESS;
}

/**
 * vm_find() - the registration of VMM process @pid
 * @c: the core
 * @pid: the VMM
 *
 * Return: the slot, or NULL.
 */
static struct svc_vm *vm_find(struct svc_core *c, pid_t pid)
{
	size_t i;

	for (i = 0; i < SVC_MAX_VMS; i++)
		if (c->vms[i].valid && c->vms[i].pid == pid)
			return &c->vms[i];
	return NULL;
}

/**
 * vm_alive() - whether the VMM of a registration still runs
 * @c: the core
 * @vm: the registration
 *
 * Return: true if a process with that pid and start time exists.
 */
static bool vm_alive(struct svc_core *c, const struct svc_vm *vm)
{
	__u64 start;

	return !c->ops->start_time(c->ctx, vm->pid, &start) &&
	       start == vm->start;
}

/**
 * vm_hash() - program hash of a VM caller: its registered measurement
 * @c: the core
 * @ext: caller identity (caller_kind TCIO_CALLER_VM)
 * @out: the hash
 *
 * A registration whose VMM is gone (start time differs) is dropped.  The
 * first request binds the registration to the caller's vm_id; a different
 * VM of the same VMM process is not given the measurement.
 *
 * Return: TCIO_STATUS_SUCCESS, or TCIO_STATUS_FAILED if the VM is unknown.
 */
static __u32 vm_hash(struct svc_core *c, const struct tcio_svc_ext *ext,
		     unsigned char *out)
{
	struct svc_vm *vm = vm_find(c, ext->pid);

	if (!vm)
		return TCIO_STATUS_FAILED;
	if (!vm_alive(c, vm)) {
		sodium_memzero(vm, sizeof(*vm));
		c->vms_gen++;
		return TCIO_STATUS_FAILED;
	}
	if (!vm->vm_id) {
		vm->vm_id = ext->vm_id;
		c->vms_gen++;
	} else if (vm->vm_id != ext->vm_id) {
		return TCIO_STATUS_FAILED;
	}
	memcpy(out, vm->meas, TCIO_SHA256_LEN);
	return TCIO_STATUS_SUCCESS;
}

/**
 * caller_hash() - program hash of the caller of a request
 * @c: the core
 * @ext: caller identity
 * @out: the hash
 *
 * Return: TCIO_STATUS_SUCCESS, or why there is none.
 */
static __u32 caller_hash(struct svc_core *c, const struct tcio_svc_ext *ext,
			 unsigned char *out)
{
	switch (ext->caller_kind) {
	case TCIO_CALLER_HOST:
		return host_hash(c, ext->pid, out);
	case TCIO_CALLER_VM:
		return vm_hash(c, ext, out);
	default:
		return TCIO_STATUS_FAILED;
	}
}

/**
 * do_typed_key() - requests 1 and 5: a public key
 * @w: answer
 * @pk: the key
 *
 * Return: TCIO_STATUS_SUCCESS.
 */
static __u32 do_typed_key(struct svc_wr *w, const unsigned char *pk)
{
	wr_typed(w, TCIO_BUF_ED25519_PUBKEY, pk, TCIO_ED25519_PUBKEY_LEN);
	return TCIO_STATUS_SUCCESS;
}

/**
 * do_echo() - request 23: the payload back, unchanged
 * @r: payload: any bytes
 * @w: answer: the same bytes
 *
 * Anybody may ask: it reveals nothing and costs the service no more than
 * reading the request.  It times the path to the service and back.
 *
 * Return: status.
 */
static __u32 do_echo(struct svc_rd *r, struct svc_wr *w)
{
	size_t len = r->left;

	wr_bytes(w, rd_bytes(r, len), len);
	return TCIO_STATUS_SUCCESS;
}

/**
 * do_prog_hash() - request 7: program hash of the caller or of a pid
 * @c: the core
 * @ext: caller identity
 * @r: payload: s32 pid (0 = the caller)
 * @w: answer: typed SHA-256
 *
 * Only host callers with uid 0 may ask about another process.
 *
 * Return: status.
 */
static __u32 do_prog_hash(struct svc_core *c, const struct tcio_svc_ext *ext,
			  struct svc_rd *r, struct svc_wr *w)
{
	unsigned char hash[TCIO_SHA256_LEN];
	__s32 pid = rd_s32(r);
	__u32 st;

	if (!rd_end(r) || pid < 0)
		return TCIO_STATUS_BAD_REQUEST;
	if (pid == 0 || pid == ext->pid)
		st = caller_hash(c, ext, hash);
	else if (is_root_host(ext))
		st = host_hash(c, pid, hash);
	else
		return TCIO_STATUS_DENIED;
	if (st == TCIO_STATUS_SUCCESS)
		wr_typed(w, TCIO_BUF_SHA256, hash, sizeof(hash));
	return st;
}

/**
 * do_seal() - request 9: seal data to the caller's program hash
 * @c: the core
 * @ext: caller identity
 * @r: payload: s32 size | data
 * @w: answer: s32 size | blob
 *
 * Return: status.
 */
static __u32 do_seal(struct svc_core *c, const struct tcio_svc_ext *ext,
		     struct svc_rd *r, struct svc_wr *w)
{
	unsigned char *pt = c->scratch, *blob, *ct;
	unsigned long long ctlen;
	const unsigned char *data;
	size_t len = rd_len(r);
	__u32 st;

	data = rd_bytes(r, len);
	if (!rd_end(r) || len > SVC_SEAL_MAX_DATA)
		return TCIO_STATUS_BAD_REQUEST;
	st = caller_hash(c, ext, pt);
	if (st != TCIO_STATUS_SUCCESS)
		return st;
	memcpy(pt + TCIO_SHA256_LEN, data, len);

	wr_s32(w, (__s32)(len + SVC_BLOB_OVERHEAD));
	blob = wr_bytes(w, NULL, len + SVC_BLOB_OVERHEAD);
	if (!blob)
		return TCIO_STATUS_BAD_REQUEST;
	memcpy(blob, SVC_BLOB_MAGIC, 4);
	blob[4] = SVC_BLOB_VERSION;
	blob[5] = 0;
	blob[6] = 0;
	blob[7] = 0;
	randombytes_buf(blob + SVC_BLOB_HDR_LEN, SVC_BLOB_NONCE_LEN);
	ct = blob + SVC_BLOB_HDR_LEN + SVC_BLOB_NONCE_LEN;
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ctlen, pt,
						   TCIO_SHA256_LEN + len,
						   blob, SVC_BLOB_HDR_LEN, NULL,
						   blob + SVC_BLOB_HDR_LEN,
						   c->seal_key);
	return TCIO_STATUS_SUCCESS;
}

/**
 * do_unseal() - request 11: open a blob sealed to the caller's hash
 * @c: the core
 * @ext: caller identity
 * @r: payload: s32 size | blob
 * @w: answer: s32 size | data
 *
 * Return: status; TCIO_STATUS_FAILED for a corrupt or tampered blob,
 * TCIO_STATUS_DENIED for one sealed to another program.
 */
static __u32 do_unseal(struct svc_core *c, const struct tcio_svc_ext *ext,
		       struct svc_rd *r, struct svc_wr *w)
{
	unsigned char hash[TCIO_SHA256_LEN], *pt = c->scratch;
	const unsigned char *blob, *ct;
	unsigned long long ptlen, ctlen;
	size_t len = rd_len(r);
	__u32 st;

	blob = rd_bytes(r, len);
	if (!rd_end(r))
		return TCIO_STATUS_BAD_REQUEST;
	st = caller_hash(c, ext, hash);
	if (st != TCIO_STATUS_SUCCESS)
		return st;
	if (len < SVC_BLOB_OVERHEAD || memcmp(blob, SVC_BLOB_MAGIC, 4) ||
	    blob[4] != SVC_BLOB_VERSION || blob[5] || blob[6] || blob[7])
		return TCIO_STATUS_FAILED;
	ct = blob + SVC_BLOB_HDR_LEN + SVC_BLOB_NONCE_LEN;
	ctlen = len - SVC_BLOB_HDR_LEN - SVC_BLOB_NONCE_LEN;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL, ct,
						       ctlen, blob,
						       SVC_BLOB_HDR_LEN,
						       blob + SVC_BLOB_HDR_LEN,
						       c->seal_key))
		return TCIO_STATUS_FAILED;
	if (ptlen < TCIO_SHA256_LEN)
		return TCIO_STATUS_FAILED;
	if (sodium_memcmp(pt, hash, TCIO_SHA256_LEN))
		return TCIO_STATUS_DENIED;
	wr_s32(w, (__s32)(ptlen - TCIO_SHA256_LEN));
	wr_bytes(w, pt + TCIO_SHA256_LEN, ptlen - TCIO_SHA256_LEN);
	return TCIO_STATUS_SUCCESS;
}

/**
 * do_attest() - request 13: sign data with the caller's program hash
 * @c: the core
 * @ext: caller identity
 * @r: payload: s32 size | data
 * @w: answer: s32 96 | program hash (32) | signature (64)
 *
 * The signature is Ed25519 over SHA-256(TCIO_ATTEST_PREFIX | data | hash).
 *
 * Return: status.
 */
static __u32 do_attest(struct svc_core *c, const struct tcio_svc_ext *ext,
		       struct svc_rd *r, struct svc_wr *w)
{
	unsigned char hash[TCIO_SHA256_LEN], digest[TCIO_SHA256_LEN];
	unsigned char sig[crypto_sign_BYTES];
	crypto_hash_sha256_state st;
	const unsigned char *data;
	size_t len = rd_len(r);
	__u32 status;

	data = rd_bytes(r, len);
	if (!rd_end(r))
		return TCIO_STATUS_BAD_REQUEST;
	status = caller_hash(c, ext, hash);
	if (status != TCIO_STATUS_SUCCESS)
		return status;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)TCIO_ATTEST_PREFIX,
				  strlen(TCIO_ATTEST_PREFIX));
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_update(&st, hash, sizeof(hash));
	crypto_hash_sha256_final(&st, digest);
	crypto_sign_detached(sig, NULL, digest, sizeof(digest), c->attest_sk);
	wr_s32(w, SVC_ATTEST_LEN);
	wr_bytes(w, hash, sizeof(hash));
	wr_bytes(w, sig, sizeof(sig));
	return TCIO_STATUS_SUCCESS;
}

/**
 * rd_strings() - read @n length-prefixed strings into the scratch buffer
 * @c: the core
 * @r: cursor at the first s32 length
 * @n: how many
 * @out: pointers to the NUL-terminated copies
 *
 * Return: true if all were present and none contains a NUL byte.
 */
static bool rd_strings(struct svc_core *c, struct svc_rd *r, size_t n,
		       char **out)
{
	size_t used = 0, i;

	for (i = 0; i < n; i++) {
		size_t len = rd_len(r);
		const unsigned char *p = rd_bytes(r, len);

		if (!p || memchr(p, 0, len) ||
		    len + 1 > sizeof(c->scratch) - used)
			return false;
		out[i] = (char *)c->scratch + used;
		memcpy(out[i], p, len);
		out[i][len] = 0;
		used += len + 1;
	}
	return true;
}

/**
 * do_start_app() - request 15: start a program and record its hash
 * @c: the core
 * @ext: caller identity (must be a host caller with uid 0)
 * @r: payload: s32 nargs | per argument s32 len | bytes
 * @w: answer: s32 pid
 *
 * Return: status.
 */
static __u32 do_start_app(struct svc_core *c, const struct tcio_svc_ext *ext,
			  struct svc_rd *r, struct svc_wr *w)
{
	char *argv[SVC_MAX_ARGS + 1];
	unsigned char hash[TCIO_SHA256_LEN];
	struct svc_app *app = NULL;
	struct svc_exe_id id;
	__s32 nargs;
	__u64 start;
	pid_t pid;
	size_t i;
	int rc;

	if (!is_root_host(ext))
		return TCIO_STATUS_DENIED;
	nargs = rd_s32(r);
	if (r->bad || nargs < 1 || nargs > SVC_MAX_ARGS ||
	    !rd_strings(c, r, (size_t)nargs, argv) || !rd_end(r) ||
	    argv[0][0] != '/')
		return TCIO_STATUS_BAD_REQUEST;
	argv[nargs] = NULL;
	for (i = 0; i < SVC_MAX_APPS && !app; i++)
		if (!c->apps[i].valid)
			app = &c->apps[i];
	if (!app)
		return TCIO_STATUS_NO_RESOURCE;
	rc = c->ops->spawn(c->ctx, argv, &pid, hash, &id);
	if (rc)
		return errno_status(rc);
	/* The child is not reaped before svc_core_child_exited(). */
	rc = c->ops->start_time(c->ctx, pid, &start);
	if (rc) {
		c->ops->kill_app(c->ctx, pid);
		return errno_status(rc);
	}
	app->pid = pid;
	app->start = start;
	app->valid = true;
	host_store(c, pid, start, &id, hash);
	svc_log(c, "started app %d: %s", (int)pid, argv[0]);
	wr_s32(w, pid);
	return TCIO_STATUS_SUCCESS;
}

/**
 * do_terminate_app() - request 17: terminate a program the service started
 * @c: the core
 * @ext: caller identity (must be a host caller with uid 0)
 * @r: payload: s32 pid
 *
 * Return: status; TCIO_STATUS_DENIED for a pid the service did not start
 * (or that has already been reaped).
 */
static __u32 do_terminate_app(struct svc_core *c,
			      const struct tcio_svc_ext *ext,
			      struct svc_rd *r)
{
	__s32 pid;
	size_t i;
	int rc;

	if (!is_root_host(ext))
		return TCIO_STATUS_DENIED;
	pid = rd_s32(r);
	if (!rd_end(r) || pid <= 0)
		return TCIO_STATUS_BAD_REQUEST;
	for (i = 0; i < SVC_MAX_APPS; i++) {
		if (!c->apps[i].valid || c->apps[i].pid != pid)
			continue;
		rc = c->ops->kill_app(c->ctx, pid);
		if (rc)
			return errno_status(rc);
		svc_log(c, "terminated app %d", (int)pid);
		return TCIO_STATUS_SUCCESS;
	}
	return TCIO_STATUS_DENIED;
}

/**
 * vm_slot() - a slot for a new registration of VMM @pid
 * @c: the core
 * @pid: the VMM
 *
 * Reuses the slot of an earlier registration of @pid, else a free one,
 * else the slot of a registration whose VMM is gone.
 *
 * Return: the slot, or NULL if all are taken by live VMMs.
 */
static struct svc_vm *vm_slot(struct svc_core *c, pid_t pid)
{
	struct svc_vm *vm = vm_find(c, pid);
	size_t i;

	if (vm)
		return vm;
	for (i = 0; i < SVC_MAX_VMS; i++)
		if (!c->vms[i].valid)
			return &c->vms[i];
	for (i = 0; i < SVC_MAX_VMS; i++)
		if (!vm_alive(c, &c->vms[i]))
			return &c->vms[i];
	return NULL;
}

/**
 * do_register_vm() - request 21: register the measurement of a VM
 * @c: the core
 * @ext: caller identity (must be a host caller with uid 0)
 * @r: payload: s32 vmm_pid | s32 3 | kernel path | initrd path | cmdline,
 *     each string as s32 len | bytes; paths absolute
 * @w: answer: typed SHA-256 of kernel bytes | initrd bytes | cmdline
 *
 * Return: status.
 */
static __u32 do_register_vm(struct svc_core *c,
			    const struct tcio_svc_ext *ext,
			    struct svc_rd *r, struct svc_wr *w)
{
	unsigned char meas[TCIO_SHA256_LEN];
	crypto_hash_sha256_state st;
	__u64 start, again;
	struct svc_vm *vm;
	__s32 pid, nargs;
	char *args[3];
	int rc;

	if (!is_root_host(ext))
		return TCIO_STATUS_DENIED;
	pid = rd_s32(r);
	nargs = rd_s32(r);
	if (r->bad || pid <= 0 || nargs != 3 || !rd_strings(c, r, 3, args) ||
	    !rd_end(r) || args[0][0] != '/' || args[1][0] != '/')
		return TCIO_STATUS_BAD_REQUEST;
	rc = c->ops->start_time(c->ctx, pid, &start);
	if (rc)
		return errno_status(rc);
	crypto_hash_sha256_init(&st);
	rc = c->ops->hash_file(c->ctx, args[0], &st);
	if (!rc)
		rc = c->ops->hash_file(c->ctx, args[1], &st);
	if (rc)
		return errno_status(rc);
	crypto_hash_sha256_update(&st, (unsigned char *)args[2],
				  strlen(args[2]));
	crypto_hash_sha256_final(&st, meas);
	rc = c->ops->start_time(c->ctx, pid, &again);
	if (rc || again != start)
		return TCIO_STATUS_FAILED;
	vm = vm_slot(c, pid);
	if (!vm)
		return TCIO_STATUS_NO_RESOURCE;
	vm->pid = pid;
	vm->start = start;
	vm->vm_id = 0;
	memcpy(vm->meas, meas, sizeof(meas));
	vm->valid = true;
	c->vms_gen++;
	svc_log(c, "registered VM of process %d", (int)pid);
	wr_typed(w, TCIO_BUF_SHA256, meas, sizeof(meas));
	return TCIO_STATUS_SUCCESS;
}

/**
 * do_caller_gone() - TCIO_SVC_TERMINATE: forget the state of a caller
 * @c: the core
 * @ext: the caller that went away
 *
 * A host caller's cached hash is dropped.  For a VM caller, channel 0
 * means the whole VM is gone: its registration is dropped (matched by
 * vmm pid, and by vm_id once bound); a non-zero channel is only one
 * channel closing, which leaves the VM registered.
 */
static void do_caller_gone(struct svc_core *c,
			   const struct tcio_svc_ext *ext)
{
	size_t i;

	if (ext->caller_kind == TCIO_CALLER_HOST) {
		for (i = 0; i < SVC_MAX_HOSTS; i++)
			if (c->hosts[i].valid && c->hosts[i].pid == ext->pid)
				sodium_memzero(&c->hosts[i],
					       sizeof(c->hosts[i]));
		return;
	}
	if (ext->caller_kind != TCIO_CALLER_VM || ext->channel)
		return;
	for (i = 0; i < SVC_MAX_VMS; i++) {
		struct svc_vm *vm = &c->vms[i];

		if (!vm->valid)
			continue;
		if ((vm->pid == ext->pid &&
		     (!vm->vm_id || vm->vm_id == ext->vm_id)) ||
		    (vm->vm_id && vm->vm_id == ext->vm_id)) {
			sodium_memzero(vm, sizeof(*vm));
			c->vms_gen++;
		}
	}
}

/**
 * dispatch() - run one request
 * @c: the core
 * @code: request code
 * @ext: caller identity
 * @r: payload
 * @w: answer payload
 *
 * Return: status of the answer.
 */
static __u32 dispatch(struct svc_core *c, __u32 code,
		      const struct tcio_svc_ext *ext, struct svc_rd *r,
		      struct svc_wr *w)
{
	switch (code) {
	case TCIO_REQ_GET_POLICY_KEY:
	case TCIO_REQ_GET_OS_HASH:
	case TCIO_REQ_GET_OS_CREDS:
		if (r->left)
			return TCIO_STATUS_BAD_REQUEST;
		if (code == TCIO_REQ_GET_POLICY_KEY)
			return do_typed_key(w, c->policy_pk);
		if (code == TCIO_REQ_GET_OS_CREDS)
			return do_typed_key(w, c->attest_pk);
		wr_typed(w, TCIO_BUF_SHA256, c->os_hash, TCIO_SHA256_LEN);
		return TCIO_STATUS_SUCCESS;
	case TCIO_REQ_GET_PROG_HASH:
		return do_prog_hash(c, ext, r, w);
	case TCIO_REQ_SEAL:
		return do_seal(c, ext, r, w);
	case TCIO_REQ_UNSEAL:
		return do_unseal(c, ext, r, w);
	case TCIO_REQ_ATTEST:
		return do_attest(c, ext, r, w);
	case TCIO_REQ_START_APP:
		return do_start_app(c, ext, r, w);
	case TCIO_REQ_TERMINATE_APP:
		return do_terminate_app(c, ext, r);
	case TCIO_REQ_REGISTER_VM:
		return do_register_vm(c, ext, r, w);
	case TCIO_REQ_ECHO:
		return do_echo(r, w);
	default:
		return TCIO_STATUS_BAD_REQUEST;
	}
}

/**
 * svc_core_handle() - handle one service-side request
 * @c: the core
 * @msg: the request: struct tcio_hdr | struct tcio_svc_ext | payload
 * @len: its length as read from the device
 * @ans: room for the answer, at least SVC_MSG_MAX bytes
 * @cap: size of @ans
 * @ans_len: set to the length of the answer, 0 when there is none
 *
 * The answer echoes procid, origprocid and the whole &struct tcio_svc_ext
 * (so its tag) and carries req_id = code + 1; its payload is empty unless
 * the status is TCIO_STATUS_SUCCESS.  TCIO_SVC_TERMINATE gets no answer.
 *
 * Return: 0, or -EINVAL if @msg is too short to answer (no tag) or @cap
 * is too small; *@ans_len is 0 then.
 */
int svc_core_handle(struct svc_core *c, const void *msg, size_t len,
		    void *ans, size_t cap, size_t *ans_len)
{
	struct tcio_hdr hdr;
	struct tcio_svc_ext ext;
	struct svc_rd r;
	struct svc_wr w;
	__u32 status;

	*ans_len = 0;
	if (len < SVC_HDR_LEN || len > SVC_MSG_MAX || cap < SVC_MSG_MAX)
		return -EINVAL;
	memcpy(&hdr, msg, sizeof(hdr));
	memcpy(&ext, (const unsigned char *)msg + sizeof(hdr), sizeof(ext));
	r.p = (const unsigned char *)msg + SVC_HDR_LEN;
	r.left = len - SVC_HDR_LEN;
	r.bad = false;
	w.p = (unsigned char *)ans + SVC_HDR_LEN;
	w.len = 0;
	w.cap = TCIO_MAX_PAYLOAD;
	w.bad = false;

	if (hdr.req_id == TCIO_SVC_TERMINATE) {
		do_caller_gone(c, &ext);
		return 0;
	}
	if (hdr.req_size != r.left)
		status = TCIO_STATUS_BAD_REQUEST;
	else
		status = dispatch(c, hdr.req_id, &ext, &r, &w);
	if (w.bad && status == TCIO_STATUS_SUCCESS)
		status = TCIO_STATUS_FAILED;
	sodium_memzero(c->scratch, sizeof(c->scratch));
	if (status != TCIO_STATUS_SUCCESS) {
		sodium_memzero(w.p, w.len);
		w.len = 0;
	}

	hdr.req_id++;
	hdr.req_size = (__u32)w.len;
	hdr.status = status;
	memcpy(ans, &hdr, sizeof(hdr));
	memcpy((unsigned char *)ans + sizeof(hdr), &ext, sizeof(ext));
	*ans_len = SVC_HDR_LEN + w.len;
	return 0;
}

/**
 * svc_core_child_exited() - a program started by request 15 was reaped
 * @c: the core
 * @pid: its pid
 *
 * From now on the pid may be reused, so request 17 no longer applies.
 */
void svc_core_child_exited(struct svc_core *c, pid_t pid)
{
	size_t i;

	for (i = 0; i < SVC_MAX_APPS; i++)
		if (c->apps[i].valid && c->apps[i].pid == pid)
			c->apps[i].valid = false;
}

/**
 * svc_core_vms_generation() - a number that changes with the VM table
 * @c: the core
 *
 * Return: the count of changes; save the table when it differs from the
 * count at the last save.
 */
unsigned int svc_core_vms_generation(const struct svc_core *c)
{
	return c->vms_gen;
}

/**
 * svc_core_vms_encode() - the VM file's contents
 * @c: the core
 * @buf: where
 * @cap: room, SVC_VMFILE_MAX is always enough
 * @len: set to the length
 *
 * Return: 0, or -EINVAL if @cap is too small.
 */
int svc_core_vms_encode(const struct svc_core *c, unsigned char *buf,
			size_t cap, size_t *len)
{
	unsigned char *p = buf + 8;
	size_t i;

	if (cap < SVC_VMFILE_MAX)
		return -EINVAL;
	memcpy(buf, SVC_VMFILE_MAGIC, 4);
	buf[4] = SVC_VMFILE_VERSION;
	buf[5] = 0;
	buf[6] = 0;
	buf[7] = 0;
	for (i = 0; i < SVC_MAX_VMS; i++) {
		const struct svc_vm *vm = &c->vms[i];
		__s32 pid = vm->pid;

		if (!vm->valid)
			continue;
		memcpy(p, &pid, 4);
		memcpy(p + 4, &vm->vm_id, 4);
		memcpy(p + 8, &vm->start, 8);
		memcpy(p + 16, vm->meas, TCIO_SHA256_LEN);
		p += SVC_VMFILE_REC_LEN;
	}
	*len = (size_t)(p - buf);
	return 0;
}

/**
 * svc_core_vms_restore() - take back the registrations of a VM file
 * @c: a new core, with no VM registered
 * @buf: the file's contents
 * @len: their length
 *
 * A registration comes back only while its VMM process runs with the
 * start time it was registered with: a VM that went away while no service
 * ran (its notice was lost) is not restored, nor is a new process that got
 * its pid.  The vm_id binding is restored with it.
 *
 * Return: the number restored, or -EINVAL if @buf is not a VM file of this
 * version (nothing is restored then).
 */
int svc_core_vms_restore(struct svc_core *c, const unsigned char *buf,
			 size_t len)
{
	size_t i, n;
	int restored = 0;

	if (len < 8 || len > SVC_VMFILE_MAX ||
	    (len - 8) % SVC_VMFILE_REC_LEN ||
	    memcmp(buf, SVC_VMFILE_MAGIC, 4) ||
	    buf[4] != SVC_VMFILE_VERSION || buf[5] || buf[6] || buf[7])
		return -EINVAL;
	n = (len - 8) / SVC_VMFILE_REC_LEN;
	for (i = 0; i < n; i++) {
		const unsigned char *p = buf + 8 + i * SVC_VMFILE_REC_LEN;
		struct svc_vm rec = { .valid = true };
		struct svc_vm *vm;
		__s32 pid;

		memcpy(&pid, p, 4);
		memcpy(&rec.vm_id, p + 4, 4);
		memcpy(&rec.start, p + 8, 8);
		memcpy(rec.meas, p + 16, TCIO_SHA256_LEN);
		rec.pid = pid;
		if (pid <= 0 || !vm_alive(c, &rec) || vm_find(c, pid))
			continue;
		vm = vm_slot(c, pid);
		if (!vm)
			break;
		*vm = rec;
		restored++;
	}
	if (restored)
		c->vms_gen++;
	return restored;
}

/**
 * svc_core_new() - make a core
 * @ops: system operations (all but &svc_ops.log required)
 * @ctx: their context
 * @keys: the service's secrets (copied)
 * @os_hash: SHA-256 of the service's executable
 *
 * Return: the core, or NULL if out of memory or libsodium fails.
 */
struct svc_core *svc_core_new(const struct svc_ops *ops, void *ctx,
			      const struct svc_keys *keys,
			      const unsigned char *os_hash)
{
	struct svc_core *c;

	if (sodium_init() < 0)
		return NULL;
	c = sodium_malloc(sizeof(*c));
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->ctx = ctx;
	memcpy(c->seal_key, keys->seal, sizeof(c->seal_key));
	crypto_sign_seed_keypair(c->attest_pk, c->attest_sk,
				 keys->attest_seed);
	crypto_sign_seed_keypair(c->policy_pk, c->policy_sk,
				 keys->policy_seed);
	memcpy(c->os_hash, os_hash, TCIO_SHA256_LEN);
	return c;
}

/**
 * svc_core_free() - free a core, wiping its secrets
 * @c: the core, or NULL
 */
void svc_core_free(struct svc_core *c)
{
	sodium_free(c);
}

/**
 * svc_keys_generate() - make fresh secrets
 * @k: filled in
 *
 * Return: 0, or -EIO if libsodium can not be initialised.
 */
int svc_keys_generate(struct svc_keys *k)
{
	if (sodium_init() < 0)
		return -EIO;
	crypto_aead_xchacha20poly1305_ietf_keygen(k->seal);
	randombytes_buf(k->attest_seed, sizeof(k->attest_seed));
	randombytes_buf(k->policy_seed, sizeof(k->policy_seed));
	return 0;
}

/**
 * svc_keys_encode() - the key file's contents
 * @k: the secrets
 * @buf: SVC_KEYFILE_LEN bytes
 * @len: size of @buf
 *
 * Return: 0, or -EINVAL if @len is wrong.
 */
int svc_keys_encode(const struct svc_keys *k, unsigned char *buf,
		    size_t len)
{
	if (len != SVC_KEYFILE_LEN)
		return -EINVAL;
	memcpy(buf, SVC_KEYFILE_MAGIC, 4);
	buf[4] = SVC_KEYFILE_VERSION;
	buf[5] = 0;
	buf[6] = 0;
	buf[7] = 0;
	memcpy(buf + 8, k->seal, 32);
	memcpy(buf + 40, k->attest_seed, 32);
	memcpy(buf + 72, k->policy_seed, 32);
	return 0;
}

/**
 * svc_keys_decode() - parse the key file's contents
 * @k: filled in
 * @buf: the contents
 * @len: their length
 *
 * Return: 0, or -EINVAL if they are not a key file of this version.
 */
int svc_keys_decode(struct svc_keys *k, const unsigned char *buf,
		    size_t len)
{
	if (len != SVC_KEYFILE_LEN || memcmp(buf, SVC_KEYFILE_MAGIC, 4) ||
	    buf[4] != SVC_KEYFILE_VERSION || buf[5] || buf[6] || buf[7])
		return -EINVAL;
	memcpy(k->seal, buf + 8, 32);
	memcpy(k->attest_seed, buf + 40, 32);
	memcpy(k->policy_seed, buf + 72, 32);
	return 0;
}

/**
 * svc_parse_start_time() - field 22 of /proc/<pid>/stat
 * @stat: contents of the file
 * @len: their length
 * @start: the start time in clock ticks
 *
 * The command name (field 2) may hold spaces and parentheses, so fields
 * are counted from the last ')'.
 *
 * Return: 0, or -EINVAL if the contents can not be parsed.
 */
int svc_parse_start_time(const char *stat, size_t len, __u64 *start)
{
	const char *p = NULL, *end = stat + len;
	unsigned long long v = 0;
	size_t i;
	int field;

	for (i = len; i > 0; i--) {
		if (stat[i - 1] == ')') {
			p = stat + i;
			break;
		}
	}
	if (!p)
		return -EINVAL;
	/* p is just after field 2; fields are separated by one space. */
	for (field = 2; field < 22; field++) {
		if (p >= end || *p != ' ')
			return -EINVAL;
		p++;
		if (field < 21)
			while (p < end && *p != ' ')
				p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return -EINVAL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (ULLONG_MAX - (unsigned long long)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (p < end && *p != ' ' && *p != '\n')
		return -EINVAL;
	*start = v;
	return 0;
}
