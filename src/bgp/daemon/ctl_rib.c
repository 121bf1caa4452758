/*
 * ctl_rib.c - the `rib` reply of the control socket, streamed: a full
 * unicast table (900 000 routes) is far more JSON than a reply should hold
 * in memory, so the reply is produced a few buckets of the RIB at a time,
 * only while the connection's output buffer is under a small cap
 * (control.c calls bgpd_rib_stream_fill from its write callback). A client
 * that stops reading therefore stops the production: the daemon holds one
 * cursor and at most the cap, and keeps serving its BGP peers meanwhile.
 *
 * The reply is still one JSON document, laid out one route per line so a
 * client can print as it receives:
 *   {"ok":true,"family":"ipv4-unicast","routes":[
 *   {...route...},
 *   ...
 *   ],"count":N,"truncated":false}
 *
 * Routes change while a slow reader is streaming (UPDATEs keep arriving), so
 * no pointer into the RIB is kept across steps:
 *  - unicast: the cursor is a bucket index in mm_bgp_rib_scan's
 *    reverse-binary order, valid across adds, deletes and the table
 *    doubling. A route present for the whole listing appears exactly once;
 *    one added or withdrawn meanwhile appears at most once.
 *  - FlowSpec: the order matters (RFC 8955 §5.1, the order an installer
 *    applies rules), so the keys (peer + rule bytes, copied) are taken and
 *    sorted at the start and each is looked up again when its turn comes; a
 *    rule withdrawn meanwhile is skipped. That snapshot is bounded by the
 *    FlowSpec table, itself bounded by the neighbors' max-prefix limits.
 *
 * Filters (applied here, in the daemon): family, peer (address or "local"),
 * prefix (unicast: routes equal to or more specific than it), limit.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "bgpd.h"
#include "mamori/mm_bgp.h"

#define STREAM_BUCKETS 256 /* buckets per scan step: a step is ~µs, not ms */

typedef struct {
    uint32_t peer;
    uint16_t len;
    uint8_t *nlri;
} flow_key;

struct bgpd_rib_stream {
    bgpd *d;
    int fam;
    uint16_t afi;
    uint8_t safi;
    uint32_t peer; /* UINT32_MAX: every peer */
    bool has_prefix;
    mm_bgp_prefix prefix;
    bool has_limit;
    uint64_t limit;
    uint64_t count;
    bool started, truncated;
    /* unicast */
    uint64_t cursor;
    bool scan_done;
    /* FlowSpec */
    flow_key *keys;
    size_t n_keys, cap_keys, next_key;
    struct evbuffer *out; /* during one fill */
};

static bool prefix_within(const bgpd_rib_stream *s, const mm_bgp_route *r)
{
    if (!s->has_prefix)
        return true;
    unsigned len = r->nlri[0];
    if (len < s->prefix.len)
        return false;
    unsigned full = s->prefix.len / 8u, rest = s->prefix.len % 8u;
    if (r->nlri_len < 1u + full + (rest ? 1u : 0u))
        return false;
    if (memcmp(r->nlri + 1, s->prefix.addr, full) != 0)
        return false;
    if (rest) {
        uint8_t m = (uint8_t)(0xffu << (8u - rest));
        if ((r->nlri[1 + full] & m) != (s->prefix.addr[full] & m))
            return false;
    }
    return true;
}

static void emit(bgpd_rib_stream *s, const mm_bgp_route *r)
{
    if (!prefix_within(s, r))
        return;
    if (s->has_limit && s->count >= s->limit) {
        s->truncated = true; /* one more matched: say the listing was cut */
        return;
    }
    json_t *o = bgpd_ctl_route_json(s->d, s->fam, r);
    char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!txt)
        return;
    if (s->count)
        evbuffer_add(s->out, ",\n", 2);
    evbuffer_add(s->out, txt, strlen(txt));
    free(txt);
    s->count++;
}

static void scan_cb(void *arg, const mm_bgp_route *r) { emit(arg, r); }

static void key_cb(void *arg, const mm_bgp_route *r)
{
    bgpd_rib_stream *s = arg;
    if (s->n_keys == s->cap_keys) {
        size_t nc = s->cap_keys ? s->cap_keys * 2 : 64;
        flow_key *nk = realloc(s->keys, nc * sizeof(*nk));
        if (!nk)
            return;
        s->keys = nk;
        s->cap_keys = nc;
    }
    uint8_t *b = malloc(r->nlri_len ? r->nlri_len : 1);
    if (!b)
        return;
    memcpy(b, r->nlri, r->nlri_len);
    s->keys[s->n_keys++] = (flow_key){r->peer, r->nlri_len, b};
}

static uint16_t sort_afi;
static int key_cmp(const void *a, const void *b)
{
    const flow_key *x = a, *y = b;
    int c = mm_bgp_fs_cmp(sort_afi, x->nlri, x->len, y->nlri, y->len);
    return c ? c : (x->peer < y->peer ? -1 : x->peer > y->peer);
}

bgpd_rib_stream *bgpd_rib_stream_new(bgpd *d, json_t *req, char *err, size_t errlen)
{
    json_t *fam = json_object_get(req, "family"), *peer = json_object_get(req, "peer"),
           *pfx = json_object_get(req, "prefix"), *lim = json_object_get(req, "limit");
    int f = json_is_string(fam) ? bgpd_fam_parse(json_string_value(fam)) : BGPD_FLOW4;
    if (f < 0) {
        snprintf(err, errlen, "unknown family");
        return NULL;
    }
    if (lim && (!json_is_integer(lim) || json_integer_value(lim) < 0)) {
        snprintf(err, errlen, "limit must be a non-negative integer");
        return NULL;
    }
    bgpd_rib_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->d = d;
    s->fam = f;
    bgpd_fam_afisafi(f, &s->afi, &s->safi);
    s->peer = UINT32_MAX;
    s->has_limit = lim != NULL;
    s->limit = lim ? (uint64_t)json_integer_value(lim) : 0;
    if (peer) {
        int64_t id = json_is_string(peer) ? bgpd_peer_lookup(d, json_string_value(peer)) : -1;
        if (id < 0) {
            snprintf(err, errlen, "unknown peer");
            free(s);
            return NULL;
        }
        s->peer = (uint32_t)id;
    }
    if (pfx) {
        if (s->safi == MM_BGP_SAFI_FLOWSPEC) {
            snprintf(err, errlen, "prefix applies to the unicast families");
            free(s);
            return NULL;
        }
        if (!json_is_string(pfx) || mm_bgp_prefix_parse(json_string_value(pfx), &s->prefix) < 0 ||
            s->prefix.afi != s->afi) {
            snprintf(err, errlen, "prefix is not a prefix of the family");
            free(s);
            return NULL;
        }
        s->has_prefix = true;
    }
    if (s->safi == MM_BGP_SAFI_FLOWSPEC) {
        mm_bgp_rib_walk(bgpd_rib(d), s->peer, s->afi, s->safi, key_cb, s);
        sort_afi = s->afi;
        if (s->n_keys > 1) /* qsort of a NULL array is undefined, even for 0 elements */
            qsort(s->keys, s->n_keys, sizeof(*s->keys), key_cmp);
    }
    return s;
}

bool bgpd_rib_stream_fill(bgpd_rib_stream *s, struct evbuffer *out, size_t cap)
{
    s->out = out;
    if (!s->started) {
        evbuffer_add_printf(out, "{\"ok\":true,\"family\":\"%s\",\"routes\":[\n", bgpd_fam_name(s->fam));
        s->started = true;
    }
    bool flow = s->safi == MM_BGP_SAFI_FLOWSPEC;
    while (evbuffer_get_length(out) < cap && !s->truncated) {
        if (flow) {
            if (s->next_key >= s->n_keys)
                break;
            const flow_key *k = &s->keys[s->next_key++];
            const mm_bgp_route *r = mm_bgp_rib_get(bgpd_rib(s->d), k->peer, s->afi, s->safi, k->nlri, k->len);
            if (r)
                emit(s, r);
        } else {
            if (s->scan_done)
                break;
            s->cursor = mm_bgp_rib_scan(bgpd_rib(s->d), s->cursor, STREAM_BUCKETS, s->peer, s->afi,
                                        s->safi, scan_cb, s);
            s->scan_done = s->cursor == 0;
        }
    }
    bool done = s->truncated || (flow ? s->next_key >= s->n_keys : s->scan_done);
    if (done)
        evbuffer_add_printf(out, "\n],\"count\":%llu,\"truncated\":%s}\n", (unsigned long long)s->count,
                            s->truncated ? "true" : "false");
    s->out = NULL;
    return done;
}

void bgpd_rib_stream_free(bgpd_rib_stream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_keys; i++)
        free(s->keys[i].nlri);
    free(s->keys);
    free(s);
}
