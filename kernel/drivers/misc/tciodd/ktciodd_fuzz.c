// SPDX-License-Identifier: GPL-2.0
/*
 * ktcioDD fuzz client: the tcioDD hypercalls a hostile guest kernel can make.
 *
 * Test only (CONFIG_KTCIODD_FUZZ).  Writing anything to
 * /sys/kernel/debug/ktciodd_fuzz/run makes, in the writer's context, raw
 * KVM_HC_TCIODD_* hypercalls with adversarial arguments, bypassing the
 * ktcioDD driver: channels never opened or already closed, unknown
 * hypercall numbers, lengths 0, 1, 19, 8192, 8193, huge and negative,
 * buffers in holes, MMIO, ROM, past the end of RAM, across a page or across
 * the end of RAM, 257 channels, a full in-flight queue, then a run of random
 * calls.  Every result is checked against the ABI
 * (Documentation/tciodd-hypercalls.rst): an error where one is due, the
 * right one where the ABI says which, never a host answer that belongs to
 * someone else.  The outcome is printed as KTAP version 1 in the kernel log,
 * one test per class of call.
 *
 * The random calls are drawn from a PRNG seeded with the "seed" parameter
 * (ktciodd_fuzz.seed= on the kernel command line, or
 * /sys/module/ktciodd_fuzz/parameters/seed; 0 picks one), for "iterations"
 * calls; the seed is printed, so a failing run replays with the same seed.
 *
 * It assumes it is the only user of tcioDD in this VM while it runs (it
 * counts channels and knows which ids are open).  The host only ever reads
 * the guest memory a WRITE names; READs are only pointed at this client's
 * own buffer or at addresses the host must refuse, so a correct host never
 * writes guest memory this client does not own.
 */

#define pr_fmt(fmt) fmt

#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/kvm_para.h>
#include <linux/memblock.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pfn.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <uapi/linux/tciodd.h>

/* Pages of the client's own buffer (physically contiguous). */
#define KFZ_BUF_ORDER		2
#define KFZ_BUF_LEN		(PAGE_SIZE << KFZ_BUF_ORDER)
/* Channels the random class keeps open at most. */
#define KFZ_MAX_OPEN		16
/* Diagnostic lines printed per class at most. */
#define KFZ_MAX_DIAG		8
/* Pages above max_pfn probed for the end of RAM. */
#define KFZ_PROBE_PAGES		4096
/* A request code nobody serves: tcioDD answers it itself at once. */
#define KFZ_UNKNOWN_CODE	999
#define KFZ_HDR			sizeof(struct tcio_hdr)

/* Guest physical addresses that no host backs with guest RAM. */
#define KFZ_GPA_IOAPIC		0xfec00000UL
#define KFZ_GPA_HPET		0xfed00000UL
/* The BIOS at the top of 4 GiB: a read-only memslot. */
#define KFZ_GPA_ROM		0xffff0000UL

static u64 kfz_seed;
module_param_named(seed, kfz_seed, ullong, 0644);
MODULE_PARM_DESC(seed, "PRNG seed of the random calls (0: pick one)");

static unsigned int kfz_iterations = 2000;
module_param_named(iterations, kfz_iterations, uint, 0644);
MODULE_PARM_DESC(iterations, "number of random calls");

/* One run at a time. */
static DEFINE_MUTEX(kfz_lock);

/**
 * struct kfz - one run
 * @rnd: the PRNG of the random calls
 * @buf: the client's own buffer, KFZ_BUF_LEN bytes
 * @buf_pa: its guest physical address
 * @ram_end: first guest physical address past the RAM that ends at or
 *           above max_pfn, as the host sees it (0 if not found)
 * @cookie: procid of every request; answers must echo it
 * @calls: hypercalls made in the current class
 * @bad: unexpected results in the current class
 * @diag: diagnostics printed in the current class
 * @tests: KTAP results printed so far
 * @failed: KTAP results that failed
 */
struct kfz {
	struct rnd_state rnd;
	u8 *buf;
	unsigned long buf_pa;
	unsigned long ram_end;
	s32 cookie;
	unsigned long calls;
	unsigned long bad;
	unsigned int diag;
	unsigned int tests;
	unsigned int failed;
};

/**
 * kfz_hypercall() - a raw hypercall with a full 64-bit number
 * @nr: hypercall number (rax)
 * @a0: rbx
 * @a1: rcx
 * @a2: rdx
 * @a3: rsi
 *
 * kvm_hypercall*() take a 32-bit number; this one passes all 64 bits, so
 * that a host truncating numbers in 64-bit mode is caught.
 *
 * Return: rax after the call.
 */
static long kfz_hypercall(unsigned long nr, unsigned long a0,
			  unsigned long a1, unsigned long a2, unsigned long a3)
{
	long ret;

	asm volatile(KVM_HYPERCALL
		     : "=a"(ret)
		     : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3)
		     : "memory");
	return ret;
}

/**
 * kfz_hc() - one counted hypercall, a4 random
 * @z: the run
 * @nr: the number
 * @a0: rbx
 * @a1: rcx
 * @a2: rdx
 *
 * A hypercall exits to the host; nested under emulation, with the host's
 * CPU shared by several guests, one can take tens of milliseconds.  The
 * client yields before each, or a few hundred in a row starve this guest's
 * RCU kthread into a stall report.
 *
 * Context: process context, may sleep.
 * Return: rax after the call.
 */
static long kfz_hc(struct kfz *z, unsigned long nr, unsigned long a0,
		   unsigned long a1, unsigned long a2)
{
	cond_resched();
	z->calls++;
	return kfz_hypercall(nr, a0, a1, a2, prandom_u32_state(&z->rnd));
}

static long kfz_connect(struct kfz *z)
{
	return kfz_hc(z, KVM_HC_TCIODD_CONNECT, 0, 0, 0);
}

static long kfz_disconnect(struct kfz *z, unsigned long ch)
{
	return kfz_hc(z, KVM_HC_TCIODD_DISCONNECT, ch, 0, 0);
}

static long kfz_write(struct kfz *z, unsigned long ch, unsigned long gpa,
		      unsigned long len)
{
	return kfz_hc(z, KVM_HC_TCIODD_WRITE, ch, gpa, len);
}

static long kfz_read(struct kfz *z, unsigned long ch, unsigned long gpa,
		     unsigned long len)
{
	return kfz_hc(z, KVM_HC_TCIODD_READ, ch, gpa, len);
}

static u64 kfz_rand64(struct kfz *z)
{
	u64 hi = prandom_u32_state(&z->rnd);

	return hi << 32 | prandom_u32_state(&z->rnd);
}

/* A number below @n (n > 0). */
static u32 kfz_below(struct kfz *z, u32 n)
{
	return prandom_u32_state(&z->rnd) % n;
}

/**
 * kfz_name() - the name of a hypercall result, for diagnostics
 * @ret: the result
 *
 * Return: "EBADF" and the like, or NULL for a value with no name.
 */
static const char *kfz_name(long ret)
{
	switch (ret) {
	case -TCIODD_HC_ENOSYS:
		return "-KVM_ENOSYS";
	case -TCIODD_HC_EPERM:
		return "-EPERM";
	case -TCIODD_HC_E2BIG:
		return "-E2BIG";
	case -TCIODD_HC_EBADF:
		return "-EBADF";
	case -TCIODD_HC_EAGAIN:
		return "-EAGAIN";
	case -TCIODD_HC_ENOMEM:
		return "-ENOMEM";
	case -TCIODD_HC_EFAULT:
		return "-EFAULT";
	case -TCIODD_HC_EINVAL:
		return "-EINVAL";
	case -TCIODD_HC_EMFILE:
		return "-EMFILE";
	case -TCIODD_HC_ENOMSG:
		return "-ENOMSG";
	case -TCIODD_HC_EMSGSIZE:
		return "-EMSGSIZE";
	default:
		return NULL;
	}
}

/**
 * kfz_badf() - count an unexpected result and say what it was
 * @z: the run
 * @what: the call, e.g. "READ ch=3 gpa=0x... len=20"
 * @got: its result
 * @want: what was expected, in words
 */
static void kfz_badf(struct kfz *z, const char *what, long got,
		     const char *want)
{
	const char *name = kfz_name(got);

	z->bad++;
	if (z->diag++ >= KFZ_MAX_DIAG)
		return;
	if (name)
		pr_info("# %s: expected %s, got %s\n", what, want, name);
	else
		pr_info("# %s: expected %s, got %ld\n", what, want, got);
}

/**
 * kfz_expect() - check a result against the one the ABI prescribes
 * @z: the run
 * @what: the call, for the diagnostic
 * @got: its result
 * @want: the result due
 *
 * Return: true if they are equal.
 */
static bool kfz_expect(struct kfz *z, const char *what, long got, long want)
{
	char w[24];

	if (got == want)
		return true;
	if (kfz_name(want))
		strscpy(w, kfz_name(want), sizeof(w));
	else
		snprintf(w, sizeof(w), "%ld", want);
	kfz_badf(z, what, got, w);
	return false;
}

/**
 * kfz_msg() - build a request in the client's buffer
 * @z: the run
 * @off: where in the buffer
 * @len: total length, header included (at least KFZ_HDR)
 * @code: request code
 * @req_size: the header's req_size (len - KFZ_HDR for a valid message)
 *
 * The payload is random bytes.
 */
static void kfz_msg(struct kfz *z, size_t off, size_t len, u32 code,
		    u32 req_size)
{
	struct tcio_hdr hdr = {
		.procid = z->cookie,
		.req_id = code,
		.req_size = req_size,
		.origprocid = ~z->cookie,
	};

	memcpy(z->buf + off, &hdr, sizeof(hdr));
	prandom_bytes_state(&z->rnd, z->buf + off + KFZ_HDR, len - KFZ_HDR);
}

/**
 * kfz_answer_ok() - check an answer tcioDD gave for KFZ_UNKNOWN_CODE
 * @z: the run
 * @off: where in the buffer it was written
 * @what: for the diagnostic
 *
 * Return: true if it echoes the cookies and says BAD_REQUEST.
 */
static bool kfz_answer_ok(struct kfz *z, size_t off, const char *what)
{
	struct tcio_hdr hdr;

	memcpy(&hdr, z->buf + off, sizeof(hdr));
	if (hdr.procid == z->cookie && hdr.origprocid == ~z->cookie &&
	    hdr.req_id == KFZ_UNKNOWN_CODE && !hdr.req_size &&
	    hdr.status == TCIO_STATUS_BAD_REQUEST)
		return true;
	z->bad++;
	if (z->diag++ < KFZ_MAX_DIAG)
		pr_info("# %s: expected our answer (procid %d, code %u, BAD_REQUEST), got procid %d origprocid %d code %u size %u status %u\n",
			what, z->cookie, KFZ_UNKNOWN_CODE, hdr.procid,
			hdr.origprocid, hdr.req_id, hdr.req_size, hdr.status);
	return false;
}

/**
 * kfz_queue_answer() - have one answer queued on a channel
 * @z: the run
 * @ch: the channel
 *
 * Return: true if the request was accepted.
 */
static bool kfz_queue_answer(struct kfz *z, long ch)
{
	kfz_msg(z, 0, KFZ_HDR, KFZ_UNKNOWN_CODE, 0);
	return kfz_expect(z, "WRITE unknown code", kfz_write(z, ch, z->buf_pa,
							     KFZ_HDR), KFZ_HDR);
}

/**
 * kfz_open() - open a channel the class needs
 * @z: the run
 *
 * Return: the channel id, or 0 (counted as unexpected).
 */
static long kfz_open(struct kfz *z)
{
	long ch = kfz_connect(z);

	if (ch >= 1 && ch <= TCIO_MAX_VM_CHANNELS)
		return ch;
	kfz_badf(z, "CONNECT", ch, "a channel id");
	return 0;
}

static void kfz_close(struct kfz *z, long ch)
{
	char what[48];

	snprintf(what, sizeof(what), "DISCONNECT ch=%ld", ch);
	kfz_expect(z, what, kfz_disconnect(z, ch), 0);
}

/* Channel ids a VM that opened nothing has not got. */
static const unsigned long kfz_foreign_ids[] = {
	0, 1, 2, 3, 255, 256, 257, 4096, 1UL << 32, (1UL << 32) + 1,
	LONG_MAX, (unsigned long)LONG_MIN, ~0UL, ~0UL - 1,
};

/**
 * kfz_before_connect() - READ, WRITE and DISCONNECT of channels never opened
 * @z: the run
 *
 * Run first, before this VM ever connected.
 *
 * Return: true if every call got -EBADF.
 */
static bool kfz_before_connect(struct kfz *z)
{
	unsigned long ch;
	char what[64];
	int i;

	kfz_msg(z, 0, KFZ_HDR, KFZ_UNKNOWN_CODE, 0);
	for (i = 0; i < ARRAY_SIZE(kfz_foreign_ids) + 8; i++) {
		ch = i < ARRAY_SIZE(kfz_foreign_ids) ? kfz_foreign_ids[i] :
						       kfz_rand64(z);
		snprintf(what, sizeof(what), "READ ch=%#lx", ch);
		kfz_expect(z, what, kfz_read(z, ch, z->buf_pa, 64),
			   -TCIODD_HC_EBADF);
		snprintf(what, sizeof(what), "READ peek ch=%#lx", ch);
		kfz_expect(z, what, kfz_read(z, ch, 0, 0), -TCIODD_HC_EBADF);
		snprintf(what, sizeof(what), "WRITE ch=%#lx", ch);
		kfz_expect(z, what, kfz_write(z, ch, z->buf_pa, KFZ_HDR),
			   -TCIODD_HC_EBADF);
		snprintf(what, sizeof(what), "DISCONNECT ch=%#lx", ch);
		kfz_expect(z, what, kfz_disconnect(z, ch), -TCIODD_HC_EBADF);
	}
	return !z->bad;
}

/**
 * kfz_unknown_numbers() - hypercall numbers that are not tcioDD's
 * @z: the run
 *
 * Neighbours of the tcioDD numbers (13575 was the original's ioctl), the
 * numbers with high bits set (a 64-bit guest's number is never truncated),
 * and random numbers clear of KVM's own (below 100).
 *
 * Return: true if every call got -KVM_ENOSYS.
 */
static bool kfz_unknown_numbers(struct kfz *z)
{
	static const unsigned long fixed[] = {
		13575, 13580, 13581, 135790,
		(1UL << 32) | KVM_HC_TCIODD_CONNECT,
		(1UL << 32) | KVM_HC_TCIODD_WRITE,
		(1UL << 63) | KVM_HC_TCIODD_READ,
		~0UL,
	};
	unsigned long nr;
	char what[48];
	int i;

	for (i = 0; i < ARRAY_SIZE(fixed) + 32; i++) {
		nr = i < ARRAY_SIZE(fixed) ? fixed[i] : kfz_rand64(z);
		if (nr < 100 || (nr >= KVM_HC_TCIODD_WRITE &&
				 nr <= KVM_HC_TCIODD_CONNECT))
			nr += 100000;
		snprintf(what, sizeof(what), "hypercall %#lx", nr);
		kfz_expect(z, what, kfz_hc(z, nr, 1, z->buf_pa, KFZ_HDR),
			   -TCIODD_HC_ENOSYS);
	}
	return !z->bad;
}

/**
 * kfz_connect_disconnect() - double disconnect, use after disconnect, and
 * a reused channel id that must not see the old channel's answer
 * @z: the run
 *
 * Return: true if all went as the ABI says.
 */
static bool kfz_connect_disconnect(struct kfz *z)
{
	long ch, again;

	ch = kfz_open(z);
	if (!ch)
		return false;
	kfz_queue_answer(z, ch);
	kfz_expect(z, "DISCONNECT with an answer queued",
		   kfz_disconnect(z, ch), 0);
	kfz_expect(z, "DISCONNECT again", kfz_disconnect(z, ch),
		   -TCIODD_HC_EBADF);
	kfz_expect(z, "READ after DISCONNECT",
		   kfz_read(z, ch, z->buf_pa, KFZ_BUF_LEN / 2),
		   -TCIODD_HC_EBADF);
	kfz_expect(z, "WRITE after DISCONNECT",
		   kfz_write(z, ch, z->buf_pa, KFZ_HDR), -TCIODD_HC_EBADF);
	again = kfz_open(z);
	if (!again)
		return false;
	if (again != ch)
		pr_info("# the new channel got id %ld, not the freed %ld\n",
			again, ch);
	kfz_expect(z, "READ on a new channel (no stale answer)",
		   kfz_read(z, again, z->buf_pa, KFZ_BUF_LEN / 2),
		   -TCIODD_HC_ENOMSG);
	kfz_close(z, again);
	return !z->bad;
}

/**
 * kfz_channel_limit() - open channels until the host refuses
 * @z: the run
 *
 * Return: true if exactly TCIO_MAX_VM_CHANNELS opened, the next one got
 * -EMFILE, and all closed again.
 */
static bool kfz_channel_limit(struct kfz *z)
{
	/* Guarded by kfz_lock, as the whole run. */
	static long ids[TCIO_MAX_VM_CHANNELS + 1];
	long ch;
	int n;

	for (n = 0; n <= TCIO_MAX_VM_CHANNELS; n++) {
		ch = kfz_connect(z);
		if (ch < 1 || ch > TCIO_MAX_VM_CHANNELS)
			break;
		ids[n] = ch;
	}
	if (n != TCIO_MAX_VM_CHANNELS) {
		z->bad++;
		pr_info("# expected %d channels, the host gave %d\n",
			TCIO_MAX_VM_CHANNELS, n);
	}
	if (n <= TCIO_MAX_VM_CHANNELS)
		kfz_expect(z, "CONNECT past the limit", ch,
			   -TCIODD_HC_EMFILE);
	while (n--)
		kfz_close(z, ids[n]);
	return !z->bad;
}

/**
 * kfz_write_lengths() - WRITE with every kind of length
 * @z: the run
 *
 * Return: true if each got the ABI's answer.
 */
static bool kfz_write_lengths(struct kfz *z)
{
	static const unsigned long big[] = {
		TCIO_MAX_MSG + 1, 1UL << 20, 1UL << 40, ~0UL,
		-(unsigned long)TCIO_MAX_MSG, (unsigned long)LONG_MIN,
		(unsigned long)LONG_MAX, 1UL << 32 | KFZ_HDR,
	};
	char what[64];
	long ch;
	int i;

	ch = kfz_open(z);
	if (!ch)
		return false;
	kfz_msg(z, 0, TCIO_MAX_MSG, KFZ_UNKNOWN_CODE, 0);
	for (i = 0; i < KFZ_HDR; i += (i < 2 ? 1 : 17)) {
		snprintf(what, sizeof(what), "WRITE len=%d", i);
		kfz_expect(z, what, kfz_write(z, ch, z->buf_pa, i),
			   -TCIODD_HC_EINVAL);
	}
	for (i = 0; i < ARRAY_SIZE(big); i++) {
		snprintf(what, sizeof(what), "WRITE len=%#lx", big[i]);
		kfz_expect(z, what, kfz_write(z, ch, z->buf_pa, big[i]),
			   -TCIODD_HC_E2BIG);
	}
	/* req_size must be the length minus the header. */
	kfz_msg(z, 0, TCIO_MAX_MSG, KFZ_UNKNOWN_CODE, 0);
	kfz_expect(z, "WRITE len=8192 req_size=0",
		   kfz_write(z, ch, z->buf_pa, TCIO_MAX_MSG),
		   -TCIODD_HC_EINVAL);
	kfz_msg(z, 0, KFZ_HDR, KFZ_UNKNOWN_CODE, U32_MAX);
	kfz_expect(z, "WRITE len=20 req_size=0xffffffff",
		   kfz_write(z, ch, z->buf_pa, KFZ_HDR), -TCIODD_HC_EINVAL);
	kfz_msg(z, 0, 21, KFZ_UNKNOWN_CODE, 1U << 31 | 1);
	kfz_expect(z, "WRITE len=21 req_size=0x80000001",
		   kfz_write(z, ch, z->buf_pa, 21), -TCIODD_HC_EINVAL);
	kfz_expect(z, "READ (nothing was accepted)",
		   kfz_read(z, ch, z->buf_pa, KFZ_BUF_LEN / 2),
		   -TCIODD_HC_ENOMSG);
	/* The smallest and the largest valid messages are accepted. */
	kfz_msg(z, 0, KFZ_HDR, KFZ_UNKNOWN_CODE, 0);
	kfz_expect(z, "WRITE len=20", kfz_write(z, ch, z->buf_pa, KFZ_HDR),
		   KFZ_HDR);
	kfz_msg(z, 0, TCIO_MAX_MSG, KFZ_UNKNOWN_CODE, TCIO_MAX_MSG - KFZ_HDR);
	kfz_expect(z, "WRITE len=8192",
		   kfz_write(z, ch, z->buf_pa, TCIO_MAX_MSG), TCIO_MAX_MSG);
	for (i = 0; i < 2; i++) {
		memset(z->buf + TCIO_MAX_MSG, 0, KFZ_HDR);
		if (kfz_expect(z, "READ an answer",
			       kfz_read(z, ch, z->buf_pa + TCIO_MAX_MSG,
					KFZ_HDR), KFZ_HDR))
			kfz_answer_ok(z, TCIO_MAX_MSG, "READ an answer");
	}
	kfz_close(z, ch);
	return !z->bad;
}

/**
 * kfz_read_lengths() - READ with every kind of length, one answer queued
 * @z: the run
 *
 * Return: true if each got the ABI's answer and the answer stayed queued
 * until a READ could take it whole.
 */
static bool kfz_read_lengths(struct kfz *z)
{
	static const unsigned long big[] = {
		TCIO_MAX_MSG + 1, 1UL << 40, ~0UL, (unsigned long)LONG_MIN,
		1UL << 32 | KFZ_HDR,
	};
	char what[64];
	long ch;
	int i;

	ch = kfz_open(z);
	if (!ch)
		return false;
	kfz_expect(z, "READ peek, nothing in flight", kfz_read(z, ch, 0, 0),
		   -TCIODD_HC_ENOMSG);
	kfz_queue_answer(z, ch);
	for (i = 1; i < KFZ_HDR; i += 9) {
		snprintf(what, sizeof(what), "READ len=%d", i);
		kfz_expect(z, what, kfz_read(z, ch, z->buf_pa, i),
			   -TCIODD_HC_EMSGSIZE);
	}
	for (i = 0; i < ARRAY_SIZE(big); i++) {
		snprintf(what, sizeof(what), "READ len=%#lx", big[i]);
		kfz_expect(z, what, kfz_read(z, ch, z->buf_pa, big[i]),
			   -TCIODD_HC_E2BIG);
	}
	kfz_expect(z, "READ peek", kfz_read(z, ch, 0, 0), KFZ_HDR);
	kfz_expect(z, "READ peek at a bad address (ignored)",
		   kfz_read(z, ch, KFZ_GPA_IOAPIC, 0), KFZ_HDR);
	memset(z->buf, 0, KFZ_HDR);
	if (kfz_expect(z, "READ len=8192",
		       kfz_read(z, ch, z->buf_pa, TCIO_MAX_MSG), KFZ_HDR))
		kfz_answer_ok(z, 0, "READ len=8192");
	kfz_expect(z, "READ after the only answer",
		   kfz_read(z, ch, z->buf_pa, TCIO_MAX_MSG),
		   -TCIODD_HC_ENOMSG);
	kfz_close(z, ch);
	return !z->bad;
}

/**
 * kfz_probe_ram_end() - where guest RAM ends, as the host sees it
 * @z: the run
 *
 * WRITE only makes the host read guest memory, so it is a harmless probe:
 * the first page at or above max_pfn that gets -EFAULT is past the end.
 * (The firmware may keep RAM above max_pfn for itself.)
 *
 * Return: that page's address, or 0 when none was found.
 */
static unsigned long kfz_probe_ram_end(struct kfz *z)
{
	unsigned long pfn, end = 0;
	long ch, ret;

	ch = kfz_open(z);
	if (!ch)
		return 0;
	for (pfn = max_pfn; pfn < max_pfn + KFZ_PROBE_PAGES; pfn++) {
		ret = kfz_write(z, ch, PFN_PHYS(pfn), KFZ_HDR);
		if (ret == -TCIODD_HC_EFAULT) {
			end = PFN_PHYS(pfn);
			break;
		}
	}
	/* Whatever the probes queued goes with the channel. */
	kfz_close(z, ch);
	return end;
}

/* Index of the buffer that starts 10 bytes below the end of RAM. */
#define KFZ_ACROSS_END	7

/* Buffers the host must refuse whole (the last one from 11 bytes on). */
static unsigned long kfz_bad_gpa(struct kfz *z, unsigned int i)
{
	switch (i) {
	case 0:
		return KFZ_GPA_IOAPIC;
	case 1:
		return KFZ_GPA_HPET;
	case 2:
		return 1UL << 46;
	case 3:
		return 1UL << 52;
	case 4:
		return ~0UL - 5;		/* wraps */
	case 5:
		return ~0UL & PAGE_MASK;
	case 6:
		return z->ram_end;		/* the first page past RAM */
	case KFZ_ACROSS_END:
		return z->ram_end ? z->ram_end - 10 : 0;
	default:
		return 0;
	}
}

#define KFZ_NR_BAD_GPA	8

/**
 * kfz_bad_write_addresses() - WRITE from holes, MMIO, past and across the
 * end of RAM, past the physical address width, wrapping
 * @z: the run
 *
 * Return: true if each got -EFAULT and nothing was accepted.
 */
static bool kfz_bad_write_addresses(struct kfz *z)
{
	unsigned long gpa;
	char what[64];
	unsigned int i;
	long ch;

	ch = kfz_open(z);
	if (!ch)
		return false;
	for (i = 0; i < KFZ_NR_BAD_GPA; i++) {
		gpa = kfz_bad_gpa(z, i);
		if (!gpa)
			continue;
		snprintf(what, sizeof(what), "WRITE gpa=%#lx len=20", gpa);
		kfz_expect(z, what, kfz_write(z, ch, gpa, KFZ_HDR),
			   -TCIODD_HC_EFAULT);
		snprintf(what, sizeof(what), "WRITE gpa=%#lx len=8192", gpa);
		kfz_expect(z, what, kfz_write(z, ch, gpa, TCIO_MAX_MSG),
			   -TCIODD_HC_EFAULT);
	}
	kfz_expect(z, "READ (nothing was accepted)",
		   kfz_read(z, ch, z->buf_pa, KFZ_BUF_LEN / 2),
		   -TCIODD_HC_ENOMSG);
	kfz_close(z, ch);
	return !z->bad;
}

/**
 * kfz_bad_read_addresses() - READ into holes, MMIO, ROM, past and across the
 * end of RAM, with an answer queued
 * @z: the run
 *
 * The buffer across the end of RAM starts in guest memory this client does
 * not own: the host must refuse it before writing a byte.  The bytes there
 * are compared before and after, with interrupts off.
 *
 * Return: true if each got -EFAULT, the answer stayed queued, and no byte
 * of guest memory changed.
 */
static bool kfz_bad_read_addresses(struct kfz *z)
{
	u8 before[16], *tail = NULL;
	unsigned long gpa, flags;
	char what[64];
	unsigned int i;
	long ch, ret;

	ch = kfz_open(z);
	if (!ch)
		return false;
	kfz_queue_answer(z, ch);
	for (i = 0; i <= KFZ_NR_BAD_GPA; i++) {
		gpa = i < KFZ_NR_BAD_GPA ? kfz_bad_gpa(z, i) : KFZ_GPA_ROM;
		if (!gpa)
			continue;
		snprintf(what, sizeof(what), "READ gpa=%#lx len=20", gpa);
		if (gpa == z->ram_end - 10) {
			tail = memremap(z->ram_end - PAGE_SIZE, PAGE_SIZE,
					MEMREMAP_WB);
			if (!tail) {
				pr_info("# cannot map the last page of RAM: the crossing READ is not checked\n");
				continue;
			}
			local_irq_save(flags);
			memcpy(before, tail + PAGE_SIZE - 10, 10);
			z->calls++;
			ret = kfz_hypercall(KVM_HC_TCIODD_READ, ch, gpa, KFZ_HDR, 0);
			if (memcmp(before, tail + PAGE_SIZE - 10, 10)) {
				z->bad++;
				pr_info("# %s: the host wrote into guest memory before failing\n",
					what);
			}
			local_irq_restore(flags);
			memunmap(tail);
		} else {
			ret = kfz_read(z, ch, gpa, KFZ_HDR);
		}
		kfz_expect(z, what, ret, -TCIODD_HC_EFAULT);
	}
	kfz_expect(z, "READ peek (the answer stayed queued)",
		   kfz_read(z, ch, 0, 0), KFZ_HDR);
	/* Our buffer, with a declared length running past its end. */
	memset(z->buf + KFZ_BUF_LEN - KFZ_HDR, 0, KFZ_HDR);
	if (kfz_expect(z, "READ at the end of our buffer",
		       kfz_read(z, ch, z->buf_pa + KFZ_BUF_LEN - KFZ_HDR,
				KFZ_HDR), KFZ_HDR))
		kfz_answer_ok(z, KFZ_BUF_LEN - KFZ_HDR,
			      "READ at the end of our buffer");
	kfz_close(z, ch);
	return !z->bad;
}

/**
 * kfz_page_crossing() - messages and answers that straddle pages
 * @z: the run
 *
 * Return: true if a request across one and across two page boundaries is
 * accepted and its answer read across a boundary arrives whole.
 */
static bool kfz_page_crossing(struct kfz *z)
{
	size_t off = PAGE_SIZE - 7;
	long ch;

	ch = kfz_open(z);
	if (!ch)
		return false;
	kfz_msg(z, off, 120, KFZ_UNKNOWN_CODE, 120 - KFZ_HDR);
	kfz_expect(z, "WRITE across a page", kfz_write(z, ch, z->buf_pa + off,
						       120), 120);
	kfz_msg(z, 1, TCIO_MAX_MSG, KFZ_UNKNOWN_CODE, TCIO_MAX_MSG - KFZ_HDR);
	kfz_expect(z, "WRITE across two pages",
		   kfz_write(z, ch, z->buf_pa + 1, TCIO_MAX_MSG), TCIO_MAX_MSG);
	memset(z->buf + 2 * PAGE_SIZE - 9, 0, KFZ_HDR);
	if (kfz_expect(z, "READ across a page",
		       kfz_read(z, ch, z->buf_pa + 2 * PAGE_SIZE - 9, 64),
		       KFZ_HDR))
		kfz_answer_ok(z, 2 * PAGE_SIZE - 9, "READ across a page");
	memset(z->buf + PAGE_SIZE - 1, 0, KFZ_HDR);
	if (kfz_expect(z, "READ across a page",
		       kfz_read(z, ch, z->buf_pa + PAGE_SIZE - 1, KFZ_HDR),
		       KFZ_HDR))
		kfz_answer_ok(z, PAGE_SIZE - 1, "READ across a page");
	kfz_close(z, ch);
	return !z->bad;
}

/**
 * kfz_inflight_limit() - fill a channel's queue, then drain it
 * @z: the run
 *
 * Return: true if TCIO_MAX_INFLIGHT requests were accepted, the next got
 * -EAGAIN, and exactly that many answers came back, each ours.
 */
static bool kfz_inflight_limit(struct kfz *z)
{
	int i, got = 0;
	long ch, ret;

	ch = kfz_open(z);
	if (!ch)
		return false;
	for (i = 0; i < TCIO_MAX_INFLIGHT; i++)
		if (!kfz_queue_answer(z, ch))
			break;
	kfz_msg(z, 0, KFZ_HDR, KFZ_UNKNOWN_CODE, 0);
	kfz_expect(z, "WRITE past the in-flight limit",
		   kfz_write(z, ch, z->buf_pa, KFZ_HDR), -TCIODD_HC_EAGAIN);
	for (;;) {
		ret = kfz_read(z, ch, z->buf_pa + PAGE_SIZE, KFZ_HDR);
		if (ret != KFZ_HDR)
			break;
		got++;
		kfz_answer_ok(z, PAGE_SIZE, "READ a queued answer");
	}
	kfz_expect(z, "READ once drained", ret, -TCIODD_HC_ENOMSG);
	if (got != TCIO_MAX_INFLIGHT) {
		z->bad++;
		pr_info("# expected %d answers, got %d\n", TCIO_MAX_INFLIGHT,
			got);
	}
	kfz_close(z, ch);
	return !z->bad;
}

/* Which errors are documented for a call (bits of kfz_errbit()). */
#define KFZ_E(x)	BIT(x)
enum { KFZ_EPERM, KFZ_E2BIG, KFZ_EBADF, KFZ_EAGAIN, KFZ_ENOMEM, KFZ_EFAULT,
	KFZ_EINVAL, KFZ_EMFILE, KFZ_ENOMSG, KFZ_EMSGSIZE, KFZ_ENOSYS };

static unsigned int kfz_errbit(long ret)
{
	switch (ret) {
	case -TCIODD_HC_EPERM:
		return KFZ_E(KFZ_EPERM);
	case -TCIODD_HC_E2BIG:
		return KFZ_E(KFZ_E2BIG);
	case -TCIODD_HC_EBADF:
		return KFZ_E(KFZ_EBADF);
	case -TCIODD_HC_EAGAIN:
		return KFZ_E(KFZ_EAGAIN);
	case -TCIODD_HC_ENOMEM:
		return KFZ_E(KFZ_ENOMEM);
	case -TCIODD_HC_EFAULT:
		return KFZ_E(KFZ_EFAULT);
	case -TCIODD_HC_EINVAL:
		return KFZ_E(KFZ_EINVAL);
	case -TCIODD_HC_EMFILE:
		return KFZ_E(KFZ_EMFILE);
	case -TCIODD_HC_ENOMSG:
		return KFZ_E(KFZ_ENOMSG);
	case -TCIODD_HC_EMSGSIZE:
		return KFZ_E(KFZ_EMSGSIZE);
	case -TCIODD_HC_ENOSYS:
		return KFZ_E(KFZ_ENOSYS);
	default:
		return 0;
	}
}

/**
 * struct kfz_model - what the random class knows of its channels
 * @open: ids it holds open
 * @nopen: how many
 */
struct kfz_model {
	long open[KFZ_MAX_OPEN];
	int nopen;
};

static bool kfz_is_open(const struct kfz_model *m, unsigned long ch)
{
	int i;

	for (i = 0; i < m->nopen; i++)
		if (m->open[i] == ch)
			return true;
	return false;
}

/* A channel id: mostly an open one, else one that is not. */
static unsigned long kfz_pick_channel(struct kfz *z, struct kfz_model *m)
{
	unsigned long ch;

	if (m->nopen && kfz_below(z, 4))
		return m->open[kfz_below(z, m->nopen)];
	switch (kfz_below(z, 3)) {
	case 0:
		ch = 1 + kfz_below(z, TCIO_MAX_VM_CHANNELS + 2);
		break;
	case 1:
		ch = 0;
		break;
	default:
		ch = kfz_rand64(z);
		break;
	}
	return ch;
}

/* A length: edge values, a small one, or anything. */
static unsigned long kfz_pick_len(struct kfz *z)
{
	static const unsigned long edge[] = {
		0, 1, 19, KFZ_HDR, TCIO_MAX_MSG, TCIO_MAX_MSG + 1, ~0UL,
		(unsigned long)LONG_MIN,
	};

	switch (kfz_below(z, 4)) {
	case 0:
		return edge[kfz_below(z, ARRAY_SIZE(edge))];
	case 1:
		return kfz_rand64(z);
	default:
		return KFZ_HDR + kfz_below(z, TCIO_MAX_MSG - KFZ_HDR + 1);
	}
}

/* A request code: mostly unknown or service-only (answered by tcioDD). */
static u32 kfz_pick_code(struct kfz *z)
{
	switch (kfz_below(z, 4)) {
	case 0:
		return 1 + kfz_below(z, TCIO_ANS_REGISTER_VM);	/* 1..22 */
	case 1:
		return TCIO_SVC_TERMINATE;
	case 2:
		return KFZ_UNKNOWN_CODE;
	default:
		return prandom_u32_state(&z->rnd);
	}
}

/**
 * kfz_random_call() - one random call, checked
 * @z: the run
 * @m: the channels held
 * @stats: counts of accepted [0] and refused [1] calls
 */
static void kfz_random_call(struct kfz *z, struct kfz_model *m,
			    unsigned long *stats)
{
	unsigned long ch, gpa, len, nr;
	unsigned int allowed, kind;
	bool own = false, bad_gpa = false, open;
	char what[96];
	size_t off = 0;
	long ret;
	int i;

	kind = kfz_below(z, 16);
	ch = kfz_pick_channel(z, m);
	len = kfz_pick_len(z);
	switch (kfz_below(z, 4)) {
	case 0:
		i = kfz_below(z, KFZ_NR_BAD_GPA);
		gpa = kfz_bad_gpa(z, i);
		/*
		 * 10 bytes below the end of RAM: a length of 10 or less stays
		 * in RAM, which is not ours; such a READ is aimed at MMIO below.
		 */
		bad_gpa = gpa && (i != KFZ_ACROSS_END || len > 10);
		break;
	case 1:
		gpa = kfz_rand64(z);	/* used by WRITE only */
		break;
	default:
		own = true;
		off = kfz_below(z, KFZ_BUF_LEN);
		if (len <= KFZ_BUF_LEN && off + len > KFZ_BUF_LEN)
			off = KFZ_BUF_LEN - len;
		gpa = z->buf_pa + off;
		break;
	}

	if (kind == 0) {
		nr = kfz_rand64(z);
		if (nr < 100 || (nr >= KVM_HC_TCIODD_WRITE &&
				 nr <= KVM_HC_TCIODD_CONNECT))
			nr += 100000;
		snprintf(what, sizeof(what), "hypercall %#lx", nr);
		kfz_expect(z, what, kfz_hc(z, nr, ch, gpa, len),
			   -TCIODD_HC_ENOSYS);
		stats[1]++;
		return;
	}
	if (kind == 1) {
		if (m->nopen == KFZ_MAX_OPEN)
			return;
		ret = kfz_connect(z);
		if (ret >= 1 && ret <= TCIO_MAX_VM_CHANNELS &&
		    !kfz_is_open(m, ret)) {
			m->open[m->nopen++] = ret;
			stats[0]++;
		} else {
			kfz_badf(z, "CONNECT", ret, "a new channel id");
		}
		return;
	}
	if (kind == 2) {
		snprintf(what, sizeof(what), "DISCONNECT ch=%#lx", ch);
		if (!kfz_is_open(m, ch)) {
			kfz_expect(z, what, kfz_disconnect(z, ch),
				   -TCIODD_HC_EBADF);
			stats[1]++;
			return;
		}
		kfz_expect(z, what, kfz_disconnect(z, ch), 0);
		for (i = 0; i < m->nopen; i++)
			if (m->open[i] == ch)
				m->open[i] = m->open[--m->nopen];
		stats[0]++;
		return;
	}

	open = kfz_is_open(m, ch);
	if (kind < 9) {
		/* WRITE */
		if (own && len >= KFZ_HDR && len <= KFZ_BUF_LEN)
			kfz_msg(z, off, len, kfz_pick_code(z),
				kfz_below(z, 8) ? len - KFZ_HDR :
						  prandom_u32_state(&z->rnd));
		snprintf(what, sizeof(what), "WRITE ch=%#lx gpa=%#lx len=%#lx",
			 ch, gpa, len);
		ret = kfz_write(z, ch, gpa, len);
		if (!open)
			allowed = KFZ_E(KFZ_EBADF);
		else if (len > TCIO_MAX_MSG)
			allowed = KFZ_E(KFZ_E2BIG);
		else if (len < KFZ_HDR)
			allowed = KFZ_E(KFZ_EINVAL);
		else if (bad_gpa)
			allowed = KFZ_E(KFZ_EFAULT);
		else if (own)
			allowed = KFZ_E(KFZ_EINVAL) | KFZ_E(KFZ_EAGAIN) |
				  KFZ_E(KFZ_ENOMEM);
		else
			allowed = KFZ_E(KFZ_EINVAL) | KFZ_E(KFZ_EAGAIN) |
				  KFZ_E(KFZ_EFAULT) | KFZ_E(KFZ_ENOMEM);
		if (ret == len && open && len >= KFZ_HDR &&
		    len <= TCIO_MAX_MSG && !bad_gpa) {
			stats[0]++;
			return;
		}
	} else {
		/* READ, or a peek when len is 0; never into memory not ours */
		if (!own && !bad_gpa)
			gpa = kfz_bad_gpa(z, 0);
		if (own && len > KFZ_BUF_LEN - off)
			len = KFZ_BUF_LEN - off;
		if (kind == 15)
			len = 0;
		snprintf(what, sizeof(what), "READ ch=%#lx gpa=%#lx len=%#lx",
			 ch, gpa, len);
		ret = kfz_read(z, ch, gpa, len);
		if (!open)
			allowed = KFZ_E(KFZ_EBADF);
		else if (len > TCIO_MAX_MSG)
			allowed = KFZ_E(KFZ_E2BIG);
		else if (len && (bad_gpa || !own))
			allowed = KFZ_E(KFZ_EFAULT);
		else
			allowed = KFZ_E(KFZ_EAGAIN) | KFZ_E(KFZ_ENOMSG) |
				  KFZ_E(KFZ_EMSGSIZE);
		if (ret >= (long)KFZ_HDR && ret <= TCIO_MAX_MSG && open &&
		    (!len || (own && ret <= len))) {
			struct tcio_hdr hdr;

			stats[0]++;
			if (!len)
				return;
			memcpy(&hdr, z->buf + off, sizeof(hdr));
			if (hdr.procid != z->cookie ||
			    hdr.origprocid != ~z->cookie ||
			    hdr.req_size != ret - KFZ_HDR)
				kfz_badf(z, what, ret,
					 "an answer with our cookies");
			return;
		}
	}
	if (ret < 0 && (kfz_errbit(ret) & allowed)) {
		stats[1]++;
		return;
	}
	kfz_badf(z, what, ret, "a documented result");
}

/**
 * kfz_random() - the random calls
 * @z: the run
 * @iterations: how many
 *
 * Return: true if every result was one the ABI allows for that call.
 */
static bool kfz_random(struct kfz *z, unsigned int iterations)
{
	struct kfz_model m = { .nopen = 0 };
	unsigned long stats[2] = { 0, 0 };
	unsigned int i;

	for (i = 0; i < iterations; i++)
		kfz_random_call(z, &m, stats);
	while (m.nopen)
		kfz_close(z, m.open[--m.nopen]);
	pr_info("# %lu calls: %lu accepted, %lu refused with a documented error, %lu unexpected\n",
		z->calls, stats[0], stats[1], z->bad);
	return !z->bad;
}

/**
 * struct kfz_class - one test
 * @name: its KTAP name
 * @run: the test
 */
struct kfz_class {
	const char *name;
	bool (*run)(struct kfz *z);
};

static bool kfz_run_random(struct kfz *z)
{
	return kfz_random(z, READ_ONCE(kfz_iterations));
}

static const struct kfz_class kfz_classes[] = {
	{ "before_connect", kfz_before_connect },
	{ "unknown_numbers", kfz_unknown_numbers },
	{ "connect_disconnect", kfz_connect_disconnect },
	{ "channel_limit", kfz_channel_limit },
	{ "write_lengths", kfz_write_lengths },
	{ "read_lengths", kfz_read_lengths },
	{ "write_bad_addresses", kfz_bad_write_addresses },
	{ "read_bad_addresses", kfz_bad_read_addresses },
	{ "page_crossing", kfz_page_crossing },
	{ "inflight_limit", kfz_inflight_limit },
	{ "random_calls", kfz_run_random },
};

static void kfz_result(struct kfz *z, bool ok, const char *name,
		       const char *skip)
{
	z->tests++;
	if (skip)
		pr_info("ok %u %s # SKIP %s\n", z->tests, name, skip);
	else if (ok)
		pr_info("ok %u %s\n", z->tests, name);
	else
		pr_info("not ok %u %s\n", z->tests, name);
	if (!ok && !skip)
		z->failed++;
}

/**
 * kfz_run() - one run of every class, printed as KTAP
 * @seed: the PRNG seed, 0 for a fresh one
 * @iterations: random calls
 *
 * Context: process context, may sleep; holds kfz_lock.
 * Return: 0 if every test passed, -EIO if one failed, -ENOMEM.
 */
static int kfz_run(u64 seed, unsigned int iterations)
{
	struct page *pages;
	struct kfz z = { };
	unsigned int i;
	long first;
	bool ok;

	pages = alloc_pages(GFP_KERNEL | __GFP_ZERO, KFZ_BUF_ORDER);
	if (!pages)
		return -ENOMEM;
	z.buf = page_address(pages);
	z.buf_pa = page_to_phys(pages);
	if (!seed)
		seed = get_random_u64() | 1;
	prandom_seed_state(&z.rnd, seed);
	z.cookie = (s32)prandom_u32_state(&z.rnd) | 1;

	pr_info("KTAP version 1\n");
	pr_info("1..%zu\n", ARRAY_SIZE(kfz_classes));
	pr_info("# vtcio: fuzz_seed=%llu fuzz_iterations=%u\n", seed,
		iterations);
	pr_info("# replay: ktciodd_fuzz.seed=%llu ktciodd_fuzz.iterations=%u\n",
		seed, iterations);
	/* The very first tcioDD call of this VM: it tells support apart. */
	first = kfz_read(&z, 1, z.buf_pa, 64);
	if (first == -TCIODD_HC_ENOSYS) {
		pr_info("# vtcio: support=unsupported\n");
		for (i = 0; i < ARRAY_SIZE(kfz_classes); i++)
			kfz_result(&z, true, kfz_classes[i].name,
				   "host does not support tcioDD (-KVM_ENOSYS)");
		goto out;
	}
	pr_info("# vtcio: support=supported\n");
	kfz_expect(&z, "READ ch=1 (first call)", first, -TCIODD_HC_EBADF);
	for (i = 0; i < ARRAY_SIZE(kfz_classes); i++) {
		if (i == 6) {
			z.ram_end = kfz_probe_ram_end(&z);
			if (z.ram_end)
				pr_info("# guest RAM ends at %#lx (max_pfn %#lx)\n",
					z.ram_end, max_pfn);
			else
				pr_info("# end of guest RAM not found above max_pfn %#lx: not tested\n",
					max_pfn);
		}
		z.diag = 0;
		ok = kfz_classes[i].run(&z);
		pr_info("# %s: %lu calls, %lu unexpected\n",
			kfz_classes[i].name, z.calls, z.bad);
		kfz_result(&z, ok && !z.bad, kfz_classes[i].name, NULL);
		z.calls = 0;
		z.bad = 0;
	}
	pr_info("# %u passed, %u failed\n", z.tests - z.failed, z.failed);
out:
	__free_pages(pages, KFZ_BUF_ORDER);
	return z.failed ? -EIO : 0;
}

static ssize_t kfz_run_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	int rc;

	if (mutex_lock_interruptible(&kfz_lock))
		return -ERESTARTSYS;
	rc = kfz_run(READ_ONCE(kfz_seed), READ_ONCE(kfz_iterations));
	mutex_unlock(&kfz_lock);
	return rc == -ENOMEM ? rc : count;
}

static const struct file_operations kfz_run_fops = {
	.owner = THIS_MODULE,
	.write = kfz_run_write,
};

static int __init kfz_init(void)
{
	struct dentry *dir;

	if (!kvm_para_available())
		return 0;
	dir = debugfs_create_dir("ktciodd_fuzz", NULL);
	debugfs_create_file("run", 0200, dir, NULL, &kfz_run_fops);
	return 0;
}
late_initcall(kfz_init);

MODULE_DESCRIPTION("ktcioDD fuzz client: adversarial tcioDD hypercalls");
MODULE_LICENSE("GPL");
