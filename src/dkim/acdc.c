/*
 * acdc.c - ACDC [P] envelope binding (spec 5.3) and the ACDC tags of a
 * DKIM-Signature (5.2, 5.6). Names come from acdc_names.c only.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "dkim_int.h"

int mm_dkim_acdc_canon_addr(const char *path, mm_buf *out)
{
    const char *p = path;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *e;
    if (*p == '<') {
        p++;
        e = strchr(p, '>');
        if (!e)
            return MM_EMALFORMED;
    } else {
        e = p + strcspn(p, " \t"); /* ESMTP parameters follow a space */
    }
    /* RFC 5321 4.1.2: an obsolete source route "@a,@b:" is ignored */
    if (*p == '@') {
        const char *colon = memchr(p, ':', (size_t)(e - p));
        if (!colon)
            return MM_EMALFORMED;
        p = colon + 1;
    }
    const char *at = NULL;
    for (const char *q = p; q < e; q++)
        if (*q == '@')
            at = q;
    if (!at)
        return mm_buf_append(out, p, (size_t)(e - p)); /* null path "" or a bare name */
    MM_GUARD(mm_buf_append(out, p, (size_t)(at + 1 - p)));
    for (const char *q = at + 1; q < e; q++) {
        char c = (*q >= 'A' && *q <= 'Z') ? (char)(*q + 32) : *q;
        MM_GUARD(mm_buf_append(out, &c, 1));
    }
    return 0;
}

int mm_dkim_acdc_eh(const uint8_t salt[16], enum mm_dkim_acdc_id kind, const char *addr,
                    char out[23])
{
    mm_buf in;
    mm_buf_init(&in, 4096);
    int rc = mm_buf_append(&in, salt, 16);
    if (!rc)
        rc = mm_buf_append_str(&in, mm_dkim_acdc_name(kind));
    if (!rc)
        rc = mm_buf_append(&in, ":", 1);
    if (!rc)
        rc = mm_dkim_acdc_canon_addr(addr, &in);
    uint8_t dg[32];
    unsigned int dl = 0;
    if (!rc && EVP_Digest(in.data, in.len, dg, &dl, EVP_sha256(), NULL) != 1)
        rc = MM_ECRYPTO;
    mm_buf_free(&in);
    if (rc)
        return rc;
    mm_buf b;
    mm_buf_init(&b, 64);
    rc = mm_dkim_b64_encode(&b, dg, 16);
    if (!rc) {
        memcpy(out, b.data, 22); /* 16 octets: 22 characters + "==" dropped */
        out[22] = 0;
    }
    mm_buf_free(&b);
    return rc;
}

static const uint8_t *tagval(dkim_sig *s, enum mm_dkim_acdc_id id, size_t *len)
{
    int i = mm_dkim_taglist_find(&s->tl, mm_dkim_acdc_name(id));
    if (i < 0)
        return NULL;
    return mm_dkim_taglist_value(&s->tl, i, len);
}

static bool eh_ok(const uint8_t *v, size_t vl)
{
    uint8_t tmp[24];
    size_t tl;
    return vl == 22 && mm_dkim_b64_decode(v, vl, tmp, sizeof(tmp), &tl) == 0 && tl == 16;
}

#define ACDC_FAIL(text)                                                      \
    do {                                                                     \
        *why = (text);                                                       \
        return MM_EPERM;                                                     \
    } while (0)

int dkim_sig_acdc_parse(dkim_sig *s, const char **why)
{
    size_t vl;
    const uint8_t *v = tagval(s, MM_ACDC_TAG_N, &vl);
    if (!v)
        return 0; /* a classic signature */
    int n = 0;
    for (size_t i = 0; i < vl; i++) {
        if (v[i] < '0' || v[i] > '9' || i >= 3)
            ACDC_FAIL("acdc: instance number is not 1..255");
        n = n * 10 + (v[i] - '0');
    }
    if (n < 1 || n > 255)
        ACDC_FAIL("acdc: instance number is not 1..255");
    s->acdc_n = n;
    /* 5.6 obsoleted features are refused in ACDC signatures */
    if (s->has_l)
        ACDC_FAIL("acdc: l= not allowed in an ACDC signature");
    if (s->hc != MM_DKIM_RELAXED || s->bc != MM_DKIM_RELAXED)
        ACDC_FAIL("acdc: c= must be relaxed/relaxed");
    size_t sl;
    if (!(v = tagval(s, MM_ACDC_TAG_S, &vl)) ||
        mm_dkim_b64_decode(v, vl, s->acdc_salt, sizeof(s->acdc_salt), &sl) < 0 || sl != 16)
        ACDC_FAIL("acdc: salt missing or not 16 octets");
    if (!(v = tagval(s, MM_ACDC_TAG_MF, &vl)) || !eh_ok(v, vl))
        ACDC_FAIL("acdc: MAIL FROM hash missing or malformed");
    memcpy(s->acdc_mf, v, 22);
    if (!(v = tagval(s, MM_ACDC_TAG_RT, &vl)) || vl < 22)
        ACDC_FAIL("acdc: RCPT TO hashes missing");
    for (size_t i = 0; i < vl; i += 23) {
        if (i + 22 > vl || !eh_ok(v + i, 22) || (i + 22 < vl && v[i + 22] != ':'))
            ACDC_FAIL("acdc: RCPT TO hash list malformed");
        if (i && memcmp(v + i - 23, v + i, 22) > 0)
            ACDC_FAIL("acdc: RCPT TO hashes not sorted"); /* 5.2: ascending */
    }
    s->acdc_rt.p = v;
    s->acdc_rt.len = vl;
    if (!(v = tagval(s, MM_ACDC_TAG_D, &vl)) || vl != 1 || (v[0] != '0' && v[0] != '1'))
        ACDC_FAIL("acdc: change flag missing or not 0/1");
    s->acdc_d = v[0] - '0';
    if (s->acdc_d) {
        /* 5.2: a hop that recorded a change signs its record */
        const char *dn = mm_dkim_acdc_name(MM_ACDC_HDR_DIFF);
        bool signed_diff = false;
        for (size_t i = 0; i < s->nh; i++)
            signed_diff |= s->h[i].len == strlen(dn) && strncasecmp((const char *)s->h[i].p, dn, s->h[i].len) == 0;
        if (!signed_diff)
            ACDC_FAIL("acdc: change flag set but the change record is not in h=");
    }
    if ((v = tagval(s, MM_ACDC_TAG_PR, &vl))) {
        if (!eh_ok(v, vl))
            ACDC_FAIL("acdc: previous-recipient hash malformed");
        memcpy(s->acdc_pr, v, 22);
        s->has_pr = true;
    }
    if ((v = tagval(s, MM_ACDC_TAG_PS, &vl))) {
        if (mm_dkim_b64_decode(v, vl, s->acdc_ps, sizeof(s->acdc_ps), &sl) < 0 || sl != 32)
            ACDC_FAIL("acdc: previous-signature hash malformed");
        s->has_ps = true;
    }
    if (n > 1 && (!s->has_pr || !s->has_ps))
        ACDC_FAIL("acdc: instance > 1 without chain tags");
    if (n == 1 && (s->has_pr || s->has_ps))
        ACDC_FAIL("acdc: instance 1 carries chain tags");
    return 0;
}

/* True if the 22-character hash h is an element of the colon list rt. */
bool dkim_acdc_rt_has(const dkim_span *rt, const char *h)
{
    for (size_t i = 0; i + 22 <= rt->len; i += 23)
        if (memcmp(rt->p + i, h, 22) == 0)
            return true;
    return false;
}
