/*
 * zt.h - `mamori audit zt`: probe a running mamori installation against the
 * ZT-01..ZT-12 checklist (../shared/specs/zero-trust.md, from
 * draft-li-zt-consideration and NIST SP 800-207).
 *
 * The installation is found from the running processes (every executable
 * named mamori-*), their listening sockets and command lines; each check
 * probes it (TLS handshakes against every TCP listener, /proc, file modes,
 * the audit log's hash chain, the kernel's XFRM state) and yields
 * pass / fail / not-applicable with the evidence and the fix.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_AUDIT_ZT_H
#define MAMORI_AUDIT_ZT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MM_ZT_MAX_DAEMONS 32
#define MM_ZT_MAX_ENDPOINTS 64

enum mm_zt_status { MM_ZT_PASS = 0, MM_ZT_FAIL, MM_ZT_NA };

typedef struct mm_zt_daemon {
    pid_t pid;
    char name[64];           /* executable name, e.g. mamori-netconfd */
    uid_t ruid, euid;
    char state_dir[1024];    /* from --state-dir, "" if not given */
    char pki_dir[1024];      /* from --pki-dir */
    char crl[1024];          /* from --crl */
} mm_zt_daemon;

typedef struct mm_zt_endpoint {
    char addr[64];           /* numeric address as bound */
    uint16_t port;
    bool udp;                /* QUIC: listed, not TLS-probed over TCP */
    char owner[64];          /* daemon name, or "--endpoint" */
    pid_t pid;               /* the daemon (its network namespace is probed); 0: ours */
} mm_zt_endpoint;

typedef struct mm_zt_target {
    mm_zt_daemon daemons[MM_ZT_MAX_DAEMONS];
    size_t ndaemons;
    mm_zt_endpoint endpoints[MM_ZT_MAX_ENDPOINTS];
    size_t nendpoints;
    char pki_dir[1024];      /* --pki-dir override ("" : from the daemons) */
    char state_dir[1024];    /* --state-dir: extra state dir to check */
    unsigned expiry_days;    /* certificate horizon */
    int timeout_ms;          /* per probe */
} mm_zt_target;

typedef struct mm_zt_result {
    const char *id;          /* "ZT-01a" */
    const char *name;
    enum mm_zt_status status;
    char evidence[2048];
    const char *fix;
} mm_zt_result;

/* Find running mamori daemons (all, or only pids[]) and their listeners. */
int mm_zt_discover(mm_zt_target *t, const pid_t *pids, size_t npids);
/* Add an endpoint "HOST:PORT" / "[V6]:PORT" to probe; MM_EINVAL on a bad one. */
int mm_zt_add_endpoint(mm_zt_target *t, const char *hostport);
/* Run every check; results[] gets one row per check. Returns the number of rows. */
size_t mm_zt_run(const mm_zt_target *t, mm_zt_result *results, size_t max);
/* Number of checks (size for results[]). */
size_t mm_zt_check_count(void);

#endif
