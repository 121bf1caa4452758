/*
 * rib.c - Adj-RIB-In per peer and locally originated routes in one
 * chained hash (FNV-1a over AFI, SAFI and the NLRI bytes; the peer is part
 * of the equality, not of the hash, so every copy of an NLRI shares a
 * chain and the Loc-RIB choice is a walk of one chain). It grows by
 * doubling when the load passes 1, so a full table stays O(1) per update.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_bgp_speaker.h"
#include "mamori/mm_core.h"

struct mm_bgp_rib {
    mm_bgp_route **b;
    size_t nb;   /* power of two */
    size_t n;
};

static uint64_t hash(uint16_t afi, uint8_t safi, const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    h = (h ^ afi) * 1099511628211ull;
    h = (h ^ safi) * 1099511628211ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

int mm_bgp_rib_new(size_t buckets_log2, mm_bgp_rib **out)
{
    if (buckets_log2 < 4 || buckets_log2 > 28)
        return MM_EINVAL;
    mm_bgp_rib *r = calloc(1, sizeof(*r));
    if (!r || !(r->b = calloc((size_t)1 << buckets_log2, sizeof(*r->b)))) {
        free(r);
        return MM_ENOMEM;
    }
    r->nb = (size_t)1 << buckets_log2;
    *out = r;
    return 0;
}

static void route_free(mm_bgp_route *e)
{
    free(e->nlri);
    free(e->ecomm);
    free(e->aspath);
    free(e);
}

void mm_bgp_rib_free(mm_bgp_rib *rib)
{
    if (!rib)
        return;
    for (size_t i = 0; i < rib->nb; i++)
        for (mm_bgp_route *e = rib->b[i], *nx; e; e = nx) {
            nx = e->next;
            route_free(e);
        }
    free(rib->b);
    free(rib);
}

static bool same_key(const mm_bgp_route *e, uint16_t afi, uint8_t safi, const uint8_t *nlri, size_t n)
{
    return e->afi == afi && e->safi == safi && e->nlri_len == n && memcmp(e->nlri, nlri, n) == 0;
}

static mm_bgp_route **slot(const mm_bgp_rib *rib, uint16_t afi, uint8_t safi, const uint8_t *nlri,
                           size_t n)
{
    return &rib->b[hash(afi, safi, nlri, n) & (rib->nb - 1)];
}

static void grow(mm_bgp_rib *rib)
{
    size_t nnb = rib->nb * 2;
    mm_bgp_route **nbk = calloc(nnb, sizeof(*nbk));
    if (!nbk)
        return; /* keep working with longer chains */
    for (size_t i = 0; i < rib->nb; i++)
        for (mm_bgp_route *e = rib->b[i], *nx; e; e = nx) {
            nx = e->next;
            mm_bgp_route **s = &nbk[hash(e->afi, e->safi, e->nlri, e->nlri_len) & (nnb - 1)];
            e->next = *s;
            *s = e;
        }
    free(rib->b);
    rib->b = nbk;
    rib->nb = nnb;
}

static void *dup_bytes(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

int mm_bgp_rib_add(mm_bgp_rib *rib, const mm_bgp_route *r, bool *replaced)
{
    mm_bgp_route **s = slot(rib, r->afi, r->safi, r->nlri, r->nlri_len);
    mm_bgp_route *e = *s;
    while (e && !(e->peer == r->peer && same_key(e, r->afi, r->safi, r->nlri, r->nlri_len)))
        e = e->next;
    uint8_t *ec = dup_bytes(r->ecomm, r->ecomm_len);
    char *ap = r->aspath ? strdup(r->aspath) : NULL;
    if (!ec || (r->aspath && !ap)) {
        free(ec);
        free(ap);
        return MM_ENOMEM;
    }
    if (replaced)
        *replaced = e != NULL;
    if (!e) {
        e = calloc(1, sizeof(*e));
        uint8_t *nl = dup_bytes(r->nlri, r->nlri_len);
        if (!e || !nl) {
            free(e);
            free(nl);
            free(ec);
            free(ap);
            return MM_ENOMEM;
        }
        e->peer = r->peer;
        e->afi = r->afi;
        e->safi = r->safi;
        e->nlri = nl;
        e->nlri_len = r->nlri_len;
        e->next = *s;
        *s = e;
        rib->n++;
    } else {
        free(e->ecomm);
        free(e->aspath);
    }
    e->ecomm = ec;
    e->ecomm_len = r->ecomm_len;
    e->aspath = ap;
    e->origin = r->origin;
    e->valid = r->valid;
    e->since_ms = mm_monotonic_ms();
    if (rib->n > rib->nb)
        grow(rib);
    return 0;
}

int mm_bgp_rib_del(mm_bgp_rib *rib, uint32_t peer, uint16_t afi, uint8_t safi, const uint8_t *nlri,
                   size_t nlri_len)
{
    for (mm_bgp_route **pp = slot(rib, afi, safi, nlri, nlri_len); *pp; pp = &(*pp)->next) {
        mm_bgp_route *e = *pp;
        if (e->peer == peer && same_key(e, afi, safi, nlri, nlri_len)) {
            *pp = e->next;
            route_free(e);
            rib->n--;
            return 0;
        }
    }
    return MM_ENOENT;
}

const mm_bgp_route *mm_bgp_rib_get(const mm_bgp_rib *rib, uint32_t peer, uint16_t afi, uint8_t safi,
                                   const uint8_t *nlri, size_t nlri_len)
{
    for (mm_bgp_route *e = *slot(rib, afi, safi, nlri, nlri_len); e; e = e->next)
        if (e->peer == peer && same_key(e, afi, safi, nlri, nlri_len))
            return e;
    return NULL;
}

size_t mm_bgp_rib_count(const mm_bgp_rib *rib, uint32_t peer, uint16_t afi, uint8_t safi)
{
    size_t n = 0;
    for (size_t i = 0; i < rib->nb; i++)
        for (const mm_bgp_route *e = rib->b[i]; e; e = e->next)
            n += e->peer == peer && e->afi == afi && e->safi == safi;
    return n;
}

void mm_bgp_rib_walk(const mm_bgp_rib *rib, uint32_t peer, uint16_t afi, uint8_t safi,
                     mm_bgp_rib_cb cb, void *arg)
{
    for (size_t i = 0; i < rib->nb; i++)
        for (const mm_bgp_route *e = rib->b[i]; e; e = e->next)
            if ((peer == UINT32_MAX || e->peer == peer) && (!afi || (e->afi == afi && e->safi == safi)))
                cb(arg, e);
}

size_t mm_bgp_rib_flush_peer(mm_bgp_rib *rib, uint32_t peer, mm_bgp_rib_cb cb, void *arg)
{
    size_t n = 0;
    for (size_t i = 0; i < rib->nb; i++)
        for (mm_bgp_route **pp = &rib->b[i]; *pp;) {
            mm_bgp_route *e = *pp;
            if (e->peer != peer) {
                pp = &e->next;
                continue;
            }
            if (cb)
                cb(arg, e);
            *pp = e->next;
            route_free(e);
            rib->n--;
            n++;
        }
    return n;
}

bool mm_bgp_rib_is_best(const mm_bgp_rib *rib, const mm_bgp_route *r)
{
    if (!r->valid)
        return false;
    for (const mm_bgp_route *e = *slot(rib, r->afi, r->safi, r->nlri, r->nlri_len); e; e = e->next)
        if (e != r && e->valid && e->peer < r->peer && same_key(e, r->afi, r->safi, r->nlri, r->nlri_len))
            return false;
    return true;
}

size_t mm_bgp_rib_prefix_key(const mm_bgp_prefix *p, uint8_t out[17])
{
    size_t nb = ((size_t)p->len + 7) / 8;
    out[0] = p->len;
    memcpy(out + 1, p->addr, nb);
    return 1 + nb;
}

const mm_bgp_route *mm_bgp_rib_lookup(const mm_bgp_rib *rib, const mm_bgp_prefix *p)
{
    unsigned maxlen = p->afi == MM_BGP_AFI_IPV6 ? 128 : 32;
    for (int len = p->len > maxlen ? (int)maxlen : p->len; len >= 0; len--) {
        mm_bgp_prefix q = *p;
        q.len = (uint8_t)len;
        memset(q.addr, 0, sizeof(q.addr));
        for (int b = 0; b < len; b++)
            if (p->addr[b / 8] & (0x80 >> (b % 8)))
                q.addr[b / 8] |= (uint8_t)(0x80 >> (b % 8));
        uint8_t key[17];
        size_t kl = mm_bgp_rib_prefix_key(&q, key);
        const mm_bgp_route *best = NULL;
        for (const mm_bgp_route *e = *slot(rib, p->afi, MM_BGP_SAFI_UNICAST, key, kl); e; e = e->next)
            if (same_key(e, p->afi, MM_BGP_SAFI_UNICAST, key, kl) && (!best || e->peer < best->peer))
                best = e;
        if (best)
            return best;
    }
    return NULL;
}

size_t mm_bgp_rib_size(const mm_bgp_rib *rib) { return rib->n; }
