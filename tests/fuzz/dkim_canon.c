/*
 * libFuzzer harness: header splitting and canonicalization (RFC 6376 3.4).
 * Byte 0 gives a chunk size. Invariants: chunked body canonicalization equals
 * the one-shot result (both algorithms); relaxed body canonicalization is
 * idempotent; relaxed header output never contains CR, LF or a double space; the streaming
 * result equals a plain whole-buffer reference written from RFC 6376 3.4.3/3.4.4.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_dkim.h"

static void sink(void *arg, const uint8_t *p, size_t n) { mm_buf_append(arg, p, n); }

static void canon(enum mm_dkim_canon c, const uint8_t *p, size_t n, size_t chunk, mm_buf *out)
{
    mm_dkim_body b;
    mm_dkim_body_init(&b, c, sink, out);
    for (size_t i = 0; i < n; i += chunk)
        mm_dkim_body_update(&b, p + i, n - i < chunk ? n - i : chunk);
    mm_dkim_body_final(&b);
}

/* Reference: split at LF (a CR right before it belongs to the line end), fix each line,
 * drop trailing empty lines, end with CRLF (simple: an empty body is one CRLF). */
static void reference(enum mm_dkim_canon c, const uint8_t *p, size_t n, mm_buf *out)
{
    size_t keep = 0; /* length of out up to the last non-empty line */
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && p[e] != '\n')
            e++;
        size_t le = e;
        if (e < n && le > i && p[le - 1] == '\r')
            le--;
        size_t start = out->len;
        if (c == MM_DKIM_SIMPLE) {
            mm_buf_append(out, p + i, le - i);
        } else {
            bool ws = false;
            for (size_t k = i; k < le; k++) {
                if (p[k] == ' ' || p[k] == '\t') {
                    ws = true;
                    continue;
                }
                if (ws)
                    mm_buf_append(out, " ", 1);
                ws = false;
                mm_buf_append(out, p + k, 1);
            }
        }
        bool empty = out->len == start;
        mm_buf_append(out, "\r\n", 2);
        if (!empty)
            keep = out->len;
        i = e + 1;
    }
    out->len = keep;
    if (c == MM_DKIM_SIMPLE && out->len == 0)
        mm_buf_append(out, "\r\n", 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)data[0] % 17 + 1;
    data++;
    size--;
    mm_dkim_msg m;
    mm_dkim_msg_init(&m);
    size_t body = size;
    int rc = mm_dkim_msg_parse(&m, data, size, &body);
    if (rc == 0) {
        mm_buf h;
        mm_buf_init(&h, 4 << 20);
        for (size_t i = 0; i < m.n; i++) {
            mm_buf_reset(&h);
            if (mm_dkim_canon_header(MM_DKIM_RELAXED, m.f[i].raw, m.f[i].len, false, &h) == 0)
                for (size_t k = 0; k < h.len; k++)
                    if (h.data[k] == '\r' || h.data[k] == '\n' ||
                        (k && h.data[k] == ' ' && h.data[k - 1] == ' '))
                        abort();
            mm_buf_reset(&h);
            mm_dkim_canon_header(MM_DKIM_SIMPLE, m.f[i].raw, m.f[i].len, true, &h);
        }
        mm_buf_free(&h);
    } else {
        body = 0; /* canonicalize the whole input as a body */
    }
    for (int c = 0; c < 2; c++) {
        mm_buf a, b, again;
        mm_buf_init(&a, 4 << 20);
        mm_buf_init(&b, 4 << 20);
        mm_buf_init(&again, 4 << 20);
        canon((enum mm_dkim_canon)c, data + body, size - body, size + 1, &a);
        canon((enum mm_dkim_canon)c, data + body, size - body, chunk, &b);
        if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
            abort();
        mm_buf_reset(&again);
        reference((enum mm_dkim_canon)c, data + body, size - body, &again);
        if (again.len != a.len || (a.len && memcmp(a.data, again.data, a.len) != 0))
            abort();
        mm_buf_reset(&again);
        if (c == MM_DKIM_RELAXED) {
            canon(MM_DKIM_RELAXED, a.data, a.len, chunk, &again);
            if (again.len != a.len || (a.len && memcmp(a.data, again.data, a.len) != 0))
                abort();
        }
        mm_buf_free(&a);
        mm_buf_free(&b);
        mm_buf_free(&again);
    }
    if (getenv("MM_FUZZ_VERBOSE"))
        fprintf(stderr, "message rc=%d fields=%zu body=%zu\n", rc, m.n, size - body);
    mm_dkim_msg_free(&m);
    return 0;
}
