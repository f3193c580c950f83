/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tciodd.h - the vtcio ABI: hypercalls, messages and codes shared by the
 * guest driver (ktcioDD), the host relay (vmdd) and device (tcioDD), the
 * trusted service (tcService) and their clients.
 *
 * Message layout on /dev/tcioDD0 and /dev/ktciodd0 (application side):
 *
 *   struct tcio_hdr | payload[req_size]      total <= TCIO_MAX_MSG bytes
 *
 * Every field is in the byte order of the machine (the original format).
 * An application's procid and origprocid are opaque to the drivers: they
 * are echoed unchanged in the answer and never used to identify anybody.
 *
 * Message layout between tcioDD and tcService (service side):
 *
 *   struct tcio_hdr | struct tcio_svc_ext | payload[req_size]
 */
#ifndef _UAPI_LINUX_TCIODD_H
#define _UAPI_LINUX_TCIODD_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * Hypercall numbers (a guest's vmcall/vmmcall with the number in rax and
 * a0..a3 in rbx, rcx, rdx, rsi).  See Documentation/tciodd-hypercalls.rst.
 * 13579 is the original connect number; the others are distinct (the
 * original comments gave two calls the same number).
 */
#define KVM_HC_TCIODD_CONNECT		13579
#define KVM_HC_TCIODD_DISCONNECT	13578
#define KVM_HC_TCIODD_READ		13577
#define KVM_HC_TCIODD_WRITE		13576

/*
 * Errors a guest sees, negated, in rax.  Stock KVM answers an unknown
 * hypercall with -KVM_ENOSYS (1000), which is what a host without
 * CONFIG_KVM_TCIODD gives.  The others are Linux errno values, as KVM's
 * own KVM_EFAULT, KVM_EINVAL, KVM_E2BIG and KVM_EPERM are.
 */
#define TCIODD_HC_ENOSYS	1000	/* host lacks tcioDD support */
#define TCIODD_HC_EPERM		1	/* called from guest user mode */
#define TCIODD_HC_EBADF		9	/* no such channel in this VM */
#define TCIODD_HC_EAGAIN	11	/* no answer yet / queue full */
#define TCIODD_HC_ENOMEM	12	/* host out of memory */
#define TCIODD_HC_EFAULT	14	/* guest address not backed by RAM */
#define TCIODD_HC_EINVAL	22	/* malformed message or argument */
#define TCIODD_HC_ENOMSG	42	/* nothing in flight on this channel */
#define TCIODD_HC_EMFILE	24	/* too many channels in this VM */
#define TCIODD_HC_E2BIG		7	/* length above TCIO_MAX_MSG */
#define TCIODD_HC_EMSGSIZE	90	/* buffer smaller than the answer */

/* Largest message, header included (the original padded to this). */
#define TCIO_MAX_MSG		8192
/* Largest payload of an application message. */
#define TCIO_MAX_PAYLOAD	(TCIO_MAX_MSG - sizeof(struct tcio_hdr))
/* Outstanding requests plus queued answers allowed per channel or file. */
#define TCIO_MAX_INFLIGHT	64
/* Channels one VM may hold open at once. */
#define TCIO_MAX_VM_CHANNELS	256

/**
 * struct tcio_hdr - header of every message (20 bytes, native order)
 * @procid: application: opaque cookie echoed in the answer;
 *          service side: the request tag (see &struct tcio_svc_ext)
 * @req_id: request code (TCIO_REQ_*); the answer carries code + 1
 * @req_size: payload length in bytes, not counting any header
 * @status: TCIO_STATUS_* in answers, 0 in requests
 * @origprocid: application: opaque cookie echoed in the answer
 */
struct tcio_hdr {
	__s32 procid;
	__u32 req_id;
	__u32 req_size;
	__u32 status;
	__s32 origprocid;
};

/* Request codes: odd from the application, the next even from the service. */
#define TCIO_REQ_GET_POLICY_KEY		1
#define TCIO_ANS_GET_POLICY_KEY		2
#define TCIO_REQ_GET_OS_HASH		3
#define TCIO_ANS_GET_OS_HASH		4
#define TCIO_REQ_GET_OS_CREDS		5
#define TCIO_ANS_GET_OS_CREDS		6
#define TCIO_REQ_GET_PROG_HASH		7
#define TCIO_ANS_GET_PROG_HASH		8
#define TCIO_REQ_SEAL			9
#define TCIO_ANS_SEAL			10
#define TCIO_REQ_UNSEAL			11
#define TCIO_ANS_UNSEAL			12
#define TCIO_REQ_ATTEST			13
#define TCIO_ANS_ATTEST			14
#define TCIO_REQ_START_APP		15
#define TCIO_ANS_START_APP		16
#define TCIO_REQ_TERMINATE_APP		17
#define TCIO_ANS_TERMINATE_APP		18
#define TCIO_SVC_HELLO			19	/* reserved to the service */
#define TCIO_SVC_GOODBYE		20	/* reserved to the service */
/* vtcio: a host launcher registers the measurement of a VM it starts. */
#define TCIO_REQ_REGISTER_VM		21
#define TCIO_ANS_REGISTER_VM		22
/* vtcio: the payload answered unchanged, to time the transport alone. */
#define TCIO_REQ_ECHO			23
#define TCIO_ANS_ECHO			24
/* Sent by tcioDD to the service when a caller goes away; no answer. */
#define TCIO_SVC_TERMINATE		100

/* Status codes in answers (0..5 as the original; 6.. added by vtcio). */
#define TCIO_STATUS_SUCCESS		0
#define TCIO_STATUS_FAILED		1
#define TCIO_STATUS_NO_SERVICE		2
#define TCIO_STATUS_NO_MEMORY		3
#define TCIO_STATUS_NO_RESOURCE		4
#define TCIO_STATUS_NO_TPM		5
#define TCIO_STATUS_BAD_REQUEST		6	/* unknown code or malformed */
#define TCIO_STATUS_DENIED		7	/* caller may not do this */
/* The host caller exited or exec'd before the answer (tcioDD drops it). */
#define TCIO_STATUS_STALE		8

/* Kinds of caller, as tcioDD tells the service. */
#define TCIO_CALLER_HOST		1	/* a process on the host */
#define TCIO_CALLER_VM			2	/* a channel of a KVM guest */
#define TCIO_CALLER_DRIVER		3	/* tcioDD itself */

/**
 * struct tcio_svc_ext - caller identity, added by tcioDD on the service leg
 * @tag: tcioDD's id for this request; the answer must carry it back
 * @caller_kind: TCIO_CALLER_*
 * @pid: host caller: its thread-group id; VM caller: the VMM's thread-group
 *       id (the process that runs the VM); set by tcioDD, never by a guest
 * @uid: host caller: its real uid; VM caller: the VMM's uid
 * @vm_id: VM caller: a host-unique id of the VM (never reused while the
 *         host runs); 0 for host callers
 * @channel: VM caller: the guest's channel id; 0 for host callers
 * @reserved: 0
 */
struct tcio_svc_ext {
	__u64 tag;
	__u32 caller_kind;
	__s32 pid;
	__u32 uid;
	__u32 vm_id;
	__u32 channel;
	__u32 reserved;
};

/* Answers with a typed buffer: __u32 type | __s32 size | bytes[size]. */
#define TCIO_BUF_SHA256			1	/* a SHA-256 digest */
#define TCIO_BUF_ED25519_PUBKEY		2	/* an Ed25519 public key */

#define TCIO_SHA256_LEN			32
#define TCIO_ED25519_PUBKEY_LEN		32
#define TCIO_ED25519_SIG_LEN		64
/* Attestation: SHA-256(TCIO_ATTEST_PREFIX | data | program hash), signed. */
#define TCIO_ATTEST_PREFIX		"JLMQUOTE"

/* ioctls on /dev/tcioDD0 */
#define TCIODD_IOC_MAGIC		0xB7
/* Make this open file the service (needs CAP_SYS_ADMIN; one at a time). */
#define TCIODD_IOC_REGISTER_SERVICE	_IO(TCIODD_IOC_MAGIC, 1)

#endif /* _UAPI_LINUX_TCIODD_H */
