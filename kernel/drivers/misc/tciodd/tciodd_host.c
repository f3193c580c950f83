// SPDX-License-Identifier: GPL-2.0
/*
 * tcioDD - relay between callers and the trusted service tcService.
 *
 * Callers are host processes (through /dev/tcioDD0) and KVM guests (through
 * the vmdd hypercall relay, which uses the in-kernel client interface in
 * <linux/tciodd.h>).  Each caller is a &struct tciodd_client.  A request is
 * checked, given a tag and queued for the service; the service reads it
 * with the caller's identity attached (&struct tcio_svc_ext), and writes the
 * answer back with the same tag; the answer is queued on the client that
 * asked.  Every accepted request gets exactly one answer: from the service,
 * or from tcioDD itself when the request is refused, when no service runs,
 * when the service goes away, or when memory runs out.
 *
 * The service registers explicitly with TCIODD_IOC_REGISTER_SERVICE, which
 * needs CAP_SYS_ADMIN; nobody becomes the service by opening the device.
 *
 * The service learns a host caller's program from its pid, after the
 * request was written.  So that an answer never speaks for another program
 * than the one that asked, tcioDD keeps the writer's process and address
 * space with each request and, when the answer comes, replaces it with
 * TCIO_STATUS_STALE if that process has exited (its pid may be another's
 * by then) or exec'd since.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/tciodd.h>
#include <linux/tciodd_compat.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#define TCIODD_HDR_LEN	sizeof(struct tcio_hdr)
#define TCIODD_EXT_LEN	sizeof(struct tcio_svc_ext)
#define TCIODD_SVC_MAX	(TCIO_MAX_MSG + TCIODD_EXT_LEN)
/*
 * Notices queued for the service at most.  Callers come and go faster than
 * a stalled service reads (a guest can open and close channels in a loop),
 * and a notice is only a hint (see tciodd_notice()): past this many, new
 * ones are dropped instead of growing the queue without bound.
 */
#define TCIODD_MAX_NOTICES	1024

/**
 * struct tciodd_answer - an answer waiting on its client
 * @node: in &tciodd_client.answers
 * @len: length of @msg
 * @msg: &struct tcio_hdr and payload, as the caller reads it
 */
struct tciodd_answer {
	struct list_head node;
	size_t len;
	u8 msg[];
};

/**
 * struct tciodd_svcmsg - a message waiting for the service to read it
 * @node: in tciodd_svc_queue
 * @req: the request it carries, or NULL for a notice (TCIO_SVC_TERMINATE)
 * @notice: a notice (counted in tciodd_svc_nnotices while queued)
 * @orphan: the request's caller went away while the service read it
 * @len: length of @msg
 * @msg: &struct tcio_hdr, &struct tcio_svc_ext and payload
 */
struct tciodd_svcmsg {
	struct list_head node;
	struct tciodd_req *req;
	bool notice;
	bool orphan;
	size_t len;
	u8 msg[];
};

/**
 * struct tciodd_req - a request given to the service and not yet answered
 * @tag: its key in tciodd_pending and in the service's messages
 * @code: the request code
 * @procid: the caller's cookie, echoed in the answer
 * @origprocid: the caller's second cookie, echoed in the answer
 * @client: the caller
 * @client_node: in &tciodd_client.pending
 * @svcmsg: the message while the service has not read it, else NULL
 * @fallback: a header-only answer allocated up front, so that tcioDD can
 *            always answer (no service, no memory) without allocating
 * @caller: host caller: the writer's thread group (a reference), else NULL
 * @caller_mm: host caller: the writer's address space when it wrote (a
 *             reference on the mm_struct only, so that it is not reused)
 */
struct tciodd_req {
	u32 tag;
	u32 code;
	s32 procid;
	s32 origprocid;
	struct tciodd_client *client;
	struct list_head client_node;
	struct tciodd_svcmsg *svcmsg;
	struct tciodd_answer *fallback;
	struct pid *caller;
	struct mm_struct *caller_mm;
};

/**
 * struct tciodd_client - one caller: an open file or a VM's channel
 * @who: identity given to the service
 * @pending: &struct tciodd_req given to the service
 * @answers: &struct tciodd_answer ready to be read, oldest first
 * @inflight: requests pending plus answers queued (bounded)
 * @nanswers: answers queued
 * @read_lock: held by the one reader taking the oldest answer; answers are
 *             only removed with it held (or when the client is freed)
 * @wq: woken when an answer arrives or room frees up
 *
 * @who, @pending, @answers, @inflight and @nanswers are guarded by
 * tciodd_lock; @inflight and @nanswers are also read without it by waiters.
 */
struct tciodd_client {
	struct tciodd_principal who;
	struct list_head pending;
	struct list_head answers;
	unsigned int inflight;
	unsigned int nanswers;
	struct mutex read_lock; /* one reader at a time */
	wait_queue_head_t wq;
};

/**
 * struct tciodd_file - what an open /dev/tcioDD0 holds
 * @client: its caller state
 * @service: set once this file registered as the service
 */
struct tciodd_file {
	struct tciodd_client *client;
	bool service;
};

/*
 * tciodd_lock guards the service slot, the service queue, the pending
 * table, every request, and the lists and counters of every client.
 */
static DEFINE_MUTEX(tciodd_lock);
static DEFINE_XARRAY_ALLOC1(tciodd_pending);
static u32 tciodd_next_tag;
static struct file *tciodd_service;
static LIST_HEAD(tciodd_svc_queue);
static DECLARE_WAIT_QUEUE_HEAD(tciodd_svc_wq);
/* Serialises service readers; the message being copied is tciodd_svc_busy. */
static DEFINE_MUTEX(tciodd_svc_read_lock);
static struct tciodd_svcmsg *tciodd_svc_busy;
static unsigned int tciodd_svc_nqueued;
static unsigned int tciodd_svc_nnotices;
static unsigned int tciodd_notices_dropped;
static unsigned int tciodd_nclients;
static unsigned int tciodd_npending;
static unsigned int tciodd_nanswers;

enum tciodd_route {
	TCIODD_FORWARD,
	TCIODD_DENY,
	TCIODD_UNKNOWN,
};

/**
 * tciodd_route_of() - what to do with a request code from a caller
 * @code: the request code
 *
 * Context: any.
 * Return: TCIODD_FORWARD for application requests, TCIODD_DENY for codes
 * only the service may send, TCIODD_UNKNOWN for anything else.
 */
static enum tciodd_route tciodd_route_of(u32 code)
{
	switch (code) {
	case TCIO_REQ_GET_POLICY_KEY:
	case TCIO_REQ_GET_OS_HASH:
	case TCIO_REQ_GET_OS_CREDS:
	case TCIO_REQ_GET_PROG_HASH:
	case TCIO_REQ_SEAL:
	case TCIO_REQ_UNSEAL:
	case TCIO_REQ_ATTEST:
	case TCIO_REQ_START_APP:
	case TCIO_REQ_TERMINATE_APP:
	case TCIO_REQ_REGISTER_VM:
	case TCIO_REQ_ECHO:
		return TCIODD_FORWARD;
	case TCIO_SVC_HELLO:
	case TCIO_SVC_GOODBYE:
	case TCIO_SVC_TERMINATE:
		return TCIODD_DENY;
	default:
		if (code >= TCIO_ANS_GET_POLICY_KEY &&
		    code <= TCIO_ANS_ECHO && !(code & 1))
			return TCIODD_DENY;
		return TCIODD_UNKNOWN;
	}
}

/**
 * tciodd_answer_alloc() - allocate an answer
 * @plen: payload length
 *
 * Context: process context, may sleep.
 * Return: the answer with its length set, or NULL.
 */
static struct tciodd_answer *tciodd_answer_alloc(size_t plen)
{
	struct tciodd_answer *ans;

	ans = kzalloc(struct_size(ans, msg, TCIODD_HDR_LEN + plen),
		      GFP_KERNEL_ACCOUNT);
	if (ans)
		ans->len = TCIODD_HDR_LEN + plen;
	return ans;
}

/**
 * tciodd_answer_fill() - write an answer's header
 * @ans: the answer, sized for @plen
 * @procid: cookie to echo
 * @origprocid: cookie to echo
 * @code: the answer's code
 * @status: TCIO_STATUS_*
 * @plen: payload length (the payload is written by the caller)
 */
static void tciodd_answer_fill(struct tciodd_answer *ans, s32 procid,
			       s32 origprocid, u32 code, u32 status,
			       size_t plen)
{
	struct tcio_hdr hdr = {
		.procid = procid,
		.req_id = code,
		.req_size = plen,
		.status = status,
		.origprocid = origprocid,
	};

	memcpy(ans->msg, &hdr, sizeof(hdr));
}

/**
 * tciodd_deliver() - queue an answer on its client and wake readers
 * @c: the client
 * @ans: the answer
 *
 * The answer takes over the slot its request held in @c->inflight.
 *
 * Context: tciodd_lock held.
 */
static void tciodd_deliver(struct tciodd_client *c, struct tciodd_answer *ans)
{
	lockdep_assert_held(&tciodd_lock);
	list_add_tail(&ans->node, &c->answers);
	WRITE_ONCE(c->nanswers, c->nanswers + 1);
	tciodd_nanswers++;
	wake_up_interruptible_poll(&c->wq, EPOLLIN | EPOLLRDNORM);
}

/**
 * tciodd_req_free() - forget a request and free what it holds
 * @req: the request, already removed from tciodd_pending
 *
 * Context: tciodd_lock held.
 */
static void tciodd_req_free(struct tciodd_req *req)
{
	lockdep_assert_held(&tciodd_lock);
	list_del(&req->client_node);
	if (req->svcmsg) {
		if (req->svcmsg == tciodd_svc_busy) {
			/* The service reader frees it when it is done. */
			req->svcmsg->req = NULL;
			req->svcmsg->orphan = true;
		} else {
			list_del(&req->svcmsg->node);
			WRITE_ONCE(tciodd_svc_nqueued, tciodd_svc_nqueued - 1);
			kfree(req->svcmsg);
		}
	}
	kfree(req->fallback);
	put_pid(req->caller);
	if (req->caller_mm)
		mmdrop(req->caller_mm);
	kfree(req);
	tciodd_npending--;
}

/**
 * tciodd_req_fail() - answer a pending request from tcioDD itself
 * @req: the request, already removed from tciodd_pending
 * @status: TCIO_STATUS_NO_SERVICE, TCIO_STATUS_NO_MEMORY or
 *          TCIO_STATUS_STALE
 *
 * Context: tciodd_lock held.
 */
static void tciodd_req_fail(struct tciodd_req *req, u32 status)
{
	struct tciodd_answer *ans = req->fallback;
	struct tciodd_client *c = req->client;

	req->fallback = NULL;
	tciodd_answer_fill(ans, req->procid, req->origprocid, req->code + 1,
			   status, 0);
	tciodd_req_free(req);
	tciodd_deliver(c, ans);
}

/**
 * tciodd_svc_enqueue() - queue a message for the service and wake it
 * @m: the message
 *
 * Context: tciodd_lock held.
 */
static void tciodd_svc_enqueue(struct tciodd_svcmsg *m)
{
	lockdep_assert_held(&tciodd_lock);
	list_add_tail(&m->node, &tciodd_svc_queue);
	WRITE_ONCE(tciodd_svc_nqueued, tciodd_svc_nqueued + 1);
	wake_up_interruptible_poll(&tciodd_svc_wq, EPOLLIN | EPOLLRDNORM);
}

/**
 * tciodd_notice() - queue a notice for the service, if one runs
 * @code: TCIO_SVC_TERMINATE
 * @who: whom it is about
 *
 * Notices need no answer.  One that cannot be allocated, or that finds
 * TCIODD_MAX_NOTICES already queued, is dropped: the service re-checks
 * identities by process start time anyway.
 *
 * Context: tciodd_lock held.
 */
static void tciodd_notice(u32 code, const struct tciodd_principal *who)
{
	struct tcio_hdr hdr = { .req_id = code };
	struct tcio_svc_ext ext = {
		.caller_kind = who->kind,
		.pid = who->pid,
		.uid = who->uid,
		.vm_id = who->vm_id,
		.channel = who->channel,
	};
	struct tciodd_svcmsg *m;

	lockdep_assert_held(&tciodd_lock);
	if (!tciodd_service)
		return;
	if (tciodd_svc_nnotices >= TCIODD_MAX_NOTICES) {
		tciodd_notices_dropped++;
		return;
	}
	m = kzalloc(struct_size(m, msg, TCIODD_HDR_LEN + TCIODD_EXT_LEN),
		    GFP_KERNEL_ACCOUNT);
	if (!m) {
		tciodd_notices_dropped++;
		return;
	}
	m->notice = true;
	tciodd_svc_nnotices++;
	m->len = TCIODD_HDR_LEN + TCIODD_EXT_LEN;
	memcpy(m->msg, &hdr, sizeof(hdr));
	memcpy(m->msg + TCIODD_HDR_LEN, &ext, sizeof(ext));
	tciodd_svc_enqueue(m);
}

/**
 * tciodd_client_new() - make a caller
 * @who: its identity
 *
 * Context: process context, may sleep.
 * Return: the client, or NULL when out of memory.
 */
struct tciodd_client *tciodd_client_new(const struct tciodd_principal *who)
{
	struct tciodd_client *c;

	c = kzalloc_obj(*c, GFP_KERNEL_ACCOUNT);
	if (!c)
		return NULL;
	c->who = *who;
	INIT_LIST_HEAD(&c->pending);
	INIT_LIST_HEAD(&c->answers);
	mutex_init(&c->read_lock);
	init_waitqueue_head(&c->wq);
	mutex_lock(&tciodd_lock);
	tciodd_nclients++;
	mutex_unlock(&tciodd_lock);
	return c;
}
EXPORT_SYMBOL_GPL(tciodd_client_new);

/**
 * tciodd_client_free() - drop a caller, its requests and its answers
 * @c: the client; nobody may use it any more
 *
 * The service is told the caller went away (TCIO_SVC_TERMINATE).  Answers
 * the service sends later for its requests find no tag and are refused.
 *
 * Context: process context, may sleep.
 */
void tciodd_client_free(struct tciodd_client *c)
{
	struct tciodd_answer *ans, *nans;
	struct tciodd_req *req, *nreq;

	mutex_lock(&tciodd_lock);
	list_for_each_entry_safe(req, nreq, &c->pending, client_node) {
		xa_erase(&tciodd_pending, req->tag);
		tciodd_req_free(req);
	}
	list_for_each_entry_safe(ans, nans, &c->answers, node) {
		list_del(&ans->node);
		tciodd_nanswers--;
		kfree(ans);
	}
	c->inflight = 0;
	c->nanswers = 0;
	tciodd_notice(TCIO_SVC_TERMINATE, &c->who);
	tciodd_nclients--;
	mutex_unlock(&tciodd_lock);
	mutex_destroy(&c->read_lock);
	kfree(c);
}
EXPORT_SYMBOL_GPL(tciodd_client_free);

/**
 * tciodd_vm_gone() - tell the service a VM is gone
 * @who: the VM (channel 0)
 *
 * Context: process context, may sleep.
 */
void tciodd_vm_gone(const struct tciodd_principal *who)
{
	mutex_lock(&tciodd_lock);
	tciodd_notice(TCIO_SVC_TERMINATE, who);
	mutex_unlock(&tciodd_lock);
}
EXPORT_SYMBOL_GPL(tciodd_vm_gone);

/**
 * tciodd_reject() - answer a request at once, from tcioDD
 * @c: the caller
 * @hdr: the request's header
 * @code: the answer's code
 * @status: TCIO_STATUS_*
 *
 * Context: tciodd_lock held.
 * Return: 0, or -ENOMEM (the request is then not accepted).
 */
static int tciodd_reject(struct tciodd_client *c, const struct tcio_hdr *hdr,
			 u32 code, u32 status)
{
	struct tciodd_answer *ans = tciodd_answer_alloc(0);

	if (!ans)
		return -ENOMEM;
	tciodd_answer_fill(ans, hdr->procid, hdr->origprocid, code, status, 0);
	WRITE_ONCE(c->inflight, c->inflight + 1);
	tciodd_deliver(c, ans);
	return 0;
}

/**
 * tciodd_forward() - give a request to the service
 * @c: the caller
 * @hdr: the request's header
 * @payload: its payload, @hdr->req_size bytes
 *
 * Context: tciodd_lock held; a service is registered.
 * Return: 0, or -ENOMEM / -EAGAIN (the request is then not accepted).
 */
static int tciodd_forward(struct tciodd_client *c, const struct tcio_hdr *hdr,
			  const void *payload)
{
	struct tcio_hdr shdr = *hdr;
	struct tcio_svc_ext ext = { 0 };
	struct tciodd_svcmsg *m;
	struct tciodd_req *req;
	size_t mlen;
	u32 tag;
	int rc;

	mlen = TCIODD_HDR_LEN + TCIODD_EXT_LEN + hdr->req_size;
	req = kzalloc_obj(*req, GFP_KERNEL_ACCOUNT);
	if (!req)
		return -ENOMEM;
	req->fallback = tciodd_answer_alloc(0);
	m = kzalloc(struct_size(m, msg, mlen), GFP_KERNEL_ACCOUNT);
	if (!req->fallback || !m) {
		rc = -ENOMEM;
		goto free_req;
	}
	rc = xa_alloc_cyclic(&tciodd_pending, &tag, req, xa_limit_32b,
			     &tciodd_next_tag, GFP_KERNEL);
	if (rc < 0)
		goto free_req;

	req->tag = tag;
	req->code = hdr->req_id;
	req->procid = hdr->procid;
	req->origprocid = hdr->origprocid;
	req->client = c;
	req->svcmsg = m;
	if (c->who.kind == TCIO_CALLER_HOST && current->mm) {
		/* Called by the writer itself (tciodd_write()). */
		req->caller = get_task_pid(current, PIDTYPE_TGID);
		req->caller_mm = current->mm;
		mmgrab(req->caller_mm);
	}
	list_add_tail(&req->client_node, &c->pending);

	shdr.procid = 0;
	shdr.origprocid = 0;
	shdr.status = 0;
	ext.tag = tag;
	ext.caller_kind = c->who.kind;
	ext.pid = c->who.pid;
	ext.uid = c->who.uid;
	ext.vm_id = c->who.vm_id;
	ext.channel = c->who.channel;
	m->req = req;
	m->len = mlen;
	memcpy(m->msg, &shdr, sizeof(shdr));
	memcpy(m->msg + TCIODD_HDR_LEN, &ext, sizeof(ext));
	memcpy(m->msg + TCIODD_HDR_LEN + TCIODD_EXT_LEN, payload,
	       hdr->req_size);
	tciodd_npending++;
	WRITE_ONCE(c->inflight, c->inflight + 1);
	tciodd_svc_enqueue(m);
	return 0;

free_req:
	kfree(m);
	kfree(req->fallback);
	kfree(req);
	return rc;
}

/**
 * tciodd_client_submit() - accept a request from a caller
 * @c: the caller
 * @who: the caller's identity for this request, or NULL to keep the last
 * @msg: the request, in kernel memory
 * @len: its length
 *
 * Context: process context, may sleep.
 * Return: 0 when accepted (exactly one answer will follow); -EINVAL for a
 * malformed message, -EMSGSIZE above TCIO_MAX_MSG, -EAGAIN when the caller
 * has TCIO_MAX_INFLIGHT requests and answers outstanding, -ENOMEM.
 */
int tciodd_client_submit(struct tciodd_client *c,
			 const struct tciodd_principal *who,
			 const void *msg, size_t len)
{
	struct tcio_hdr hdr;
	int rc;

	if (len > TCIO_MAX_MSG)
		return -EMSGSIZE;
	if (len < TCIODD_HDR_LEN)
		return -EINVAL;
	memcpy(&hdr, msg, sizeof(hdr));
	if (hdr.req_size != len - TCIODD_HDR_LEN)
		return -EINVAL;

	mutex_lock(&tciodd_lock);
	if (who)
		c->who = *who;
	if (c->inflight >= TCIO_MAX_INFLIGHT) {
		rc = -EAGAIN;
		goto unlock;
	}
	switch (tciodd_route_of(hdr.req_id)) {
	case TCIODD_DENY:
		rc = tciodd_reject(c, &hdr, hdr.req_id, TCIO_STATUS_DENIED);
		break;
	case TCIODD_UNKNOWN:
		rc = tciodd_reject(c, &hdr, hdr.req_id,
				   TCIO_STATUS_BAD_REQUEST);
		break;
	default:
		if (!tciodd_service)
			rc = tciodd_reject(c, &hdr, hdr.req_id + 1,
					   TCIO_STATUS_NO_SERVICE);
		else
			rc = tciodd_forward(c, &hdr,
					    (const u8 *)msg + TCIODD_HDR_LEN);
		break;
	}
unlock:
	mutex_unlock(&tciodd_lock);
	return rc;
}
EXPORT_SYMBOL_GPL(tciodd_client_submit);

/**
 * tciodd_client_next_len() - length of the caller's next answer
 * @c: the caller
 *
 * Context: process context, may sleep.
 * Return: the length, -EAGAIN when requests are in flight but no answer is
 * ready, -ENOMSG when nothing is in flight.
 */
ssize_t tciodd_client_next_len(struct tciodd_client *c)
{
	struct tciodd_answer *ans;
	ssize_t rc;

	mutex_lock(&tciodd_lock);
	ans = list_first_entry_or_null(&c->answers, struct tciodd_answer,
				       node);
	if (ans)
		rc = ans->len;
	else
		rc = c->inflight ? -EAGAIN : -ENOMSG;
	mutex_unlock(&tciodd_lock);
	return rc;
}
EXPORT_SYMBOL_GPL(tciodd_client_next_len);

/**
 * tciodd_client_read() - hand the caller's oldest answer to @copy
 * @c: the caller
 * @len: room the reader has
 * @copy: copies the answer out; on failure the answer stays queued
 * @ctx: passed to @copy
 *
 * Never blocks waiting for an answer.
 *
 * Context: process context, may sleep.
 * Return: the answer's length once copied and removed; -EMSGSIZE when it
 * is longer than @len (it stays queued); -EAGAIN or -ENOMSG as
 * tciodd_client_next_len(); or what @copy returned.
 */
ssize_t tciodd_client_read(struct tciodd_client *c, size_t len,
			   tciodd_copy_fn copy, void *ctx)
{
	struct tciodd_answer *ans;
	ssize_t rc;

	mutex_lock(&c->read_lock);
	mutex_lock(&tciodd_lock);
	ans = list_first_entry_or_null(&c->answers, struct tciodd_answer,
				       node);
	if (!ans)
		rc = c->inflight ? -EAGAIN : -ENOMSG;
	mutex_unlock(&tciodd_lock);
	if (!ans)
		goto unlock;
	if (ans->len > len) {
		rc = -EMSGSIZE;
		goto unlock;
	}
	/* Only holders of read_lock remove answers: @ans stays valid. */
	rc = copy(ctx, ans->msg, ans->len);
	if (rc)
		goto unlock;
	rc = ans->len;
	mutex_lock(&tciodd_lock);
	list_del(&ans->node);
	WRITE_ONCE(c->inflight, c->inflight - 1);
	WRITE_ONCE(c->nanswers, c->nanswers - 1);
	tciodd_nanswers--;
	mutex_unlock(&tciodd_lock);
	kfree(ans);
	wake_up_interruptible_poll(&c->wq, EPOLLOUT | EPOLLWRNORM);
unlock:
	mutex_unlock(&c->read_lock);
	return rc;
}
EXPORT_SYMBOL_GPL(tciodd_client_read);

/**
 * tciodd_client_ready() - whether a read or a write would not block
 * @c: the caller
 * @answers: set when an answer is queued
 * @room: set when another request would be accepted
 *
 * Context: process context, may sleep.
 */
static void tciodd_client_ready(struct tciodd_client *c, bool *answers,
				bool *room)
{
	mutex_lock(&tciodd_lock);
	*answers = !list_empty(&c->answers);
	*room = c->inflight < TCIO_MAX_INFLIGHT;
	mutex_unlock(&tciodd_lock);
}

/**
 * tciodd_client_wakeable() - whether a blocked reader should wake
 * @c: the caller
 *
 * Read without tciodd_lock: waiters re-check under it.
 *
 * Context: any; does not sleep (used in wait_event conditions).
 * Return: true when an answer is queued or nothing is in flight.
 */
static bool tciodd_client_wakeable(struct tciodd_client *c)
{
	return READ_ONCE(c->nanswers) || !READ_ONCE(c->inflight);
}

/* --- the service side of /dev/tcioDD0 --- */

/**
 * tciodd_svc_unregister() - the service went away: answer all it owed
 *
 * Every pending request is answered TCIO_STATUS_NO_SERVICE, so no caller
 * waits for an answer that will never come.
 *
 * Context: tciodd_lock held.
 */
static void tciodd_svc_unregister(void)
{
	struct tciodd_svcmsg *m, *nm;
	struct tciodd_req *req;
	unsigned long tag;

	lockdep_assert_held(&tciodd_lock);
	tciodd_service = NULL;
	xa_for_each(&tciodd_pending, tag, req) {
		xa_erase(&tciodd_pending, tag);
		tciodd_req_fail(req, TCIO_STATUS_NO_SERVICE);
	}
	/* Only notices are left: requests left with their tags. */
	list_for_each_entry_safe(m, nm, &tciodd_svc_queue, node) {
		list_del(&m->node);
		kfree(m);
	}
	WRITE_ONCE(tciodd_svc_nqueued, 0);
	tciodd_svc_nnotices = 0;
}

/**
 * tciodd_svc_read() - the service takes its next message
 * @buf: where to
 * @len: room
 * @nonblock: do not wait for a message
 *
 * Context: process context, may sleep; the caller is the service.
 * Return: the message's length, -EMSGSIZE when @len is too small (the
 * message stays queued), -EAGAIN, -EFAULT, or -ERESTARTSYS.
 */
static ssize_t tciodd_svc_read(char __user *buf, size_t len, bool nonblock)
{
	struct tciodd_svcmsg *m;
	ssize_t rc;

	if (mutex_lock_interruptible(&tciodd_svc_read_lock))
		return -ERESTARTSYS;
	for (;;) {
		mutex_lock(&tciodd_lock);
		m = list_first_entry_or_null(&tciodd_svc_queue,
					     struct tciodd_svcmsg, node);
		if (m && m->len > len) {
			mutex_unlock(&tciodd_lock);
			rc = -EMSGSIZE;
			goto unlock;
		}
		if (m) {
			list_del(&m->node);
			WRITE_ONCE(tciodd_svc_nqueued, tciodd_svc_nqueued - 1);
			if (m->notice)
				tciodd_svc_nnotices--;
			tciodd_svc_busy = m;
		}
		mutex_unlock(&tciodd_lock);
		if (m)
			break;
		if (nonblock) {
			rc = -EAGAIN;
			goto unlock;
		}
		if (wait_event_interruptible(tciodd_svc_wq,
					     READ_ONCE(tciodd_svc_nqueued))) {
			rc = -ERESTARTSYS;
			goto unlock;
		}
	}

	rc = copy_to_user(buf, m->msg, m->len) ? -EFAULT : m->len;

	mutex_lock(&tciodd_lock);
	tciodd_svc_busy = NULL;
	if (rc < 0 && !m->orphan && tciodd_service) {
		/* Not delivered: keep it first in line. */
		list_add(&m->node, &tciodd_svc_queue);
		WRITE_ONCE(tciodd_svc_nqueued, tciodd_svc_nqueued + 1);
		if (m->notice)
			tciodd_svc_nnotices++;
	} else {
		if (m->req)
			m->req->svcmsg = NULL;
		kfree(m);
	}
	mutex_unlock(&tciodd_lock);
unlock:
	mutex_unlock(&tciodd_svc_read_lock);
	return rc;
}

/**
 * tciodd_caller_same() - whether a request's host caller still runs the
 * program that wrote it
 * @req: the request
 *
 * The writer's process must still exist (a reused pid is another
 * process: its struct pid is new) and one of its threads must still have
 * the address space it wrote from (an exec gives a new one; the reference
 * held on the old one keeps its address from being reused).
 *
 * Context: tciodd_lock held.
 * Return: true for requests of other callers.
 */
static bool tciodd_caller_same(const struct tciodd_req *req)
{
	struct mm_struct *mm = NULL;
	struct task_struct *leader, *t;

	if (!req->caller)
		return true;
	rcu_read_lock();
	leader = pid_task(req->caller, PIDTYPE_TGID);
	if (leader) {
		/* The leader's mm is gone if it exited before its threads. */
		for_each_thread(leader, t) {
			task_lock(t);
			mm = t->mm;
			task_unlock(t);
			if (mm)
				break;
		}
	}
	rcu_read_unlock();
	return mm && mm == req->caller_mm;
}

/**
 * tciodd_svc_write() - the service answers a request
 * @ubuf: &struct tcio_hdr, &struct tcio_svc_ext with the request's tag, and
 *        the payload
 * @len: its length
 *
 * The caller gets the service's answer, or TCIO_STATUS_STALE without a
 * payload if it exited or exec'd since it wrote the request (see
 * tciodd_caller_same()).
 *
 * Context: process context, may sleep; the caller is the service.
 * Return: @len; -EINVAL for a malformed answer or one whose code does not
 * answer the request; -EMSGSIZE when the answer's payload is longer than
 * TCIO_MAX_PAYLOAD (its caller could not read it); -ENOENT when no request
 * has that tag (its caller is gone).
 */
static ssize_t tciodd_svc_write(const char __user *ubuf, size_t len)
{
	struct tciodd_answer *ans;
	struct tcio_svc_ext ext;
	struct tciodd_req *req;
	struct tcio_hdr hdr;
	ssize_t rc = len;
	size_t plen;
	u8 *buf;

	if (len > TCIODD_SVC_MAX)
		return -EMSGSIZE;
	if (len < TCIODD_HDR_LEN + TCIODD_EXT_LEN)
		return -EINVAL;
	buf = memdup_user(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	memcpy(&hdr, buf, sizeof(hdr));
	memcpy(&ext, buf + TCIODD_HDR_LEN, sizeof(ext));
	plen = len - TCIODD_HDR_LEN - TCIODD_EXT_LEN;
	if (plen > TCIO_MAX_PAYLOAD) {
		rc = -EMSGSIZE;
		goto free_buf;
	}
	if (hdr.req_size != plen) {
		rc = -EINVAL;
		goto free_buf;
	}
	if (ext.tag > U32_MAX) {
		rc = -ENOENT;
		goto free_buf;
	}
	ans = tciodd_answer_alloc(plen);

	mutex_lock(&tciodd_lock);
	req = xa_load(&tciodd_pending, ext.tag);
	if (!req || req->svcmsg) {
		rc = -ENOENT;
		goto unlock;
	}
	if (hdr.req_id != req->code + 1) {
		rc = -EINVAL;
		goto unlock;
	}
	xa_erase(&tciodd_pending, ext.tag);
	if (!tciodd_caller_same(req)) {
		tciodd_req_fail(req, TCIO_STATUS_STALE);
		goto unlock;
	}
	if (!ans) {
		tciodd_req_fail(req, TCIO_STATUS_NO_MEMORY);
		goto unlock;
	}
	tciodd_answer_fill(ans, req->procid, req->origprocid, hdr.req_id,
			   hdr.status, plen);
	memcpy(ans->msg + TCIODD_HDR_LEN,
	       buf + TCIODD_HDR_LEN + TCIODD_EXT_LEN, plen);
	tciodd_deliver(req->client, ans);
	ans = NULL;
	tciodd_req_free(req);
unlock:
	mutex_unlock(&tciodd_lock);
	kfree(ans);
free_buf:
	kfree(buf);
	return rc;
}

/* --- /dev/tcioDD0 file operations --- */

/**
 * tciodd_current() - the identity of the calling host process
 * @who: filled in
 *
 * Context: process context.
 */
static void tciodd_current(struct tciodd_principal *who)
{
	who->kind = TCIO_CALLER_HOST;
	who->pid = task_tgid_nr(current);
	who->uid = from_kuid_munged(&init_user_ns, current_uid());
	who->vm_id = 0;
	who->channel = 0;
}

static int tciodd_open(struct inode *inode, struct file *file)
{
	struct tciodd_principal who;
	struct tciodd_file *f;

	f = kzalloc_obj(*f, GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	tciodd_current(&who);
	f->client = tciodd_client_new(&who);
	if (!f->client) {
		kfree(f);
		return -ENOMEM;
	}
	file->private_data = f;
	return stream_open(inode, file);
}

static int tciodd_release(struct inode *inode, struct file *file)
{
	struct tciodd_file *f = file->private_data;

	if (f->service) {
		mutex_lock(&tciodd_lock);
		if (tciodd_service == file)
			tciodd_svc_unregister();
		mutex_unlock(&tciodd_lock);
	}
	tciodd_client_free(f->client);
	kfree(f);
	return 0;
}

static int tciodd_copy_to_user(void *ctx, const void *src, size_t len)
{
	return copy_to_user((char __user *)ctx, src, len) ? -EFAULT : 0;
}

static ssize_t tciodd_read(struct file *file, char __user *buf, size_t len,
			   loff_t *ppos)
{
	struct tciodd_file *f = file->private_data;
	struct tciodd_client *c = f->client;
	ssize_t rc;

	if (!len)
		return 0;
	if (f->service)
		return tciodd_svc_read(buf, len, file->f_flags & O_NONBLOCK);
	for (;;) {
		rc = tciodd_client_read(c, len, tciodd_copy_to_user, buf);
		if (rc != -EAGAIN || (file->f_flags & O_NONBLOCK))
			return rc;
		if (wait_event_interruptible(c->wq,
					     tciodd_client_wakeable(c)))
			return -ERESTARTSYS;
	}
}

static ssize_t tciodd_write(struct file *file, const char __user *buf,
			    size_t len, loff_t *ppos)
{
	struct tciodd_file *f = file->private_data;
	struct tciodd_principal who;
	void *msg;
	int rc;

	if (f->service)
		return tciodd_svc_write(buf, len);
	if (len > TCIO_MAX_MSG)
		return -EMSGSIZE;
	if (len < sizeof(struct tcio_hdr))
		return -EINVAL;
	msg = memdup_user(buf, len);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	/* Identify the writer, not the opener: a descriptor can be inherited. */
	tciodd_current(&who);
	rc = tciodd_client_submit(f->client, &who, msg, len);
	kfree(msg);
	return rc ? rc : len;
}

static __poll_t tciodd_poll(struct file *file, poll_table *wait)
{
	struct tciodd_file *f = file->private_data;
	bool answers, room;
	__poll_t mask = 0;

	if (f->service) {
		poll_wait(file, &tciodd_svc_wq, wait);
		mutex_lock(&tciodd_lock);
		if (!list_empty(&tciodd_svc_queue))
			mask |= EPOLLIN | EPOLLRDNORM;
		mutex_unlock(&tciodd_lock);
		return mask | EPOLLOUT | EPOLLWRNORM;
	}
	poll_wait(file, &f->client->wq, wait);
	tciodd_client_ready(f->client, &answers, &room);
	if (answers)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (room)
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static long tciodd_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct tciodd_file *f = file->private_data;
	long rc = 0;

	if (cmd != TCIODD_IOC_REGISTER_SERVICE)
		return -ENOTTY;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	mutex_lock(&tciodd_lock);
	if (tciodd_service || f->client->inflight) {
		rc = -EBUSY;
	} else {
		tciodd_service = file;
		f->service = true;
	}
	mutex_unlock(&tciodd_lock);
	return rc;
}

static const struct file_operations tciodd_fops = {
	.owner = THIS_MODULE,
	.open = tciodd_open,
	.release = tciodd_release,
	.read = tciodd_read,
	.write = tciodd_write,
	.poll = tciodd_poll,
	.unlocked_ioctl = tciodd_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static ssize_t stats_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	ssize_t n;

	mutex_lock(&tciodd_lock);
	n = sysfs_emit(buf,
		       "service %d\nclients %u\npending %u\nanswers %u\nqueued %u\nnotices %u\nnotices_dropped %u\n",
		       tciodd_service ? 1 : 0, tciodd_nclients, tciodd_npending,
		       tciodd_nanswers, tciodd_svc_nqueued, tciodd_svc_nnotices,
		       tciodd_notices_dropped);
	mutex_unlock(&tciodd_lock);
	return n;
}
static DEVICE_ATTR_RO(stats);

static struct attribute *tciodd_attrs[] = {
	&dev_attr_stats.attr,
	NULL,
};
ATTRIBUTE_GROUPS(tciodd);

static struct miscdevice tciodd_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "tcioDD0",
	.fops = &tciodd_fops,
	.groups = tciodd_groups,
	.mode = 0666,
};

static int __init tciodd_init(void)
{
	int rc = misc_register(&tciodd_misc);

	if (!rc)
		pr_info("relay ready at /dev/%s\n", tciodd_misc.name);
	return rc;
}

static void __exit tciodd_exit(void)
{
	misc_deregister(&tciodd_misc);
}

module_init(tciodd_init);
module_exit(tciodd_exit);

MODULE_DESCRIPTION("tcioDD: relay to the trusted service tcService");
MODULE_LICENSE("GPL");
