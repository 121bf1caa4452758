/*
 * sign.c - the signer (RFC 6376 5): headers are collected, the body is
 * hashed as it streams, the signature field is built at the end.
 * l= is never produced (RFC 6376 8.2: content could be appended); RSA keys
 * below 2048 bits and rsa-sha1 are refused (RFC 8301).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "dkim_int.h"

static const char *const default_headers[] = {
    "from", "reply-to", "subject", "date", "to", "cc", "message-id", "in-reply-to",
    "references", "mime-version", "content-type", "content-transfer-encoding",
    "list-id", "list-post", "list-unsubscribe", NULL};
/* Signed once more than present, so that a later addition breaks the signature (5.4.2). */
static const char *const default_oversign[] = {"from", "reply-to", "subject", "date", "to", "cc",
                                               NULL};

struct mm_dkim_signer {
    mm_dkim_sign_opts o;
    uint8_t salt[16]; /* a copy: the caller's buffer may be gone by finish */
    mm_dkim_msg msg;
    dkim_bodyhash bh;
};

static bool in_list(const char *const *l, const char *name)
{
    for (; l && *l; l++)
        if (strcasecmp(*l, name) == 0)
            return true;
    return false;
}

int mm_dkim_signer_new(const mm_dkim_sign_opts *o, mm_dkim_signer **out)
{
    if (!o->pkey || !o->domain || !o->selector || o->body_length)
        return MM_EINVAL;
    if (o->alg != MM_DKIM_ALG_RSA_SHA256 && o->alg != MM_DKIM_ALG_ED25519_SHA256)
        return MM_EUNSUPPORTED; /* rsa-sha1 is never produced (RFC 8301 3.1) */
    int id = EVP_PKEY_get_base_id(o->pkey);
    if ((o->alg == MM_DKIM_ALG_RSA_SHA256 && (id != EVP_PKEY_RSA || EVP_PKEY_get_bits(o->pkey) < 2048)) ||
        (o->alg == MM_DKIM_ALG_ED25519_SHA256 && id != EVP_PKEY_ED25519))
        return MM_EINVAL;
    /* ACDC signatures are relaxed/relaxed only (spec 5.6) */
    if (o->acdc_n && (o->hc != MM_DKIM_RELAXED || o->bc != MM_DKIM_RELAXED))
        return MM_EINVAL;
    if (o->acdc_n > 1 && (!o->acdc_prev_salt_b64 || !o->acdc_received_for || !o->acdc_prev_b))
        return MM_EINVAL;
    if (o->acdc_n < 0 || o->acdc_n > 255 || (o->acdc_n && (!o->env.mail_from || !o->env.nrcpt)))
        return MM_EINVAL;
    /* 5.2: a recorded change is signed (its field name must be among the signed names) */
    if (o->acdc_n && o->acdc_diff) {
        if (!o->headers || !in_list(o->headers, mm_dkim_acdc_name(MM_ACDC_HDR_DIFF)))
            return MM_EINVAL;
    }
    mm_dkim_signer *s = calloc(1, sizeof(*s));
    if (!s)
        return MM_ENOMEM;
    s->o = *o;
    if (o->acdc_salt) {
        memcpy(s->salt, o->acdc_salt, sizeof(s->salt));
        s->o.acdc_salt = s->salt;
    }
    if (!s->o.headers)
        s->o.headers = default_headers;
    if (!s->o.oversign)
        s->o.oversign = default_oversign;
    mm_dkim_msg_init(&s->msg);
    if (dkim_bodyhash_init(&s->bh, o->bc, UINT64_MAX) < 0) {
        free(s);
        return MM_ECRYPTO;
    }
    *out = s;
    return 0;
}

void mm_dkim_signer_free(mm_dkim_signer *s)
{
    if (!s)
        return;
    mm_dkim_msg_free(&s->msg);
    dkim_bodyhash_free(&s->bh);
    free(s);
}

int mm_dkim_signer_header(mm_dkim_signer *s, const uint8_t *field, size_t len)
{
    return mm_dkim_msg_add(&s->msg, field, len);
}

int mm_dkim_signer_header_nv(mm_dkim_signer *s, const char *name, const char *value)
{
    return mm_dkim_msg_add_nv(&s->msg, name, value);
}

void mm_dkim_signer_body(mm_dkim_signer *s, const uint8_t *p, size_t n)
{
    dkim_bodyhash_update(&s->bh, p, n);
}

static size_t count_fields(const mm_dkim_msg *m, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < m->n; i++)
        c += mm_dkim_field_is(&m->f[i], name);
    return c;
}

static int add_tag(mm_buf *b, size_t *col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int add_tag(mm_buf *b, size_t *col, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return MM_ELIMIT;
    return dkim_fold_append(b, col, tmp, (size_t)n, false);
}

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

/* The ACDC [P] tags (spec 5.2, 5.3, 5.7). */
static int acdc_tags(mm_dkim_signer *s, mm_buf *f, size_t *col)
{
    const mm_dkim_sign_opts *o = &s->o;
    uint8_t salt[16];
    if (o->acdc_salt)
        memcpy(salt, o->acdc_salt, 16);
    else if (RAND_bytes(salt, 16) != 1)
        return MM_ECRYPTO;
    mm_buf sb;
    mm_buf_init(&sb, 64);
    int rc = mm_dkim_b64_encode(&sb, salt, 16);
    char mf[23];
    if (!rc)
        rc = mm_dkim_acdc_eh(salt, MM_ACDC_KIND_MAILFROM, o->env.mail_from, mf);
    if (!rc)
        rc = add_tag(f, col, "%s=%d; %s=%s; %s=%s;", mm_dkim_acdc_name(MM_ACDC_TAG_N), o->acdc_n,
                     mm_dkim_acdc_name(MM_ACDC_TAG_S), mm_buf_cstr(&sb),
                     mm_dkim_acdc_name(MM_ACDC_TAG_MF), mf);
    mm_buf_free(&sb);
    if (rc)
        return rc;
    if (o->env.nrcpt > 256)
        return MM_ELIMIT;
    char(*rt)[23] = calloc(o->env.nrcpt, sizeof(*rt));
    if (!rt)
        return MM_ENOMEM;
    for (size_t i = 0; !rc && i < o->env.nrcpt; i++)
        rc = mm_dkim_acdc_eh(salt, MM_ACDC_KIND_RCPT, o->env.rcpt[i], rt[i]);
    qsort(rt, o->env.nrcpt, sizeof(*rt), cmp_str);
    if (!rc) {
        char name[32];
        snprintf(name, sizeof(name), "%s=", mm_dkim_acdc_name(MM_ACDC_TAG_RT));
        rc = dkim_fold_append(f, col, name, strlen(name), false);
        for (size_t i = 0; !rc && i < o->env.nrcpt; i++) {
            if (i)
                rc = mm_buf_append(f, ":", 1);
            (*col)++;
            if (!rc && *col + 23 > 76) {
                rc = mm_buf_append(f, "\r\n\t", 3);
                *col = 1;
            }
            if (!rc)
                rc = mm_buf_append(f, rt[i], 22);
            *col += 22;
        }
        if (!rc)
            rc = mm_buf_append(f, ";", 1);
        (*col)++;
    }
    free(rt);
    if (!rc)
        rc = add_tag(f, col, "%s=%d;", mm_dkim_acdc_name(MM_ACDC_TAG_D), o->acdc_diff ? 1 : 0);
    if (rc || o->acdc_n == 1)
        return rc;
    /* chain tags: acdc_pr under the previous salt, acdc_ps over the previous b= */
    uint8_t psalt[16], pb[1024], dg[32];
    size_t pl, bl;
    unsigned int dl = 0;
    if (mm_dkim_b64_decode((const uint8_t *)o->acdc_prev_salt_b64, strlen(o->acdc_prev_salt_b64),
                           psalt, sizeof(psalt), &pl) < 0 || pl != 16 ||
        mm_dkim_b64_decode((const uint8_t *)o->acdc_prev_b, strlen(o->acdc_prev_b), pb,
                           sizeof(pb), &bl) < 0 ||
        EVP_Digest(pb, bl, dg, &dl, EVP_sha256(), NULL) != 1)
        return MM_EINVAL;
    char pr[23];
    MM_GUARD(mm_dkim_acdc_eh(psalt, MM_ACDC_KIND_RCPT, o->acdc_received_for, pr));
    mm_buf pb64;
    mm_buf_init(&pb64, 64);
    rc = mm_dkim_b64_encode(&pb64, dg, 32);
    if (!rc)
        rc = add_tag(f, col, "%s=%s; %s=%s;", mm_dkim_acdc_name(MM_ACDC_TAG_PR), pr,
                     mm_dkim_acdc_name(MM_ACDC_TAG_PS), mm_buf_cstr(&pb64));
    mm_buf_free(&pb64);
    return rc;
}

/* DKIM-Quoted-Printable (RFC 6376 2.11) of one octet string; '|' is encoded too (z= separator). */
static int dkim_qp(mm_buf *out, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\r' || c == '\n')
            continue; /* unfolded */
        if (c > 0x20 && c < 0x7f && c != ';' && c != '=' && c != '|') {
            MM_GUARD(mm_buf_append(out, &c, 1));
        } else {
            char e[3] = {'=', hex[c >> 4], hex[c & 15]};
            MM_GUARD(mm_buf_append(out, e, 3));
        }
    }
    return 0;
}

/* z=: the signed fields as they are now (bottom-most instance of each listed name). */
static int z_tag(mm_dkim_signer *s, mm_buf *f, size_t *col)
{
    mm_buf z;
    mm_buf_init(&z, MM_DKIM_MAX_HEADER_BYTES * 3);
    int rc = mm_buf_append_str(&z, "z=");
    bool first = true;
    for (const char *const *n = s->o.headers; !rc && *n; n++)
        for (size_t i = s->msg.n; i-- > 0;)
            if (mm_dkim_field_is(&s->msg.f[i], *n)) {
                if (!first)
                    rc = mm_buf_append(&z, "|", 1);
                first = false;
                if (!rc)
                    rc = dkim_qp(&z, s->msg.f[i].raw, s->msg.f[i].len);
                break;
            }
    if (!rc)
        rc = mm_buf_append(&z, ";", 1);
    if (!rc)
        rc = dkim_fold_append(f, col, "", 0, false);
    if (!rc)
        rc = dkim_fold_append(f, col, (const char *)z.data, z.len, true);
    mm_buf_free(&z);
    return rc;
}

/* h=: every present instance of each configured name, plus one for oversigned names. */
static int h_tag(mm_dkim_signer *s, mm_buf *f, size_t *col, dkim_span *h, size_t *nh)
{
    MM_GUARD(dkim_fold_append(f, col, "h=", 2, false));
    bool first = true;
    *nh = 0;
    for (const char *const *n = s->o.headers; *n; n++) {
        size_t c = count_fields(&s->msg, *n) + (in_list(s->o.oversign, *n) ? 1 : 0);
        for (size_t k = 0; k < c; k++) {
            if (*nh == MM_DKIM_MAX_H)
                return MM_ELIMIT;
            size_t l = strlen(*n);
            if (!first) {
                MM_GUARD(mm_buf_append(f, ":", 1));
                (*col)++;
            }
            if (*col + l + 1 > 76) {
                MM_GUARD(mm_buf_append(f, "\r\n\t", 3));
                *col = 1;
            }
            MM_GUARD(mm_buf_append(f, *n, l));
            *col += l;
            h[*nh].p = (const uint8_t *)*n;
            h[(*nh)++].len = l;
            first = false;
        }
    }
    MM_GUARD(mm_buf_append(f, ";", 1));
    (*col)++;
    return 0;
}

int mm_dkim_signer_finish(mm_dkim_signer *s, mm_buf *f)
{
    const mm_dkim_sign_opts *o = &s->o;
    if (count_fields(&s->msg, "from") != 1)
        return MM_EMALFORMED; /* RFC 5322 3.6: exactly one From; 5.4: it must be signed */
    uint8_t bh[32];
    MM_GUARD(dkim_bodyhash_final(&s->bh, bh));
    size_t start = f->len, col = 15;
    MM_GUARD(mm_buf_append_str(f, "DKIM-Signature:"));
    MM_GUARD(add_tag(f, &col, "v=1; a=%s; c=%s/%s;", mm_dkim_alg_name(o->alg),
                     o->hc == MM_DKIM_RELAXED ? "relaxed" : "simple",
                     o->bc == MM_DKIM_RELAXED ? "relaxed" : "simple"));
    MM_GUARD(add_tag(f, &col, "d=%s;", o->domain));
    MM_GUARD(add_tag(f, &col, "s=%s;", o->selector));
    if (o->auid)
        MM_GUARD(add_tag(f, &col, "i=%s;", o->auid));
    int64_t t = o->t ? o->t : (int64_t)time(NULL);
    if (o->t >= 0)
        MM_GUARD(add_tag(f, &col, "t=%lld;", (long long)t));
    if (o->expire_after > 0)
        MM_GUARD(add_tag(f, &col, "x=%lld;", (long long)(t + o->expire_after)));
    if (o->acdc_n)
        MM_GUARD(acdc_tags(s, f, &col));
    if (o->copy_headers && !o->acdc_n) /* spec 5.6: no z= in ACDC signatures */
        MM_GUARD(z_tag(s, f, &col));
    dkim_span h[MM_DKIM_MAX_H];
    size_t nh;
    MM_GUARD(h_tag(s, f, &col, h, &nh));
    mm_buf b64;
    mm_buf_init(&b64, 1024);
    int rc = mm_dkim_b64_encode(&b64, bh, 32);
    if (!rc)
        rc = dkim_fold_append(f, &col, "bh=", 3, false);
    if (!rc)
        rc = dkim_fold_append(f, &col, (const char *)b64.data, b64.len, true);
    if (!rc)
        rc = mm_buf_append(f, ";", 1);
    col++;
    if (!rc)
        rc = dkim_fold_append(f, &col, "b=", 2, false);
    mm_buf hin;
    mm_buf_init(&hin, MM_DKIM_MAX_HEADER_BYTES * 2);
    size_t flen = f->len - start;
    if (!rc)
        rc = dkim_hdr_input(&s->msg, o->hc, h, nh, f->data + start, flen, flen, flen, &hin);
    uint8_t sig[1024];
    size_t sl = sizeof(sig);
    if (!rc)
        rc = dkim_crypto_sign(o->pkey, o->alg, hin.data, hin.len, sig, &sl);
    mm_buf_free(&hin);
    mm_buf_reset(&b64);
    if (!rc)
        rc = mm_dkim_b64_encode(&b64, sig, sl);
    if (!rc)
        rc = dkim_fold_append(f, &col, (const char *)b64.data, b64.len, true);
    mm_buf_free(&b64);
    return rc;
}

int mm_dkim_sign_message(const mm_dkim_sign_opts *o, const uint8_t *msg, size_t len, mm_buf *field)
{
    mm_dkim_signer *s;
    MM_GUARD(mm_dkim_signer_new(o, &s));
    size_t body;
    int rc = mm_dkim_msg_parse(&s->msg, msg, len, &body);
    if (!rc) {
        mm_dkim_signer_body(s, msg + body, len - body);
        rc = mm_dkim_signer_finish(s, field);
    }
    mm_dkim_signer_free(s);
    return rc;
}
