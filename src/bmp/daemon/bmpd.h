/*
 * bmpd.h - mamori-bmpd, the BMP collector: listeners (and outbound
 * connections to routers that listen), one session per router on one event
 * loop, and the outputs (JSON Lines, SQLite, Prometheus metrics).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_BMPD_H
#define MAMORI_BMPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "mamori/mm_audit.h"
#include "mamori/mm_bmp.h"
#include "mamori/mm_metrics.h"

#define BMPD_MAX_LISTEN 8
#define BMPD_MAX_ALLOW 64
#define BMPD_MAX_CONNECT 16
#define BMPD_MAX_TLS_NAMES 64

typedef struct bmpd_prefix {
    int af;
    uint8_t addr[16];
    unsigned plen;
} bmpd_prefix;

typedef struct bmpd_config {
    const char *listen[BMPD_MAX_LISTEN];
    size_t n_listen;
    uint16_t port;
    const char *port_file; /* write the bound port here (tests, --port 0) */
    bmpd_prefix allow[BMPD_MAX_ALLOW];
    size_t n_allow;                        /* 0: loopback only */
    const char *connect[BMPD_MAX_CONNECT]; /* HOST:PORT of routers that listen */
    size_t n_connect;
    const char *jsonl_path;      /* NULL: none; "-": stdout */
    uint64_t jsonl_rotate_bytes; /* 0: never rotate */
    unsigned jsonl_keep;
    const char *db_path;
    const char *pg_conninfo; /* PostgreSQL store (libpq URI or key=value); NULL: none */
    uint64_t pg_queue_bytes; /* bound of the rows waiting for PostgreSQL */
    enum mm_bmp_pg_overflow pg_overflow;
    const char *collector; /* this collector's name in the shared store; NULL: host:port */
    /* TLS listener (on every listen address): off unless tls_port_set. */
    bool tls_port_set;
    uint16_t tls_port; /* 0 picks one */
    const char *tls_port_file;
    const char *pki_dir; /* ca.crt (trust anchor for routers), server.crt/.key */
    const char *tls_names[BMPD_MAX_TLS_NAMES]; /* allowed certificate identities; none: any */
    size_t n_tls_names;
    const char *audit_path;
    const char *metrics_addr;
    uint16_t metrics_port; /* 0 with metrics_addr: pick one */
    bool metrics;
    uint32_t max_msg;
    uint32_t idle_timeout_s;
    uint32_t max_routers;
} bmpd_config;

typedef struct bmpd bmpd;

/* Parse "addr[/len]" into an allow-list entry. */
int bmpd_prefix_parse(const char *s, bmpd_prefix *p);
void bmpd_config_defaults(bmpd_config *c);

/* Open outputs, bind, start outbound connections. */
int bmpd_start(struct event_base *base, const bmpd_config *cfg, bmpd **out);
void bmpd_stop(bmpd *d);

/* JSON Lines sink (jsonl.c): write(2) per burst, rotation by size. */
typedef struct bmpd_jsonl bmpd_jsonl;
int bmpd_jsonl_open(const char *path, uint64_t rotate_bytes, unsigned keep, bmpd_jsonl **out);
int bmpd_jsonl_write(bmpd_jsonl *j, const void *data, size_t len);
void bmpd_jsonl_close(bmpd_jsonl *j);

#endif
