/*
 * mamori-ddnsd internals: the HTTPS front end (libevent evhttp over
 * bufferevent_openssl, the mamori TLS layer) and the DNS push worker.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_DDNSD_H
#define MM_DDNSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

typedef struct mm_ddnsd_options {
    const char *state_dir;  /* ddns.db, token.key, audit.log */
    const char *store;      /* NULL: STATE/ddns.db; or a PostgreSQL URI / conninfo */
    const char *pki_dir;    /* server.crt/key, ca.crt; created if missing */
    const char *listen;     /* "127.0.0.1:8443", "[::1]:8443" */
    bool test_mode;
    unsigned max_conns;     /* concurrent connections (accepting pauses beyond) */
    unsigned req_timeout_s; /* a request (headers and body) must arrive within this; idle keep-alive too */
    const char *provider_name;
    /* Reverse proxies whose X-Forwarded-For is believed (default none). */
    const struct mm_ddns_prefix *trusted_proxies;
    size_t n_trusted_proxies;
    /* Non-zero: run a Knot DNS child on 127.0.0.1@knot_port serving knot_zone (knot.c). */
    uint16_t knot_port;
    const char *knot_zone;
    /*
     * Knot's control socket for the zones' primary (set by knot_port to the
     * child's): ddnsd sends `zone-notify` over it when an UPDATE follows a
     * second boundary, which avoids Knot 3.2's up-to-1 s hold (knotctl.c).
     */
    const char *knot_control;
} mm_ddnsd_options;

typedef struct mm_ddnsd mm_ddnsd;

int mm_ddnsd_start(const mm_ddnsd_options *o, struct event_base *base, mm_ddnsd **out);
uint16_t mm_ddnsd_port(const mm_ddnsd *d);
void mm_ddnsd_free(mm_ddnsd *d);

/* Parse "host:port" / "[v6]:port"; MM_EINVAL. */
int mm_ddnsd_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port);

#endif
