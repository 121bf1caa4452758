/*
 * bgpd.h - mamori-bgpd internals shared by its files and tests: the
 * validated configuration, the daemon object and the control protocol.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_BGPD_H
#define MAMORI_BGPD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <jansson.h>

#include "mamori/mm_bgp_speaker.h"

#define BGPD_MAX_PEERS 64
#define BGPD_MAX_ACTIONS 16

/* Address families by index; names as in the config and in `mamori bgp --family`. */
enum { BGPD_V4U, BGPD_V6U, BGPD_FLOW4, BGPD_FLOW6, BGPD_NFAM };
const char *bgpd_fam_name(int fam);       /* "ipv4-unicast" ... */
const char *bgpd_fam_short(int fam);      /* "v4", "v6", "flow4", "flow6" */
int bgpd_fam_parse(const char *s);        /* either spelling; -1 if unknown */
int bgpd_fam_of(uint16_t afi, uint8_t safi);
void bgpd_fam_afisafi(int fam, uint16_t *afi, uint8_t *safi);

typedef struct bgpd_peer_cfg {
    char address[64];
    struct sockaddr_storage sa;
    socklen_t salen;
    uint16_t port;             /* remote port for outbound connections */
    char local_address[64];    /* bind address for outbound connections ("" any) */
    uint32_t remote_as;
    char description[64];
    bool passive;
    bool gtsm;                 /* RFC 5082: send TTL 255, accept >= 254 */
    bool validate;             /* RFC 8955 §6 on received FlowSpec */
    bool install;              /* accepted FlowSpec rules go to nftables (nft.c) */
    char md5[81];              /* RFC 2385 key ("" none) */
    /* RFC 5925 TCP-AO (exclusive with md5): one MKT per neighbor. */
    bool ao;
    char ao_key[81];
    char ao_alg[32];           /* kernel crypto name, from bgpd_ao_algs */
    uint8_t ao_sndid, ao_rcvid, ao_maclen;
    uint16_t hold_time;
    bool fam[BGPD_NFAM];
    uint32_t max_prefix[BGPD_NFAM]; /* 0 = no limit */
} bgpd_peer_cfg;

typedef struct bgpd_config {
    uint32_t local_as;
    uint32_t router_id;        /* host order */
    char listen_address[64];
    uint16_t listen_port;
    bool listen;               /* false: outbound only */
    char control_socket[256];
    char audit_path[256];
    char nft_table[64];        /* install mode's nftables table (inet family) */
    uint16_t hold_time;
    uint16_t connect_retry;
    uint32_t max_out_bytes;    /* per-peer output backlog before we stop reading it */
    size_t n_peers;
    bgpd_peer_cfg peers[BGPD_MAX_PEERS];
    json_t *flowspec;          /* originated rules, validated, owned */
    size_t n_bmp;
    struct { char address[64]; uint16_t port; } bmp[4]; /* BMP collectors */
    uint32_t bmp_stats_interval;
} bgpd_config;

/* Load and validate; err names the offending member. */
int bgpd_config_load(const char *path, bgpd_config *c, char *err, size_t errlen);
int bgpd_config_from_json(json_t *root, bgpd_config *c, char *err, size_t errlen);
/* A YANG-encoded config (JSON per RFC 7951, or XML) validated by libyang
 * against mamori-bgp, returned as the plain object bgpd_config_from_json reads. */
int bgpd_config_yang_plain(const char *path, const char *text, bool xml, json_t **out, char *err,
                           size_t errlen);
void bgpd_config_free(bgpd_config *c);

/*
 * An originated rule from text: family, match, actions. On success rule
 * and ecomm hold wire bytes. Shared by the config and the control socket.
 */
int bgpd_rule_compile(int fam, const char *match, json_t *then, uint8_t *rule, size_t *rule_len,
                      uint8_t *ecomm, size_t *ecomm_len, char *err, size_t errlen);

typedef struct bgpd bgpd;

int bgpd_start(struct event_base *base, bgpd_config *cfg, bgpd **out);
void bgpd_stop(bgpd *d);

/* Control requests (control.c calls these with a parsed request; replies are JSON). */
json_t *bgpd_ctl_neighbors(bgpd *d);
/* One RIB entry as the control socket shows it. */
json_t *bgpd_ctl_route_json(bgpd *d, int fam, const mm_bgp_route *r);
const mm_bgp_rib *bgpd_rib(bgpd *d);
const char *bgpd_peer_address(bgpd *d, uint32_t id); /* "local" for 0 */
int64_t bgpd_peer_lookup(bgpd *d, const char *address); /* RIB peer number, -1 if none */

struct evbuffer;
/* ctl_rib.c: the `rib` reply streamed in bounded chunks (see the file). */
typedef struct bgpd_rib_stream bgpd_rib_stream;
/* NULL with err set when the request is wrong. */
bgpd_rib_stream *bgpd_rib_stream_new(bgpd *d, json_t *req, char *err, size_t errlen);
/* Append to out until it holds at least cap bytes or the reply is complete;
 * returns true once the whole reply (trailer included) has been appended. */
bool bgpd_rib_stream_fill(bgpd_rib_stream *s, struct evbuffer *out, size_t cap);
void bgpd_rib_stream_free(bgpd_rib_stream *s);
json_t *bgpd_ctl_announce(bgpd *d, const char *subject, int fam, const char *match, json_t *then);
json_t *bgpd_ctl_withdraw(bgpd *d, const char *subject, int fam, const char *match);
json_t *bgpd_ctl_counters(bgpd *d);

/* control.c */
typedef struct bgpd_control bgpd_control;
int bgpd_control_start(bgpd *d, struct event_base *base, const char *path, bgpd_control **out);
void bgpd_control_stop(bgpd_control *c);
/* The audit log of the daemon (control.c audits through it). */
struct mm_audit *bgpd_audit(bgpd *d);

#endif
