/*
 * acdc_diff.c - ACDC [P] differential change records (spec 5.5): making one
 * (new message -> previous message) and undoing one. The element list is
 * read through mm_cursor; base64 may carry folding whitespace.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_int.h"
#include "mamori/mm_cursor.h"

#define MAX_LINES (1u << 20)

/* Relaxed canonical body split into lines (each ends with CRLF). */
struct lines {
    mm_buf body;
    size_t *off; /* n + 1 offsets */
    size_t n;
};

static void body_sink(void *arg, const uint8_t *p, size_t n)
{
    mm_buf *b = arg;
    if (mm_buf_append(b, p, n) < 0)
        b->limit = 0; /* marks overflow; checked below */
}

static int lines_make(struct lines *l, const uint8_t *p, size_t n)
{
    memset(l, 0, sizeof(*l));
    mm_buf_init(&l->body, n * 2 + 16);
    mm_dkim_body c;
    mm_dkim_body_init(&c, MM_DKIM_RELAXED, body_sink, &l->body);
    mm_dkim_body_update(&c, p, n);
    mm_dkim_body_final(&c);
    if (l->body.limit == 0)
        return MM_ELIMIT;
    size_t cnt = 0;
    for (size_t i = 0; i < l->body.len; i++)
        cnt += l->body.data[i] == '\n';
    if (cnt > MAX_LINES)
        return MM_ELIMIT;
    l->off = malloc((cnt + 1) * sizeof(size_t));
    if (!l->off)
        return MM_ENOMEM;
    l->off[0] = 0;
    for (size_t i = 0; i < l->body.len; i++)
        if (l->body.data[i] == '\n')
            l->off[++l->n] = i + 1;
    return 0;
}

static void lines_free(struct lines *l)
{
    mm_buf_free(&l->body);
    free(l->off);
}

static bool line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
    size_t la = a->off[i + 1] - a->off[i], lb = b->off[j + 1] - b->off[j];
    return la == lb && memcmp(a->body.data + a->off[i], b->body.data + b->off[j], la) == 0;
}

static bool name_in(const char *const *l, const uint8_t *name, size_t nl)
{
    if (!l)
        return true;
    for (; *l; l++)
        if (strlen(*l) == nl && strncasecmp(*l, (const char *)name, nl) == 0)
            return true;
    return false;
}

static bool skip_name(const mm_dkim_field *f)
{
    return mm_dkim_field_is(f, "DKIM-Signature") || mm_dkim_field_is(f, mm_dkim_acdc_name(MM_ACDC_HDR_DIFF));
}

/* The fields named like f, in order, concatenated (for comparing old and new). */
static int same_name_fields(const mm_dkim_msg *m, const mm_dkim_field *f, mm_buf *out, size_t *cnt)
{
    *cnt = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->f[i].name_len != f->name_len ||
            strncasecmp((const char *)m->f[i].raw, (const char *)f->raw, f->name_len) != 0)
            continue;
        MM_GUARD(mm_dkim_canon_header(MM_DKIM_RELAXED, m->f[i].raw, m->f[i].len, true, out));
        (*cnt)++;
    }
    return 0;
}

static int hdr_op(const mm_dkim_msg *old, const mm_dkim_field *f, mm_buf *field)
{
    MM_GUARD(mm_buf_append_str(field, ";\r\n\th="));
    MM_GUARD(mm_buf_append(field, f->raw, f->name_len));
    MM_GUARD(mm_buf_append(field, ":", 1));
    size_t cnt = 0;
    for (size_t i = 0; i < old->n; i++) {
        if (old->f[i].name_len != f->name_len ||
            strncasecmp((const char *)old->f[i].raw, (const char *)f->raw, f->name_len) != 0)
            continue;
        if (cnt++)
            MM_GUARD(mm_buf_append(field, ",", 1));
        MM_GUARD(mm_dkim_b64_encode(field, old->f[i].raw, old->f[i].len));
    }
    return cnt ? 0 : mm_buf_append(field, "-", 1);
}

/* Has an earlier field of the same name already been handled? */
static bool seen_before(const mm_dkim_msg *m, size_t idx, const mm_dkim_field *f)
{
    for (size_t i = 0; i < idx; i++)
        if (m->f[i].name_len == f->name_len &&
            strncasecmp((const char *)m->f[i].raw, (const char *)f->raw, f->name_len) == 0)
            return true;
    return false;
}

static int diff_headers(const mm_dkim_msg *old, const mm_dkim_msg *nw, const char *const *signed_names,
                        mm_buf *field)
{
    mm_buf a, b;
    int rc = 0;
    mm_buf_init(&a, MM_DKIM_MAX_HEADER_BYTES * 2);
    mm_buf_init(&b, MM_DKIM_MAX_HEADER_BYTES * 2);
    /* names in the old version: changed or removed */
    for (size_t i = 0; !rc && i < old->n; i++) {
        const mm_dkim_field *f = &old->f[i];
        if (skip_name(f) || seen_before(old, i, f))
            continue;
        size_t ca, cb;
        mm_buf_reset(&a);
        mm_buf_reset(&b);
        rc = same_name_fields(old, f, &a, &ca);
        if (!rc)
            rc = same_name_fields(nw, f, &b, &cb);
        if (!rc && (a.len != b.len || memcmp(a.data, b.data, a.len) != 0))
            rc = hdr_op(old, f, field);
    }
    /* names only in the new version: "-" where an earlier signature lists them */
    for (size_t i = 0; !rc && i < nw->n; i++) {
        const mm_dkim_field *f = &nw->f[i];
        size_t ca;
        if (skip_name(f) || seen_before(nw, i, f))
            continue;
        mm_buf_reset(&a);
        rc = same_name_fields(old, f, &a, &ca);
        if (!rc && ca == 0 && name_in(signed_names, f->raw, f->name_len))
            rc = hdr_op(old, f, field);
    }
    mm_buf_free(&a);
    mm_buf_free(&b);
    return rc;
}

static int diff_body(const struct lines *o, const struct lines *n, mm_buf *field)
{
    if (o->body.len == n->body.len && memcmp(o->body.data, n->body.data, o->body.len) == 0)
        return 0;
    MM_GUARD(mm_buf_append_str(field, ";\r\n\tb="));
    if (o->n == 0)
        return mm_buf_append(field, "e", 1);
    size_t pre = 0, suf = 0;
    while (pre < o->n && pre < n->n && line_eq(o, pre, n, pre))
        pre++;
    while (suf < o->n - pre && suf < n->n - pre && line_eq(o, o->n - 1 - suf, n, n->n - 1 - suf))
        suf++;
    bool first = true;
    if (pre) {
        MM_GUARD(mm_buf_printf(field, "c1-%zu", pre));
        first = false;
    }
    if (o->n - suf > pre) {
        MM_GUARD(mm_buf_append_str(field, first ? "l" : ",l"));
        size_t a = o->off[pre], b = o->off[o->n - suf];
        MM_GUARD(mm_dkim_b64_encode(field, o->body.data + a, b - a));
        first = false;
    }
    if (suf)
        MM_GUARD(mm_buf_printf(field, "%sc%zu-%zu", first ? "" : ",", n->n - suf + 1, n->n));
    return 0;
}

int mm_dkim_acdc_diff_make(int k, const uint8_t *old_msg, size_t old_len, const uint8_t *new_msg,
                           size_t new_len, const char *const *signed_names, mm_buf *field)
{
    mm_dkim_msg om, nm;
    mm_dkim_msg_init(&om);
    mm_dkim_msg_init(&nm);
    struct lines ol = {0}, nl = {0};
    size_t ob, nb, start = field->len;
    int rc = mm_dkim_msg_parse(&om, old_msg, old_len, &ob);
    if (!rc)
        rc = mm_dkim_msg_parse(&nm, new_msg, new_len, &nb);
    if (!rc)
        rc = mm_buf_printf(field, "%s: n=%d", mm_dkim_acdc_name(MM_ACDC_HDR_DIFF), k);
    size_t head = field->len;
    if (!rc)
        rc = diff_headers(&om, &nm, signed_names, field);
    if (!rc)
        rc = lines_make(&ol, old_msg + ob, old_len - ob);
    if (!rc)
        rc = lines_make(&nl, new_msg + nb, new_len - nb);
    if (!rc)
        rc = diff_body(&ol, &nl, field);
    if (!rc && field->len == head)
        field->len = start; /* nothing covered changed: no record */
    lines_free(&ol);
    lines_free(&nl);
    mm_dkim_msg_free(&om);
    mm_dkim_msg_free(&nm);
    return rc;
}

/* ---------------------------------------------------------------- undo */

static int b64_field(const uint8_t *p, size_t n, mm_buf *out)
{
    MM_GUARD(mm_buf_reserve(out, n));
    size_t ol;
    MM_GUARD(mm_dkim_b64_decode(p, n, out->data + out->len, out->cap - out->len, &ol));
    out->len += ol;
    return 0;
}

/* Element value span [a,b) trimmed of FWS. */
static void trim(const uint8_t *p, size_t *a, size_t *b)
{
    while (*a < *b && (p[*a] == ' ' || p[*a] == '\t' || p[*a] == '\r' || p[*a] == '\n'))
        (*a)++;
    while (*b > *a && (p[*b - 1] == ' ' || p[*b - 1] == '\t' || p[*b - 1] == '\r' || p[*b - 1] == '\n'))
        (*b)--;
}

static int parse_n(const uint8_t *p, size_t n)
{
    if (n < 3 || n > 5 || p[0] != 'n' || p[1] != '=')
        return -1;
    int v = 0;
    for (size_t i = 2; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + p[i] - '0';
    }
    return v;
}

static int apply_hdr(mm_dkim_msg *m, const uint8_t *p, size_t n)
{
    const uint8_t *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return MM_EMALFORMED;
    size_t nl = (size_t)(colon - p);
    size_t pos = m->n;
    for (size_t i = m->n; i-- > 0;)
        if (m->f[i].name_len == nl && strncasecmp((const char *)m->f[i].raw, (const char *)p, nl) == 0) {
            pos = i;
            mm_dkim_msg_remove(m, i);
        }
    const uint8_t *v = colon + 1, *e = p + n;
    if (e - v == 1 && v[0] == '-')
        return 0;
    mm_dkim_msg tmp;
    mm_dkim_msg_init(&tmp);
    int rc = 0;
    while (!rc && v < e) {
        const uint8_t *comma = memchr(v, ',', (size_t)(e - v));
        const uint8_t *end = comma ? comma : e;
        mm_buf f;
        mm_buf_init(&f, MM_DKIM_MAX_FIELD);
        rc = b64_field(v, (size_t)(end - v), &f);
        if (!rc)
            rc = mm_dkim_msg_add(&tmp, f.data ? f.data : (const uint8_t *)"", f.len);
        /* the restored field must carry the name the op is for */
        if (!rc && (tmp.f[tmp.n - 1].name_len != nl ||
                    strncasecmp((const char *)tmp.f[tmp.n - 1].raw, (const char *)p, nl) != 0))
            rc = MM_EMALFORMED;
        mm_buf_free(&f);
        v = comma ? comma + 1 : e;
    }
    /* insert the restored instances at the place of the first removed one */
    for (size_t i = 0; !rc && i < tmp.n; i++) {
        rc = mm_dkim_msg_add(m, tmp.f[i].raw, tmp.f[i].len);
        if (!rc) {
            mm_dkim_field last = m->f[m->n - 1];
            memmove(m->f + pos + i + 1, m->f + pos + i, (m->n - 1 - pos - i) * sizeof(*m->f));
            m->f[pos + i] = last;
        }
    }
    mm_dkim_msg_free(&tmp);
    return rc;
}

static int apply_body(const struct lines *l, const uint8_t *p, size_t n, mm_buf *out)
{
    mm_cursor c;
    mm_cursor_init_read(&c, p, n);
    while (mm_cursor_remaining(&c)) {
        const uint8_t *s = mm_cursor_ptr(&c);
        const uint8_t *comma = memchr(s, ',', mm_cursor_remaining(&c));
        size_t sl = comma ? (size_t)(comma - s) : mm_cursor_remaining(&c);
        mm_cursor_skip(&c, sl + (comma ? 1 : 0));
        size_t a = 0, b = sl;
        trim(s, &a, &b);
        if (b == a)
            return MM_EMALFORMED;
        if (s[a] == 'e' && b - a == 1)
            continue;
        if (s[a] == 'l') {
            MM_GUARD(b64_field(s + a + 1, b - a - 1, out));
            continue;
        }
        if (s[a] != 'c')
            return MM_EMALFORMED;
        unsigned long from = 0, to = 0;
        size_t i = a + 1;
        for (; i < b && s[i] >= '0' && s[i] <= '9' && from < MAX_LINES; i++)
            from = from * 10 + (s[i] - '0');
        if (i >= b || s[i] != '-' || i == a + 1)
            return MM_EMALFORMED;
        size_t j = ++i;
        for (; i < b && s[i] >= '0' && s[i] <= '9' && to < MAX_LINES; i++)
            to = to * 10 + (s[i] - '0');
        if (i != b || i == j || from < 1 || to < from || to > l->n)
            return MM_EMALFORMED; /* out-of-range copy */
        MM_GUARD(mm_buf_append(out, l->body.data + l->off[from - 1], l->off[to] - l->off[from - 1]));
    }
    return 0;
}

static int instance_of(const mm_dkim_field *f)
{
    mm_dkim_taglist tl;
    size_t vl;
    const uint8_t *v = mm_dkim_field_value(f, &vl);
    if (mm_dkim_taglist_parse(&tl, v, vl) < 0)
        return -1;
    int i = mm_dkim_taglist_find(&tl, mm_dkim_acdc_name(MM_ACDC_TAG_N));
    if (i < 0)
        return 0;
    const uint8_t *nv = mm_dkim_taglist_value(&tl, i, &vl);
    int n = 0;
    for (size_t k = 0; k < vl && k < 3; k++)
        n = n * 10 + (nv[k] >= '0' && nv[k] <= '9' ? nv[k] - '0' : 0);
    return n;
}

int dkim_acdc_strip(mm_dkim_msg *m, int k, const mm_dkim_field **diff_out)
{
    *diff_out = NULL;
    for (size_t i = 0; i < m->n; i++) {
        const mm_dkim_field *f = &m->f[i];
        if (mm_dkim_field_is(f, mm_dkim_acdc_name(MM_ACDC_HDR_DIFF))) {
            size_t vl;
            const uint8_t *v = mm_dkim_field_value(f, &vl);
            size_t a = 0, b = vl;
            const uint8_t *semi = memchr(v, ';', vl);
            if (semi)
                b = (size_t)(semi - v);
            trim(v, &a, &b);
            if (parse_n(v + a, b - a) == k) {
                if (*diff_out)
                    return MM_EMALFORMED; /* two records for one instance */
                *diff_out = f;
            }
        }
    }
    return 0;
}

int mm_dkim_acdc_undo(const uint8_t *msg, size_t len, int k, mm_buf *out, const char **why)
{
    mm_dkim_msg m;
    mm_dkim_msg_init(&m);
    struct lines l = {0};
    size_t body;
    *why = mm_dkim_acdc_name(MM_ACDC_R_DIFF);
    int rc = mm_dkim_msg_parse(&m, msg, len, &body);
    const mm_dkim_field *df = NULL;
    if (!rc)
        rc = dkim_acdc_strip(&m, k, &df);
    uint8_t *dv = NULL;
    size_t dl = 0;
    if (!rc && df) {
        const uint8_t *v = mm_dkim_field_value(df, &dl);
        dv = malloc(dl ? dl : 1);
        if (!dv)
            rc = MM_ENOMEM;
        else
            memcpy(dv, v, dl);
    }
    /* instance k's own signature fields and change record go away */
    for (size_t i = m.n; !rc && i-- > 0;) {
        if ((mm_dkim_field_is(&m.f[i], "DKIM-Signature") && instance_of(&m.f[i]) == k) ||
            (df && m.f[i].raw == df->raw))
            mm_dkim_msg_remove(&m, i);
    }
    bool body_op = false;
    mm_buf nb;
    mm_buf_init(&nb, len * 2 + 16);
    if (!rc && dv) {
        rc = lines_make(&l, msg + body, len - body);
        mm_cursor c;
        mm_cursor_init_read(&c, dv, dl);
        bool first = true;
        while (!rc && mm_cursor_remaining(&c)) {
            const uint8_t *s = mm_cursor_ptr(&c);
            const uint8_t *semi = memchr(s, ';', mm_cursor_remaining(&c));
            size_t sl = semi ? (size_t)(semi - s) : mm_cursor_remaining(&c);
            mm_cursor_skip(&c, sl + (semi ? 1 : 0));
            size_t a = 0, b = sl;
            trim(s, &a, &b);
            if (a == b)
                continue;
            if (first) {
                first = false;
                continue; /* n=k, checked by dkim_acdc_strip */
            }
            if (b - a < 2 || s[a + 1] != '=')
                rc = MM_EMALFORMED;
            else if (s[a] == 'h')
                rc = apply_hdr(&m, s + a + 2, b - a - 2);
            else if (s[a] == 'b' && !body_op) {
                body_op = true;
                rc = apply_body(&l, s + a + 2, b - a - 2, &nb);
            } else
                rc = MM_EMALFORMED;
        }
    }
    for (size_t i = 0; !rc && i < m.n; i++) {
        rc = mm_buf_append(out, m.f[i].raw, m.f[i].len);
        if (!rc)
            rc = mm_buf_append(out, "\r\n", 2);
    }
    if (!rc)
        rc = mm_buf_append(out, "\r\n", 2);
    if (!rc)
        rc = body_op ? (nb.len ? mm_buf_append(out, nb.data, nb.len) : 0)
                     : mm_buf_append(out, msg + body, len - body);
    if (!rc && !df && k > 0)
        *why = "";
    mm_buf_free(&nb);
    lines_free(&l);
    free(dv);
    mm_dkim_msg_free(&m);
    return rc;
}
