/*
 * netconfd_callhome.h - NETCONF call home (RFC 8071) for mamori-netconfd,
 * configured by ietf-netconf-server's call-home container in running.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_NETCONFD_CALLHOME_H
#define MAMORI_NETCONFD_CALLHOME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <libyang/libyang.h>

#define MM_NETCONFD_CALLHOME_MAX 16    /* netconf-clients dialed */
#define MM_NETCONFD_CALLHOME_MAX_EP 8  /* endpoints per netconf-client */
#define MM_NETCONFD_CALLHOME_NAME_MAX 64
#define MM_NC_CALLHOME_TLS_PORT 4335 /* RFC 8071 section 6 */
#define MM_NC_CALLHOME_SSH_PORT 4334

/* One endpoint of a netconf-client: where to dial and which transport to run. */
typedef struct mm_netconfd_callhome_client {
    char name[MM_NETCONFD_CALLHOME_NAME_MAX];
    char transport[8]; /* "tls" or "ssh" */
    char host[256];
    uint16_t port;
} mm_netconfd_callhome_client;

enum mm_netconfd_callhome_start {
    MM_CH_FIRST_LISTED = 0,
    MM_CH_LAST_CONNECTED,
    MM_CH_RANDOM,
};

/* One netconf-client (ietf-netconf-server call-home/netconf-client). */
typedef struct mm_netconfd_callhome_peer {
    char name[MM_NETCONFD_CALLHOME_NAME_MAX];
    mm_netconfd_callhome_client ep[MM_NETCONFD_CALLHOME_MAX_EP];
    size_t n_ep;
    bool periodic;        /* connection-type periodic (else persistent) */
    uint32_t period_s;    /* periodic: seconds between connection starts */
    int64_t anchor;       /* periodic: anchor-time (Unix seconds), 0: when applied */
    uint8_t start_with;   /* enum mm_netconfd_callhome_start */
    uint16_t max_wait_s;  /* an attempt not connected by then failed (default 5) */
    uint8_t max_attempts; /* attempts per endpoint before the next one (default 3) */
} mm_netconfd_callhome_peer;

/* Parse "tls:HOST:PORT" / "ssh:HOST:PORT" ("[v6]" hosts; PORT optional: 4335/4334). */
int mm_netconfd_callhome_parse(const char *spec, mm_netconfd_callhome_client *out);

/*
 * The netconf-clients of running's call-home container, appended to
 * peers[*n] (at most max; more is MM_ELIMIT). Endpoints with an address and
 * port; the transports' TLS identity/trust and SSH host key are the
 * daemon's (see docs/netconfd.md).
 */
int mm_netconfd_callhome_from_running(const struct lyd_node *running,
                                      mm_netconfd_callhome_peer *peers, size_t max, size_t *n);

/*
 * Hand a connected socket to the named transport; scope is the
 * netconf-client's name (SSH: whose users may log in); closed(arg) when it ends.
 */
typedef int (*mm_netconfd_callhome_adopt)(const char *transport, int fd, const char *scope,
                                          void (*closed)(void *arg), void *closed_arg, void *arg);

typedef struct mm_netconfd_callhome mm_netconfd_callhome;

/* An empty dialer; retry_ms is the first redial delay (0: 1000), doubling to 60 s. */
int mm_netconfd_callhome_new(struct event_base *base, uint32_t retry_ms,
                             mm_netconfd_callhome_adopt adopt, void *adopt_arg,
                             mm_netconfd_callhome **out);
/*
 * Dial exactly these netconf-clients from now on, by name: an unchanged one
 * keeps its connection; a removed or changed one stops dialing and its
 * connection is shut down (its transport then ends the session as for a
 * vanished peer); a new one is dialed at once. Safe to call from inside a
 * session (nothing a running callback uses is freed here).
 */
int mm_netconfd_callhome_apply(mm_netconfd_callhome *ch, const mm_netconfd_callhome_peer *peers,
                               size_t n);
/* Successful TCP connections to the netconf-client named name so far (0: unknown). */
unsigned mm_netconfd_callhome_connects(const mm_netconfd_callhome *ch, const char *name);
/* Milliseconds until the next dial of name (-1: connecting, connected or unknown). */
int64_t mm_netconfd_callhome_next_ms(const mm_netconfd_callhome *ch, const char *name);
void mm_netconfd_callhome_free(mm_netconfd_callhome *ch);

#endif
