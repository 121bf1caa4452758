/*
 * bmp_addpath.c - which monitored peers' UPDATEs carry RFC 7911 path
 * identifiers, learned from the two OPENs of each Peer Up (RFC 7854 §4.10).
 *
 * RFC 7911 §4/§5: NLRI of an AFI/SAFI carry a Path Identifier on the wire
 * from A to B when A advertised "send" (bit 2) and B "receive" (bit 1) for
 * that AFI/SAFI in the Add-Path capability (code 69) of their OPENs. In BMP
 * the Sent OPEN is the monitored router's and the Received OPEN the peer's,
 * so:
 *   - Adj-RIB-In (pre or post policy): the UPDATEs as received from the
 *     peer, path ids iff Received OPEN sends and Sent OPEN receives;
 *   - Adj-RIB-Out (RFC 8671, O flag): the UPDATEs as sent to the peer, path
 *     ids iff Sent OPEN sends and Received OPEN receives;
 *   - Loc-RIB (RFC 9069, peer type 3): the router fabricates both OPENs
 *     (§5.3) to describe how it encodes its Loc-RIB; path ids iff either
 *     OPEN announces Add-Path for the AFI/SAFI.
 * A Peer Down forgets the peer. The table is bounded per router.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_bmp.h"
#include "mamori/mm_core.h"

#define AP_MAX_AFS 16

/* RFC 7911 §4 Send/Receive field. */
#define AP_RECEIVE 0x1
#define AP_SEND 0x2

struct ap_peer {
    uint8_t type;
    uint8_t rd[8];
    uint8_t addr[16];
    uint8_t n;
    struct {
        uint16_t afi;
        uint8_t safi;
        bool in, out;
    } af[AP_MAX_AFS];
};

struct mm_bmp_addpath {
    struct ap_peer *peers;
    size_t n, cap, max;
};

mm_bmp_addpath *mm_bmp_addpath_new(size_t max_peers)
{
    mm_bmp_addpath *a = calloc(1, sizeof(*a));
    if (a)
        a->max = max_peers ? max_peers : MM_BMP_ADDPATH_MAX_PEERS;
    return a;
}

void mm_bmp_addpath_free(mm_bmp_addpath *a)
{
    if (!a)
        return;
    free(a->peers);
    free(a);
}

size_t mm_bmp_addpath_count(const mm_bmp_addpath *a)
{
    return a ? a->n : 0;
}

static bool same_peer(const struct ap_peer *e, const mm_bmp_peer_hdr *p)
{
    return e->type == p->type && !memcmp(e->rd, p->rd, 8) && !memcmp(e->addr, p->addr, 16);
}

static struct ap_peer *find(const mm_bmp_addpath *a, const mm_bmp_peer_hdr *p)
{
    for (size_t i = 0; i < a->n; i++)
        if (same_peer(&a->peers[i], p))
            return &a->peers[i];
    return NULL;
}

/* The Send/Receive value an OPEN announces for afi/safi (0 if none). */
static uint8_t open_addpath(const mm_bgp_open *o, uint16_t afi, uint8_t safi)
{
    for (size_t i = 0; i < o->n_caps; i++) {
        if (o->caps[i].code != MM_BGP_CAP_ADDPATH)
            continue;
        mm_cursor c;
        mm_cursor_init_read(&c, o->caps[i].val, o->caps[i].len);
        while (mm_cursor_remaining(&c) >= 4) {
            uint16_t a = mm_cursor_read_u16(&c);
            uint8_t s = mm_cursor_read_u8(&c);
            uint8_t sr = mm_cursor_read_u8(&c);
            if (a == afi && s == safi)
                return sr & (AP_SEND | AP_RECEIVE);
        }
    }
    return 0;
}

static int open_decode(const uint8_t *pdu, size_t len, mm_bgp_open *o)
{
    mm_cursor c, body;
    mm_bgp_hdr h;
    mm_cursor_init_read(&c, pdu, len);
    MM_GUARD(mm_bgp_hdr_decode(&c, MM_BGP_EXT_MAX_LEN, &h, &body));
    return mm_bgp_open_decode(&body, o);
}

/* Every (AFI, SAFI) either OPEN names in an Add-Path capability, with both directions. */
static void peer_fill(struct ap_peer *e, const mm_bgp_open *sent, const mm_bgp_open *recv,
                      bool locrib)
{
    const mm_bgp_open *opens[2] = {sent, recv};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < opens[k]->n_caps; i++) {
            if (opens[k]->caps[i].code != MM_BGP_CAP_ADDPATH)
                continue;
            mm_cursor c;
            mm_cursor_init_read(&c, opens[k]->caps[i].val, opens[k]->caps[i].len);
            while (mm_cursor_remaining(&c) >= 4 && e->n < AP_MAX_AFS) {
                uint16_t afi = mm_cursor_read_u16(&c);
                uint8_t safi = mm_cursor_read_u8(&c);
                mm_cursor_skip(&c, 1);
                bool dup = false;
                for (size_t j = 0; j < e->n && !dup; j++)
                    dup = e->af[j].afi == afi && e->af[j].safi == safi;
                if (dup)
                    continue;
                uint8_t s = open_addpath(sent, afi, safi), r = open_addpath(recv, afi, safi);
                e->af[e->n].afi = afi;
                e->af[e->n].safi = safi;
                if (locrib) {
                    e->af[e->n].in = e->af[e->n].out = (s | r) != 0;
                } else {
                    e->af[e->n].in = (r & AP_SEND) && (s & AP_RECEIVE);
                    e->af[e->n].out = (s & AP_SEND) && (r & AP_RECEIVE);
                }
                e->n++;
            }
        }
}

static void forget(mm_bmp_addpath *a, const mm_bmp_peer_hdr *p)
{
    struct ap_peer *e = find(a, p);
    if (e)
        *e = a->peers[--a->n];
}

int mm_bmp_addpath_learn(mm_bmp_addpath *a, const mm_bmp_msg *m)
{
    if (m->type == MM_BMP_PEER_DOWN) {
        forget(a, &m->peer);
        return 0;
    }
    if (m->type != MM_BMP_PEER_UP)
        return 0;
    /* A new Peer Up replaces what an earlier one said (no Peer Down in between). */
    forget(a, &m->peer);
    mm_bgp_open sent, recv;
    if (open_decode(m->open_sent, m->open_sent_len, &sent) < 0 ||
        open_decode(m->open_recv, m->open_recv_len, &recv) < 0)
        return MM_EMALFORMED;
    struct ap_peer e;
    memset(&e, 0, sizeof(e));
    e.type = m->peer.type;
    memcpy(e.rd, m->peer.rd, 8);
    memcpy(e.addr, m->peer.addr, 16);
    peer_fill(&e, &sent, &recv, m->peer.type == MM_BMP_PEER_LOC_RIB);
    bool any = false;
    for (size_t i = 0; i < e.n; i++)
        any = any || e.af[i].in || e.af[i].out;
    if (!any)
        return 0; /* nothing to remember: the default is no path ids */
    if (a->n == a->max)
        return MM_ELIMIT;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        if (cap > a->max)
            cap = a->max;
        struct ap_peer *np = realloc(a->peers, cap * sizeof(*np));
        if (!np)
            return MM_ENOMEM;
        a->peers = np;
        a->cap = cap;
    }
    a->peers[a->n++] = e;
    return 0;
}

bool mm_bmp_addpath_get(const mm_bmp_addpath *a, const mm_bmp_peer_hdr *p, uint16_t afi,
                        uint8_t safi)
{
    if (!a || a->n == 0)
        return false;
    const struct ap_peer *e = find(a, p);
    if (!e)
        return false;
    bool out = mm_bmp_peer_is_out(p);
    for (size_t i = 0; i < e->n; i++)
        if (e->af[i].afi == afi && e->af[i].safi == safi)
            return out ? e->af[i].out : e->af[i].in;
    return false;
}
