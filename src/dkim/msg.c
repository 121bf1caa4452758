/*
 * msg.c - the header block of a message as a list of fields (RFC 5322 2.2),
 * with folds normalised to CRLF, bounded in count and size.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mamori/mm_cursor.h"
#include "mamori/mm_dkim.h"

void mm_dkim_msg_init(mm_dkim_msg *m) { memset(m, 0, sizeof(*m)); }

void mm_dkim_msg_free(mm_dkim_msg *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->f[i].raw);
    free(m->f);
    memset(m, 0, sizeof(*m));
}

/* ftext = %d33-57 / %d59-126 (RFC 5322 3.6.8) */
static bool is_ftext(uint8_t c) { return c >= 33 && c <= 126 && c != ':'; }

static int make_field(const uint8_t *p, size_t len, mm_dkim_field *f)
{
    if (len > MM_DKIM_MAX_FIELD)
        return MM_ELIMIT;
    /* drop the final line break, if any */
    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    uint8_t *raw = malloc(len * 2 + 1);
    if (!raw)
        return MM_ENOMEM;
    size_t o = 0;
    mm_cursor c;
    mm_cursor_init_read(&c, p, len);
    while (mm_cursor_remaining(&c)) {
        uint8_t ch = mm_cursor_read_u8(&c);
        if (ch == '\r' && mm_cursor_remaining(&c) && mm_cursor_ptr(&c)[0] == '\n')
            continue; /* CRLF: written at the LF */
        if (ch == '\n') {
            raw[o++] = '\r';
            raw[o++] = '\n';
            continue;
        }
        raw[o++] = ch;
    }
    size_t nl = 0;
    while (nl < o && is_ftext(raw[nl]))
        nl++;
    size_t name_len = nl;
    while (nl < o && (raw[nl] == ' ' || raw[nl] == '\t'))
        nl++;
    if (name_len == 0 || nl >= o || raw[nl] != ':') {
        free(raw);
        return MM_EMALFORMED;
    }
    f->raw = raw;
    f->len = o;
    f->name_len = name_len;
    return 0;
}

static int grow(mm_dkim_msg *m, size_t len)
{
    if (m->n >= MM_DKIM_MAX_HEADERS || m->bytes + len > MM_DKIM_MAX_HEADER_BYTES)
        return MM_ELIMIT;
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 32;
        mm_dkim_field *nf = realloc(m->f, nc * sizeof(*nf));
        if (!nf)
            return MM_ENOMEM;
        m->f = nf;
        m->cap = nc;
    }
    return 0;
}

int mm_dkim_msg_add(mm_dkim_msg *m, const uint8_t *field, size_t len)
{
    MM_GUARD(grow(m, len));
    mm_dkim_field f;
    MM_GUARD(make_field(field, len, &f));
    m->f[m->n++] = f;
    m->bytes += f.len;
    return 0;
}

int mm_dkim_msg_prepend(mm_dkim_msg *m, const uint8_t *field, size_t len)
{
    MM_GUARD(grow(m, len));
    mm_dkim_field f;
    MM_GUARD(make_field(field, len, &f));
    memmove(m->f + 1, m->f, m->n * sizeof(*m->f));
    m->f[0] = f;
    m->n++;
    m->bytes += f.len;
    return 0;
}

void mm_dkim_msg_remove(mm_dkim_msg *m, size_t idx)
{
    if (idx >= m->n)
        return;
    m->bytes -= m->f[idx].len;
    free(m->f[idx].raw);
    memmove(m->f + idx, m->f + idx + 1, (m->n - idx - 1) * sizeof(*m->f));
    m->n--;
}

int mm_dkim_msg_add_nv(mm_dkim_msg *m, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    if (nl + vl + 2 > MM_DKIM_MAX_FIELD)
        return MM_ELIMIT;
    mm_buf b;
    mm_buf_init(&b, MM_DKIM_MAX_FIELD);
    int rc = mm_buf_append(&b, name, nl);
    if (!rc)
        rc = mm_buf_append(&b, ":", 1);
    /* milters get the value without the space after the colon */
    if (!rc && vl && value[0] != ' ' && value[0] != '\t')
        rc = mm_buf_append(&b, " ", 1);
    if (!rc)
        rc = mm_buf_append(&b, value, vl);
    if (!rc)
        rc = mm_dkim_msg_add(m, b.data, b.len);
    mm_buf_free(&b);
    return rc;
}

int mm_dkim_msg_parse(mm_dkim_msg *m, const uint8_t *p, size_t len, size_t *body_off)
{
    mm_cursor c;
    mm_cursor_init_read(&c, p, len);
    size_t start = 0;
    bool have = false;
    while (mm_cursor_remaining(&c)) {
        size_t line = mm_cursor_offset(&c);
        const uint8_t *lp = mm_cursor_ptr(&c);
        const uint8_t *nlp = memchr(lp, '\n', mm_cursor_remaining(&c));
        size_t llen = nlp ? (size_t)(nlp - lp) + 1 : mm_cursor_remaining(&c);
        mm_cursor_skip(&c, llen);
        bool empty = llen == 0 || lp[0] == '\n' || (lp[0] == '\r' && llen >= 2 && lp[1] == '\n');
        bool cont = llen && (lp[0] == ' ' || lp[0] == '\t');
        if (cont) {
            if (!have)
                return MM_EMALFORMED; /* continuation before any field */
            continue;
        }
        if (have)
            MM_GUARD(mm_dkim_msg_add(m, p + start, line - start));
        have = false;
        if (empty) {
            *body_off = mm_cursor_offset(&c);
            return 0;
        }
        start = line;
        have = true;
    }
    if (have)
        MM_GUARD(mm_dkim_msg_add(m, p + start, len - start));
    *body_off = len;
    return 0;
}

bool mm_dkim_field_is(const mm_dkim_field *f, const char *name)
{
    size_t nl = strlen(name);
    return f->name_len == nl && strncasecmp((const char *)f->raw, name, nl) == 0;
}

const uint8_t *mm_dkim_field_value(const mm_dkim_field *f, size_t *len)
{
    const uint8_t *colon = memchr(f->raw, ':', f->len);
    *len = f->len - (size_t)(colon + 1 - f->raw);
    return colon + 1;
}
