/*
 * acdc_verify.c - ACDC [P] chain verification (spec 5.8): instances N..1 are
 * verified newest first, each over the content reconstructed by undoing the
 * change records of the later hops; chain links (5.4) and the envelope of the
 * current transaction (5.3) are checked.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dkim_int.h"

struct inst {
    int present;       /* signatures seen for this instance */
    dkim_sig sig;      /* the first one (tags must agree for all, 5.4) */
    char bmin[1400];   /* smallest b= text (FWS removed) of the instance */
};

static void rep_set(mm_dkim_acdc_report *r, enum mm_dkim_result_code c, const char *why)
{
    r->code = c;
    snprintf(r->reason, sizeof(r->reason), "%.150s", why);
}

static void b_text(const dkim_sig *s, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < s->bval.len && o + 1 < cap; i++)
        if (s->bval.p[i] > ' ')
            out[o++] = (char)s->bval.p[i];
    out[o] = 0;
}

static bool same_tags(const dkim_sig *a, const dkim_sig *b)
{
    return memcmp(a->acdc_salt, b->acdc_salt, 16) == 0 && strcmp(a->acdc_mf, b->acdc_mf) == 0 &&
           a->acdc_rt.len == b->acdc_rt.len && memcmp(a->acdc_rt.p, b->acdc_rt.p, a->acdc_rt.len) == 0 &&
           a->has_pr == b->has_pr && strcmp(a->acdc_pr, b->acdc_pr) == 0 && a->has_ps == b->has_ps &&
           memcmp(a->acdc_ps, b->acdc_ps, 32) == 0 && a->acdc_d == b->acdc_d;
}

/* Collect the ACDC signatures; returns the highest instance, or <0 on a sequence error. */
static int collect(const mm_dkim_msg *m, struct inst *in, mm_dkim_acdc_report *rep)
{
    int max = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!mm_dkim_field_is(&m->f[i], "DKIM-Signature"))
            continue;
        dkim_sig s;
        const char *why = "";
        int rc = dkim_sig_parse(&m->f[i], &s, &why);
        if (rc < 0) {
            /* a broken signature that claims to be ACDC breaks the chain */
            if (mm_dkim_taglist_find(&s.tl, mm_dkim_acdc_name(MM_ACDC_TAG_N)) >= 0) {
                rep_set(rep, MM_DKIM_PERMERROR, why);
                return -1;
            }
            continue;
        }
        if (!s.acdc_n)
            continue;
        if (s.acdc_n > MM_DKIM_MAX_SIGS) {
            rep_set(rep, MM_DKIM_PERMERROR, mm_dkim_acdc_name(MM_ACDC_R_SEQUENCE));
            return -1;
        }
        struct inst *x = &in[s.acdc_n - 1];
        char bt[1400];
        b_text(&s, bt, sizeof(bt));
        if (x->present && !same_tags(&x->sig, &s)) {
            rep_set(rep, MM_DKIM_PERMERROR, mm_dkim_acdc_name(MM_ACDC_R_SEQUENCE));
            return -1;
        }
        if (!x->present) {
            x->sig = s;
            snprintf(x->bmin, sizeof(x->bmin), "%s", bt);
        } else if (strcmp(bt, x->bmin) < 0) {
            snprintf(x->bmin, sizeof(x->bmin), "%s", bt);
        }
        x->present++;
        if (s.acdc_n > max)
            max = s.acdc_n;
    }
    for (int k = 1; k <= max; k++)
        if (!in[k - 1].present) {
            rep_set(rep, MM_DKIM_PERMERROR, mm_dkim_acdc_name(MM_ACDC_R_SEQUENCE));
            return -1;
        }
    return max;
}

/* 5.4: acdc_ps(k) = SHA-256(decoded smallest b= of k-1); acdc_pr(k) in acdc_rt(k-1). */
static bool chain_ok(const struct inst *cur, const struct inst *prev)
{
    uint8_t b[1024], dg[32];
    size_t bl;
    unsigned int dl = 0;
    if (mm_dkim_b64_decode((const uint8_t *)prev->bmin, strlen(prev->bmin), b, sizeof(b), &bl) < 0 ||
        EVP_Digest(b, bl, dg, &dl, EVP_sha256(), NULL) != 1)
        return false;
    return memcmp(dg, cur->sig.acdc_ps, 32) == 0 && dkim_acdc_rt_has(&prev->sig.acdc_rt, cur->sig.acdc_pr);
}

static void envelope(const struct inst *top, const mm_dkim_acdc_env *env, mm_dkim_acdc_report *rep)
{
    char h[23];
    if (mm_dkim_acdc_eh(top->sig.acdc_salt, MM_ACDC_KIND_MAILFROM, env->mail_from, h) < 0 ||
        strcmp(h, top->sig.acdc_mf) != 0)
        return rep_set(rep, MM_DKIM_FAIL, mm_dkim_acdc_name(MM_ACDC_R_MAILFROM));
    for (size_t i = 0; i < env->nrcpt; i++)
        if (mm_dkim_acdc_eh(top->sig.acdc_salt, MM_ACDC_KIND_RCPT, env->rcpt[i], h) < 0 ||
            !dkim_acdc_rt_has(&top->sig.acdc_rt, h))
            return rep_set(rep, MM_DKIM_FAIL, mm_dkim_acdc_name(MM_ACDC_R_RCPT));
}

int mm_dkim_acdc_verify(const mm_dkim_verify_opts *o, const uint8_t *msg, size_t len,
                        const mm_dkim_acdc_env *env, mm_dkim_acdc_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    mm_dkim_msg m;
    mm_dkim_msg_init(&m);
    size_t body;
    int rc = mm_dkim_msg_parse(&m, msg, len, &body);
    struct inst *in = calloc(MM_DKIM_MAX_SIGS, sizeof(*in));
    if (!in)
        rc = MM_ENOMEM;
    int n = rc ? 0 : collect(&m, in, rep);
    rep->instances = n > 0 ? n : 0;
    if (rc || n <= 0) {
        free(in);
        mm_dkim_msg_free(&m);
        return rc; /* n == 0: none; n < 0: permerror already set */
    }
    rep_set(rep, MM_DKIM_PASS, "all instances verify, chain intact");
    mm_buf cur;
    mm_buf_init(&cur, len * 2 + 64);
    rc = mm_buf_append(&cur, msg, len);
    mm_dkim_result *res = calloc(MM_DKIM_MAX_SIGS, sizeof(*res));
    if (!res)
        rc = MM_ENOMEM;
    for (int k = n; !rc && k >= 1; k--) {
        size_t cnt = 0;
        rc = mm_dkim_verify_message(o, cur.data, cur.len, res, MM_DKIM_MAX_SIGS, &cnt);
        if (rc)
            break;
        mm_dkim_result best = {.code = MM_DKIM_PERMERROR};
        snprintf(best.reason, sizeof(best.reason), "instance signature missing");
        for (size_t i = 0; i < cnt; i++)
            if (res[i].acdc_n == k && (best.code != MM_DKIM_PASS))
                best = res[i];
        rep->inst[k - 1] = best;
        if (best.code != MM_DKIM_PASS && rep->code == MM_DKIM_PASS) {
            char why[200];
            snprintf(why, sizeof(why), "instance %d: %.150s", k, best.reason);
            rep_set(rep, best.code, why);
        }
        if (k > 1 && !chain_ok(&in[k - 1], &in[k - 2]) &&
            (rep->code == MM_DKIM_PASS || rep->code == MM_DKIM_FAIL))
            rep_set(rep, MM_DKIM_FAIL, mm_dkim_acdc_name(MM_ACDC_R_CHAIN));
        if (k == 1)
            break;
        /* the earlier version: undo instance k (its change record, or just its signatures) */
        mm_dkim_msg tmp;
        mm_dkim_msg_init(&tmp);
        size_t tb;
        const mm_dkim_field *df = NULL;
        int prc = mm_dkim_msg_parse(&tmp, cur.data, cur.len, &tb);
        if (!prc)
            prc = dkim_acdc_strip(&tmp, k, &df);
        bool have_diff = df != NULL;
        mm_dkim_msg_free(&tmp);
        if (prc || (in[k - 1].sig.acdc_d == 1) != have_diff) {
            rep_set(rep, MM_DKIM_FAIL, mm_dkim_acdc_name(MM_ACDC_R_DIFF));
            break;
        }
        mm_buf prev;
        mm_buf_init(&prev, len * 4 + 64);
        const char *why;
        if (mm_dkim_acdc_undo(cur.data, cur.len, k, &prev, &why) < 0) {
            mm_buf_free(&prev);
            rep_set(rep, MM_DKIM_FAIL, mm_dkim_acdc_name(MM_ACDC_R_DIFF));
            break;
        }
        mm_buf_free(&cur);
        cur = prev;
    }
    if (!rc && env && rep->code == MM_DKIM_PASS)
        envelope(&in[n - 1], env, rep);
    free(res);
    mm_buf_free(&cur);
    free(in);
    mm_dkim_msg_free(&m);
    return rc;
}

int mm_dkim_acdc_prev_get(const uint8_t *msg, size_t len, mm_dkim_acdc_prev *out)
{
    memset(out, 0, sizeof(*out));
    mm_dkim_msg m;
    mm_dkim_msg_init(&m);
    size_t body;
    int rc = mm_dkim_msg_parse(&m, msg, len, &body);
    for (size_t i = 0; !rc && i < m.n; i++) {
        if (!mm_dkim_field_is(&m.f[i], "DKIM-Signature"))
            continue;
        dkim_sig s;
        const char *why;
        if (dkim_sig_parse(&m.f[i], &s, &why) < 0 || s.acdc_n < out->k || !s.acdc_n)
            continue;
        char bt[sizeof(out->b)];
        b_text(&s, bt, sizeof(bt));
        if (s.acdc_n == out->k && strcmp(bt, out->b) >= 0)
            continue;
        out->k = s.acdc_n;
        snprintf(out->b, sizeof(out->b), "%s", bt);
        mm_buf sb;
        mm_buf_init(&sb, 64);
        mm_dkim_b64_encode(&sb, s.acdc_salt, 16);
        snprintf(out->salt, sizeof(out->salt), "%s", mm_buf_cstr(&sb));
        mm_buf_free(&sb);
        snprintf(out->rt, sizeof(out->rt), "%.*s", (int)s.acdc_rt.len, (const char *)s.acdc_rt.p);
    }
    mm_dkim_msg_free(&m);
    if (rc)
        return rc;
    return out->k ? 0 : MM_ENOENT;
}

const char *mm_dkim_acdc_received_for(const mm_dkim_acdc_prev *p, const char *const *addrs, size_t n)
{
    uint8_t salt[16];
    size_t sl;
    if (mm_dkim_b64_decode((const uint8_t *)p->salt, strlen(p->salt), salt, sizeof(salt), &sl) < 0 ||
        sl != 16)
        return NULL;
    dkim_span rt = {(const uint8_t *)p->rt, strlen(p->rt)};
    for (size_t i = 0; i < n; i++) {
        char h[23];
        if (mm_dkim_acdc_eh(salt, MM_ACDC_KIND_RCPT, addrs[i], h) == 0 && dkim_acdc_rt_has(&rt, h))
            return addrs[i];
    }
    return NULL;
}
