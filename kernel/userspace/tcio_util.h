/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers of the kernel's style, for the vtcio userspace programs.
 */
#ifndef TCIO_UTIL_H
#define TCIO_UTIL_H

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#ifndef __printf
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#endif
#ifndef __noreturn
#define __noreturn		__attribute__((noreturn))
#endif

#endif /* TCIO_UTIL_H */
