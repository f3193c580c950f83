/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmdd.h - KVM's relay of the tcioDD hypercalls (CONFIG_KVM_TCIODD).
 */
#ifndef ARCH_X86_KVM_VMDD_H
#define ARCH_X86_KVM_VMDD_H

#include <linux/kvm_host.h>
#include <linux/tciodd.h>

#ifdef CONFIG_KVM_TCIODD
unsigned long vmdd_hypercall(struct kvm_vcpu *vcpu, unsigned long nr,
			     unsigned long a0, unsigned long a1,
			     unsigned long a2);
void vmdd_destroy_vm(struct kvm *kvm);
#else
static inline void vmdd_destroy_vm(struct kvm *kvm)
{
}
#endif

#endif /* ARCH_X86_KVM_VMDD_H */
