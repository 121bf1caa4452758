/*
 * libFuzzer harness: the DKIM tag-list parser (RFC 6376 3.2), strict base64
 * and the DKIM-Signature tag table. Byte 0 picks the target. Invariants: every
 * parsed span lies inside the input; base64 decode/encode/decode is stable.
 * MM_FUZZ_VERBOSE=1 prints each outcome (to show the seeds reach the parser).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_int.h"

static void say(const char *what, int rc, const char *why)
{
    if (getenv("MM_FUZZ_VERBOSE"))
        fprintf(stderr, "%s rc=%d %s\n", what, rc, why ? why : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 3;
    data++;
    size--;
    if (mode == 0) {
        mm_dkim_taglist tl;
        int rc = mm_dkim_taglist_parse(&tl, data, size);
        for (size_t i = 0; rc == 0 && i < tl.n; i++)
            if (tl.tag[i].name_off + tl.tag[i].name_len > size ||
                tl.tag[i].value_off + tl.tag[i].value_len > size || tl.tag[i].name_len == 0)
                abort();
        if (rc != 0 && tl.err_off > size)
            abort();
        say("taglist", rc, rc ? mm_dkim_tag_strerror(tl.err) : NULL);
    } else if (mode == 1) {
        uint8_t out[4096], again[4096];
        size_t n, m;
        int rc = mm_dkim_b64_decode(data, size, out, sizeof(out), &n);
        if (rc == 0) {
            mm_buf b;
            mm_buf_init(&b, 8192);
            if (mm_dkim_b64_encode(&b, out, n) != 0 ||
                mm_dkim_b64_decode(b.data, b.len, again, sizeof(again), &m) != 0 || m != n ||
                memcmp(out, again, n) != 0)
                abort();
            mm_buf_free(&b);
        }
        say("base64", rc, NULL);
    } else {
        mm_dkim_msg msg;
        mm_dkim_msg_init(&msg);
        mm_buf f;
        mm_buf_init(&f, size + 32);
        mm_buf_append_str(&f, "DKIM-Signature:");
        mm_buf_append(&f, data, size);
        int rc = mm_dkim_msg_add(&msg, f.data, f.len);
        const char *why = "field rejected";
        if (rc == 0) {
            dkim_sig s;
            rc = dkim_sig_parse(&msg.f[0], &s, &why);
            if (rc == 0 && (s.bdel_start > s.bdel_end || s.bdel_end > msg.f[0].len || s.nh == 0))
                abort();
        }
        say("signature", rc, rc ? why : "parsed");
        mm_buf_free(&f);
        mm_dkim_msg_free(&msg);
    }
    return 0;
}
