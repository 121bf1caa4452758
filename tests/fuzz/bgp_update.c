/*
 * libFuzzer harness: one BGP message (RFC 4271) decoded as an UPDATE with
 * each (as4, addpath) context; a decoded UPDATE is re-encoded and must
 * decode to the same spans, and every NLRI/FlowSpec list and attribute
 * renderer is walked.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_bgp.h"

static void walk(uint16_t afi, uint8_t safi, const uint8_t *p, size_t len, bool addpath, mm_buf *t)
{
    mm_cursor c;
    mm_cursor_init_read(&c, p, len);
    if (safi == MM_BGP_SAFI_FLOWSPEC) {
        const uint8_t *r;
        size_t rl;
        while (mm_bgp_flowspec_next(&c, &r, &rl) > 0)
            mm_bgp_flowspec_format(afi, r, rl, t);
        return;
    }
    mm_bgp_prefix pfx;
    char s[64];
    while (mm_bgp_nlri_next(&c, afi, addpath, &pfx) > 0)
        mm_bgp_prefix_format(&pfx, s, sizeof(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t again[MM_BGP_EXT_MAX_LEN + 64];
    for (int ctxi = 0; ctxi < 4; ctxi++) {
        bool as4 = ctxi & 1, addpath = ctxi & 2;
        mm_cursor c, body;
        mm_bgp_hdr h;
        mm_bgp_update u;
        mm_cursor_init_read(&c, data, size);
        if (mm_bgp_hdr_decode(&c, MM_BGP_EXT_MAX_LEN, &h, &body) < 0 || h.type != MM_BGP_UPDATE)
            return 0;
        if (mm_bgp_update_decode(&body, as4, addpath, &u) < 0)
            continue;
        mm_buf t;
        mm_buf_init(&t, 1u << 20);
        walk(1, 1, u.withdrawn, u.withdrawn_len, addpath, &t);
        walk(1, 1, u.nlri, u.nlri_len, addpath, &t);
        if (u.mp_reach.present)
            walk(u.mp_reach.afi, u.mp_reach.safi, u.mp_reach.nlri, u.mp_reach.nlri_len, addpath,
                 &t);
        if (u.mp_unreach.present)
            walk(u.mp_unreach.afi, u.mp_unreach.safi, u.mp_unreach.nlri, u.mp_unreach.nlri_len,
                 addpath, &t);
        for (size_t i = 0; i < u.n_attrs; i++) {
            const mm_bgp_attr *a = &u.attrs[i];
            mm_bgp_aspath_format(a->val, a->len, as4, &t);
            mm_bgp_communities_format(a->val, a->len, &t);
            mm_bgp_ext_communities_format(a->val, a->len, &t);
            mm_bgp_large_communities_format(a->val, a->len, &t);
            mm_buf_reset(&t);
        }
        mm_buf_free(&t);
        /* Round trip: re-encoding the kept attributes decodes to the same NLRI spans. */
        mm_cursor w;
        mm_cursor_init_write(&w, again, sizeof(again));
        if (mm_bgp_update_encode(&w, &u) == 0) {
            mm_bgp_update u2;
            mm_cursor c2, body2;
            mm_cursor_init_read(&c2, again, mm_cursor_offset(&w));
            if (mm_bgp_hdr_decode(&c2, MM_BGP_EXT_MAX_LEN, &h, &body2) < 0 ||
                mm_bgp_update_decode(&body2, as4, addpath, &u2) < 0 || u2.nlri_len != u.nlri_len ||
                u2.withdrawn_len != u.withdrawn_len || u2.n_attrs != u.n_attrs)
                abort();
        }
    }
    return 0;
}
