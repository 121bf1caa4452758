/*
 * bmpd_internal.h - what the collector's files share: the session, the
 * outbound connection and the collector itself, and the functions one file
 * of src/bmp/daemon calls in another (bmpd.c sessions and listeners,
 * metrics.c, pgstate.c, tls.c). Not installed.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_BMPD_INTERNAL_H
#define MAMORI_BMPD_INTERNAL_H

#include <time.h>

#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "bmpd.h"
#include "mamori/mm_tls.h"

#define READ_SLACK 65536
#define READ_BURST (256 * 1024)
#define TLS_HANDSHAKE_TIMEOUT_S 10

struct outbound;

/*
 * The metric series of one (peer, statistics type, AFI/SAFI) of a router:
 * a Statistics Report carries dozens of statistics, and looking each series
 * up by name and labels costs more than decoding it. Series are never
 * removed while the collector runs, so the pointers stay valid. Bounded:
 * a key that finds no slot within STAT_CACHE_PROBES is looked up by name.
 */
#define STAT_CACHE_SLOTS 1024
#define STAT_CACHE_PROBES 8

struct stat_slot {
    bool used;
    uint8_t peer_type;
    uint8_t safi;
    uint16_t type;
    uint16_t afi;
    uint8_t rd[8];
    uint8_t addr[16];
    mm_metric *x;
};

struct router {
    bmpd *d;
    struct bufferevent *bev;
    char addr[INET6_ADDRSTRLEN];
    uint16_t port;
    char label[INET6_ADDRSTRLEN + 8];
    int64_t db_id;
    uint64_t discard; /* bytes of an over-cap message still to skip */
    mm_bmp_json_ctx jctx;
    struct outbound *ob;
    bool tls;                     /* on the TLS listener */
    bool active;                  /* authorized (TLS: certificate checked) and reading */
    char identity[128];           /* TLS: the certificate identity (RFC 7407 cert-to-name) */
    time_t cert_not_after;        /* TLS: the session ends when the client certificate expires */
    mm_bmp_addpath *ap;           /* peers whose UPDATEs carry path ids (from their Peer Up) */
    struct stat_slot *stat_cache; /* metric series per (peer, statistic), STAT_CACHE_SLOTS */
    mm_metric *m_msgs[8];         /* per BMP type (7 = unknown) */
    mm_metric *m_bytes;
    struct router *prev, *next;
};

struct outbound {
    bmpd *d;
    char target[128];
    struct sockaddr_storage ss;
    int sslen;
    struct event *timer;
    uint32_t backoff_ms;
    struct router *r;
};

struct bmpd {
    struct event_base *base;
    bmpd_config cfg;
    struct evconnlistener *listeners[2 * BMPD_MAX_LISTEN];
    size_t n_listeners;
    SSL_CTX *tls_ctx;
    mm_ctn_entry ctn_entries[2];
    mm_ctn_map ctn;
    struct outbound outbound[BMPD_MAX_CONNECT];
    size_t n_outbound;
    mm_audit *audit;
    mm_bmp_store *store;
    mm_bmp_pgstore *pg;
    struct event *pg_timer;
    bool pg_was_connected, pg_outage, pg_dropping, paused;
    uint64_t pg_dropped_seen, pg_dropped_episode;
    mm_metric *m_pg_up, *m_pg_queue, *m_pg_written, *m_pg_dropped;
    bmpd_jsonl *jsonl;
    mm_metrics *metrics;
    mm_metrics_http *http;
    struct router *routers;
    size_t n_routers;
    mm_buf out; /* JSON Lines of the current burst */
    char collector_buf[300];
    mm_metric *m_connected, *m_accepted, *m_refused, *m_series_dropped;
};

/* bmpd.c */
int bmpd_audit(bmpd *d, const char *action, bool permit, const char *reason, const char *who);
void bmpd_refuse(bmpd *d, const char *label, const char *deny);
int64_t bmpd_wall_us(void);
void bmpd_router_read(struct bufferevent *bev, void *arg);
void bmpd_router_activate(struct router *r);
void bmpd_router_end(struct router *r, const char *reason);

/* metrics.c: families, error counters, the statistics of a report as series */
void bmpd_metrics_families(bmpd *d);
void bmpd_metrics_error(struct router *r, const char *reason);
void bmpd_metrics_stats(struct router *r, const mm_bmp_msg *m);

/* pgstate.c: the PostgreSQL store's state as metrics, log lines, audit records, pauses */
void bmpd_pg_check(bmpd *d);
void bmpd_pg_tick(void *arg);

/* tls.c: the TLS listener's context, the certificate check, handshake errors */
int bmpd_tls_setup(bmpd *d);
void bmpd_tls_authorize(struct router *r);
void bmpd_tls_error_text(struct bufferevent *bev, char *out, size_t len);

#endif
