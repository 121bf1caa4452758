/*
 * libFuzzer harness: a BMP byte stream (RFC 7854) framed and decoded as the
 * collector does it (mm_bmp_hdr_peek with the 1 MiB cap, mm_bmp_msg_decode_ap
 * with the stream's Add-Path state learned from its Peer Up / Peer Down),
 * every decoded message rendered to JSON Lines, which walks its statistics,
 * TLVs, OPENs and the BGP UPDATE of Route Monitoring (with path ids where the
 * Add-Path state says so).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>

#include "mamori/mm_bmp.h"
#include "mamori/mm_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_buf out;
    mm_buf_init(&out, 64u << 20);
    mm_bmp_json_ctx ctx = {.router = "fuzz", .router_port = 1};
    mm_bmp_addpath *ap = mm_bmp_addpath_new(16);
    if (!ap)
        abort();
    ctx.ap = ap; /* mirrored UPDATEs use it too */
    while (size > 0) {
        uint32_t len;
        uint8_t type;
        if (mm_bmp_hdr_peek(data, size, MM_BMP_DEFAULT_MAX_MSG, &len, &type) < 0 || len > size)
            break;
        mm_bmp_msg m;
        if (mm_bmp_msg_decode_ap(data, len, ap, &m) == 0) {
            int rc = mm_bmp_addpath_learn(ap, &m);
            if (rc < 0 && rc != MM_ELIMIT && rc != MM_EMALFORMED)
                abort();
            if (mm_bmp_json_render(&ctx, &m, &out) < 0)
                abort(); /* a decoded message always renders within the 64 MiB bound */
        } else if (!m.error) {
            abort(); /* every failure names its reason */
        }
        mm_buf_reset(&out);
        data += len;
        size -= len;
    }
    mm_buf_free(&out);
    mm_bmp_addpath_free(ap);
    return 0;
}
