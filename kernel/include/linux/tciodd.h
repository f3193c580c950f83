/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tciodd.h - in-kernel interface of the tcioDD relay, for its callers
 * inside the host kernel (KVM's vmdd relay for guests).
 */
#ifndef _LINUX_TCIODD_H
#define _LINUX_TCIODD_H

#include <linux/types.h>
#include <uapi/linux/tciodd.h>

struct tciodd_client;

/**
 * struct tciodd_principal - who a request comes from, as the service sees it
 * @kind: TCIO_CALLER_HOST or TCIO_CALLER_VM
 * @pid: thread-group id of the host process, or of the VM's VMM process
 * @uid: real uid of that process
 * @vm_id: host-unique VM id, 0 for host callers
 * @channel: the VM's channel id, 0 for host callers
 */
struct tciodd_principal {
	u32 kind;
	pid_t pid;
	u32 uid;
	u32 vm_id;
	u32 channel;
};

/**
 * typedef tciodd_copy_fn - copies an answer to its reader
 * @ctx: the reader's context
 * @src: the answer, in kernel memory
 * @len: its length
 *
 * Context: process context, may sleep; no tcioDD lock is held.
 * Return: 0, or a negative errno (the answer then stays queued).
 */
typedef int (*tciodd_copy_fn)(void *ctx, const void *src, size_t len);

struct tciodd_client *tciodd_client_new(const struct tciodd_principal *who);
void tciodd_client_free(struct tciodd_client *c);
int tciodd_client_submit(struct tciodd_client *c,
			 const struct tciodd_principal *who,
			 const void *msg, size_t len);
ssize_t tciodd_client_read(struct tciodd_client *c, size_t len,
			   tciodd_copy_fn copy, void *ctx);
ssize_t tciodd_client_next_len(struct tciodd_client *c);
void tciodd_vm_gone(const struct tciodd_principal *who);

#endif /* _LINUX_TCIODD_H */
