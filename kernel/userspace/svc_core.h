/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Request handling of tcService, free of I/O.
 *
 * The core parses one service-side message (struct tcio_hdr, struct
 * tcio_svc_ext, payload), decides, and builds the answer.  Everything that
 * touches the system (reading /proc, hashing files, starting programs) goes
 * through &struct svc_ops, so tests can drive the core with fake callers.
 */
#ifndef SVC_CORE_H
#define SVC_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sodium.h>
#include <linux/tciodd.h>

#include "tcio_util.h"

/* Service-side message: header, caller identity, payload. */
#define SVC_HDR_LEN		(sizeof(struct tcio_hdr) + \
				 sizeof(struct tcio_svc_ext))
/* Largest service-side message the core reads or writes. */
#define SVC_MSG_MAX		(SVC_HDR_LEN + TCIO_MAX_PAYLOAD)

/*
 * Sealed blob: "TCSB" | version (1 byte) | 3 zero bytes | nonce (24) |
 * ciphertext of program hash (32) | data | tag (16).  The first 8 bytes
 * are authenticated as associated data.
 */
#define SVC_BLOB_MAGIC		"TCSB"
#define SVC_BLOB_VERSION	1
#define SVC_BLOB_HDR_LEN	8
#define SVC_BLOB_NONCE_LEN	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SVC_BLOB_TAG_LEN	crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SVC_BLOB_OVERHEAD	(SVC_BLOB_HDR_LEN + SVC_BLOB_NONCE_LEN + \
				 TCIO_SHA256_LEN + SVC_BLOB_TAG_LEN)
/* Largest data seal accepts: its answer must fit in one message. */
#define SVC_SEAL_MAX_DATA	(TCIO_MAX_PAYLOAD - sizeof(__s32) - \
				 SVC_BLOB_OVERHEAD)

/* Attestation answer: program hash then signature. */
#define SVC_ATTEST_LEN		(TCIO_SHA256_LEN + TCIO_ED25519_SIG_LEN)

/* Limits of the tables the core keeps. */
#define SVC_MAX_ARGS		64	/* arguments of start app */
#define SVC_MAX_HOSTS		256	/* cached host caller hashes */
#define SVC_MAX_VMS		64	/* registered VMs */
#define SVC_MAX_APPS		64	/* programs the service started */

/*
 * Key file: "TCSK" | version (1 byte) | 3 zero bytes | sealing key (32) |
 * attestation key seed (32) | policy key seed (32).
 */
#define SVC_KEYFILE_MAGIC	"TCSK"
#define SVC_KEYFILE_VERSION	1
#define SVC_KEYFILE_LEN		(8 + 3 * 32)

/*
 * VM file: "TCSV" | version (1 byte) | 3 zero bytes | records, each
 * s32 vmm pid | u32 vm_id | u64 start time | measurement (32), in native
 * order.  tcService keeps its VM registrations there, so that a restarted
 * service still knows the VMs already running.
 */
#define SVC_VMFILE_MAGIC	"TCSV"
#define SVC_VMFILE_VERSION	1
#define SVC_VMFILE_REC_LEN	(4 + 4 + 8 + TCIO_SHA256_LEN)
#define SVC_VMFILE_MAX		(8 + SVC_MAX_VMS * SVC_VMFILE_REC_LEN)

/**
 * struct svc_keys - the service's secrets
 * @seal: XChaCha20-Poly1305 key for sealed blobs
 * @attest_seed: seed of the Ed25519 attestation key (request 5, 13)
 * @policy_seed: seed of the Ed25519 policy key (request 1)
 */
struct svc_keys {
	unsigned char seal[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	unsigned char attest_seed[crypto_sign_SEEDBYTES];
	unsigned char policy_seed[crypto_sign_SEEDBYTES];
};

/**
 * struct svc_exe_id - identity of an executable file, to notice a change
 * @dev: device of the file
 * @ino: inode of the file
 * @size: size in bytes
 * @mtime_ns: modification time in nanoseconds
 * @ctime_ns: status change time in nanoseconds
 */
struct svc_exe_id {
	__u64 dev;
	__u64 ino;
	__u64 size;
	__s64 mtime_ns;
	__s64 ctime_ns;
};

/**
 * struct svc_ops - what the core asks of the system
 * @start_time: start time of process @pid (/proc/<pid>/stat field 22)
 * @exe_id: identity of the executable process @pid runs now
 * @exe_hash: SHA-256 of the executable process @pid runs, and the identity
 *            of the file that was hashed
 * @hash_file: feed the bytes of the regular file at @path into @st
 * @spawn: start @argv (argv[0] an absolute path) as a child; report its pid,
 *         the SHA-256 of the file executed and that file's identity
 * @kill_app: ask child @pid, started by @spawn, to terminate
 * @log: optional; one line about something a privileged caller did
 *
 * Every operation but @log returns 0 or a negative errno; -ENOMEM becomes
 * TCIO_STATUS_NO_MEMORY, anything else TCIO_STATUS_FAILED.
 */
struct svc_ops {
	int (*start_time)(void *ctx, pid_t pid, __u64 *start);
	int (*exe_id)(void *ctx, pid_t pid, struct svc_exe_id *id);
	int (*exe_hash)(void *ctx, pid_t pid,
			unsigned char *hash,
			struct svc_exe_id *id);
	int (*hash_file)(void *ctx, const char *path,
			 crypto_hash_sha256_state *st);
	int (*spawn)(void *ctx, char *const argv[], pid_t *pid,
		     unsigned char *hash,
		     struct svc_exe_id *id);
	int (*kill_app)(void *ctx, pid_t pid);
	void (*log)(void *ctx, const char *msg);
};

struct svc_core;

struct svc_core *svc_core_new(const struct svc_ops *ops, void *ctx,
			      const struct svc_keys *keys,
			      const unsigned char *os_hash);
void svc_core_free(struct svc_core *core);
int svc_core_handle(struct svc_core *core, const void *msg, size_t len,
		    void *ans, size_t cap, size_t *ans_len);
void svc_core_child_exited(struct svc_core *core, pid_t pid);
unsigned int svc_core_vms_generation(const struct svc_core *core);
int svc_core_vms_encode(const struct svc_core *core, unsigned char *buf,
			size_t cap, size_t *len);
int svc_core_vms_restore(struct svc_core *core, const unsigned char *buf,
			 size_t len);

int svc_keys_generate(struct svc_keys *keys);
int svc_keys_encode(const struct svc_keys *keys, unsigned char *buf,
		    size_t len);
int svc_keys_decode(struct svc_keys *keys, const unsigned char *buf,
		    size_t len);
int svc_parse_start_time(const char *stat, size_t len, __u64 *start);

#endif /* SVC_CORE_H */
