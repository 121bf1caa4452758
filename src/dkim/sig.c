/*
 * sig.c - the DKIM-Signature tags (RFC 6376 3.5), one table row per tag, and
 * the header hash input (3.7).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>
#include <strings.h>

#include "dkim_int.h"

static bool val_is(const uint8_t *v, size_t vl, const char *s)
{
    return strlen(s) == vl && memcmp(v, s, vl) == 0;
}

/* A domain name as DKIM uses it (d=, s=, i= domain): labels of LDH and '_'. */
static bool domain_ok(const uint8_t *v, size_t vl)
{
    if (vl == 0 || vl > 253 || v[0] == '.' || v[vl - 1] == '.')
        return false;
    for (size_t i = 0; i < vl; i++) {
        uint8_t c = v[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_';
        if (!ok || (c == '.' && v[i + 1] == '.'))
            return false;
    }
    return true;
}

static int copy_lower(char *dst, size_t cap, const uint8_t *v, size_t vl)
{
    if (vl >= cap)
        return MM_ELIMIT;
    for (size_t i = 0; i < vl; i++)
        dst[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
    dst[vl] = 0;
    return 0;
}

static int number(const uint8_t *v, size_t vl, size_t maxdig, uint64_t *out)
{
    if (vl == 0 || vl > maxdig)
        return MM_EMALFORMED;
    uint64_t n = 0;
    for (size_t i = 0; i < vl; i++) {
        if (v[i] < '0' || v[i] > '9')
            return MM_EMALFORMED;
        n = n * 10 + (uint64_t)(v[i] - '0');
    }
    *out = n;
    return 0;
}

#define SIG_FAIL(text)                                                       \
    do {                                                                     \
        *why = (text);                                                       \
        return MM_EMALFORMED;                                                \
    } while (0)

static int tag_v(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    (void)s;
    if (!val_is(v, vl, "1"))
        SIG_FAIL("unsupported signature version (v= is not 1)");
    return 0;
}

static int tag_a(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    s->alg = mm_dkim_alg_parse(v, vl);
    if (s->alg == MM_DKIM_ALG_UNKNOWN) {
        *why = "unsupported algorithm (a=)";
        return MM_EUNSUPPORTED;
    }
    if (s->alg == MM_DKIM_ALG_RSA_SHA1) {
        *why = "rsa-sha1 not accepted (RFC 8301)";
        return MM_EUNSUPPORTED;
    }
    return 0;
}

static int tag_b(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    if (mm_dkim_b64_decode(v, vl, s->b, sizeof(s->b), &s->blen) < 0 || s->blen == 0)
        SIG_FAIL("b= is not valid base64");
    s->bval.p = v;
    s->bval.len = vl;
    size_t o = 0;
    for (size_t i = 0; i < vl && o < 8; i++)
        if (v[i] > ' ')
            s->b8[o++] = (char)v[i];
    s->b8[o] = 0;
    return 0;
}

static int tag_bh(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    if (mm_dkim_b64_decode(v, vl, s->bh, sizeof(s->bh), &s->bhlen) < 0 || s->bhlen != 32)
        SIG_FAIL("bh= is not a base64 SHA-256 digest");
    return 0;
}

static int canon_word(const uint8_t *v, size_t vl, enum mm_dkim_canon *c)
{
    if (val_is(v, vl, "simple"))
        *c = MM_DKIM_SIMPLE;
    else if (val_is(v, vl, "relaxed"))
        *c = MM_DKIM_RELAXED;
    else
        return MM_EMALFORMED;
    return 0;
}

static int tag_c(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    const uint8_t *slash = memchr(v, '/', vl);
    size_t hl = slash ? (size_t)(slash - v) : vl;
    if (canon_word(v, hl, &s->hc) < 0 ||
        (slash && canon_word(slash + 1, vl - hl - 1, &s->bc) < 0))
        SIG_FAIL("unknown canonicalization (c=)");
    return 0;
}

static int tag_d(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    if (!domain_ok(v, vl) || copy_lower(s->d, sizeof(s->d), v, vl) < 0)
        SIG_FAIL("d= is not a domain name");
    return 0;
}

static int tag_s(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    if (!domain_ok(v, vl) || copy_lower(s->s, sizeof(s->s), v, vl) < 0)
        SIG_FAIL("s= is not a selector");
    return 0;
}

static int tag_h(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    size_t i = 0;
    bool from = false;
    while (i <= vl) {
        size_t j = i;
        while (j < vl && v[j] != ':')
            j++;
        size_t a = i, b = j;
        while (a < b && (v[a] == ' ' || v[a] == '\t' || v[a] == '\r' || v[a] == '\n'))
            a++;
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t' || v[b - 1] == '\r' || v[b - 1] == '\n'))
            b--;
        if (a == b)
            SIG_FAIL("empty header name in h=");
        for (size_t k = a; k < b; k++)
            if (v[k] < 33 || v[k] > 126)
                SIG_FAIL("invalid header name in h=");
        if (s->nh == MM_DKIM_MAX_H)
            SIG_FAIL("too many names in h=");
        s->h[s->nh].p = v + a;
        s->h[s->nh].len = b - a;
        if (b - a == 4 && strncasecmp((const char *)v + a, "from", 4) == 0)
            from = true;
        s->nh++;
        i = j + 1;
    }
    if (!from)
        SIG_FAIL("From field not signed (h= lacks from)");
    return 0;
}

static int tag_i(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    const uint8_t *at = NULL;
    for (size_t k = vl; k-- > 0;)
        if (v[k] == '@') {
            at = v + k;
            break;
        }
    if (!at || vl >= sizeof(s->i))
        SIG_FAIL("i= is not an identity (no @)");
    size_t dl = vl - (size_t)(at + 1 - v);
    if (!domain_ok(at + 1, dl))
        SIG_FAIL("i= domain is not a domain name");
    memcpy(s->i, v, vl);
    s->i[vl] = 0;
    /* 3.5: the i= domain must be d= or a subdomain of it */
    size_t dd = strlen(s->d);
    if (dl < dd || strncasecmp((const char *)at + 1 + (dl - dd), s->d, dd) != 0 ||
        (dl > dd && at[1 + dl - dd - 1] != '.'))
        SIG_FAIL("i= domain is not within d=");
    return 0;
}

static int tag_l(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    if (number(v, vl, 18, &s->l) < 0)
        SIG_FAIL("l= is not a number");
    s->has_l = true;
    return 0;
}

static int tag_q(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    (void)s;
    /* 3.5: colon-separated methods; only dns/txt exists */
    if (!val_is(v, vl, "dns/txt") && !val_is(v, vl, "dns"))
        SIG_FAIL("unsupported query method (q=)");
    return 0;
}

static int tag_t(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    uint64_t n;
    if (number(v, vl, 12, &n) < 0)
        SIG_FAIL("t= is not a timestamp");
    s->t = (int64_t)n;
    s->has_t = true;
    return 0;
}

static int tag_x(dkim_sig *s, const uint8_t *v, size_t vl, const char **why)
{
    uint64_t n;
    if (number(v, vl, 12, &n) < 0)
        SIG_FAIL("x= is not a timestamp");
    s->x = (int64_t)n;
    s->has_x = true;
    return 0;
}

/* The tags of RFC 6376 3.5 in evaluation order (d before i: i= is checked against d=). */
static const struct sig_tag {
    const char *name;
    bool required;
    const char *missing;
    int (*parse)(dkim_sig *s, const uint8_t *v, size_t vl, const char **why);
} sig_tags[] = {
    {"v", true, "missing required tag v=", tag_v},
    {"a", true, "missing required tag a=", tag_a},
    {"b", true, "missing required tag b=", tag_b},
    {"bh", true, "missing required tag bh=", tag_bh},
    {"c", false, NULL, tag_c},
    {"d", true, "missing required tag d=", tag_d},
    {"h", true, "missing required tag h=", tag_h},
    {"i", false, NULL, tag_i},
    {"l", false, NULL, tag_l},
    {"q", false, NULL, tag_q},
    {"s", true, "missing required tag s=", tag_s},
    {"t", false, NULL, tag_t},
    {"x", false, NULL, tag_x},
};

int dkim_sig_parse(const mm_dkim_field *f, dkim_sig *s, const char **why)
{
    memset(s, 0, sizeof(*s));
    s->field = f;
    size_t vl;
    const uint8_t *v = mm_dkim_field_value(f, &vl);
    if (mm_dkim_taglist_parse(&s->tl, v, vl) < 0) {
        *why = mm_dkim_tag_strerror(s->tl.err);
        return MM_EMALFORMED;
    }
    for (size_t k = 0; k < sizeof(sig_tags) / sizeof(sig_tags[0]); k++) {
        int idx = mm_dkim_taglist_find(&s->tl, sig_tags[k].name);
        if (idx < 0) {
            if (sig_tags[k].required) {
                *why = sig_tags[k].missing;
                return MM_EMALFORMED;
            }
            continue;
        }
        size_t tl;
        const uint8_t *tv = mm_dkim_taglist_value(&s->tl, idx, &tl);
        MM_GUARD(sig_tags[k].parse(s, tv, tl, why));
    }
    if (!s->i[0]) {
        size_t dl = strlen(s->d);
        s->i[0] = '@';
        memcpy(s->i + 1, s->d, dl + 1);
    }
    if (s->has_t && s->has_x && s->x <= s->t)
        SIG_FAIL("x= is not after t=");
    /* The b= value and its surrounding whitespace are removed for hashing (3.7). */
    int bi = mm_dkim_taglist_find(&s->tl, "b");
    const mm_dkim_tag *bt = &s->tl.tag[bi];
    size_t base = (size_t)(v - f->raw);
    size_t st = bt->name_off + bt->name_len;
    while (st < vl && v[st] != '=')
        st++;
    size_t en = bt->value_off + bt->value_len;
    while (en < vl && v[en] != ';')
        en++;
    s->bdel_start = base + st + 1;
    s->bdel_end = base + en;
    return dkim_sig_acdc_parse(s, why);
}

int dkim_hdr_input(const mm_dkim_msg *m, enum mm_dkim_canon hc, const dkim_span *h, size_t nh,
                   const uint8_t *sigfield, size_t siglen, size_t del_start, size_t del_end,
                   mm_buf *out)
{
    bool used[MM_DKIM_MAX_HEADERS] = {false};
    for (size_t k = 0; k < nh; k++) {
        /* 5.4.2: the bottom-most instance not yet used; none left contributes nothing */
        for (size_t j = m->n; j-- > 0;) {
            const mm_dkim_field *f = &m->f[j];
            if (used[j] || f->name_len != h[k].len ||
                strncasecmp((const char *)f->raw, (const char *)h[k].p, h[k].len) != 0)
                continue;
            if (f->raw == sigfield)
                continue; /* the signature being verified is hashed last, below */
            used[j] = true;
            MM_GUARD(mm_dkim_canon_header(hc, f->raw, f->len, true, out));
            break;
        }
    }
    if (del_start > siglen || del_end > siglen || del_end < del_start)
        return MM_EINVAL;
    mm_buf tmp;
    mm_buf_init(&tmp, siglen + 1);
    int rc = mm_buf_append(&tmp, sigfield, del_start);
    if (!rc)
        rc = mm_buf_append(&tmp, sigfield + del_end, siglen - del_end);
    if (!rc)
        rc = mm_dkim_canon_header(hc, tmp.data, tmp.len, false, out);
    mm_buf_free(&tmp);
    return rc;
}

int dkim_fold_append(mm_buf *b, size_t *col, const char *text, size_t len, bool breakable)
{
    const size_t width = 76;
    if (!breakable) {
        if (*col + len + 1 > width && *col > 1) {
            MM_GUARD(mm_buf_append(b, "\r\n\t", 3));
            *col = 1;
        } else if (*col > 0) {
            MM_GUARD(mm_buf_append(b, " ", 1));
            (*col)++;
        }
        MM_GUARD(mm_buf_append(b, text, len));
        *col += len;
        return 0;
    }
    /* base64 and DKIM-Quoted-Printable may carry FWS between octets (2.4, 2.11): break where
     * the line is full, but never inside a "=XX" hex-octet */
    for (size_t i = 0; i < len; i++) {
        bool in_hex = (i >= 1 && text[i - 1] == '=') || (i >= 2 && text[i - 2] == '=');
        if (*col >= width && !in_hex) {
            MM_GUARD(mm_buf_append(b, "\r\n\t", 3));
            *col = 1;
        }
        MM_GUARD(mm_buf_append(b, text + i, 1));
        (*col)++;
    }
    return 0;
}
