/*
 * libFuzzer harness: RFC 6242 decoder. The first byte picks the mode and
 * the split size; the rest is pushed in pieces and drained. Every decoded
 * message is re-framed and decoded again (round trip must be identical).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_netconf.h"

static void roundtrip(enum mm_nc_framing mode, const char *msg, size_t len)
{
    mm_buf b;
    mm_buf_init(&b, len + 64);
    if (mm_nc_frame(mode, msg, len, &b) == 0) {
        mm_nc_framer f;
        mm_nc_framer_init(&f, 4096);
        mm_nc_framer_set_mode(&f, mode);
        const char *out;
        size_t olen;
        if (mm_nc_framer_push(&f, b.data, b.len) != 0 || mm_nc_framer_next(&f, &out, &olen) != 1 ||
            olen != len || memcmp(out, msg, len) != 0)
            abort();
        mm_nc_framer_free(&f);
    }
    mm_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum mm_nc_framing mode = data[0] & 1 ? MM_NC_FRAMING_CHUNKED : MM_NC_FRAMING_EOM;
    size_t split = (data[0] >> 1) + 1;
    data++;
    size--;
    mm_nc_framer f;
    mm_nc_framer_init(&f, 1024);
    mm_nc_framer_set_mode(&f, mode);
    int rc = 0;
    for (size_t off = 0; off < size && rc >= 0;) {
        size_t n = size - off < split ? size - off : split;
        rc = mm_nc_framer_push(&f, data + off, n);
        off += n;
        const char *msg;
        size_t len;
        while (rc >= 0 && (rc = mm_nc_framer_next(&f, &msg, &len)) == 1)
            roundtrip(mode, msg, len);
    }
    mm_nc_framer_free(&f);
    return 0;
}
