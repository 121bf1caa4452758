/*
 * filter.c - the mail filter behind mamori-dkimd, without libmilter: the
 * configuration (YANG module mamori-dkim) and the per-message session.
 *
 * Mail from an internal client whose From domain has keys is signed (with
 * every selector of the domain; instance 1 of ACDC binds the envelope);
 * other mail is verified and gets Authentication-Results (RFC 8601). Every
 * decision is audited before the answer; if the audit cannot be written the
 * message is tempfailed. A DNS failure never does more than the configured
 * policy (tempfail or accept with dkim=temperror).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "dkim_int.h"
#include "mamori/mm_audit.h"
#include "mamori/mm_config.h"

#define MAX_KEYS 32
#define MAX_RCPT 256
#define MAX_CLIENTS 32

struct skey {
    char domain[254], selector[64];
    void *pkey;
    enum mm_dkim_alg alg;
};

struct mm_dkim_filter {
    char socket[1024], authserv[256];
    unsigned timeout;
    mm_audit *audit;
    mm_dkim_keysrc *keys;
    bool tempfail_on_dns, allow_l, acdc;
    uint32_t max_acdc;
    char clients[MAX_CLIENTS][64];
    size_t nclients;
    struct skey key[MAX_KEYS];
    size_t nkeys;
    bool inter; /* intermediary mode */
    char inter_domain[254], subject_tag[72], footer[4200];
};

struct mm_dkim_fsess {
    const mm_dkim_filter *f;
    char client[64], queue_id[64], msgid[128], from_domain[254];
    bool internal, sign, has_acdc, acdc_overflow, overlimit, inter;
    size_t acdc_hdr_len; /* header block length inside acdc_msg */
    char *mail_from;
    char *rcpt[MAX_RCPT];
    size_t nrcpt;
    mm_dkim_msg hdrs;
    mm_dkim_signer *signer[MAX_KEYS];
    size_t nsigners;
    mm_dkim_verifier *ver;
    mm_buf acdc_msg;
};

/* ---------------------------------------------------------------- configuration */

static const char *leaf(const struct lyd_node *n, const char *path)
{
    struct lyd_node *c = NULL;
    if (lyd_find_path(n, path, 0, &c) != LY_SUCCESS || !c)
        return NULL;
    return lyd_get_value(c);
}

static int load_key(mm_dkim_filter *f, const struct lyd_node *n, char *err, size_t errlen)
{
    if (f->nkeys == MAX_KEYS) {
        snprintf(err, errlen, "more than %d signing keys", MAX_KEYS);
        return MM_ELIMIT;
    }
    struct skey *k = &f->key[f->nkeys];
    const char *d = leaf(n, "domain"), *s = leaf(n, "selector"), *file = leaf(n, "key-file");
    snprintf(k->domain, sizeof(k->domain), "%s", d);
    snprintf(k->selector, sizeof(k->selector), "%s", s);
    /* keys stay private: refuse a key file that group or others could read */
    struct stat st;
    if (stat(file, &st) != 0) {
        snprintf(err, errlen, "key %s: cannot stat", file);
        return MM_ENOENT;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "key %s: mode %03o, must be 0600 (no group/other access)", file,
                 (unsigned)(st.st_mode & 0777));
        return MM_EPERM;
    }
    const char *why;
    int rc = mm_dkim_privkey_load(file, &k->pkey, &k->alg, &why);
    if (rc < 0) {
        snprintf(err, errlen, "key %s: %s", file, why);
        return rc;
    }
    if (k->alg == MM_DKIM_ALG_RSA_SHA256 && EVP_PKEY_get_bits(k->pkey) < 2048) {
        snprintf(err, errlen, "key %s: RSA keys for signing must have >= 2048 bits", file);
        return MM_EINVAL;
    }
    f->nkeys++;
    return 0;
}

int mm_dkim_filter_load(const char *path, mm_dkim_filter **out, char *err, size_t errlen)
{
    static const char *const mods[] = {"mamori-dkim", NULL};
    mm_config *cfg = NULL;
    MM_GUARD(mm_config_load_file(path, mods, &cfg, err, errlen));
    mm_dkim_filter *f = calloc(1, sizeof(*f));
    if (!f) {
        mm_config_free(cfg);
        return MM_ENOMEM;
    }
    snprintf(f->socket, sizeof(f->socket), "%s", mm_config_str(cfg, "/mamori-dkim:dkim/socket", "inet:8891@127.0.0.1"));
    snprintf(f->authserv, sizeof(f->authserv), "%s", mm_config_str(cfg, "/mamori-dkim:dkim/authserv-id", "mamori"));
    f->timeout = mm_config_u32(cfg, "/mamori-dkim:dkim/timeout-s", 300);
    f->tempfail_on_dns = strcmp(mm_config_str(cfg, "/mamori-dkim:dkim/dns-failure", "tempfail"), "tempfail") == 0;
    f->allow_l = mm_config_bool(cfg, "/mamori-dkim:dkim/allow-body-length", false);
    f->acdc = mm_config_bool(cfg, "/mamori-dkim:dkim/acdc", true);
    f->max_acdc = mm_config_u32(cfg, "/mamori-dkim:dkim/max-acdc-bytes", 10485760);
    int rc = 0;
    const char *kf = mm_config_str(cfg, "/mamori-dkim:dkim/keys/key-file", NULL);
    const char *zf = mm_config_str(cfg, "/mamori-dkim:dkim/keys/zone-file", NULL);
    const char *ns = mm_config_str(cfg, "/mamori-dkim:dkim/keys/dns-server", NULL);
    int tmo = (int)mm_config_u32(cfg, "/mamori-dkim:dkim/keys/dns-timeout-ms", 5000);
    rc = kf ? mm_dkim_keysrc_open(MM_DKIM_KEYS_FILE, kf, 0, &f->keys)
         : zf ? mm_dkim_keysrc_open(MM_DKIM_KEYS_ZONE, zf, 0, &f->keys)
              : mm_dkim_keysrc_open(MM_DKIM_KEYS_DNS, ns, tmo, &f->keys);
    if (rc < 0)
        snprintf(err, errlen, "key source: %s", mm_strerror(rc));
    struct ly_set *set = NULL;
    if (!rc && lyd_find_xpath(cfg->tree, "/mamori-dkim:dkim/internal-client", &set) == LY_SUCCESS) {
        for (uint32_t i = 0; i < set->count && f->nclients < MAX_CLIENTS; i++)
            snprintf(f->clients[f->nclients++], 64, "%s", lyd_get_value(set->dnodes[i]));
        ly_set_free(set, NULL);
    }
    if (!f->nclients) {
        snprintf(f->clients[0], 64, "127.0.0.1");
        snprintf(f->clients[1], 64, "::1");
        f->nclients = 2;
    }
    set = NULL;
    if (!rc && lyd_find_xpath(cfg->tree, "/mamori-dkim:dkim/signing-key", &set) == LY_SUCCESS) {
        for (uint32_t i = 0; !rc && i < set->count; i++)
            rc = load_key(f, set->dnodes[i], err, errlen);
        ly_set_free(set, NULL);
    }
    set = NULL;
    if (!rc && lyd_find_xpath(cfg->tree, "/mamori-dkim:dkim/intermediary", &set) == LY_SUCCESS &&
        set->count) {
        f->inter = true;
        snprintf(f->inter_domain, sizeof(f->inter_domain), "%s", leaf(set->dnodes[0], "domain"));
        const char *t = leaf(set->dnodes[0], "subject-tag"), *ft = leaf(set->dnodes[0], "footer");
        snprintf(f->subject_tag, sizeof(f->subject_tag), "%s", t ? t : "");
        /* footer lines end in CRLF in the body */
        size_t o = 0;
        for (const char *q = ft ? ft : ""; *q && o + 3 < sizeof(f->footer); q++) {
            if (*q == '\n')
                f->footer[o++] = '\r';
            f->footer[o++] = *q;
        }
        if (o && f->footer[o - 1] != '\n' && o + 2 < sizeof(f->footer)) {
            f->footer[o++] = '\r';
            f->footer[o++] = '\n';
        }
        f->footer[o] = 0;
        bool have = false;
        for (size_t k = 0; k < f->nkeys; k++)
            have |= strcasecmp(f->key[k].domain, f->inter_domain) == 0;
        if (!have) {
            snprintf(err, errlen, "intermediary domain %s has no signing-key", f->inter_domain);
            rc = MM_ECONFIG;
        }
    }
    ly_set_free(set, NULL);
    const char *al = mm_config_str(cfg, "/mamori-dkim:dkim/audit-log", NULL);
    if (!rc && (rc = mm_audit_open(al, &f->audit)) < 0)
        snprintf(err, errlen, "audit log %s: %s", al, mm_strerror(rc));
    mm_config_free(cfg);
    if (rc < 0) {
        mm_dkim_filter_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

void mm_dkim_filter_free(mm_dkim_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nkeys; i++)
        EVP_PKEY_free(f->key[i].pkey);
    mm_dkim_keysrc_close(f->keys);
    mm_audit_close(f->audit);
    free(f);
}

const char *mm_dkim_filter_socket(const mm_dkim_filter *f) { return f->socket; }
unsigned mm_dkim_filter_timeout(const mm_dkim_filter *f) { return f->timeout; }

/* ---------------------------------------------------------------- session */

mm_dkim_fsess *mm_dkim_fsess_new(const mm_dkim_filter *f, const char *client_ip)
{
    mm_dkim_fsess *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->f = f;
    snprintf(s->client, sizeof(s->client), "%s", client_ip ? client_ip : "unknown");
    for (size_t i = 0; i < f->nclients; i++)
        if (strcmp(f->clients[i], s->client) == 0)
            s->internal = true;
    mm_dkim_msg_init(&s->hdrs);
    mm_buf_init(&s->acdc_msg, f->max_acdc);
    return s;
}

void mm_dkim_fsess_reset(mm_dkim_fsess *s)
{
    free(s->mail_from);
    s->mail_from = NULL;
    for (size_t i = 0; i < s->nrcpt; i++)
        free(s->rcpt[i]);
    s->nrcpt = 0;
    for (size_t i = 0; i < s->nsigners; i++)
        mm_dkim_signer_free(s->signer[i]);
    s->nsigners = 0;
    mm_dkim_verifier_free(s->ver);
    s->ver = NULL;
    mm_dkim_msg_free(&s->hdrs);
    mm_buf_reset(&s->acdc_msg);
    s->sign = s->has_acdc = s->acdc_overflow = s->overlimit = s->inter = false;
    s->acdc_hdr_len = 0;
    s->queue_id[0] = s->msgid[0] = s->from_domain[0] = 0;
}

void mm_dkim_fsess_free(mm_dkim_fsess *s)
{
    if (!s)
        return;
    mm_dkim_fsess_reset(s);
    mm_buf_free(&s->acdc_msg);
    free(s);
}

int mm_dkim_fsess_envfrom(mm_dkim_fsess *s, const char *addr)
{
    mm_dkim_fsess_reset(s);
    s->mail_from = strdup(addr);
    return s->mail_from ? 0 : MM_ENOMEM;
}

int mm_dkim_fsess_rcpt(mm_dkim_fsess *s, const char *addr)
{
    if (s->nrcpt == MAX_RCPT)
        return MM_ELIMIT;
    s->rcpt[s->nrcpt] = strdup(addr);
    if (!s->rcpt[s->nrcpt])
        return MM_ENOMEM;
    s->nrcpt++;
    return 0;
}

void mm_dkim_fsess_queue_id(mm_dkim_fsess *s, const char *id)
{
    snprintf(s->queue_id, sizeof(s->queue_id), "%s", id ? id : "");
}

int mm_dkim_fsess_header(mm_dkim_fsess *s, const char *name, const char *value)
{
    if (strcasecmp(name, "Message-ID") == 0)
        snprintf(s->msgid, sizeof(s->msgid), "%s", value + strspn(value, " \t"));
    if (s->overlimit)
        return 0;
    int rc = mm_dkim_msg_add_nv(&s->hdrs, name, value);
    /* over the header limits: the message is still answered (permerror), nothing hashed */
    if (rc == MM_ELIMIT || rc == MM_EMALFORMED)
        s->overlimit = true;
    return rc == MM_ELIMIT || rc == MM_EMALFORMED ? 0 : rc;
}

/* Domain of the (single) From field's address: after the last '@', up to '>' or WSP. */
static void from_domain(const mm_dkim_msg *m, char *out, size_t cap)
{
    out[0] = 0;
    size_t cnt = 0;
    const mm_dkim_field *from = NULL;
    for (size_t i = 0; i < m->n; i++)
        if (mm_dkim_field_is(&m->f[i], "From")) {
            from = &m->f[i];
            cnt++;
        }
    if (cnt != 1)
        return; /* no From or several: never signed */
    size_t vl;
    const uint8_t *v = mm_dkim_field_value(from, &vl);
    const uint8_t *at = NULL;
    for (size_t i = 0; i < vl; i++)
        if (v[i] == '@')
            at = v + i;
    if (!at)
        return;
    size_t o = 0;
    for (const uint8_t *p = at + 1; p < v + vl && o + 1 < cap; p++) {
        if (*p == '>' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ',')
            break;
        out[o++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    }
    out[o] = 0;
}

static bool field_has_acdc(const mm_dkim_field *f)
{
    if (!mm_dkim_field_is(f, "DKIM-Signature"))
        return false;
    mm_dkim_taglist tl;
    size_t vl;
    const uint8_t *v = mm_dkim_field_value(f, &vl);
    return mm_dkim_taglist_parse(&tl, v, vl) == 0 &&
           mm_dkim_taglist_find(&tl, mm_dkim_acdc_name(MM_ACDC_TAG_N)) >= 0;
}

static int start_signing(mm_dkim_fsess *s)
{
    const mm_dkim_filter *f = s->f;
    /* dual-algorithm signatures of one instance share their ACDC tags (spec 5.4) */
    uint8_t salt[16];
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return MM_ECRYPTO;
    for (size_t k = 0; k < f->nkeys; k++) {
        if (strcasecmp(f->key[k].domain, s->from_domain) != 0)
            continue;
        mm_dkim_sign_opts o = {.pkey = f->key[k].pkey, .alg = f->key[k].alg,
                               .domain = f->key[k].domain, .selector = f->key[k].selector,
                               .hc = MM_DKIM_RELAXED, .bc = MM_DKIM_RELAXED};
        /* ACDC instance 1 binds this transaction's envelope (spec 5.3); a message that already
         * carries ACDC instances is signed classically (chaining needs the inbound hop). */
        if (f->acdc && !s->has_acdc && s->mail_from && s->nrcpt) {
            o.acdc_n = 1;
            o.env.mail_from = s->mail_from;
            o.env.rcpt = (const char *const *)s->rcpt;
            o.env.nrcpt = s->nrcpt;
            o.acdc_salt = salt;
        }
        MM_GUARD(mm_dkim_signer_new(&o, &s->signer[s->nsigners]));
        mm_dkim_signer *sg = s->signer[s->nsigners++];
        for (size_t i = 0; i < s->hdrs.n; i++)
            MM_GUARD(mm_dkim_signer_header(sg, s->hdrs.f[i].raw, s->hdrs.f[i].len));
    }
    return 0;
}

int mm_dkim_fsess_eoh(mm_dkim_fsess *s)
{
    if (s->overlimit)
        return 0;
    from_domain(&s->hdrs, s->from_domain, sizeof(s->from_domain));
    for (size_t i = 0; i < s->hdrs.n; i++)
        s->has_acdc |= field_has_acdc(&s->hdrs.f[i]);
    for (size_t k = 0; s->internal && k < s->f->nkeys; k++)
        if (strcasecmp(s->f->key[k].domain, s->from_domain) == 0)
            s->sign = true;
    if (s->sign)
        return start_signing(s);
    mm_dkim_verify_opts vo = {.keys = s->f->keys, .allow_l = s->f->allow_l};
    MM_GUARD(mm_dkim_verifier_new(&vo, &s->ver));
    for (size_t i = 0; i < s->hdrs.n; i++)
        MM_GUARD(mm_dkim_verifier_header(s->ver, s->hdrs.f[i].raw, s->hdrs.f[i].len));
    MM_GUARD(mm_dkim_verifier_eoh(s->ver));
    if (s->f->acdc && s->has_acdc) {
        /* ACDC needs the whole message (reconstruction): held up to max-acdc-bytes */
        for (size_t i = 0; i < s->hdrs.n && !s->acdc_overflow; i++)
            s->acdc_overflow = mm_buf_append(&s->acdc_msg, s->hdrs.f[i].raw, s->hdrs.f[i].len) < 0 ||
                               mm_buf_append(&s->acdc_msg, "\r\n", 2) < 0;
        s->acdc_overflow |= mm_buf_append(&s->acdc_msg, "\r\n", 2) < 0;
        s->acdc_hdr_len = s->acdc_msg.len;
        s->inter = s->f->inter; /* an ACDC message from outside: this hop may edit it */
    }
    return 0;
}

int mm_dkim_fsess_body(mm_dkim_fsess *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < s->nsigners; i++)
        mm_dkim_signer_body(s->signer[i], p, n);
    if (s->ver)
        mm_dkim_verifier_body(s->ver, p, n);
    if (s->ver && s->f->acdc && s->has_acdc && !s->acdc_overflow)
        s->acdc_overflow = mm_buf_append(&s->acdc_msg, p, n) < 0;
    return 0;
}

/* CRLF folds -> "\n" (milters give values with LF folds), name part dropped. */
static char *milter_value(const mm_buf *field, size_t skip)
{
    char *v = malloc(field->len + 1);
    if (!v)
        return NULL;
    size_t o = 0;
    for (size_t i = skip; i < field->len; i++)
        if (field->data[i] != '\r')
            v[o++] = (char)field->data[i];
    v[o] = 0;
    return v;
}

static int add_out(mm_dkim_fout *out, const char *name, const mm_buf *field, size_t skip)
{
    if (out->n >= MM_DKIM_MAX_SIGS + 1)
        return MM_ELIMIT;
    out->name[out->n] = strdup(name);
    out->value[out->n] = milter_value(field, skip);
    if (!out->name[out->n] || !out->value[out->n])
        return MM_ENOMEM;
    out->n++;
    return 0;
}

static int audit(mm_dkim_fsess *s, const char *action, const char *object, bool permit,
                 const char *reason)
{
    char obj[512];
    snprintf(obj, sizeof(obj), "%s msgid=%s queue=%s", object, s->msgid[0] ? s->msgid : "-",
             s->queue_id[0] ? s->queue_id : "-");
    mm_audit_record r = {.module = "dkim", .subject = s->client, .action = action, .object = obj,
                         .permit = permit, .reason = reason, .session = s->queue_id};
    return mm_audit_write(s->f->audit, &r);
}

static int eom_sign(mm_dkim_fsess *s, mm_dkim_fout *out)
{
    for (size_t i = 0; i < s->nsigners; i++) {
        mm_buf field;
        mm_buf_init(&field, 1 << 16);
        int rc = mm_dkim_signer_finish(s->signer[i], &field);
        char obj[400];
        snprintf(obj, sizeof(obj), "d=%s key=%zu", s->from_domain, i);
        if (audit(s, "sign", obj, rc == 0, rc == 0 ? "signed" : mm_strerror(rc)) < 0)
            rc = MM_EIO; /* no record, no answer */
        if (rc == 0)
            rc = add_out(out, "DKIM-Signature", &field, strlen("DKIM-Signature:") + 1);
        mm_buf_free(&field);
        if (rc < 0) {
            /* never send mail unsigned because of our failure */
            out->action = MM_DKIM_TEMPFAIL;
            snprintf(out->reason, sizeof(out->reason), "signing failed: %s", mm_strerror(rc));
            return 0;
        }
    }
    snprintf(out->reason, sizeof(out->reason), "signed with %zu key(s)", s->nsigners);
    return 0;
}

static int eom_verify(mm_dkim_fsess *s, mm_dkim_fout *out)
{
    const mm_dkim_result *res;
    size_t n;
    MM_GUARD(mm_dkim_verifier_finish(s->ver, &res, &n));
    bool temp = false;
    for (size_t i = 0; i < n; i++)
        temp |= res[i].code == MM_DKIM_TEMPERROR;
    char extra[320] = "";
    if (s->f->acdc && s->has_acdc) {
        mm_dkim_acdc_report rep;
        mm_dkim_acdc_env env = {s->mail_from, (const char *const *)s->rcpt, s->nrcpt};
        mm_dkim_verify_opts vo = {.keys = s->f->keys, .allow_l = s->f->allow_l};
        if (s->acdc_overflow)
            snprintf(extra, sizeof(extra), "x-acdc=neutral reason=\"message larger than max-acdc-bytes\"");
        else if (mm_dkim_acdc_verify(&vo, s->acdc_msg.data, s->acdc_msg.len,
                                     s->mail_from && s->nrcpt ? &env : NULL, &rep) == 0)
            snprintf(extra, sizeof(extra), "x-acdc=%s reason=\"%.150s\" x-acdc.instances=%d",
                     mm_dkim_result_name(rep.code), rep.reason, rep.instances);
    }
    for (size_t i = 0; i < n; i++) {
        char obj[400];
        snprintf(obj, sizeof(obj), "d=%s s=%s b=%s", res[i].d, res[i].s, res[i].b8);
        if (audit(s, "verify", obj, res[i].code == MM_DKIM_PASS, mm_dkim_result_name(res[i].code)) < 0)
            goto audit_failed;
    }
    if (!n && audit(s, "verify", "no signature", false, "none") < 0)
        goto audit_failed;
    if (extra[0] && audit(s, "verify-acdc", "chain", strstr(extra, "x-acdc=pass") != NULL, extra) < 0)
        goto audit_failed;
    if (temp && s->f->tempfail_on_dns) {
        out->action = MM_DKIM_TEMPFAIL;
        snprintf(out->reason, sizeof(out->reason), "key lookup failed temporarily (policy tempfail)");
        return 0;
    }
    mm_buf ar;
    mm_buf_init(&ar, 1 << 16);
    int rc = mm_dkim_ar_format(s->f->authserv, res, n, extra, &ar);
    if (rc == 0)
        rc = add_out(out, "Authentication-Results", &ar, strlen("Authentication-Results:") + 1);
    mm_buf_free(&ar);
    snprintf(out->reason, sizeof(out->reason), "verified %zu signature(s)", n);
    return rc;
audit_failed:
    out->action = MM_DKIM_TEMPFAIL;
    snprintf(out->reason, sizeof(out->reason), "audit log not writable");
    return 0;
}

/* The edited message M' (subject tag, footer) from the received one in acdc_msg. */
static int edit_message(mm_dkim_fsess *s, mm_buf *nm, char **subject)
{
    const mm_dkim_filter *f = s->f;
    *subject = NULL;
    for (size_t i = 0; i < s->hdrs.n; i++) {
        const mm_dkim_field *fl = &s->hdrs.f[i];
        size_t vl;
        const uint8_t *v = mm_dkim_field_value(fl, &vl);
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        size_t tl = strlen(f->subject_tag);
        if (mm_dkim_field_is(fl, "Subject") && tl && !*subject &&
            !(vl >= tl && memcmp(v, f->subject_tag, tl) == 0)) {
            mm_buf val;
            mm_buf_init(&val, MM_DKIM_MAX_FIELD);
            MM_GUARD(mm_buf_printf(&val, "%s %.*s", f->subject_tag, (int)vl, (const char *)v));
            *subject = strdup(mm_buf_cstr(&val));
            mm_buf_free(&val);
            if (!*subject)
                return MM_ENOMEM;
            MM_GUARD(mm_buf_printf(nm, "Subject: %s\r\n", *subject));
            continue;
        }
        MM_GUARD(mm_buf_append(nm, fl->raw, fl->len));
        MM_GUARD(mm_buf_append(nm, "\r\n", 2));
    }
    MM_GUARD(mm_buf_append(nm, "\r\n", 2));
    const uint8_t *body = s->acdc_msg.data + s->acdc_hdr_len;
    size_t bl = s->acdc_msg.len - s->acdc_hdr_len;
    MM_GUARD(mm_buf_append(nm, body, bl));
    if (f->footer[0]) {
        if (bl && body[bl - 1] != '\n')
            MM_GUARD(mm_buf_append(nm, "\r\n", 2));
        MM_GUARD(mm_buf_append_str(nm, f->footer));
    }
    return 0;
}

static const char *const inter_headers[] = {
    "from", "reply-to", "subject", "date", "to", "cc", "message-id", "in-reply-to",
    "references", "mime-version", "content-type", "content-transfer-encoding",
    "list-id", "acdc-diff", NULL};

/* Spec 5.7 intermediary: edit, record the change, sign instance k+1 chained to instance k. */
static int eom_intermediary(mm_dkim_fsess *s, mm_dkim_fout *out)
{
    const mm_dkim_filter *f = s->f;
    int rc = 0;
    mm_dkim_acdc_prev *prev = calloc(1, sizeof(*prev));
    mm_buf nm, diff, full;
    mm_buf_init(&nm, (size_t)f->max_acdc * 2 + 8192);
    mm_buf_init(&diff, (size_t)f->max_acdc * 2 + 8192);
    mm_buf_init(&full, (size_t)f->max_acdc * 4 + 16384);
    char *subject = NULL;
    const char *why = "edited, change recorded, signed";
    const char *rf = NULL;
    if (!prev || mm_dkim_acdc_prev_get(s->acdc_msg.data, s->acdc_msg.len, prev) < 0) {
        why = "no ACDC instance to chain to";
        goto done;
    }
    rf = mm_dkim_acdc_received_for(prev, (const char *const *)s->rcpt, s->nrcpt);
    if (!rf || prev->k >= 255) {
        why = "no RCPT TO of this transaction is in the previous instance: not chained, not edited";
        goto done;
    }
    rc = edit_message(s, &nm, &subject);
    if (!rc)
        rc = mm_dkim_acdc_diff_make(prev->k + 1, s->acdc_msg.data, s->acdc_msg.len, nm.data, nm.len,
                                    inter_headers, &diff);
    if (!rc && diff.len) {
        rc = mm_buf_append(&full, diff.data, diff.len);
        if (!rc)
            rc = mm_buf_append(&full, "\r\n", 2);
    }
    if (!rc)
        rc = mm_buf_append(&full, nm.data, nm.len);
    uint8_t salt[16];
    if (!rc && RAND_bytes(salt, sizeof(salt)) != 1)
        rc = MM_ECRYPTO;
    for (size_t k = 0; !rc && k < f->nkeys; k++) {
        if (strcasecmp(f->key[k].domain, f->inter_domain) != 0)
            continue;
        mm_dkim_sign_opts o = {.pkey = f->key[k].pkey, .alg = f->key[k].alg,
                               .domain = f->key[k].domain, .selector = f->key[k].selector,
                               .hc = MM_DKIM_RELAXED, .bc = MM_DKIM_RELAXED, .headers = inter_headers,
                               .acdc_n = prev->k + 1, .acdc_salt = salt,
                               .env = {s->mail_from, (const char *const *)s->rcpt, s->nrcpt},
                               .acdc_prev_salt_b64 = prev->salt, .acdc_received_for = rf,
                               .acdc_prev_b = prev->b, .acdc_diff = diff.len > 0};
        mm_buf sig;
        mm_buf_init(&sig, 1 << 16);
        rc = mm_dkim_sign_message(&o, full.data, full.len, &sig);
        if (!rc)
            rc = add_out(out, "DKIM-Signature", &sig, strlen("DKIM-Signature:") + 1);
        mm_buf_free(&sig);
    }
    if (!rc && diff.len) {
        const char *dn = mm_dkim_acdc_name(MM_ACDC_HDR_DIFF);
        rc = add_out(out, dn, &diff, strlen(dn) + 2);
    }
    if (!rc) {
        size_t bl = s->acdc_msg.len - s->acdc_hdr_len;
        const uint8_t *nb = memmem(nm.data, nm.len, "\r\n\r\n", 4);
        size_t off = nb ? (size_t)(nb - nm.data) + 4 : nm.len;
        if (nm.len - off != bl || memcmp(nm.data + off, s->acdc_msg.data + s->acdc_hdr_len, bl) != 0) {
            out->new_body_len = nm.len - off;
            out->new_body = malloc(out->new_body_len ? out->new_body_len : 1);
            if (!out->new_body)
                rc = MM_ENOMEM;
            else
                memcpy(out->new_body, nm.data + off, out->new_body_len);
        }
        out->new_subject = subject;
        subject = NULL;
    }
done:
    if (audit(s, "intermediary", f->inter_domain, rc == 0 && rf, rc ? mm_strerror(rc) : why) < 0)
        rc = MM_EIO;
    if (rc) {
        out->action = MM_DKIM_TEMPFAIL; /* never forward an edit without its record */
        snprintf(out->reason, sizeof(out->reason), "intermediary failed: %s", mm_strerror(rc));
        rc = 0;
    }
    free(subject);
    free(prev);
    mm_buf_free(&nm);
    mm_buf_free(&diff);
    mm_buf_free(&full);
    return rc;
}

int mm_dkim_fsess_eom(mm_dkim_fsess *s, mm_dkim_fout *out)
{
    memset(out, 0, sizeof(*out));
    if (s->overlimit) {
        const char *why = "header fields over the limits (count, size) or malformed";
        if (audit(s, "verify", "message", false, why) < 0) {
            out->action = MM_DKIM_TEMPFAIL;
            snprintf(out->reason, sizeof(out->reason), "audit log not writable");
            return 0;
        }
        mm_buf ar;
        mm_buf_init(&ar, 4096);
        int rc = mm_buf_printf(&ar, "Authentication-Results: %s;\r\n\tdkim=permerror reason=\"%s\"",
                               s->f->authserv, why);
        if (rc == 0)
            rc = add_out(out, "Authentication-Results", &ar, strlen("Authentication-Results:") + 1);
        mm_buf_free(&ar);
        snprintf(out->reason, sizeof(out->reason), "%s", why);
        return rc;
    }
    if (s->sign)
        return eom_sign(s, out);
    if (!s->ver)
        return MM_ESTATE;
    MM_GUARD(eom_verify(s, out));
    if (s->inter && !s->acdc_overflow && out->action == MM_DKIM_ACCEPT)
        return eom_intermediary(s, out);
    return 0;
}

void mm_dkim_fout_free(mm_dkim_fout *o)
{
    free(o->new_subject);
    free(o->new_body);
    o->new_subject = NULL;
    o->new_body = NULL;
    for (size_t i = 0; i < o->n; i++) {
        free(o->name[i]);
        free(o->value[i]);
    }
    o->n = 0;
}
