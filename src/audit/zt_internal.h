/*
 * zt_internal.h - helpers shared by the zero-trust checks (zt*.c).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_AUDIT_ZT_INTERNAL_H
#define MAMORI_AUDIT_ZT_INTERNAL_H

#include <sys/types.h>

#include "zt.h"

/* Append "; "-separated evidence to r. */
void mm_zt_add(mm_zt_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mm_zt_fail(mm_zt_result *r);
/* Where to connect for a listener (wildcards on loopback). */
const char *mm_zt_probe_addr(const mm_zt_endpoint *ep);
/*
 * Enter the network namespace of pid (0: stay) for creating sockets; *saved
 * gets what mm_zt_netns_leave() needs. Sockets keep their namespace after.
 */
int mm_zt_netns_enter(pid_t pid, int *saved);
void mm_zt_netns_leave(int saved);

/* ZT-05c (zt_nacm.c). */
void mm_zt_check_nacm(const mm_zt_target *t, mm_zt_result *r);

#endif
