/*
 * verify.c - the verifier (RFC 6376 6): signatures are parsed and their keys
 * fetched at end of headers, the body is hashed as it streams (one hash per
 * signature: c= and l= may differ), results follow RFC 8601.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dkim_int.h"

const char *mm_dkim_result_name(enum mm_dkim_result_code r)
{
    static const char *const names[] = {
#define MM_DKIM_RESULT_TEXT(sym, text) text,
        MM_DKIM_RESULT_TABLE(MM_DKIM_RESULT_TEXT)
#undef MM_DKIM_RESULT_TEXT
    };
    return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "permerror";
}

struct vsig {
    dkim_sig sig;
    mm_dkim_pubkey key;
    dkim_bodyhash bh;
    bool active; /* still to be decided at end of message */
};

struct mm_dkim_verifier {
    mm_dkim_verify_opts o;
    mm_dkim_msg msg;
    struct vsig *v;
    mm_dkim_result *res;
    size_t n;
    bool eoh;
};

int mm_dkim_verifier_new(const mm_dkim_verify_opts *o, mm_dkim_verifier **out)
{
    mm_dkim_verifier *v = calloc(1, sizeof(*v));
    if (!v)
        return MM_ENOMEM;
    v->o = *o;
    if (v->o.max_sigs <= 0 || v->o.max_sigs > MM_DKIM_MAX_SIGS)
        v->o.max_sigs = MM_DKIM_MAX_SIGS;
    mm_dkim_msg_init(&v->msg);
    *out = v;
    return 0;
}

void mm_dkim_verifier_free(mm_dkim_verifier *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        mm_dkim_pubkey_free(&v->v[i].key);
        dkim_bodyhash_free(&v->v[i].bh);
    }
    free(v->v);
    free(v->res);
    mm_dkim_msg_free(&v->msg);
    free(v);
}

int mm_dkim_verifier_header(mm_dkim_verifier *v, const uint8_t *field, size_t len)
{
    return v->eoh ? MM_ESTATE : mm_dkim_msg_add(&v->msg, field, len);
}

int mm_dkim_verifier_header_nv(mm_dkim_verifier *v, const char *name, const char *value)
{
    return v->eoh ? MM_ESTATE : mm_dkim_msg_add_nv(&v->msg, name, value);
}

const mm_dkim_msg *mm_dkim_verifier_msg(const mm_dkim_verifier *v) { return &v->msg; }

static void set(mm_dkim_result *r, enum mm_dkim_result_code c, const char *why)
{
    r->code = c;
    snprintf(r->reason, sizeof(r->reason), "%s", why);
}

/* Steps 1-3 of RFC 6376 6.1 for one signature; leaves it active if the body must be hashed. */
static void check_sig(mm_dkim_verifier *v, struct vsig *vs, mm_dkim_result *r)
{
    const char *why = "";
    dkim_sig *s = &vs->sig;
    int rc = dkim_sig_parse(&v->msg.f[r->field_idx], s, &why);
    snprintf(r->d, sizeof(r->d), "%s", s->d);
    snprintf(r->s, sizeof(r->s), "%s", s->s);
    snprintf(r->i, sizeof(r->i), "%s", s->i);
    snprintf(r->a, sizeof(r->a), "%s", s->alg ? mm_dkim_alg_name(s->alg) : "");
    snprintf(r->b8, sizeof(r->b8), "%s", s->b8);
    r->acdc_n = s->acdc_n;
    r->has_l = s->has_l;
    if (rc < 0)
        return set(r, MM_DKIM_PERMERROR, why);
    if (s->alg == MM_DKIM_ALG_RSA_SHA1)
        return set(r, MM_DKIM_PERMERROR, "rsa-sha1 not accepted (RFC 8301)");
    /* l=: RFC 6376 8.2 lets appended content pass; refused unless configured */
    if (s->has_l && !v->o.allow_l)
        return set(r, MM_DKIM_POLICY, "l= body length limit not accepted by policy");
    int64_t now = v->o.now ? v->o.now : (int64_t)time(NULL);
    if (s->has_x && s->x + 300 < now)
        return set(r, MM_DKIM_PERMERROR, "signature expired (x=)");
    if (s->has_t && s->t > now + 300 && !s->has_x)
        return set(r, MM_DKIM_PERMERROR, "signature timestamp in the future (t=)");
    if (!v->o.keys)
        return set(r, MM_DKIM_TEMPERROR, "no key source configured");
    char qname[400];
    snprintf(qname, sizeof(qname), "%s._domainkey.%s", s->s, s->d);
    mm_buf txt;
    mm_buf_init(&txt, 65536);
    rc = mm_dkim_keysrc_lookup(v->o.keys, qname, &txt);
    if (rc == MM_ENOENT || rc == MM_ELIMIT || rc == MM_EMALFORMED) {
        mm_buf_free(&txt);
        return set(r, MM_DKIM_PERMERROR, "no key for signature (key record not found)");
    }
    if (rc < 0) {
        mm_buf_free(&txt);
        return set(r, MM_DKIM_TEMPERROR, "key query failed (DNS timeout or server failure)");
    }
    rc = dkim_keysrc_pubkey(v->o.keys, qname, txt.data ? txt.data : (const uint8_t *)"", txt.len,
                            &vs->key, &why);
    mm_buf_free(&txt);
    if (rc < 0)
        return set(r, MM_DKIM_PERMERROR, why);
    r->key_bits = vs->key.bits;
    r->weak_key = vs->key.alg == MM_DKIM_ALG_RSA_SHA256 && vs->key.bits < 2048;
    bool rsa_sig = s->alg == MM_DKIM_ALG_RSA_SHA256;
    if ((vs->key.alg == MM_DKIM_ALG_RSA_SHA256) != rsa_sig)
        return set(r, MM_DKIM_PERMERROR, "key type (k=) does not match a=");
    if (vs->key.strict) {
        const char *at = strrchr(s->i, '@');
        if (!at || strcasecmp(at + 1, s->d) != 0)
            return set(r, MM_DKIM_PERMERROR, "key t=s requires i= domain equal to d=");
    }
    if (dkim_bodyhash_init(&vs->bh, s->bc, s->has_l ? s->l : UINT64_MAX) < 0)
        return set(r, MM_DKIM_TEMPERROR, "out of resources");
    vs->active = true;
}

int mm_dkim_verifier_eoh(mm_dkim_verifier *v)
{
    if (v->eoh)
        return MM_ESTATE;
    v->eoh = true;
    size_t cnt = 0;
    for (size_t i = 0; i < v->msg.n; i++)
        cnt += mm_dkim_field_is(&v->msg.f[i], "DKIM-Signature");
    if (cnt > (size_t)v->o.max_sigs)
        cnt = (size_t)v->o.max_sigs; /* the rest are not evaluated (bounded work) */
    if (!cnt)
        return 0;
    v->v = calloc(cnt, sizeof(*v->v));
    v->res = calloc(cnt, sizeof(*v->res));
    if (!v->v || !v->res)
        return MM_ENOMEM;
    for (size_t i = 0; i < v->msg.n && v->n < cnt; i++) {
        if (!mm_dkim_field_is(&v->msg.f[i], "DKIM-Signature"))
            continue;
        v->res[v->n].field_idx = i;
        check_sig(v, &v->v[v->n], &v->res[v->n]);
        v->n++;
    }
    return 0;
}

void mm_dkim_verifier_body(mm_dkim_verifier *v, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i].active)
            dkim_bodyhash_update(&v->v[i].bh, p, n);
}

static void finish_sig(mm_dkim_verifier *v, struct vsig *vs, mm_dkim_result *r)
{
    dkim_sig *s = &vs->sig;
    uint8_t bh[32];
    if (dkim_bodyhash_final(&vs->bh, bh) < 0)
        return set(r, MM_DKIM_TEMPERROR, "out of resources");
    r->body_checked = true;
    if (s->has_l) {
        if (vs->bh.seen < s->l)
            return set(r, MM_DKIM_PERMERROR, "l= exceeds the body length");
        r->unsigned_body = vs->bh.seen - s->l;
    }
    r->body_ok = memcmp(bh, s->bh, 32) == 0;
    if (!r->body_ok)
        return set(r, MM_DKIM_FAIL, "body hash did not verify");
    mm_buf hin;
    mm_buf_init(&hin, MM_DKIM_MAX_HEADER_BYTES * 2);
    int rc = dkim_hdr_input(&v->msg, s->hc, s->h, s->nh, s->field->raw, s->field->len,
                            s->bdel_start, s->bdel_end, &hin);
    if (rc == 0)
        rc = dkim_crypto_verify(vs->key.pkey, s->alg, hin.data, hin.len, s->b, s->blen);
    mm_buf_free(&hin);
    r->hdr_checked = true;
    if (rc == MM_EVERIFY)
        return set(r, MM_DKIM_FAIL, "signature did not verify (headers changed)");
    if (rc < 0)
        return set(r, MM_DKIM_PERMERROR, "signature could not be checked");
    set(r, MM_DKIM_PASS, vs->key.testing ? "good signature (key in testing mode)" : "good signature");
}

int mm_dkim_verifier_finish(mm_dkim_verifier *v, const mm_dkim_result **res, size_t *n)
{
    if (!v->eoh)
        MM_GUARD(mm_dkim_verifier_eoh(v));
    for (size_t i = 0; i < v->n; i++) {
        if (!v->v[i].active)
            continue;
        v->v[i].active = false;
        finish_sig(v, &v->v[i], &v->res[i]);
    }
    *res = v->res;
    *n = v->n;
    return 0;
}

int mm_dkim_verify_message(const mm_dkim_verify_opts *o, const uint8_t *msg, size_t len,
                           mm_dkim_result *res, size_t cap, size_t *n)
{
    mm_dkim_verifier *v;
    MM_GUARD(mm_dkim_verifier_new(o, &v));
    size_t body;
    int rc = mm_dkim_msg_parse(&v->msg, msg, len, &body);
    const mm_dkim_result *r = NULL;
    size_t rn = 0;
    if (!rc)
        rc = mm_dkim_verifier_eoh(v);
    if (!rc) {
        mm_dkim_verifier_body(v, msg + body, len - body);
        rc = mm_dkim_verifier_finish(v, &r, &rn);
    }
    *n = 0;
    for (size_t i = 0; !rc && i < rn && i < cap; i++)
        res[(*n)++] = r[i];
    mm_dkim_verifier_free(v);
    return rc;
}

/* RFC 8601 2.2: a reason is a value, quoted when it is not a token */
static int quoted(mm_buf *out, const char *s)
{
    MM_GUARD(mm_buf_append(out, "\"", 1));
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            MM_GUARD(mm_buf_append(out, "\\", 1));
        if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
            MM_GUARD(mm_buf_append(out, s, 1));
    }
    return mm_buf_append(out, "\"", 1);
}

int mm_dkim_ar_format(const char *authserv_id, const mm_dkim_result *res, size_t n,
                      const char *extra, mm_buf *out)
{
    MM_GUARD(mm_buf_printf(out, "Authentication-Results: %s", authserv_id));
    if (n == 0)
        MM_GUARD(mm_buf_append_str(out, ";\r\n\tdkim=none"));
    for (size_t i = 0; i < n; i++) {
        const mm_dkim_result *r = &res[i];
        MM_GUARD(mm_buf_printf(out, ";\r\n\tdkim=%s reason=", mm_dkim_result_name(r->code)));
        MM_GUARD(quoted(out, r->reason));
        if (r->d[0])
            MM_GUARD(mm_buf_printf(out, " header.d=%s", r->d));
        if (r->i[0] && strchr(r->i, '@') && !strpbrk(r->i, " ;()\"\\"))
            MM_GUARD(mm_buf_printf(out, " header.i=%s", r->i));
        if (r->s[0])
            MM_GUARD(mm_buf_printf(out, " header.s=%s", r->s));
        if (r->a[0])
            MM_GUARD(mm_buf_printf(out, " header.a=%s", r->a));
        if (r->b8[0])
            MM_GUARD(mm_buf_printf(out, strpbrk(r->b8, "/=") ? " header.b=\"%s\"" : " header.b=%s",
                                   r->b8));
        if (r->acdc_n) /* a comment (RFC 8601 2.2 CFWS): which ACDC instance this is */
            MM_GUARD(mm_buf_printf(out, " (acdc instance %d)", r->acdc_n));
    }
    if (extra && *extra)
        MM_GUARD(mm_buf_printf(out, ";\r\n\t%s", extra));
    return 0;
}
