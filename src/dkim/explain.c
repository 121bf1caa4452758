/*
 * explain.c - which signed header field changed, from the copies a signer
 * put in z= (RFC 6376 3.5, DKIM-Quoted-Printable of 2.11). Without z= a
 * verifier can only say that the header hash failed, not which field.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>
#include <strings.h>

#include "dkim_int.h"
#include "mamori/mm_cursor.h"

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode one z= element (FWS dropped) into out. */
static int qp_decode(const uint8_t *p, size_t n, mm_buf *out)
{
    mm_cursor c;
    mm_cursor_init_read(&c, p, n);
    while (mm_cursor_remaining(&c)) {
        uint8_t ch = mm_cursor_read_u8(&c);
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            continue;
        if (ch == '=') {
            if (mm_cursor_remaining(&c) < 2)
                return MM_EMALFORMED;
            int h = hexval(mm_cursor_read_u8(&c)), l = hexval(mm_cursor_read_u8(&c));
            if (h < 0 || l < 0)
                return MM_EMALFORMED;
            ch = (uint8_t)(h << 4 | l);
        }
        MM_GUARD(mm_buf_append(out, &ch, 1));
    }
    return 0;
}

static int compare_one(const mm_dkim_msg *m, const mm_buf *copy, mm_buf *report)
{
    const uint8_t *colon = memchr(copy->data, ':', copy->len);
    if (!colon)
        return MM_EMALFORMED;
    size_t nl = (size_t)(colon - copy->data);
    const mm_dkim_field *cur = NULL;
    for (size_t i = m->n; i-- > 0;)
        if (m->f[i].name_len == nl && strncasecmp((const char *)m->f[i].raw, (const char *)copy->data, nl) == 0) {
            cur = &m->f[i];
            break;
        }
    if (!cur) {
        MM_GUARD(mm_buf_printf(report, "missing %.*s\n", (int)nl, (const char *)copy->data));
        return 1;
    }
    mm_buf a, b;
    mm_buf_init(&a, MM_DKIM_MAX_FIELD * 2);
    mm_buf_init(&b, MM_DKIM_MAX_FIELD * 2);
    int rc = mm_dkim_canon_header(MM_DKIM_RELAXED, copy->data, copy->len, false, &a);
    if (!rc)
        rc = mm_dkim_canon_header(MM_DKIM_RELAXED, cur->raw, cur->len, false, &b);
    bool diff = a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0);
    if (!rc && diff)
        rc = mm_buf_printf(report, "changed %.*s (signed: \"%.*s\")\n", (int)nl,
                           (const char *)copy->data, (int)(a.len > 200 ? 200 : a.len),
                           (const char *)a.data);
    mm_buf_free(&a);
    mm_buf_free(&b);
    return rc < 0 ? rc : diff;
}

int mm_dkim_explain_headers(const mm_dkim_msg *m, size_t sig_idx, mm_buf *report)
{
    if (sig_idx >= m->n)
        return MM_EINVAL;
    mm_dkim_taglist tl;
    size_t vl, zl;
    const uint8_t *v = mm_dkim_field_value(&m->f[sig_idx], &vl);
    if (mm_dkim_taglist_parse(&tl, v, vl) < 0)
        return MM_EMALFORMED;
    int zi = mm_dkim_taglist_find(&tl, "z");
    if (zi < 0)
        return MM_ENOENT;
    const uint8_t *z = mm_dkim_taglist_value(&tl, zi, &zl);
    int changed = 0;
    size_t i = 0;
    while (i < zl) {
        const uint8_t *bar = memchr(z + i, '|', zl - i);
        size_t end = bar ? (size_t)(bar - z) : zl;
        mm_buf copy;
        mm_buf_init(&copy, MM_DKIM_MAX_FIELD);
        int rc = qp_decode(z + i, end - i, &copy);
        if (!rc)
            rc = compare_one(m, &copy, report);
        mm_buf_free(&copy);
        if (rc < 0)
            return rc;
        changed += rc;
        i = end + 1;
    }
    return changed;
}
