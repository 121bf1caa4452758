/*
 * dkim.c - `mamori dkim`: keygen, sign, verify, explain (RFC 6376/8463 with the
 * provisional ACDC profile). Messages come from a file or stdin ("-").
 * SPDX-License-Identifier: Apache-2.0
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "cli.h"
#include "mamori/mm_dkim.h"

#define NOUN "dkim"
#define DKIM_MAX_MSG (64u << 20)
#define MAX_RCPT 256

static void dkim_help(void)
{
    puts("usage: mamori dkim COMMAND [options] [FILE|-]\n"
         "\n"
         "DKIM signatures (RFC 6376; rsa-sha256, ed25519-sha256 per RFC 8463) with the\n"
         "provisional ACDC profile (envelope binding, chained instances).\n"
         "\n"
         "commands:\n"
         "  keygen --type rsa|ed25519 [--bits N] --out KEY.pem --domain D --selector S\n"
         "      new key (mode 0600); prints the DNS TXT record to publish\n"
         "  sign --key KEY --domain D --selector S [--canon H/B] [--headers a:b:c]\n"
         "       [--auid I] [--expire SECONDS] [--acdc N --mail-from A --rcpt B ...\n"
         "       [--received-for R]]   (ACDC instance N; N > 1 chains to instance N-1)\n"
         "       [--copy-headers]   (z=: lets `explain` name the header field that changed)\n"
         "       [--diff-from ORIGINAL]   (ACDC N > 1: record how FILE differs from ORIGINAL)\n"
         "      prints the message with a DKIM-Signature prepended\n"
         "  verify [--key-file F | --zone F | --dns IP[@PORT]] [--timeout MS] [--allow-l]\n"
         "         [--now T] [--authserv-id ID] [--mail-from A --rcpt B ...]\n"
         "      prints Authentication-Results; exit 0 only if every signature passes\n"
         "  explain (verify options)\n"
         "      why a signature fails: body or header hash, which signed fields changed\n"
         "\n"
         "Key sources: --key-file lines 'sel._domainkey.domain TXT-RDATA'; --zone a DNS master\n"
         "file; --dns a resolver (default: /etc/resolv.conf). --json prints one JSON object.");
}

struct args {
    const char *key, *domain, *selector, *canon, *headers, *auid, *out, *type;
    const char *key_file, *zone, *dns, *authserv, *mail_from, *file, *received_for, *diff_from;
    const char *rcpt[MAX_RCPT];
    size_t nrcpt;
    int bits, timeout, acdc;
    long long expire, now;
    bool allow_l, json, copy_headers;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"key", 1, 0, 'k'},      {"domain", 1, 0, 'd'},   {"selector", 1, 0, 's'},
        {"canon", 1, 0, 'c'},    {"headers", 1, 0, 'H'},  {"auid", 1, 0, 'i'},
        {"out", 1, 0, 'o'},      {"type", 1, 0, 't'},     {"bits", 1, 0, 'b'},
        {"key-file", 1, 0, 'K'}, {"zone", 1, 0, 'z'},     {"dns", 1, 0, 'D'},
        {"timeout", 1, 0, 'T'},  {"allow-l", 0, 0, 'l'},  {"now", 1, 0, 'n'},
        {"authserv-id", 1, 0, 'A'}, {"mail-from", 1, 0, 'm'}, {"rcpt", 1, 0, 'r'},
        {"acdc", 1, 0, 'a'},     {"expire", 1, 0, 'x'},   {"json", 0, 0, 'j'},
        {"received-for", 1, 0, 'R'}, {"copy-headers", 0, 0, 'Z'}, {"diff-from", 1, 0, 'F'},
        {0, 0, 0, 0}};
    memset(a, 0, sizeof(*a));
    a->bits = 2048;
    a->timeout = 5000;
    a->authserv = "mamori";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k': a->key = optarg; break;
        case 'd': a->domain = optarg; break;
        case 's': a->selector = optarg; break;
        case 'c': a->canon = optarg; break;
        case 'H': a->headers = optarg; break;
        case 'i': a->auid = optarg; break;
        case 'o': a->out = optarg; break;
        case 't': a->type = optarg; break;
        case 'b': a->bits = atoi(optarg); break;
        case 'K': a->key_file = optarg; break;
        case 'z': a->zone = optarg; break;
        case 'D': a->dns = optarg; break;
        case 'T': a->timeout = atoi(optarg); break;
        case 'l': a->allow_l = true; break;
        case 'n': a->now = atoll(optarg); break;
        case 'A': a->authserv = optarg; break;
        case 'm': a->mail_from = optarg; break;
        case 'r':
            if (a->nrcpt == MAX_RCPT)
                return mm_cli_usage_error(NOUN, "too many --rcpt");
            a->rcpt[a->nrcpt++] = optarg;
            break;
        case 'a': a->acdc = atoi(optarg); break;
        case 'x': a->expire = atoll(optarg); break;
        case 'j': a->json = true; break;
        case 'R': a->received_for = optarg; break;
        case 'Z': a->copy_headers = true; break;
        case 'F': a->diff_from = optarg; break;
        default: return mm_cli_usage_error(NOUN, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        a->file = argv[optind++];
    if (optind < argc)
        return mm_cli_usage_error(NOUN, "unexpected argument '%s'", argv[optind]);
    return 0;
}

static int read_msg(const char *path, mm_buf *b)
{
    FILE *f = (!path || !strcmp(path, "-")) ? stdin : fopen(path, "rb");
    if (!f)
        return MM_ENOENT;
    int rc = mm_buf_read_stream(b, f);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int cmd_keygen(struct args *a)
{
    if (!a->type || !a->out || !a->domain || !a->selector)
        return mm_cli_usage_error(NOUN, "keygen needs --type, --out, --domain and --selector");
    enum mm_dkim_alg alg = !strcmp(a->type, "rsa")       ? MM_DKIM_ALG_RSA_SHA256
                           : !strcmp(a->type, "ed25519") ? MM_DKIM_ALG_ED25519_SHA256
                                                         : MM_DKIM_ALG_UNKNOWN;
    if (alg == MM_DKIM_ALG_UNKNOWN)
        return mm_cli_usage_error(NOUN, "--type is rsa or ed25519");
    mm_buf txt;
    mm_buf_init(&txt, 8192);
    int rc = mm_dkim_keygen(alg, a->bits, a->out, &txt);
    if (rc < 0) {
        mm_buf_free(&txt);
        return mm_cli_fail(NOUN, "keygen: %s", rc == MM_EEXIST ? "key file exists" : mm_strerror(rc));
    }
    const char *t = mm_buf_cstr(&txt);
    if (a->json) {
        json_t *o = json_pack("{s:s,s:s,s:s}", "name", "", "txt", t, "key", a->out);
        char name[512];
        snprintf(name, sizeof(name), "%s._domainkey.%s", a->selector, a->domain);
        json_object_set_new(o, "name", json_string(name));
        mm_cli_json_print(o);
    } else {
        /* zone-file form; character-strings of at most 255 octets (RFC 1035 3.3.14) */
        printf("%s._domainkey.%s. 3600 IN TXT (", a->selector, a->domain);
        size_t n = strlen(t);
        for (size_t i = 0; i < n; i += 255)
            printf(" \"%.*s\"", (int)(n - i < 255 ? n - i : 255), t + i);
        printf(" )\n");
    }
    mm_buf_free(&txt);
    return MM_CLI_EXIT_OK;
}

static int parse_canon(const char *s, enum mm_dkim_canon *h, enum mm_dkim_canon *b)
{
    *h = *b = MM_DKIM_RELAXED;
    if (!s)
        return 0;
    char hs[16] = "", bs[16] = "simple";
    if (sscanf(s, "%15[a-z]/%15[a-z]", hs, bs) < 1)
        return -1;
    *h = !strcmp(hs, "simple") ? MM_DKIM_SIMPLE : MM_DKIM_RELAXED;
    *b = !strcmp(bs, "simple") ? MM_DKIM_SIMPLE : MM_DKIM_RELAXED;
    return (strcmp(hs, "simple") && strcmp(hs, "relaxed")) ||
                   (strcmp(bs, "simple") && strcmp(bs, "relaxed"))
               ? -1
               : 0;
}

static int cmd_sign(struct args *a)
{
    if (!a->key || !a->domain || !a->selector)
        return mm_cli_usage_error(NOUN, "sign needs --key, --domain and --selector");
    mm_dkim_sign_opts o = {0};
    if (parse_canon(a->canon, &o.hc, &o.bc) < 0)
        return mm_cli_usage_error(NOUN, "--canon is simple|relaxed[/simple|relaxed]");
    const char *why;
    int rc = mm_dkim_privkey_load(a->key, &o.pkey, &o.alg, &why);
    if (rc < 0)
        return mm_cli_fail(NOUN, "key %s: %s", a->key, why);
    o.domain = a->domain;
    o.selector = a->selector;
    o.auid = a->auid;
    o.expire_after = a->expire;
    o.copy_headers = a->copy_headers;
    char *hcopy = NULL;
    const char *hl[MM_DKIM_MAX_H + 1] = {0};
    if (a->headers) {
        hcopy = strdup(a->headers);
        size_t n = 0;
        for (char *sv, *t = strtok_r(hcopy, ":", &sv); t && n < MM_DKIM_MAX_H;
             t = strtok_r(NULL, ":", &sv))
            hl[n++] = t;
        o.headers = hl;
    }
    mm_buf msg, sig;
    mm_buf_init(&msg, DKIM_MAX_MSG);
    mm_buf_init(&sig, 1 << 16);
    mm_dkim_acdc_prev *prev = calloc(1, sizeof(*prev));
    rc = prev ? read_msg(a->file, &msg) : MM_ENOMEM;
    if (rc == 0 && a->acdc) {
        o.acdc_n = a->acdc;
        o.env.mail_from = a->mail_from;
        o.env.rcpt = a->rcpt;
        o.env.nrcpt = a->nrcpt;
        if (a->acdc > 1) {
            /* chain to instance k-1: its salt and b=, and the address this hop received for */
            if (mm_dkim_acdc_prev_get(msg.data, msg.len, prev) == 0 && prev->k == a->acdc - 1) {
                o.acdc_prev_salt_b64 = prev->salt;
                o.acdc_prev_b = prev->b;
                o.acdc_received_for = a->received_for;
            }
        }
    }
    /* an intermediary's edit: prepend the change record (spec 5.5) and sign over it */
    static const char *const with_diff[] = {"from", "reply-to", "subject", "date", "to", "cc",
                                            "message-id", "mime-version", "content-type",
                                            "list-id", "acdc-diff", NULL};
    mm_buf diff;
    mm_buf_init(&diff, DKIM_MAX_MSG);
    size_t prefix = 0; /* octets of the prepended change record (written with the input's line ends) */
    if (rc == 0 && a->diff_from) {
        mm_buf old;
        mm_buf_init(&old, DKIM_MAX_MSG);
        rc = a->acdc > 1 ? read_msg(a->diff_from, &old) : MM_EINVAL;
        if (rc == 0)
            rc = mm_dkim_acdc_diff_make(a->acdc, old.data, old.len, msg.data, msg.len, NULL, &diff);
        mm_buf_free(&old);
        if (rc == 0 && diff.len) {
            mm_buf full;
            mm_buf_init(&full, DKIM_MAX_MSG * 2);
            rc = mm_buf_append(&full, diff.data, diff.len);
            if (!rc)
                rc = mm_buf_append(&full, "\r\n", 2);
            if (!rc)
                rc = mm_buf_append(&full, msg.data, msg.len);
            mm_buf_free(&msg);
            msg = full;
            prefix = diff.len + 2;
            o.acdc_diff = true;
            if (!a->headers)
                o.headers = with_diff;
        }
    }
    mm_buf_free(&diff);
    if (rc == 0)
        rc = mm_dkim_sign_message(&o, msg.data, msg.len, &sig);
    EVP_PKEY_free(o.pkey);
    free(hcopy);
    free(prev);
    if (rc < 0) {
        mm_buf_free(&msg);
        mm_buf_free(&sig);
        return mm_cli_fail(NOUN, "sign: %s", rc == MM_EMALFORMED ? "message has no single From field or is malformed"
                                             : rc == MM_EINVAL ? "refused (key too small, missing ACDC envelope, or option not allowed)"
                                                               : mm_strerror(rc));
    }
    /* keep the message's own line ends */
    const uint8_t *nl = memchr(msg.data + prefix, '\n', msg.len - prefix);
    bool crlf = nl && nl > msg.data + prefix && nl[-1] == '\r';
    for (size_t i = 0; i < sig.len; i++)
        if (sig.data[i] != '\r' || crlf)
            fputc(sig.data[i], stdout);
    fputs(crlf ? "\r\n" : "\n", stdout);
    for (size_t i = 0; i < prefix; i++)
        if (msg.data[i] != '\r' || crlf)
            fputc(msg.data[i], stdout);
    fwrite(msg.data + prefix, 1, msg.len - prefix, stdout);
    mm_buf_free(&msg);
    mm_buf_free(&sig);
    return MM_CLI_EXIT_OK;
}

static int open_keys(struct args *a, mm_dkim_keysrc **ks)
{
    int rc = a->key_file ? mm_dkim_keysrc_open(MM_DKIM_KEYS_FILE, a->key_file, 0, ks)
             : a->zone   ? mm_dkim_keysrc_open(MM_DKIM_KEYS_ZONE, a->zone, 0, ks)
                         : mm_dkim_keysrc_open(MM_DKIM_KEYS_DNS, a->dns, a->timeout, ks);
    return rc;
}

static json_t *result_json(const mm_dkim_result *r)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:b,s:b,s:i}", "result",
                     mm_dkim_result_name(r->code), "reason", r->reason, "d", r->d, "s", r->s, "i",
                     r->i, "a", r->a, "b", r->b8, "key_bits", r->key_bits, "weak_key", r->weak_key,
                     "body_hash_ok", r->body_ok, "acdc_instance", r->acdc_n);
}

static void explain_sig(const mm_dkim_msg *m, const mm_dkim_result *r)
{
    printf("signature %s d=%s s=%s a=%s: %s (%s)\n", r->b8, r->d, r->s, r->a,
           mm_dkim_result_name(r->code), r->reason);
    if (r->body_checked)
        printf("  body hash: %s\n", r->body_ok ? "matches" : "DIFFERS (body changed after signing)");
    if (r->body_checked && r->body_ok)
        printf("  header signature: %s\n",
               r->code == MM_DKIM_PASS ? "verifies" : "DOES NOT verify: a signed field changed");
    if (r->weak_key)
        printf("  key: RSA %d bits (< 2048, accepted per RFC 8301 but weak)\n", r->key_bits);
    mm_buf rep;
    mm_buf_init(&rep, 1 << 16);
    int zc = mm_dkim_explain_headers(m, r->field_idx, &rep);
    if (zc > 0)
        printf("  fields changed since signing (from z=):\n    %s", mm_buf_cstr(&rep));
    else if (zc == 0 && r->code != MM_DKIM_PASS && r->body_ok)
        printf("  z= copies match the current fields: the change is in h= order or an added instance\n");
    else if (zc == MM_ENOENT && r->code == MM_DKIM_FAIL && r->body_ok)
        printf("  no z= in the signature: which field changed cannot be told (sign with --copy-headers)\n");
    else if (zc < 0 && zc != MM_ENOENT)
        printf("  z= present but unreadable: %s\n", mm_strerror(zc));
    mm_buf_free(&rep);
    /* Which signed fields exist now: a field present more often than h= lists was added after
     * signing and is not covered; oversigned names (listed more often than present) block that. */
    mm_dkim_taglist tl;
    size_t vl, hl;
    const uint8_t *v = mm_dkim_field_value(&m->f[r->field_idx], &vl);
    if (mm_dkim_taglist_parse(&tl, v, vl) < 0)
        return;
    int hi = mm_dkim_taglist_find(&tl, "h");
    if (hi < 0)
        return;
    const uint8_t *h = mm_dkim_taglist_value(&tl, hi, &hl);
    char names[4096];
    size_t o = 0;
    for (size_t i = 0; i < hl && o + 1 < sizeof(names); i++)
        if (h[i] > ' ')
            names[o++] = (char)h[i];
    names[o] = 0;
    printf("  signed fields (h=): %s\n", names);
    char *sv, *dup = strdup(names);
    char seen[4096] = ":";
    for (char *t = dup ? strtok_r(dup, ":", &sv) : NULL; t; t = strtok_r(NULL, ":", &sv)) {
        char key[300];
        snprintf(key, sizeof(key), ":%s:", t);
        if (strcasestr(seen, key))
            continue; /* each name once */
        snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s:", t);
        size_t listed = 0, present = 0;
        for (char *q = names; (q = strcasestr(q, t)); q += strlen(t))
            if ((q == names || q[-1] == ':') && (q[strlen(t)] == ':' || !q[strlen(t)]))
                listed++;
        for (size_t i = 0; i < m->n; i++)
            present += mm_dkim_field_is(&m->f[i], t);
        if (present > listed)
            printf("  field %s: %zu present, %zu signed: one was added after signing\n", t,
                   present, listed);
        else if (present == 0)
            printf("  field %s: signed (oversigned or removed), not present now\n", t);
    }
    free(dup);
}

static int cmd_verify(struct args *a, bool explain)
{
    mm_dkim_keysrc *ks = NULL;
    int rc = open_keys(a, &ks);
    if (rc < 0)
        return mm_cli_fail(NOUN, "key source: %s", mm_strerror(rc));
    mm_buf msg;
    mm_buf_init(&msg, DKIM_MAX_MSG);
    rc = read_msg(a->file, &msg);
    if (rc < 0) {
        mm_dkim_keysrc_close(ks);
        mm_buf_free(&msg);
        return mm_cli_fail(NOUN, "cannot read message: %s", mm_strerror(rc));
    }
    mm_dkim_verify_opts vo = {.keys = ks, .now = a->now, .allow_l = a->allow_l};
    mm_dkim_verifier *v = NULL;
    const mm_dkim_result *res = NULL;
    size_t n = 0, body = 0;
    rc = mm_dkim_verifier_new(&vo, &v);
    mm_dkim_msg m;
    mm_dkim_msg_init(&m);
    if (!rc)
        rc = mm_dkim_msg_parse(&m, msg.data, msg.len, &body);
    for (size_t i = 0; !rc && i < m.n; i++)
        rc = mm_dkim_verifier_header(v, m.f[i].raw, m.f[i].len);
    mm_dkim_msg_free(&m);
    if (!rc)
        rc = mm_dkim_verifier_eoh(v);
    if (!rc) {
        mm_dkim_verifier_body(v, msg.data + body, msg.len - body);
        rc = mm_dkim_verifier_finish(v, &res, &n);
    }
    mm_dkim_acdc_report rep = {0};
    bool acdc_env = a->mail_from && a->nrcpt;
    mm_dkim_acdc_env env = {a->mail_from, a->rcpt, a->nrcpt};
    if (!rc)
        rc = mm_dkim_acdc_verify(&vo, msg.data, msg.len, acdc_env ? &env : NULL, &rep);
    int exit_code = MM_CLI_EXIT_FAIL;
    if (rc < 0) {
        /* an unparseable message is a permerror for every purpose: never a pass */
        if (a->json)
            mm_cli_json_print(json_pack("{s:s,s:s}", "result", "permerror", "reason",
                                        mm_strerror(rc)));
        else
            printf("Authentication-Results: %s;\r\n\tdkim=permerror reason=\"%s\"\n", a->authserv,
                   mm_strerror(rc));
    } else {
        bool all = n > 0;
        for (size_t i = 0; i < n; i++)
            all = all && res[i].code == MM_DKIM_PASS;
        if (rep.code != MM_DKIM_NONE && rep.code != MM_DKIM_PASS)
            all = false;
        exit_code = all ? MM_CLI_EXIT_OK : MM_CLI_EXIT_FAIL;
        char extra[256] = "";
        if (rep.code != MM_DKIM_NONE)
            snprintf(extra, sizeof(extra), "x-acdc=%s reason=\"%s\" x-acdc.instances=%d",
                     mm_dkim_result_name(rep.code), rep.reason, rep.instances);
        if (a->json) {
            json_t *arr = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, result_json(&res[i]));
            json_t *o = json_pack("{s:o,s:b}", "signatures", arr, "pass", all);
            if (rep.code != MM_DKIM_NONE)
                json_object_set_new(o, "acdc", json_pack("{s:s,s:s,s:i}", "result",
                                                         mm_dkim_result_name(rep.code), "reason",
                                                         rep.reason, "instances", rep.instances));
            mm_cli_json_print(o);
        } else if (explain) {
            if (!n)
                printf("no DKIM-Signature field\n");
            for (size_t i = 0; i < n; i++)
                explain_sig(mm_dkim_verifier_msg(v), &res[i]);
            if (rep.code != MM_DKIM_NONE)
                printf("acdc: %s (%s), %d instance(s)\n", mm_dkim_result_name(rep.code),
                       rep.reason, rep.instances);
        } else {
            mm_buf ar;
            mm_buf_init(&ar, 1 << 16);
            if (mm_dkim_ar_format(a->authserv, res, n, extra, &ar) == 0)
                printf("%s\n", mm_buf_cstr(&ar));
            mm_buf_free(&ar);
        }
    }
    mm_dkim_verifier_free(v);
    mm_dkim_keysrc_close(ks);
    mm_buf_free(&msg);
    return exit_code;
}

int mm_cli_dkim(int argc, char **argv)
{
    if (argc < 2 || mm_cli_is_help(argv[1])) {
        dkim_help();
        return argc < 2 ? MM_CLI_EXIT_USAGE : MM_CLI_EXIT_OK;
    }
    const char *cmd = argv[1];
    struct args a;
    int rc = parse_args(argc - 1, argv + 1, &a);
    if (rc)
        return rc;
    if (!strcmp(cmd, "keygen"))
        return cmd_keygen(&a);
    if (!strcmp(cmd, "sign"))
        return cmd_sign(&a);
    if (!strcmp(cmd, "verify"))
        return cmd_verify(&a, false);
    if (!strcmp(cmd, "explain"))
        return cmd_verify(&a, true);
    return mm_cli_usage_error(NOUN, "unknown command '%s'", cmd);
}
