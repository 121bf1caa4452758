/*
 * tags.c - the tag-list grammar of RFC 6376 3.2 (DKIM-Signature values and
 * key records) and strict base64 (2.4). Untrusted octets are read only
 * through mm_cursor; every error class of the grammar has its own code.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "mamori/mm_cursor.h"
#include "mamori/mm_dkim.h"

const char *mm_dkim_tag_strerror(enum mm_dkim_tag_error e)
{
    static const char *const text[] = {
#define MM_DKIM_TAG_TEXT(sym, t) t,
        MM_DKIM_TAG_ERROR_TABLE(MM_DKIM_TAG_TEXT)
#undef MM_DKIM_TAG_TEXT
    };
    if ((size_t)e >= sizeof(text) / sizeof(text[0]))
        return "unknown tag-list error";
    return text[e];
}

static bool is_alpha(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_alnumpunc(uint8_t c) { return is_alpha(c) || (c >= '0' && c <= '9') || c == '_'; }
static bool is_wsp(uint8_t c) { return c == ' ' || c == '\t'; }
/* VALCHAR = %x21-3A / %x3C-7E */
static bool is_valchar(uint8_t c) { return c >= 0x21 && c <= 0x7e && c != ';'; }

static uint8_t peek(const mm_cursor *c, size_t ahead)
{
    if (mm_cursor_remaining(c) <= ahead)
        return 0;
    return mm_cursor_ptr(c)[ahead];
}

/* FWS = [*WSP CRLF] 1*WSP (RFC 5322 folding as used in 6376 2.8); a CRLF must be followed
 * by WSP. Returns 0 or -1 on a bare CRLF (fold without continuation). */
static int skip_fws(mm_cursor *c)
{
    for (;;) {
        uint8_t ch = peek(c, 0);
        if (is_wsp(ch)) {
            mm_cursor_skip(c, 1);
        } else if (ch == '\r' && peek(c, 1) == '\n') {
            if (!is_wsp(peek(c, 2)))
                return -1;
            mm_cursor_skip(c, 2);
        } else {
            return 0;
        }
    }
}

static int fail(mm_dkim_taglist *tl, enum mm_dkim_tag_error e, const mm_cursor *c)
{
    tl->err = e;
    tl->err_off = mm_cursor_offset(c);
    return MM_EMALFORMED;
}

static int parse_value(mm_dkim_taglist *tl, mm_cursor *c, mm_dkim_tag *t)
{
    t->value_off = mm_cursor_offset(c);
    size_t end = t->value_off;
    for (;;) {
        uint8_t ch = peek(c, 0);
        if (mm_cursor_remaining(c) == 0 || ch == ';')
            break;
        if (is_valchar(ch)) {
            mm_cursor_skip(c, 1);
            end = mm_cursor_offset(c);
        } else if (is_wsp(ch) || ch == '\r') {
            size_t before = mm_cursor_offset(c);
            if (skip_fws(c) < 0 || mm_cursor_offset(c) == before)
                return fail(tl, MM_DKIM_TAG_EFWS, c);
        } else {
            return fail(tl, MM_DKIM_TAG_EVALCHAR, c);
        }
    }
    t->value_len = end - t->value_off;
    return 0;
}

int mm_dkim_taglist_parse(mm_dkim_taglist *tl, const uint8_t *p, size_t len)
{
    memset(tl, 0, sizeof(*tl));
    tl->base = p;
    mm_cursor c;
    mm_cursor_init_read(&c, p, len);
    for (;;) {
        if (skip_fws(&c) < 0)
            return fail(tl, MM_DKIM_TAG_EFWS, &c);
        if (mm_cursor_remaining(&c) == 0) {
            /* A trailing ';' is allowed (3.2), an empty list is not. */
            return tl->n ? 0 : fail(tl, MM_DKIM_TAG_EEMPTY, &c);
        }
        uint8_t ch = peek(&c, 0);
        if (ch == ';')
            return fail(tl, MM_DKIM_TAG_EEMPTYSPEC, &c);
        if (!is_alpha(ch))
            return fail(tl, MM_DKIM_TAG_ENAME, &c);
        if (tl->n == MM_DKIM_MAX_TAGS)
            return fail(tl, MM_DKIM_TAG_ETOOMANY, &c);
        mm_dkim_tag *t = &tl->tag[tl->n];
        t->name_off = mm_cursor_offset(&c);
        while (is_alnumpunc(peek(&c, 0)) && mm_cursor_remaining(&c))
            mm_cursor_skip(&c, 1);
        t->name_len = mm_cursor_offset(&c) - t->name_off;
        ch = peek(&c, 0);
        if (mm_cursor_remaining(&c) && !is_wsp(ch) && ch != '\r' && ch != '=')
            return fail(tl, MM_DKIM_TAG_ENAMECHAR, &c);
        if (skip_fws(&c) < 0)
            return fail(tl, MM_DKIM_TAG_EFWS, &c);
        if (mm_cursor_remaining(&c) == 0 || peek(&c, 0) != '=')
            return fail(tl, MM_DKIM_TAG_ENOEQ, &c);
        mm_cursor_skip(&c, 1);
        if (skip_fws(&c) < 0)
            return fail(tl, MM_DKIM_TAG_EFWS, &c);
        MM_GUARD(parse_value(tl, &c, t));
        for (size_t i = 0; i < tl->n; i++)
            if (tl->tag[i].name_len == t->name_len &&
                memcmp(p + tl->tag[i].name_off, p + t->name_off, t->name_len) == 0) {
                c.pos = t->name_off;
                return fail(tl, MM_DKIM_TAG_EDUP, &c);
            }
        tl->n++;
        if (mm_cursor_remaining(&c) == 0)
            return 0;
        mm_cursor_skip(&c, 1); /* ';' */
    }
}

int mm_dkim_taglist_find(const mm_dkim_taglist *tl, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < tl->n; i++)
        if (tl->tag[i].name_len == nl && memcmp(tl->base + tl->tag[i].name_off, name, nl) == 0)
            return (int)i;
    return -1;
}

const uint8_t *mm_dkim_taglist_value(const mm_dkim_taglist *tl, int idx, size_t *len)
{
    *len = tl->tag[idx].value_len;
    return tl->base + tl->tag[idx].value_off;
}

/* ---------------------------------------------------------------- base64 */

static int b64_val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int mm_dkim_b64_decode(const uint8_t *in, size_t inlen, uint8_t *out, size_t cap, size_t *outlen)
{
    mm_cursor c;
    mm_cursor_init_read(&c, in, inlen);
    uint32_t acc = 0;
    size_t nch = 0, pad = 0, o = 0;
    while (mm_cursor_remaining(&c)) {
        uint8_t ch = mm_cursor_read_u8(&c);
        if (is_wsp(ch) || ch == '\r' || ch == '\n')
            continue;
        if (ch == '=') {
            pad++;
            if (pad > 2)
                return MM_EMALFORMED;
            continue;
        }
        int v = b64_val(ch);
        if (v < 0 || pad)
            return MM_EMALFORMED; /* bad character, or data after padding */
        acc = (acc << 6) | (uint32_t)v;
        nch++;
        if (nch % 4 == 0) {
            if (o + 3 > cap)
                return MM_ESPACE;
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    size_t rem = nch % 4;
    if (rem == 1 || (pad && rem + pad != 4))
        return MM_EMALFORMED;
    if (rem == 2) {
        if (o + 1 > cap)
            return MM_ESPACE;
        if (acc & 0xf)
            return MM_EMALFORMED; /* non-canonical trailing bits */
        out[o++] = (uint8_t)(acc >> 4);
    } else if (rem == 3) {
        if (o + 2 > cap)
            return MM_ESPACE;
        if (acc & 0x3)
            return MM_EMALFORMED;
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
    }
    *outlen = o;
    return 0;
}

int mm_dkim_b64_encode(mm_buf *b, const uint8_t *in, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    MM_GUARD(mm_buf_reserve(b, (len + 2) / 3 * 4 + 1));
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        char q[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63],
                     i + 1 < len ? tab[(v >> 6) & 63] : '=', i + 2 < len ? tab[v & 63] : '='};
        MM_GUARD(mm_buf_append(b, q, 4));
    }
    return 0;
}
