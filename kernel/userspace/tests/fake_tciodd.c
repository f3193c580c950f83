// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in for tcioDD in userspace, as a FUSE file system, so tcService
 * and the client suites can be run end to end on a machine without the
 * vtcio kernel.  It follows drivers/misc/tciodd/tciodd_host.c: the same
 * checks, errno values, routing of codes, tags, in-flight bound, notices.
 *
 *   fake_tciodd MOUNTPOINT     (stays in the foreground; -d to debug)
 *
 * Files:
 *   tcioDD0               callers are host processes (pid, uid of the
 *                         writer, as tcioDD)
 *   ktciodd0              callers are a VM: ext.pid is the writer's process
 *                         group (stands for the VMM, so every process of the
 *                         "guest" shares it), vm_id per group, one channel
 *                         per open file
 *   ktciodd0-unsupported  open() fails with EOPNOTSUPP
 *
 * Differences from the kernel: FUSE itself completes a zero-length write
 * with 0 and never asks us, and the writer's pid is its thread id.
 */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <fuse_lowlevel.h>
#include <linux/tciodd.h>

#include "../tcio_util.h"

#define INO_HOST	2
#define INO_GUEST	3
#define INO_UNSUP	4
#define MAX_CLIENTS	1024
#define MAX_PENDING	8192
#define HDR_LEN		sizeof(struct tcio_hdr)
#define EXT_LEN		sizeof(struct tcio_svc_ext)

/**
 * struct fk_msg - a queued message: an answer or a message for the service
 * @next: next in its queue
 * @req: service message: index of its request, or -1 for a notice
 * @len: length of @msg
 * @msg: the bytes
 */
struct fk_msg {
	struct fk_msg *next;
	int req;
	size_t len;
	unsigned char msg[];
};

/**
 * struct fk_queue - a FIFO of messages
 * @head: oldest
 * @tail: newest
 * @n: how many
 */
struct fk_queue {
	struct fk_msg *head, *tail;
	unsigned int n;
};

/**
 * struct fk_client - an open file
 * @used: slot in use
 * @service: registered as the service
 * @kind: TCIO_CALLER_HOST or TCIO_CALLER_VM
 * @pid: identity of the last writer
 * @uid: identity of the last writer
 * @vm_id: VM callers: id of the process group
 * @channel: VM callers: channel id
 * @inflight: requests pending plus answers queued
 * @answers: answers to read
 * @reader: a blocked read() waiting for an answer, or NULL
 * @reader_size: its buffer size
 * @ph: poll handle to notify, or NULL
 */
struct fk_client {
	bool used, service;
	__u32 kind;
	__s32 pid;
	__u32 uid, vm_id, channel;
	unsigned int inflight;
	struct fk_queue answers;
	fuse_req_t reader;
	size_t reader_size;
	struct fuse_pollhandle *ph;
};

/**
 * struct fk_req - a request given to the service
 * @used: slot in use
 * @queued: its message still waits for the service
 * @tag: its tag
 * @code: request code
 * @procid: echoed
 * @origprocid: echoed
 * @client: the caller
 */
struct fk_req {
	bool used, queued;
	__u32 tag, code;
	__s32 procid, origprocid;
	int client;
};

static struct fk_client clients[MAX_CLIENTS];
static struct fk_req reqs[MAX_PENDING];
static struct fk_queue svcq;
static int service = -1;
static fuse_req_t svc_reader;
static size_t svc_reader_size;
static __u32 next_tag = 1, next_channel = 1;
static __s32 vm_groups[256];

static void q_push(struct fk_queue *q, struct fk_msg *m)
{
	m->next = NULL;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->n++;
}

static struct fk_msg *q_pop(struct fk_queue *q)
{
	struct fk_msg *m = q->head;

	if (m) {
		q->head = m->next;
		if (!q->head)
			q->tail = NULL;
		q->n--;
	}
	return m;
}

static struct fk_msg *msg_new(size_t len)
{
	struct fk_msg *m = calloc(1, sizeof(*m) + len);

	if (!m)
		abort();
	m->len = len;
	m->req = -1;
	return m;
}

/**
 * pgid_of() - process group of a process
 * @pid: the process
 *
 * Return: its pgid, or @pid if it can not be read.
 */
static __s32 pgid_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	int fd, n, pgid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return pid;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return pid;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %d", &pgid) != 1)
		return pid;
	return pgid;
}

static __u32 vm_id_of(__s32 pgid)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vm_groups); i++) {
		if (vm_groups[i] == pgid)
			return (__u32)i + 1;
		if (!vm_groups[i]) {
			vm_groups[i] = pgid;
			return (__u32)i + 1;
		}
	}
	return 999;
}

/**
 * identify() - the writer of a request
 * @c: its client
 * @req: the FUSE request
 */
static void identify(struct fk_client *c, fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	c->uid = ctx->uid;
	if (c->kind == TCIO_CALLER_VM) {
		c->pid = pgid_of(ctx->pid);
		c->vm_id = vm_id_of(c->pid);
	} else {
		c->pid = ctx->pid;
	}
}

static void svc_try_read(void);

static void svc_enqueue(struct fk_msg *m)
{
	q_push(&svcq, m);
	svc_try_read();
}

static void notice(const struct fk_client *c, __u32 chan)
{
	struct tcio_hdr h = { .req_id = TCIO_SVC_TERMINATE };
	struct tcio_svc_ext e = {
		.caller_kind = c->kind, .pid = c->pid, .uid = c->uid,
		.vm_id = c->vm_id, .channel = chan,
	};
	struct fk_msg *m;

	if (service < 0)
		return;
	m = msg_new(HDR_LEN + EXT_LEN);
	memcpy(m->msg, &h, HDR_LEN);
	memcpy(m->msg + HDR_LEN, &e, EXT_LEN);
	svc_enqueue(m);
}

/**
 * client_try_read() - complete a blocked read of @ci if possible
 * @ci: the client
 */
static void client_try_read(int ci)
{
	struct fk_client *c = &clients[ci];
	struct fk_msg *m = c->answers.head;
	fuse_req_t r = c->reader;

	if (!r)
		return;
	if (!m && c->inflight)
		return;
	c->reader = NULL;
	if (!m) {
		fuse_reply_err(r, ENOMSG);
		return;
	}
	if (m->len > c->reader_size) {
		fuse_reply_err(r, EMSGSIZE);
		return;
	}
	q_pop(&c->answers);
	c->inflight--;
	fuse_reply_buf(r, (const char *)m->msg, m->len);
	free(m);
}

static void deliver(int ci, __s32 procid, __s32 origprocid, __u32 code,
		    __u32 status, const void *payload, size_t plen)
{
	struct fk_client *c = &clients[ci];
	struct tcio_hdr h = {
		.procid = procid, .req_id = code, .req_size = (__u32)plen,
		.status = status, .origprocid = origprocid,
	};
	struct fk_msg *m = msg_new(HDR_LEN + plen);

	memcpy(m->msg, &h, HDR_LEN);
	if (plen)
		memcpy(m->msg + HDR_LEN, payload, plen);
	q_push(&c->answers, m);
	if (c->ph)
		fuse_lowlevel_notify_poll(c->ph);
	client_try_read(ci);
}

static void req_drop(int ri)
{
	struct fk_msg **pp, *m;

	if (reqs[ri].queued) {
		for (pp = &svcq.head; *pp; pp = &(*pp)->next) {
			if ((*pp)->req != ri)
				continue;
			m = *pp;
			*pp = m->next;
			svcq.n--;
			free(m);
			break;
		}
		svcq.tail = NULL;
		for (m = svcq.head; m; m = m->next)
			svcq.tail = m;
	}
	reqs[ri].used = false;
}

static void svc_unregister(void)
{
	struct fk_msg *m;
	int i;

	service = -1;
	for (i = 0; i < MAX_PENDING; i++) {
		if (!reqs[i].used)
			continue;
		deliver(reqs[i].client, reqs[i].procid, reqs[i].origprocid,
			reqs[i].code + 1, TCIO_STATUS_NO_SERVICE, NULL, 0);
		req_drop(i);
	}
	while ((m = q_pop(&svcq)))
		free(m);
	if (svc_reader) {
		fuse_reply_err(svc_reader, EBADF);
		svc_reader = NULL;
	}
}

static void svc_try_read(void)
{
	struct fk_msg *m = svcq.head;
	fuse_req_t r = svc_reader;

	if (!r || !m)
		return;
	svc_reader = NULL;
	if (m->len > svc_reader_size) {
		fuse_reply_err(r, EMSGSIZE);
		return;
	}
	q_pop(&svcq);
	if (m->req >= 0)
		reqs[m->req].queued = false;
	fuse_reply_buf(r, (const char *)m->msg, m->len);
	free(m);
}

static void on_interrupt(fuse_req_t req, void *data)
{
	struct fk_client *c = data;

	if (c && c->reader == req)
		c->reader = NULL;
	else if (!c && svc_reader == req)
		svc_reader = NULL;
	else
		return;
	fuse_reply_err(req, EINTR);
}

static int forward(int ci, const struct tcio_hdr *h, const void *payload)
{
	struct fk_client *c = &clients[ci];
	struct tcio_hdr sh = *h;
	struct tcio_svc_ext e = { 0 };
	struct fk_msg *m;
	int ri;

	for (ri = 0; ri < MAX_PENDING && reqs[ri].used; ri++)
		;
	if (ri == MAX_PENDING)
		return -ENOMEM;
	reqs[ri] = (struct fk_req){
		.used = true, .queued = true, .tag = next_tag++,
		.code = h->req_id, .procid = h->procid,
		.origprocid = h->origprocid, .client = ci,
	};
	sh.procid = 0;
	sh.origprocid = 0;
	sh.status = 0;
	e.tag = reqs[ri].tag;
	e.caller_kind = c->kind;
	e.pid = c->pid;
	e.uid = c->uid;
	e.vm_id = c->vm_id;
	e.channel = c->channel;
	m = msg_new(HDR_LEN + EXT_LEN + h->req_size);
	m->req = ri;
	memcpy(m->msg, &sh, HDR_LEN);
	memcpy(m->msg + HDR_LEN, &e, EXT_LEN);
	memcpy(m->msg + HDR_LEN + EXT_LEN, payload, h->req_size);
	c->inflight++;
	svc_enqueue(m);
	return 0;
}

static bool service_only(__u32 code)
{
	return code == TCIO_SVC_HELLO || code == TCIO_SVC_GOODBYE ||
	       code == TCIO_SVC_TERMINATE ||
	       (code >= 2 && code <= TCIO_ANS_ECHO && !(code & 1));
}

static bool known(__u32 code)
{
	return (code >= 1 && code <= 17 && (code & 1)) ||
	       code == TCIO_REQ_REGISTER_VM || code == TCIO_REQ_ECHO;
}

static int submit(int ci, const char *buf, size_t len)
{
	struct fk_client *c = &clients[ci];
	struct tcio_hdr h;

	if (len > TCIO_MAX_MSG)
		return -EMSGSIZE;
	if (len < HDR_LEN)
		return -EINVAL;
	memcpy(&h, buf, HDR_LEN);
	if (h.req_size != len - HDR_LEN)
		return -EINVAL;
	if (c->inflight >= TCIO_MAX_INFLIGHT)
		return -EAGAIN;
	if (service_only(h.req_id) || !known(h.req_id)) {
		c->inflight++;
		deliver(ci, h.procid, h.origprocid, h.req_id,
			service_only(h.req_id) ? TCIO_STATUS_DENIED :
			TCIO_STATUS_BAD_REQUEST, NULL, 0);
		return 0;
	}
	if (service < 0) {
		c->inflight++;
		deliver(ci, h.procid, h.origprocid, h.req_id + 1,
			TCIO_STATUS_NO_SERVICE, NULL, 0);
		return 0;
	}
	return forward(ci, &h, buf + HDR_LEN);
}

static int svc_write(const char *buf, size_t len)
{
	struct tcio_svc_ext e;
	struct tcio_hdr h;
	size_t plen;
	int ri;

	if (len > TCIO_MAX_MSG + EXT_LEN)
		return -EMSGSIZE;
	if (len < HDR_LEN + EXT_LEN)
		return -EINVAL;
	memcpy(&h, buf, HDR_LEN);
	memcpy(&e, buf + HDR_LEN, EXT_LEN);
	plen = len - HDR_LEN - EXT_LEN;
	if (h.req_size != plen)
		return -EINVAL;
	for (ri = 0; ri < MAX_PENDING; ri++)
		if (reqs[ri].used && reqs[ri].tag == e.tag)
			break;
	if (ri == MAX_PENDING || reqs[ri].queued)
		return -ENOENT;
	if (h.req_id != reqs[ri].code + 1)
		return -EINVAL;
	deliver(reqs[ri].client, reqs[ri].procid, reqs[ri].origprocid,
		h.req_id, h.status, buf + HDR_LEN + EXT_LEN, plen);
	req_drop(ri);
	return 0;
}

static void fk_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!strcmp(name, "tcioDD0")) {
		e.ino = INO_HOST;
	} else if (!strcmp(name, "ktciodd0")) {
		e.ino = INO_GUEST;
	} else if (!strcmp(name, "ktciodd0-unsupported")) {
		e.ino = INO_UNSUP;
	} else {
		fuse_reply_err(req, ENOENT);
		return;
	}
	e.attr.st_ino = e.ino;
	e.attr.st_mode = S_IFREG | 0666;
	e.attr.st_nlink = 1;
	fuse_reply_entry(req, &e);
}

static void fk_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	memset(&st, 0, sizeof(st));
	st.st_ino = ino;
	st.st_nlink = 1;
	st.st_mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0666;
	fuse_reply_attr(req, &st, 0);
}

static void fk_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int ci;

	if (ino == INO_UNSUP) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	for (ci = 0; ci < MAX_CLIENTS && clients[ci].used; ci++)
		;
	if (ci == MAX_CLIENTS) {
		fuse_reply_err(req, EMFILE);
		return;
	}
	memset(&clients[ci], 0, sizeof(clients[ci]));
	clients[ci].used = true;
	clients[ci].kind = ino == INO_GUEST ? TCIO_CALLER_VM :
		TCIO_CALLER_HOST;
	if (ino == INO_GUEST)
		clients[ci].channel = next_channel++;
	identify(&clients[ci], req);
	fi->fh = (__u64)ci;
	fi->direct_io = 1;
	fi->nonseekable = 1;
	fuse_reply_open(req, fi);
}

static void fk_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	int ci = (int)fi->fh, i;
	struct fk_client *c = &clients[ci];
	struct fk_msg *m;

	(void)ino;
	if (c->service)
		svc_unregister();
	for (i = 0; i < MAX_PENDING; i++)
		if (reqs[i].used && reqs[i].client == ci)
			req_drop(i);
	while ((m = q_pop(&c->answers)))
		free(m);
	if (c->ph)
		fuse_pollhandle_destroy(c->ph);
	notice(c, c->channel);
	c->used = false;
	fuse_reply_err(req, 0);
}

static void fk_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	int ci = (int)fi->fh;
	struct fk_client *c = &clients[ci];
	bool nonblock = fi->flags & O_NONBLOCK;

	(void)ino;
	(void)off;
	if (c->service) {
		if (!svcq.head && nonblock) {
			fuse_reply_err(req, EAGAIN);
			return;
		}
		svc_reader = req;
		svc_reader_size = size;
		fuse_req_interrupt_func(req, on_interrupt, NULL);
		svc_try_read();
		return;
	}
	if (!c->answers.head && c->inflight && nonblock) {
		fuse_reply_err(req, EAGAIN);
		return;
	}
	c->reader = req;
	c->reader_size = size;
	fuse_req_interrupt_func(req, on_interrupt, c);
	client_try_read(ci);
}

static void fk_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	int ci = (int)fi->fh, rc;

	(void)ino;
	(void)off;
	if (clients[ci].service) {
		rc = svc_write(buf, size);
	} else {
		identify(&clients[ci], req);
		rc = submit(ci, buf, size);
	}
	if (rc)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
}

static void fk_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct fk_client *c = &clients[fi->fh];
	unsigned int ev = POLLOUT;

	(void)ino;
	if (ph) {
		if (c->ph)
			fuse_pollhandle_destroy(c->ph);
		c->ph = ph;
	}
	if (c->service ? !!svcq.head : !!c->answers.head)
		ev |= POLLIN;
	fuse_reply_poll(req, ev);
}

static void fk_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		     void *arg, struct fuse_file_info *fi, unsigned int flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	struct fk_client *c = &clients[fi->fh];

	(void)ino;
	(void)arg;
	(void)flags;
	(void)in_buf;
	(void)in_bufsz;
	(void)out_bufsz;
	if (cmd != TCIODD_IOC_REGISTER_SERVICE || c->kind != TCIO_CALLER_HOST) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	if (fuse_req_ctx(req)->uid != 0) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (service >= 0 || c->inflight) {
		fuse_reply_err(req, EBUSY);
		return;
	}
	service = (int)fi->fh;
	c->service = true;
	fuse_reply_ioctl(req, 0, NULL, 0);
}

static const struct fuse_lowlevel_ops fk_ops = {
	.lookup = fk_lookup,
	.getattr = fk_getattr,
	.open = fk_open,
	.release = fk_release,
	.read = fk_read,
	.write = fk_write,
	.poll = fk_poll,
	.ioctl = fk_ioctl,
};

int main(int argc, char **argv)
{
	static char opt_o[] = "-o", opt_allow[] = "allow_other";
	static char opt_d[] = "-d";
	char *fargv[5] = { argv[0], opt_o, opt_allow, NULL, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_session *se;
	int rc = 1;

	if (argc == 3 && !strcmp(argv[1], "-d")) {
		fargv[3] = opt_d;
		args.argc = 4;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: fake_tciodd [-d] MOUNTPOINT\n");
		return 2;
	}
	se = fuse_session_new(&args, &fk_ops, sizeof(fk_ops), NULL);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se) == 0) {
		if (fuse_session_mount(se, argv[1]) == 0) {
			rc = fuse_session_loop(se) ? 1 : 0;
			fuse_session_unmount(se);
		}
		fuse_remove_signal_handlers(se);
	}
	fuse_session_destroy(se);
	return rc;
}
