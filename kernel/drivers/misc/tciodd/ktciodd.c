// SPDX-License-Identifier: GPL-2.0
/*
 * ktcioDD - the guest side of vtcio: /dev/ktciodd0.
 *
 * Each open file is a channel to the host's tcioDD relay, made with a KVM
 * hypercall.  write() sends a request, read() returns the oldest answer of
 * this file.  The host never waits in a hypercall and has no way to
 * interrupt the guest, so a blocking read() asks again after a pause, and
 * poll() has a worker wake it after one.  Pauses are high-resolution and
 * start short (KTCIODD_WAIT_MIN_US), as the service usually answers within
 * a millisecond, then double up to KTCIODD_WAIT_MAX_US, so a slow request
 * costs few hypercalls.  Answers belong to the open file, not to a vCPU or
 * a thread: a process that moves between vCPUs still gets its answers.
 *
 * A host without tcioDD support answers the connect hypercall with
 * -KVM_ENOSYS; open() then fails with EOPNOTSUPP and says so once in the
 * kernel log.  Outside KVM, open() fails with ENODEV.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/io.h>
#include <linux/kvm_para.h>
#include <linux/minmax.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/tciodd_compat.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/tciodd.h>

/* First pause after the host said "not yet", in microseconds. */
#define KTCIODD_WAIT_MIN_US	50
/* Longest pause between two checks, in microseconds. */
#define KTCIODD_WAIT_MAX_US	2000

/**
 * struct ktciodd_file - one open /dev/ktciodd0: a channel to the host
 * @channel: the host's id of the channel
 * @lock: guards @buf and @stash_len, and serialises reads
 * @buf: TCIO_MAX_MSG bytes of physically contiguous memory the host
 *       writes answers into
 * @stash_len: length of an answer taken from the host that could not be
 *             copied to the reader yet (it is returned by the next read)
 * @wq: pollers wait here
 * @poll_work: wakes @wq after @poll_us, so pollers ask the host again
 * @poll_us: the next pause of @poll_work; back to KTCIODD_WAIT_MIN_US with
 *           each request sent and each answer taken, doubled after each
 *           pause
 */
struct ktciodd_file {
	long channel;
	struct mutex lock; /* guards buf and stash_len */
	u8 *buf;
	size_t stash_len;
	wait_queue_head_t wq;
	struct work_struct poll_work;
	unsigned int poll_us;
};

/**
 * ktciodd_errno() - the errno for a failed hypercall
 * @ret: the hypercall's negative return value
 *
 * Return: a negative errno.
 */
static long ktciodd_errno(long ret)
{
	switch (-ret) {
	case TCIODD_HC_ENOSYS:
		return -EOPNOTSUPP;
	case TCIODD_HC_E2BIG:
		return -EMSGSIZE;
	case TCIODD_HC_EPERM:
	case TCIODD_HC_EBADF:
	case TCIODD_HC_EAGAIN:
	case TCIODD_HC_ENOMEM:
	case TCIODD_HC_EFAULT:
	case TCIODD_HC_EINVAL:
	case TCIODD_HC_EMFILE:
	case TCIODD_HC_EMSGSIZE:
	case TCIODD_HC_ENOMSG:
		return ret;
	default:
		return -EIO;
	}
}

/**
 * ktciodd_next_pause() - a pause, and the one after it
 * @us: the pause now, in microseconds
 *
 * Return: the next pause: twice @us, at most KTCIODD_WAIT_MAX_US.
 */
static unsigned int ktciodd_next_pause(unsigned int us)
{
	return min_t(unsigned int, us * 2, KTCIODD_WAIT_MAX_US);
}

/**
 * ktciodd_pause() - sleep @us microseconds, or until a signal
 * @us: the pause
 *
 * High-resolution: a jiffy (4 ms at HZ=250) is several times what the
 * service usually takes to answer.
 *
 * Context: process context, may sleep.
 * Return: 0, or -ERESTARTSYS when a signal is pending.
 */
static int ktciodd_pause(unsigned int us)
{
	ktime_t t = ns_to_ktime((u64)us * NSEC_PER_USEC);

	set_current_state(TASK_INTERRUPTIBLE);
	schedule_hrtimeout_range(&t, (u64)us * NSEC_PER_USEC / 4,
				 HRTIMER_MODE_REL);
	return signal_pending(current) ? -ERESTARTSYS : 0;
}

static void ktciodd_poll_work(struct work_struct *work)
{
	struct ktciodd_file *f = container_of(work, struct ktciodd_file,
					      poll_work);
	unsigned int us = READ_ONCE(f->poll_us);

	usleep_range(us, us + us / 4);
	/* Unless a request or an answer reset it meanwhile. */
	cmpxchg(&f->poll_us, us, ktciodd_next_pause(us));
	wake_up_interruptible(&f->wq);
}

/**
 * ktciodd_open() - connect a new channel to the host
 * @inode: the device's inode
 * @file: the new open file
 *
 * Context: process context, may sleep.
 * Return: 0; -ENODEV outside KVM; -EOPNOTSUPP when the host lacks tcioDD
 * support; -EMFILE when the VM has too many channels; -ENOMEM.
 */
static int ktciodd_open(struct inode *inode, struct file *file)
{
	struct ktciodd_file *f;
	long ret;
	int rc;

	if (!kvm_para_available())
		return -ENODEV;
	f = kzalloc_obj(*f, GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	f->buf = kmalloc(TCIO_MAX_MSG, GFP_KERNEL_ACCOUNT);
	if (!f->buf) {
		rc = -ENOMEM;
		goto free_file;
	}
	ret = kvm_hypercall0(KVM_HC_TCIODD_CONNECT);
	if (ret == -TCIODD_HC_ENOSYS)
		pr_info_once("the host does not support tcioDD hypercalls; /dev/ktciodd0 answers EOPNOTSUPP\n");
	if (ret <= 0) {
		rc = ret ? ktciodd_errno(ret) : -EIO;
		goto free_buf;
	}
	f->channel = ret;
	mutex_init(&f->lock);
	init_waitqueue_head(&f->wq);
	INIT_WORK(&f->poll_work, ktciodd_poll_work);
	f->poll_us = KTCIODD_WAIT_MIN_US;
	file->private_data = f;
	return stream_open(inode, file);

free_buf:
	kfree(f->buf);
free_file:
	kfree(f);
	return rc;
}

/**
 * ktciodd_release() - close the channel; the host drops what it still holds
 * @inode: the device's inode
 * @file: the open file
 *
 * Context: process context, may sleep.
 * Return: 0.
 */
static int ktciodd_release(struct inode *inode, struct file *file)
{
	struct ktciodd_file *f = file->private_data;

	cancel_work_sync(&f->poll_work);
	kvm_hypercall1(KVM_HC_TCIODD_DISCONNECT, f->channel);
	mutex_destroy(&f->lock);
	kfree(f->buf);
	kfree(f);
	return 0;
}

/**
 * ktciodd_write() - send one request to the host
 * @file: the open file
 * @ubuf: the message: &struct tcio_hdr and its payload
 * @count: its length
 * @ppos: unused (a stream)
 *
 * Context: process context, may sleep.
 * Return: @count; -EINVAL for a malformed message; -EMSGSIZE above
 * TCIO_MAX_MSG; -EAGAIN when TCIO_MAX_INFLIGHT requests and answers are
 * outstanding; -EFAULT; -ENOMEM.
 */
static ssize_t ktciodd_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	struct ktciodd_file *f = file->private_data;
	struct tcio_hdr *hdr;
	long ret;

	if (count > TCIO_MAX_MSG)
		return -EMSGSIZE;
	if (count < sizeof(*hdr))
		return -EINVAL;
	/* kmalloc memory is physically contiguous: one guest range. */
	hdr = memdup_user(ubuf, count);
	if (IS_ERR(hdr))
		return PTR_ERR(hdr);
	if (hdr->req_size != count - sizeof(*hdr)) {
		kfree(hdr);
		return -EINVAL;
	}
	ret = kvm_hypercall3(KVM_HC_TCIODD_WRITE, f->channel,
			     virt_to_phys(hdr), count);
	kfree(hdr);
	if (ret < 0)
		return ktciodd_errno(ret);
	WRITE_ONCE(f->poll_us, KTCIODD_WAIT_MIN_US);
	return count;
}

/**
 * ktciodd_take() - hand the stashed answer to the reader
 * @f: the open file, with an answer stashed
 * @ubuf: the reader's buffer
 * @count: its length
 *
 * Context: f->lock held.
 * Return: the answer's length; -EMSGSIZE or -EFAULT (it stays stashed).
 */
static ssize_t ktciodd_take(struct ktciodd_file *f, char __user *ubuf,
			    size_t count)
{
	ssize_t len = f->stash_len;

	lockdep_assert_held(&f->lock);
	if (count < len)
		return -EMSGSIZE;
	if (copy_to_user(ubuf, f->buf, len))
		return -EFAULT;
	f->stash_len = 0;
	WRITE_ONCE(f->poll_us, KTCIODD_WAIT_MIN_US);
	return len;
}

/**
 * ktciodd_read() - return this file's oldest answer
 * @file: the open file
 * @ubuf: the reader's buffer
 * @count: its length
 * @ppos: unused (a stream)
 *
 * Blocks until an answer arrives unless the file is O_NONBLOCK.  An answer
 * that does not fit, or cannot be copied, is kept for the next read.
 *
 * Context: process context, may sleep.
 * Return: the answer's length; -EAGAIN (O_NONBLOCK, none ready); -ENOMSG
 * when nothing is in flight; -EMSGSIZE; -EFAULT; -ERESTARTSYS.
 */
static ssize_t ktciodd_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct ktciodd_file *f = file->private_data;
	unsigned int pause = KTCIODD_WAIT_MIN_US;
	ssize_t rc;
	long ret;

	if (!count)
		return 0;
	for (;;) {
		if (mutex_lock_interruptible(&f->lock))
			return -ERESTARTSYS;
		if (!f->stash_len) {
			ret = kvm_hypercall3(KVM_HC_TCIODD_READ, f->channel,
					     virt_to_phys(f->buf),
					     min_t(size_t, count,
						   TCIO_MAX_MSG));
			if (ret > TCIO_MAX_MSG)
				ret = -TCIODD_HC_EINVAL;
			if (ret > 0)
				f->stash_len = ret;
		}
		if (f->stash_len) {
			rc = ktciodd_take(f, ubuf, count);
			mutex_unlock(&f->lock);
			return rc;
		}
		mutex_unlock(&f->lock);
		rc = ret ? ktciodd_errno(ret) : -EIO;
		if (rc != -EAGAIN || (file->f_flags & O_NONBLOCK))
			return rc;
		if (ktciodd_pause(pause))
			return -ERESTARTSYS;
		pause = ktciodd_next_pause(pause);
	}
}

/**
 * ktciodd_poll() - readable when an answer is ready
 * @file: the open file
 * @wait: the poll table
 *
 * While an answer is awaited, a worker wakes pollers after a pause so
 * that they ask the host again; each poll that finds no answer doubles
 * the pause, from KTCIODD_WAIT_MIN_US to KTCIODD_WAIT_MAX_US.
 *
 * Context: process context, may sleep.
 * Return: the ready events.
 */
static __poll_t ktciodd_poll(struct file *file, poll_table *wait)
{
	struct ktciodd_file *f = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;
	bool stashed;
	long ret = 0;

	poll_wait(file, &f->wq, wait);
	mutex_lock(&f->lock);
	stashed = f->stash_len;
	if (!stashed)
		ret = kvm_hypercall3(KVM_HC_TCIODD_READ, f->channel, 0, 0);
	mutex_unlock(&f->lock);
	if (stashed || ret > 0) {
		mask |= EPOLLIN | EPOLLRDNORM;
	} else if (ret == -TCIODD_HC_EAGAIN) {
		/* If it is already queued, it wakes this poller too. */
		queue_work(system_unbound_wq, &f->poll_work);
	} else if (ret != -TCIODD_HC_ENOMSG) {
		mask |= EPOLLERR;
	}
	return mask;
}

static const struct file_operations ktciodd_fops = {
	.owner = THIS_MODULE,
	.open = ktciodd_open,
	.release = ktciodd_release,
	.read = ktciodd_read,
	.write = ktciodd_write,
	.poll = ktciodd_poll,
};

static struct miscdevice ktciodd_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ktciodd0",
	.fops = &ktciodd_fops,
	.mode = 0666,
};

module_misc_device(ktciodd_misc);

MODULE_DESCRIPTION("ktcioDD: guest access to the host's trusted service");
MODULE_LICENSE("GPL");
