/*
 * rib.c - Adj-RIB-In per peer and locally originated routes in one
 * chained hash (FNV-1a over AFI, SAFI and the NLRI bytes; the peer is part
 * of the equality, not of the hash, so every copy of an NLRI shares a
 * chain and the Loc-RIB choice is a walk of one chain). It grows by
 * doubling when the load passes 1, so a full table stays O(1) per update.
 *
 * Memory: a route is one block (the entry with its NLRI bytes behind it),
 * carved from 2 MiB slabs by size class (8-byte steps up to 64 NLRI bytes,
 * a free list per class; longer FlowSpec rules use malloc): a full table is
 * a million small entries, and malloc would add a call and ~16 bytes of
 * header and rounding to each. Its attributes (extended communities, AS_PATH text) live in a
 * reference-counted set shared by every route that has the same ones - a
 * full table has few distinct sets. A one-entry cache makes the common
 * case (many prefixes of one UPDATE) a single comparison.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mamori/mm_bgp_speaker.h"
#include "mamori/mm_core.h"

typedef struct attrset {
    struct attrset *next;
    uint64_t hash;
    uint32_t refs;
    uint16_t ecomm_len;
    uint16_t aspath_len;
    uint8_t data[];       /* ecomm bytes, then the AS_PATH text and its NUL */
} attrset;

/* Slab allocator for route entries (see the header comment). */
#define SLAB_ALLOC (2u << 20)
#define SLAB_BYTES (SLAB_ALLOC - sizeof(slab))
#define SLAB_NLRI_MAX 64u
#define SLAB_CLASSES (SLAB_NLRI_MAX / 8 + 1)
typedef struct slab {
    struct slab *next;
    size_t used;
    uint8_t mem[];
} slab;

struct mm_bgp_rib {
    slab *slabs;
    void *freel[SLAB_CLASSES];
    mm_bgp_route **b;
    size_t nb;   /* power of two */
    size_t n;
    attrset **ab; /* interned attribute sets */
    size_t anb, an;
    attrset *last;
};

/* Bucket arrays: anonymous mappings (zero pages until touched, so a small RIB
 * costs only the pages its buckets land in). */
static mm_bgp_route **buckets_alloc(size_t n)
{
    void *p = mmap(NULL, n * sizeof(mm_bgp_route *), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    return p;
}

static void buckets_free(mm_bgp_route **b, size_t n)
{
    if (b)
        munmap(b, n * sizeof(mm_bgp_route *));
}

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
    if (!r || !(r->b = buckets_alloc((size_t)1 << buckets_log2)) ||
        !(r->ab = calloc(256, sizeof(*r->ab)))) {
        if (r)
            buckets_free(r->b, (size_t)1 << buckets_log2);
        free(r);
        return MM_ENOMEM;
    }
    r->nb = (size_t)1 << buckets_log2;
    r->anb = 256;
    *out = r;
    return 0;
}

static uint64_t attr_hash(const uint8_t *ec, size_t el, const char *ap, size_t al)
{
    uint64_t h = hash(0, 0, ec, el);
    for (size_t i = 0; i < al; i++)
        h = (h ^ (uint8_t)ap[i]) * 1099511628211ull;
    return h;
}

static bool attr_same(const attrset *a, uint64_t h, const uint8_t *ec, size_t el, const char *ap,
                      size_t al)
{
    return a->hash == h && a->ecomm_len == el && a->aspath_len == al &&
           (el == 0 || memcmp(a->data, ec, el) == 0) && (al == 0 || memcmp(a->data + el, ap, al) == 0);
}

static attrset *attr_get(mm_bgp_rib *rib, const uint8_t *ec, size_t el, const char *ap)
{
    size_t al = ap ? strlen(ap) : 0;
    if (el > 0xffff || al > 0xffff)
        return NULL;
    uint64_t h = attr_hash(ec, el, ap, al);
    if (rib->last && attr_same(rib->last, h, ec, el, ap, al)) {
        rib->last->refs++;
        return rib->last;
    }
    attrset **s = &rib->ab[h & (rib->anb - 1)];
    for (attrset *a = *s; a; a = a->next)
        if (attr_same(a, h, ec, el, ap, al)) {
            a->refs++;
            return rib->last = a;
        }
    attrset *a = malloc(sizeof(*a) + el + al + 1);
    if (!a)
        return NULL;
    a->hash = h;
    a->refs = 1;
    a->ecomm_len = (uint16_t)el;
    a->aspath_len = (uint16_t)al;
    if (el)
        memcpy(a->data, ec, el);
    if (al)
        memcpy(a->data + el, ap, al);
    a->data[el + al] = 0;
    a->next = *s;
    *s = a;
    rib->an++;
    if (rib->an > rib->anb) { /* grow the attribute table too */
        size_t nn = rib->anb * 2;
        attrset **nbk = calloc(nn, sizeof(*nbk));
        if (nbk) {
            for (size_t i = 0; i < rib->anb; i++)
                for (attrset *x = rib->ab[i], *nx; x; x = nx) {
                    nx = x->next;
                    attrset **t = &nbk[x->hash & (nn - 1)];
                    x->next = *t;
                    *t = x;
                }
            free(rib->ab);
            rib->ab = nbk;
            rib->anb = nn;
        }
    }
    return rib->last = a;
}

static void attr_put(mm_bgp_rib *rib, attrset *a)
{
    if (!a || --a->refs)
        return;
    for (attrset **pp = &rib->ab[a->hash & (rib->anb - 1)]; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    if (rib->last == a)
        rib->last = NULL;
    rib->an--;
    free(a);
}

static void route_set_attrs(mm_bgp_route *e, attrset *a)
{
    e->attrs = a;
    e->ecomm = a->data;
    e->ecomm_len = a->ecomm_len;
    e->aspath = (char *)a->data + a->ecomm_len;
}

static size_t route_size(size_t nlri_len, size_t *cls)
{
    *cls = (nlri_len + 7) / 8;
    return sizeof(mm_bgp_route) + *cls * 8;
}

static mm_bgp_route *route_alloc(mm_bgp_rib *rib, size_t nlri_len)
{
    if (nlri_len > SLAB_NLRI_MAX)
        return malloc(sizeof(mm_bgp_route) + nlri_len);
    size_t cls, sz = route_size(nlri_len, &cls);
    void *e = rib->freel[cls];
    if (e) {
        memcpy(&rib->freel[cls], e, sizeof(void *));
        return e;
    }
    if (!rib->slabs || SLAB_BYTES - rib->slabs->used < sz) {
        /* No MADV_HUGEPAGE: measured, the kernel's direct compaction on the
         * faults cost more system time than the TLB saved in user time. */
        slab *sl = malloc(SLAB_ALLOC);
        if (!sl)
            return NULL;
        sl->used = 0;
        sl->next = rib->slabs;
        rib->slabs = sl;
    }
    e = rib->slabs->mem + rib->slabs->used;
    rib->slabs->used += sz;
    return e;
}

static void route_free(mm_bgp_rib *rib, mm_bgp_route *e)
{
    attr_put(rib, e->attrs);
    if (e->nlri_len > SLAB_NLRI_MAX) {
        free(e);
        return;
    }
    size_t cls;
    (void)route_size(e->nlri_len, &cls);
    memcpy(e, &rib->freel[cls], sizeof(void *));
    rib->freel[cls] = e;
}

void mm_bgp_rib_free(mm_bgp_rib *rib)
{
    if (!rib)
        return;
    for (size_t i = 0; i < rib->nb; i++)
        for (mm_bgp_route *e = rib->b[i], *nx; e; e = nx) {
            nx = e->next;
            attr_put(rib, e->attrs);
            if (e->nlri_len > SLAB_NLRI_MAX)
                free(e);
        }
    for (slab *sl = rib->slabs, *nx; sl; sl = nx) {
        nx = sl->next;
        free(sl);
    }
    buckets_free(rib->b, rib->nb);
    free(rib->ab);
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

void mm_bgp_rib_prefetch(const mm_bgp_rib *rib, uint16_t afi, uint8_t safi, const uint8_t *nlri,
                         size_t nlri_len, int stage)
{
    mm_bgp_route **s = slot(rib, afi, safi, nlri, nlri_len);
    if (stage == 0)
        __builtin_prefetch(s, 0, 1);
    else if (*s)
        __builtin_prefetch(*s, 0, 1);
}

static void grow(mm_bgp_rib *rib)
{
    size_t nnb = rib->nb * 2;
    mm_bgp_route **nbk = buckets_alloc(nnb);
    if (!nbk)
        return; /* keep working with longer chains */
    for (size_t i = 0; i < rib->nb; i++)
        for (mm_bgp_route *e = rib->b[i], *nx; e; e = nx) {
            nx = e->next;
            mm_bgp_route **s = &nbk[hash(e->afi, e->safi, e->nlri, e->nlri_len) & (nnb - 1)];
            e->next = *s;
            *s = e;
        }
    buckets_free(rib->b, rib->nb);
    rib->b = nbk;
    rib->nb = nnb;
}

int mm_bgp_rib_add(mm_bgp_rib *rib, const mm_bgp_route *r, bool *replaced)
{
    mm_bgp_route **s = slot(rib, r->afi, r->safi, r->nlri, r->nlri_len);
    mm_bgp_route *e = *s;
    while (e && !(e->peer == r->peer && same_key(e, r->afi, r->safi, r->nlri, r->nlri_len)))
        e = e->next;
    attrset *a = attr_get(rib, r->ecomm, r->ecomm ? r->ecomm_len : 0, r->aspath);
    if (!a)
        return MM_ENOMEM;
    if (replaced)
        *replaced = e != NULL;
    if (!e) {
        /* One block: the entry, then its NLRI bytes. */
        e = route_alloc(rib, r->nlri_len);
        if (!e) {
            attr_put(rib, a);
            return MM_ENOMEM;
        }
        memset(e, 0, sizeof(*e));
        e->peer = r->peer;
        e->afi = r->afi;
        e->safi = r->safi;
        e->nlri = (uint8_t *)(e + 1);
        memcpy(e->nlri, r->nlri, r->nlri_len);
        e->nlri_len = r->nlri_len;
        e->next = *s;
        *s = e;
        rib->n++;
    } else {
        attr_put(rib, e->attrs);
    }
    route_set_attrs(e, a);
    e->origin = r->origin;
    e->valid = r->valid;
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
            route_free(rib, e);
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

/* Bit reversal: bytes swapped, then nibbles, pairs and bits within each byte. */
static uint64_t rev64(uint64_t v)
{
    v = __builtin_bswap64(v);
    v = (v & 0x0f0f0f0f0f0f0f0fULL) << 4 | (v >> 4 & 0x0f0f0f0f0f0f0f0fULL);
    v = (v & 0x3333333333333333ULL) << 2 | (v >> 2 & 0x3333333333333333ULL);
    v = (v & 0x5555555555555555ULL) << 1 | (v >> 1 & 0x5555555555555555ULL);
    return v;
}

uint64_t mm_bgp_rib_scan(const mm_bgp_rib *rib, uint64_t cursor, size_t max_buckets, uint32_t peer,
                         uint16_t afi, uint8_t safi, mm_bgp_rib_cb cb, void *arg)
{
    uint64_t mask = rib->nb - 1, v = cursor;
    for (size_t k = 0; k < max_buckets; k++) {
        for (const mm_bgp_route *e = rib->b[v & mask]; e; e = e->next)
            if ((peer == UINT32_MAX || e->peer == peer) && (!afi || (e->afi == afi && e->safi == safi)))
                cb(arg, e);
        /* Add one to the bit-reversed index (the unused high bits set so the
         * carry runs through them): the high bits of the index change first. */
        v |= ~mask;
        v = rev64(rev64(v) + 1);
        if (v == 0)
            return 0;
    }
    return v;
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
            route_free(rib, e);
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
