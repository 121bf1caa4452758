/*
 * mm_netconf_tls.h - NETCONF over TLS (RFC 7589) for mamori-netconfd.
 *
 * TCP listeners on libevent, TLS 1.3 through mamori's TLS layer (hybrid
 * groups first), mutual X.509 required, the client's NETCONF user name from
 * cert-to-name (RFC 7407), and continuous verification: the CA and CRL files
 * are re-read when they change and every open session's client certificate
 * is re-checked periodically; a session whose certificate expired, was
 * revoked, or no longer maps to the same user is closed at once.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_NETCONF_TLS_H
#define MAMORI_MM_NETCONF_TLS_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "mamori/mm_netconf.h"
#include "mamori/mm_tls.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MM_NC_TLS_MAX_ENDPOINTS 16
#define MM_NC_TLS_MAX_CTN 64
#define MM_NC_TLS_NAME_MAX 64
#define MM_NC_TLS_DEFAULT_VERIFY_MS 1000
#define MM_NC_TLS_HANDSHAKE_TIMEOUT_S 30
/* A peer that stops answering TCP is given up after this (TCP keep-alive and
 * TCP_USER_TIMEOUT): its session ends and releases its locks (issue 10 #7). */
#define MM_NC_TLS_DEFAULT_DEAD_PEER_MS 120000u
/* Reply bytes a session may have waiting to be sent before its input is
 * paused until they drain (issue 10 #4). */
#define MM_NC_TLS_DEFAULT_MAX_QUEUE (4u << 20)

typedef struct mm_nc_tls_endpoint {
    char name[MM_NC_TLS_NAME_MAX];
    char address[64]; /* numeric IPv4 or IPv6 */
    uint16_t port;
} mm_nc_tls_endpoint;

typedef struct mm_nc_tls_settings {
    /* Own identity and trust anchors (PEM files). */
    char cert_file[1024], key_file[1024], ca_file[1024];
    char crl_file[1024]; /* optional ("" = none): checked for every client */
    char groups[256];    /* "" = MM_TLS_DEFAULT_GROUPS */
    mm_nc_tls_endpoint endpoints[MM_NC_TLS_MAX_ENDPOINTS];
    size_t n_endpoints;
    mm_ctn_entry ctn[MM_NC_TLS_MAX_CTN];
    char ctn_names[MM_NC_TLS_MAX_CTN][MM_NC_TLS_NAME_MAX];
    size_t n_ctn;
    uint32_t verify_interval_ms; /* 0 = MM_NC_TLS_DEFAULT_VERIFY_MS */
    uint32_t dead_peer_ms;       /* 0 = MM_NC_TLS_DEFAULT_DEAD_PEER_MS */
    size_t max_queue;            /* 0 = MM_NC_TLS_DEFAULT_MAX_QUEUE */
} mm_nc_tls_settings;

typedef struct mm_nc_tls_server mm_nc_tls_server;

/* Bind every endpoint and start accepting. MM_ESYS if a bind fails. */
int mm_nc_tls_server_new(mm_nc_server *engine, struct event_base *base,
                         const mm_nc_tls_settings *settings, mm_nc_tls_server **out);
/*
 * Replace the settings of a running server: endpoints that changed are
 * re-bound, the cert-to-name map and TLS files take effect for new
 * connections at once, and open sessions are re-verified against them.
 */
int mm_nc_tls_server_apply(mm_nc_tls_server *ts, const mm_nc_tls_settings *settings);
/* Port actually bound by endpoint i (useful with port 0 in tests). */
uint16_t mm_nc_tls_server_port(const mm_nc_tls_server *ts, size_t i);
/* Re-check every open session now (also runs on the verification timer). */
void mm_nc_tls_server_reverify(mm_nc_tls_server *ts);
size_t mm_nc_tls_server_session_count(const mm_nc_tls_server *ts);
/* Reply and notification bytes of all sessions not yet written to their sockets. */
size_t mm_nc_tls_server_queued_bytes(const mm_nc_tls_server *ts);
/*
 * Serve a TCP connection the server itself opened (RFC 8071 call home): the
 * peer is the TLS client, exactly as for an accepted connection. closed(arg)
 * is called once when the connection is gone (to reconnect). The fd is owned
 * by the transport from here on, also on failure.
 */
int mm_nc_tls_server_adopt(mm_nc_tls_server *ts, int fd, void (*closed)(void *arg), void *arg);
void mm_nc_tls_server_free(mm_nc_tls_server *ts);

#ifdef __cplusplus
}
#endif
#endif
