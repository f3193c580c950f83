// SPDX-License-Identifier: GPL-2.0
/*
 * vmdd - relay of the tcioDD hypercalls from KVM guests to tcioDD.
 *
 * A guest opens channels (KVM_HC_TCIODD_CONNECT), writes requests and reads
 * answers through them by guest physical address, and closes them.  Each
 * channel is a tcioDD client whose identity is the VM (the VMM process, a
 * host-unique VM id) and the channel id: never the vCPU thread, never
 * anything the guest supplies.  Guest memory is only touched through KVM's
 * guest-memory accessors, after every length is bounded.  Nothing a guest
 * does is logged on the host.
 */

#include <linux/kvm_host.h>
#include <linux/kvm_para.h>
#include <linux/cred.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/tciodd.h>
#include <linux/tciodd_compat.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

/* x86.h brings is_guest_mode(): from kvm_cache_regs.h up to 6.x, regs.h in 7.x. */
#include "x86.h"
#include "vmdd.h"

/**
 * struct vmdd_vm - the tcioDD state of one VM
 * @lock: guards @channels and serialises the channels' use
 * @channels: channel id -> &struct tciodd_client
 * @who: identity of the VM; @who.channel is 0
 */
struct vmdd_vm {
	struct mutex lock; /* guards channels */
	struct xarray channels;
	struct tciodd_principal who;
};

/* VM ids are never reused while the host runs. */
static atomic_t vmdd_next_vm_id = ATOMIC_INIT(0);

/**
 * vmdd_errno() - the hypercall return value for a host errno
 * @rc: a negative errno from tcioDD
 *
 * Return: the negated TCIODD_HC_* value the guest sees.
 */
static unsigned long vmdd_errno(long rc)
{
	switch (rc) {
	case -EAGAIN:
		return -TCIODD_HC_EAGAIN;
	case -ENOMSG:
		return -TCIODD_HC_ENOMSG;
	case -EMSGSIZE:
		return -TCIODD_HC_EMSGSIZE;
	case -ENOMEM:
		return -TCIODD_HC_ENOMEM;
	case -EFAULT:
		return -TCIODD_HC_EFAULT;
	default:
		return -TCIODD_HC_EINVAL;
	}
}

/**
 * vmdd_vm_get() - the VM's tcioDD state, made on first use
 * @vcpu: the calling vCPU
 *
 * The VM is identified by the process that runs its vCPUs (the VMM) and by
 * a fresh id.  kvm->lock is not taken: it nests outside vcpu->mutex, which
 * the caller holds.
 *
 * Context: vCPU thread in a hypercall exit, may sleep.
 * Return: the state, or NULL when out of memory.
 */
static struct vmdd_vm *vmdd_vm_get(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct vmdd_vm *vm, *old;

	vm = READ_ONCE(kvm->arch.vmdd);
	if (vm)
		return vm;
	vm = kzalloc_obj(*vm, GFP_KERNEL_ACCOUNT);
	if (!vm)
		return NULL;
	mutex_init(&vm->lock);
	xa_init_flags(&vm->channels, XA_FLAGS_ALLOC1);
	vm->who.kind = TCIO_CALLER_VM;
	vm->who.pid = task_tgid_nr(current);
	vm->who.uid = from_kuid_munged(&init_user_ns, current_uid());
	vm->who.vm_id = atomic_inc_return(&vmdd_next_vm_id);
	old = cmpxchg(&kvm->arch.vmdd, NULL, vm);
	if (old) {
		mutex_destroy(&vm->lock);
		kfree(vm);
		return old;
	}
	return vm;
}

/**
 * vmdd_connect() - KVM_HC_TCIODD_CONNECT: open a channel
 * @vm: the VM
 *
 * Context: vm->lock held.
 * Return: the channel id (> 0), or -TCIODD_HC_EMFILE / -TCIODD_HC_ENOMEM.
 */
static unsigned long vmdd_connect(struct vmdd_vm *vm)
{
	struct tciodd_principal who = vm->who;
	struct tciodd_client *c;
	u32 id;
	int rc;

	lockdep_assert_held(&vm->lock);
	rc = xa_alloc(&vm->channels, &id, NULL,
		      XA_LIMIT(1, TCIO_MAX_VM_CHANNELS), GFP_KERNEL_ACCOUNT);
	if (rc == -EBUSY)
		return -TCIODD_HC_EMFILE;
	if (rc)
		return -TCIODD_HC_ENOMEM;
	who.channel = id;
	c = tciodd_client_new(&who);
	if (!c) {
		xa_erase(&vm->channels, id);
		return -TCIODD_HC_ENOMEM;
	}
	xa_store(&vm->channels, id, c, GFP_KERNEL_ACCOUNT);
	return id;
}

/**
 * vmdd_channel() - look up a channel of this VM
 * @vm: the VM
 * @id: the guest's channel id (unchecked)
 *
 * Context: vm->lock held.
 * Return: the client, or NULL when this VM has no such channel.
 */
static struct tciodd_client *vmdd_channel(struct vmdd_vm *vm,
					  unsigned long id)
{
	lockdep_assert_held(&vm->lock);
	if (!id || id > TCIO_MAX_VM_CHANNELS)
		return NULL;
	return xa_load(&vm->channels, id);
}

/**
 * vmdd_range_ok() - whether a guest buffer is wholly backed by guest RAM
 * @vcpu: the calling vCPU
 * @gpa: guest physical address
 * @len: length, already bounded by TCIO_MAX_MSG (so at most three pages)
 * @write: the host will write to the buffer
 *
 * Checked before any byte is copied, so that a call whose buffer runs into
 * a hole, MMIO or read-only memory fails without touching guest memory:
 * KVM's accessors copy page by page and stop at the first bad page, which
 * would leave a failed READ's answer half written into the guest.
 *
 * Context: vCPU thread, under the VM's memslots SRCU read lock.
 * Return: true when [@gpa, @gpa + @len) does not wrap and every page of it
 * is in a memslot (writable when @write).
 */
static bool vmdd_range_ok(struct kvm_vcpu *vcpu, unsigned long gpa,
			  unsigned long len, bool write)
{
	gfn_t gfn, last;
	bool writable;

	if (!len)
		return true;
	if (gpa + len < gpa)
		return false;
	last = gpa_to_gfn(gpa + len - 1);
	for (gfn = gpa_to_gfn(gpa); gfn <= last; gfn++) {
		if (kvm_is_error_hva(kvm_vcpu_gfn_to_hva_prot(vcpu, gfn,
							      &writable)))
			return false;
		if (write && !writable)
			return false;
	}
	return true;
}

/**
 * vmdd_write() - KVM_HC_TCIODD_WRITE: send a request
 * @vcpu: the calling vCPU
 * @vm: the VM
 * @id: channel id
 * @gpa: guest physical address of the message
 * @len: its length
 *
 * Context: vm->lock held, vCPU thread, may sleep.
 * Return: @len, or a negated TCIODD_HC_* error.
 */
static unsigned long vmdd_write(struct kvm_vcpu *vcpu, struct vmdd_vm *vm,
				unsigned long id, unsigned long gpa,
				unsigned long len)
{
	struct tciodd_client *c = vmdd_channel(vm, id);
	void *buf;
	int rc;

	if (!c)
		return -TCIODD_HC_EBADF;
	if (len > TCIO_MAX_MSG)
		return -TCIODD_HC_E2BIG;
	if (len < sizeof(struct tcio_hdr))
		return -TCIODD_HC_EINVAL;
	if (!vmdd_range_ok(vcpu, gpa, len, false))
		return -TCIODD_HC_EFAULT;
	buf = kmalloc(len, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -TCIODD_HC_ENOMEM;
	rc = kvm_vcpu_read_guest(vcpu, gpa, buf, len);
	if (rc)
		rc = -EFAULT;
	else
		rc = tciodd_client_submit(c, NULL, buf, len);
	kfree(buf);
	return rc ? vmdd_errno(rc) : len;
}

/**
 * struct vmdd_copy - where an answer goes in the guest
 * @vcpu: the calling vCPU
 * @gpa: guest physical address
 */
struct vmdd_copy {
	struct kvm_vcpu *vcpu;
	gpa_t gpa;
};

static int vmdd_copy_to_guest(void *ctx, const void *src, size_t len)
{
	struct vmdd_copy *to = ctx;

	return kvm_vcpu_write_guest(to->vcpu, to->gpa, src, len) ? -EFAULT : 0;
}

/**
 * vmdd_read() - KVM_HC_TCIODD_READ: take the channel's oldest answer
 * @vcpu: the calling vCPU
 * @vm: the VM
 * @id: channel id
 * @gpa: guest physical address of the buffer
 * @len: its length; 0 asks only for the next answer's length
 *
 * Never waits.  An answer that does not fit, or cannot be written to the
 * guest, stays queued.
 *
 * Context: vm->lock held, vCPU thread, may sleep.
 * Return: the answer's length, or a negated TCIODD_HC_* error
 * (-TCIODD_HC_EAGAIN: none ready yet; -TCIODD_HC_ENOMSG: none in flight).
 */
static unsigned long vmdd_read(struct kvm_vcpu *vcpu, struct vmdd_vm *vm,
			       unsigned long id, unsigned long gpa,
			       unsigned long len)
{
	struct tciodd_client *c = vmdd_channel(vm, id);
	struct vmdd_copy to = { .vcpu = vcpu, .gpa = gpa };
	ssize_t rc;

	if (!c)
		return -TCIODD_HC_EBADF;
	if (len > TCIO_MAX_MSG)
		return -TCIODD_HC_E2BIG;
	if (!vmdd_range_ok(vcpu, gpa, len, true))
		return -TCIODD_HC_EFAULT;
	if (!len)
		rc = tciodd_client_next_len(c);
	else
		rc = tciodd_client_read(c, len, vmdd_copy_to_guest, &to);
	return rc < 0 ? vmdd_errno(rc) : rc;
}

/**
 * vmdd_disconnect() - KVM_HC_TCIODD_DISCONNECT: close a channel
 * @vm: the VM
 * @id: channel id
 *
 * Context: vm->lock held, may sleep.
 * Return: 0, or -TCIODD_HC_EBADF.
 */
static unsigned long vmdd_disconnect(struct vmdd_vm *vm, unsigned long id)
{
	struct tciodd_client *c = vmdd_channel(vm, id);

	if (!c)
		return -TCIODD_HC_EBADF;
	xa_erase(&vm->channels, id);
	tciodd_client_free(c);
	return 0;
}

/**
 * vmdd_hypercall() - handle a tcioDD hypercall
 * @vcpu: the calling vCPU
 * @nr: KVM_HC_TCIODD_*
 * @a0: channel id (not for CONNECT)
 * @a1: guest physical address (READ, WRITE)
 * @a2: length (READ, WRITE)
 *
 * The caller, KVM's hypercall switch, has already refused guest user mode
 * (-KVM_EPERM) and truncated the arguments of a guest outside 64-bit mode;
 * it truncates the return value the same way.  Calls made while the vCPU
 * runs a nested guest are refused: their addresses would be the nested
 * guest's.  Guests whose state KVM cannot see (SEV-ES, SEV-SNP, TDX) get
 * -KVM_ENOSYS, as from a host without the relay: their memory is private,
 * so a copy through the host's view of it would not be what they wrote.
 * (In 7.2 TDX guests reach the switch too, from tdx.c, with CPL 0.)
 *
 * Context: vCPU thread in a hypercall exit, may sleep.
 * Return: the value for the guest's rax.
 */
unsigned long vmdd_hypercall(struct kvm_vcpu *vcpu, unsigned long nr,
			     unsigned long a0, unsigned long a1,
			     unsigned long a2)
{
	struct vmdd_vm *vm;
	unsigned long ret;

	if (vcpu->arch.guest_state_protected)
		return -KVM_ENOSYS;
	if (is_guest_mode(vcpu))
		return -KVM_EPERM;
	vm = vmdd_vm_get(vcpu);
	if (!vm)
		return -TCIODD_HC_ENOMEM;

	mutex_lock(&vm->lock);
	switch (nr) {
	case KVM_HC_TCIODD_CONNECT:
		ret = vmdd_connect(vm);
		break;
	case KVM_HC_TCIODD_DISCONNECT:
		ret = vmdd_disconnect(vm, a0);
		break;
	case KVM_HC_TCIODD_WRITE:
		ret = vmdd_write(vcpu, vm, a0, a1, a2);
		break;
	case KVM_HC_TCIODD_READ:
		ret = vmdd_read(vcpu, vm, a0, a1, a2);
		break;
	default:
		ret = -KVM_ENOSYS;
		break;
	}
	mutex_unlock(&vm->lock);
	return ret;
}

/**
 * vmdd_destroy_vm() - drop a dying VM's channels and tell the service
 * @kvm: the VM; no vCPU runs any more
 *
 * Context: process context, may sleep.
 */
void vmdd_destroy_vm(struct kvm *kvm)
{
	struct vmdd_vm *vm = kvm->arch.vmdd;
	struct tciodd_client *c;
	unsigned long id;

	if (!vm)
		return;
	xa_for_each(&vm->channels, id, c)
		tciodd_client_free(c);
	xa_destroy(&vm->channels);
	tciodd_vm_gone(&vm->who);
	mutex_destroy(&vm->lock);
	kfree(vm);
	kvm->arch.vmdd = NULL;
}
