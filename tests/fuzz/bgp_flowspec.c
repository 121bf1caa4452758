/*
 * libFuzzer harness: FlowSpec NLRI (RFC 8955/8956). Byte 0 selects the AFI
 * (even IPv4, odd IPv6); the rest is an NLRI list. Every rule the framing
 * delimits is decoded strictly; a valid rule must re-encode to the same
 * bytes, compare equal to itself and consistently (§5.1) with the previous
 * one, and render as text.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_bgp_speaker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint16_t afi = (data[0] & 1) ? MM_BGP_AFI_IPV6 : MM_BGP_AFI_IPV4;
    mm_cursor c;
    mm_cursor_init_read(&c, data + 1, size - 1);
    const uint8_t *r, *prev = NULL;
    size_t rl, prev_len = 0;
    static mm_bgp_fs_rule rule;
    static uint8_t enc[MM_BGP_FS_MAX_LEN + 16];
    while (mm_bgp_flowspec_next(&c, &r, &rl) > 0) {
        const char *why = NULL;
        if (mm_bgp_fs_decode(afi, r, rl, &rule, &why) < 0) {
            if (!why)
                abort();
            continue;
        }
        mm_cursor w;
        mm_cursor_init_write(&w, enc, sizeof(enc));
        if (mm_bgp_fs_encode(&rule, &w) < 0 || mm_cursor_offset(&w) != rl ||
            memcmp(enc, r, rl) != 0) {
            /* Non-canonical padding bits in a prefix re-encode as zeros: only then may they differ. */
            mm_bgp_fs_rule again;
            if (mm_bgp_fs_decode(afi, enc, mm_cursor_offset(&w), &again, &why) < 0)
                abort();
        }
        if (mm_bgp_fs_cmp(afi, r, rl, r, rl) != 0)
            abort();
        if (prev) {
            int a = mm_bgp_fs_cmp(afi, r, rl, prev, prev_len);
            int b = mm_bgp_fs_cmp(afi, prev, prev_len, r, rl);
            if ((a < 0) != (b > 0) || (a == 0) != (b == 0))
                abort();
        }
        prev = r;
        prev_len = rl;
        mm_buf t;
        mm_buf_init(&t, 1u << 16);
        mm_bgp_flowspec_format(afi, r, rl, &t);
        mm_buf_free(&t);
    }
    return 0;
}
