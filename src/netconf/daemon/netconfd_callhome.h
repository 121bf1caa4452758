/*
 * netconfd_callhome.h - NETCONF call home (RFC 8071) for mamori-netconfd.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_NETCONFD_CALLHOME_H
#define MAMORI_NETCONFD_CALLHOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#define MM_NETCONFD_CALLHOME_MAX 16
#define MM_NC_CALLHOME_TLS_PORT 4335 /* RFC 8071 section 6 */
#define MM_NC_CALLHOME_SSH_PORT 4334

typedef struct mm_netconfd_callhome_client {
    char transport[8]; /* "tls" or "ssh" */
    char host[256];
    uint16_t port;
} mm_netconfd_callhome_client;

/* Parse "tls:HOST:PORT" / "ssh:HOST:PORT" ("[v6]" hosts; PORT optional: 4335/4334). */
int mm_netconfd_callhome_parse(const char *spec, mm_netconfd_callhome_client *out);

/* Hand a connected socket to the named transport; closed(arg) when it ends. */
typedef int (*mm_netconfd_callhome_adopt)(const char *transport, int fd, void (*closed)(void *arg),
                                          void *closed_arg, void *arg);

typedef struct mm_netconfd_callhome mm_netconfd_callhome;

int mm_netconfd_callhome_start(struct event_base *base, const mm_netconfd_callhome_client *clients,
                               size_t n, uint32_t retry_ms, mm_netconfd_callhome_adopt adopt,
                               void *adopt_arg, mm_netconfd_callhome **out);
/* Successful TCP connections to client i so far. */
unsigned mm_netconfd_callhome_connects(const mm_netconfd_callhome *ch, size_t i);
void mm_netconfd_callhome_free(mm_netconfd_callhome *ch);

#endif
