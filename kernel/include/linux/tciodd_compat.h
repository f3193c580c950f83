/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tciodd_compat.h - kernel interfaces that vtcio's shared files use but not
 * every supported kernel has.  Each fallback is a feature test (is the
 * kernel's own macro defined?), never a version number, and spells out the
 * older form of the same thing.
 */
#ifndef _LINUX_TCIODD_COMPAT_H
#define _LINUX_TCIODD_COMPAT_H

#include <linux/slab.h>

/*
 * kzalloc_obj(): 7.2 has it, and so has Debian's 6.12 (a stable backport);
 * 6.1 does not.  Checkpatch of 7.2 asks for it over kzalloc(sizeof(...)).
 */
#ifndef kzalloc_obj
#define kzalloc_obj(P, gfp) kzalloc(sizeof(P), gfp)
#endif

#endif /* _LINUX_TCIODD_COMPAT_H */
