/*
 * sp_groups.c - the one table of scloudplus TLS groups, their provisional
 * codepoints, and the TLS-GROUP capability built from it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/prov_ssl.h>
#include <openssl/provider.h>

#include "sp_prov.h"

/*
 * PROVISIONAL CODEPOINTS. draft-wang-tls-hybrid-ecdh-scloud lists no values we
 * could read, so these come from the NamedGroup private-use range
 * 0xFE00-0xFEFF (RFC 8446 4.2.7). They are NOT assigned by IANA; both peers
 * must agree on them. Each can be overridden by the provider config key in
 * the third column (see docs/provider.md).
 *
 * Wire order of every hybrid: ECDHE part first, then Scloud+ (an ASSUMPTION,
 * ../shared/specs/tls-hybrid-scloud.md section 2: the draft body was not
 * readable).
 */
const sp_group sp_groups[SP_NGROUPS] = {
    {"X25519SCloud+128", "x25519_scloudplus128", "x25519_scloudplus128_codepoint", 0xFE50, 128,
     SP_EC_X25519, MM_SCLOUDPLUS_128},
    {"SecP256r1SCloud+192", "p256_scloudplus192", "secp256r1_scloudplus192_codepoint", 0xFE51,
     192, SP_EC_P256, MM_SCLOUDPLUS_192},
    {"SecP384r1SCloud+256", "p384_scloudplus256", "secp384r1_scloudplus256_codepoint", 0xFE52,
     256, SP_EC_P384, MM_SCLOUDPLUS_256},
    {"scloudplus128", "scloudplus128", "scloudplus128_codepoint", 0xFE53, 128, SP_EC_NONE,
     MM_SCLOUDPLUS_128},
    {"scloudplus192", "scloudplus192", "scloudplus192_codepoint", 0xFE54, 192, SP_EC_NONE,
     MM_SCLOUDPLUS_192},
    {"scloudplus256", "scloudplus256", "scloudplus256_codepoint", 0xFE55, 256, SP_EC_NONE,
     MM_SCLOUDPLUS_256},
};

const mm_scloudplus_info *sp_group_kem(const sp_group *g)
{
    return mm_scloudplus_info_get(g->level);
}

size_t sp_group_pub_len(const sp_group *g)
{
    return sp_ec_pub_len(g->ec) + sp_group_kem(g)->pk_bytes;
}

size_t sp_group_ct_len(const sp_group *g)
{
    return sp_ec_pub_len(g->ec) + sp_group_kem(g)->ct_bytes;
}

size_t sp_group_ss_len(const sp_group *g)
{
    return sp_ec_ss_len(g->ec) + sp_group_kem(g)->ss_bytes;
}

const sp_group *sp_group_by_name(const char *name)
{
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        if (strcasecmp(name, sp_groups[i].tls_name) == 0 ||
            strcasecmp(name, sp_groups[i].alg) == 0)
            return &sp_groups[i];
    }
    return NULL;
}

/* "0xFE60", "65120": a NamedGroup codepoint, 1..0xFFFF. */
static int parse_codepoint(const char *s, unsigned int *out)
{
    char *end = NULL;
    unsigned long v;

    if (s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return 0;
    v = strtoul(s, &end, 0);
    if (end == s || *end != '\0' || v == 0 || v > 0xFFFF)
        return 0;
    *out = (unsigned int)v;
    return 1;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, 1;
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, 1;
    }
    return 0;
}

/*
 * NamedGroups that OpenSSL (3.0 built in; 3.5 adds ML-KEM) or a well-known
 * provider already implements. An override onto one of these would make a
 * peer that offers "our" group negotiate theirs instead: a silent downgrade
 * (e.g. 29 = x25519). Refused even with allow_any_codepoint.
 */
static const struct {
    uint16_t lo, hi;
    const char *what;
} sp_taken[] = {
    {1, 25, "an SEC 2 / ANSI X9.62 curve (RFC 8422)"},
    {26, 28, "a brainpool curve (RFC 7027)"},
    {29, 29, "x25519 (RFC 8446)"},
    {30, 30, "x448 (RFC 8446)"},
    {31, 33, "a brainpool TLS 1.3 curve (RFC 8734)"},
    {34, 41, "a GOST / SM2 curve (RFC 9189, RFC 8998)"},
    {256, 260, "an FFDHE group (RFC 7919)"},
    {0x0200, 0x0202, "ML-KEM-512/768/1024 (OpenSSL 3.5)"},
    {0x11EB, 0x11EE, "an ECDHE-MLKEM hybrid (OpenSSL 3.5)"},
    {0xFF01, 0xFF02, "arbitrary_explicit_*_curves (RFC 8422)"},
};

/*
 * Where a Scloud+ group may live without allow_any_codepoint: the NamedGroup
 * private-use range (RFC 8446 4.2.7) and any range IANA assigns to the
 * Scloud+ hybrids (none yet; add a row when it does).
 */
static const struct {
    uint16_t lo, hi;
} sp_allowed[] = {
    {0xFE00, 0xFEFF},
};

static const char *codepoint_taken(unsigned int id)
{
    for (size_t i = 0; i < sizeof(sp_taken) / sizeof(sp_taken[0]); i++) {
        if (id >= sp_taken[i].lo && id <= sp_taken[i].hi)
            return sp_taken[i].what;
    }
    return NULL;
}

static int codepoint_allowed(unsigned int id)
{
    for (size_t i = 0; i < sizeof(sp_allowed) / sizeof(sp_allowed[0]); i++) {
        if (id >= sp_allowed[i].lo && id <= sp_allowed[i].hi)
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------- in-process options */

/*
 * Options for the built-in provider of mamori's own TLS layer, which has no
 * config section of its own: src/tls copies the scloudplus section of
 * OPENSSL_CONF and mamori's configuration here before loading the provider.
 * A config section (the .so's case) wins over these.
 */
static char *sp_opts[SP_NOPTS];

const char *const sp_opt_keys[SP_NOPTS] = {
    "x25519_scloudplus128_codepoint", "secp256r1_scloudplus192_codepoint",
    "secp384r1_scloudplus256_codepoint", "scloudplus128_codepoint",
    "scloudplus192_codepoint", "scloudplus256_codepoint",
    "scloudplus_variant", "allow_any_codepoint",
};

int mm_scloudplus_provider_option_set(const char *key, const char *value)
{
    for (size_t i = 0; key != NULL && i < SP_NOPTS; i++) {
        if (strcmp(key, sp_opt_keys[i]) == 0) {
            char *v = value != NULL ? strdup(value) : NULL;

            if (value != NULL && v == NULL)
                return -1;
            free(sp_opts[i]);
            sp_opts[i] = v;
            return 0;
        }
    }
    return -1;
}

void mm_scloudplus_provider_options_clear(void)
{
    for (size_t i = 0; i < SP_NOPTS; i++) {
        free(sp_opts[i]);
        sp_opts[i] = NULL;
    }
}

/* Record the configuration error: raised now and again on every later use. */
static int config_fail(sp_provctx *pc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int config_fail(sp_provctx *pc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(pc->cfg_error, sizeof(pc->cfg_error), fmt, ap);
    va_end(ap);
    ERR_raise_data(ERR_LIB_PROV, ERR_R_PASSED_INVALID_ARGUMENT, "scloudplus: %s",
                   pc->cfg_error);
    return 0;
}

int sp_config_load(sp_provctx *pc, const OSSL_DISPATCH *in)
{
    OSSL_FUNC_core_get_params_fn *get_params = NULL;
    const char *vals[SP_NOPTS] = {0};
    OSSL_PARAM req[SP_NOPTS + 1];
    int allow_any = 0;

    for (size_t i = 0; i < SP_NGROUPS; i++)
        pc->ids[i] = sp_groups[i].default_id;
    pc->variant = MM_SCLOUDPLUS_VARIANT_REFERENCE;

    for (; in != NULL && in->function_id != 0; in++) {
        if (in->function_id == OSSL_FUNC_CORE_GET_PARAMS)
            get_params = OSSL_FUNC_core_get_params(in);
    }
    if (get_params != NULL) {
        for (size_t i = 0; i < SP_NOPTS; i++)
            req[i] = OSSL_PARAM_construct_utf8_ptr((char *)sp_opt_keys[i], (char **)&vals[i], 0);
        req[SP_NOPTS] = OSSL_PARAM_construct_end();
        if (!get_params(pc->handle, req))
            memset(vals, 0, sizeof(vals));
    }
    for (size_t i = 0; i < SP_NOPTS; i++) {
        if (vals[i] == NULL)
            vals[i] = sp_opts[i];
    }

    if (vals[SP_OPT_ALLOW_ANY] != NULL && !parse_bool(vals[SP_OPT_ALLOW_ANY], &allow_any))
        return config_fail(pc, "bad allow_any_codepoint = %s (want yes or no)",
                           vals[SP_OPT_ALLOW_ANY]);
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        const char *taken;

        if (vals[i] == NULL)
            continue;
        if (!parse_codepoint(vals[i], &pc->ids[i]))
            return config_fail(pc, "bad %s = %s (want 1..0xFFFF, e.g. 0xFE60)",
                               sp_groups[i].cnf_key, vals[i]);
        if ((taken = codepoint_taken(pc->ids[i])) != NULL)
            return config_fail(pc, "%s = %s is the codepoint of %s: refused (a peer "
                                   "would negotiate that group instead)",
                               sp_groups[i].cnf_key, vals[i], taken);
        if (!allow_any && !codepoint_allowed(pc->ids[i]))
            return config_fail(pc, "%s = %s is outside the private-use range "
                                   "0xFE00-0xFEFF (set allow_any_codepoint = yes to use it)",
                               sp_groups[i].cnf_key, vals[i]);
    }
    /* Two groups on one codepoint would make the peer's choice ambiguous. */
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        for (size_t j = i + 1; j < SP_NGROUPS; j++) {
            if (pc->ids[i] == pc->ids[j])
                return config_fail(pc, "%s and %s share codepoint 0x%04X",
                                   sp_groups[i].tls_name, sp_groups[j].tls_name, pc->ids[i]);
        }
    }
    if (vals[SP_OPT_VARIANT] != NULL &&
        mm_scloudplus_variant_parse(vals[SP_OPT_VARIANT], &pc->variant) < 0)
        return config_fail(pc, "bad scloudplus_variant = %s (want reference or openhitls)",
                           vals[SP_OPT_VARIANT]);
    return 1;
}

/* ------------------------------------------------ other providers' groups */

struct sp_clash {
    sp_provctx *pc;
    const char *prov;
    int bad;
    char msg[sizeof(((sp_provctx *)0)->cfg_error)];
};

/* Serialises the first poisoning (concurrent SSL_CTX_new calls may both see
 * a clash); cfg_error is written once, before poisoned is set. */
static pthread_mutex_t sp_poison_lock = PTHREAD_MUTEX_INITIALIZER;

static _Thread_local int sp_checking;

static int clash_group_cb(const OSSL_PARAM params[], void *arg)
{
    struct sp_clash *c = arg;
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_ID);
    const OSSL_PARAM *n = OSSL_PARAM_locate_const(params, OSSL_CAPABILITY_TLS_GROUP_NAME);
    const char *name = "?";
    unsigned int id = 0;

    if (p == NULL || !OSSL_PARAM_get_uint(p, &id))
        return 1;
    if (n != NULL)
        (void)OSSL_PARAM_get_utf8_string_ptr(n, &name);
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        /* the same group under the same name is another instance of us */
        if (c->pc->ids[i] == id && strcasecmp(name, sp_groups[i].tls_name) != 0) {
            snprintf(c->msg, sizeof(c->msg),
                     "%s = 0x%04X collides with group %s of provider %s: refused",
                     sp_groups[i].cnf_key, id, name, c->prov);
            c->bad = 1;
            return 0;
        }
    }
    return 1;
}

static int clash_provider_cb(OSSL_PROVIDER *prov, void *arg)
{
    struct sp_clash *c = arg;

    c->prov = OSSL_PROVIDER_get0_name(prov);
    if (strcmp(c->prov, SP_PROVIDER_NAME) == 0)
        return 1;
    (void)OSSL_PROVIDER_get_capabilities(prov, "TLS-GROUP", clash_group_cb, c);
    return !c->bad;
}

/*
 * 1 if no other provider of the library context announces a TLS group on one
 * of our codepoints. Called at init (providers loaded before us) and on each
 * TLS-GROUP query (libssl asks when it makes an SSL_CTX, after every provider
 * of the configuration is loaded).
 */
int sp_config_check_providers(sp_provctx *pc)
{
    struct sp_clash c = {pc, NULL, 0, ""};

    /*
     * Asking the others may reach an instance of this module (another name
     * for the same .so, or our own copy in the child context), which would
     * ask again: one level only, per thread.
     */
    if (pc->libctx == NULL || sp_checking)
        return 1;
    sp_checking = 1;
    (void)OSSL_PROVIDER_do_all(pc->libctx, clash_provider_cb, &c);
    sp_checking = 0;
    if (c.bad) {
        pthread_mutex_lock(&sp_poison_lock);
        if (!sp_is_poisoned(pc) && pc->cfg_error[0] == '\0')
            config_fail(pc, "%s", c.msg);
        pthread_mutex_unlock(&sp_poison_lock);
    }
    return !c.bad;
}

/* TLS 1.3 only; never DTLS (-1 = not usable). */
static const int sp_min_tls = TLS1_3_VERSION;
static const int sp_max_tls = TLS1_3_VERSION;
static const int sp_no_dtls = -1;
static const unsigned int sp_is_kem = 1;

void sp_capabilities_build(sp_provctx *pc)
{
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        const sp_group *g = &sp_groups[i];
        OSSL_PARAM *p = pc->cap[i];

        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME,
                                                (char *)g->tls_name, 0);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME_INTERNAL,
                                                (char *)g->alg, 0);
        *p++ = OSSL_PARAM_construct_uint(OSSL_CAPABILITY_TLS_GROUP_ID, &pc->ids[i]);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_CAPABILITY_TLS_GROUP_ALG, (char *)g->alg,
                                                0);
        *p++ = OSSL_PARAM_construct_uint(OSSL_CAPABILITY_TLS_GROUP_SECURITY_BITS,
                                         (unsigned int *)&g->secbits);
        *p++ = OSSL_PARAM_construct_uint(OSSL_CAPABILITY_TLS_GROUP_IS_KEM,
                                         (unsigned int *)&sp_is_kem);
        *p++ = OSSL_PARAM_construct_int(OSSL_CAPABILITY_TLS_GROUP_MIN_TLS, (int *)&sp_min_tls);
        *p++ = OSSL_PARAM_construct_int(OSSL_CAPABILITY_TLS_GROUP_MAX_TLS, (int *)&sp_max_tls);
        *p++ = OSSL_PARAM_construct_int(OSSL_CAPABILITY_TLS_GROUP_MIN_DTLS, (int *)&sp_no_dtls);
        *p++ = OSSL_PARAM_construct_int(OSSL_CAPABILITY_TLS_GROUP_MAX_DTLS, (int *)&sp_no_dtls);
        *p = OSSL_PARAM_construct_end();
    }
}

int sp_get_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb, void *arg)
{
    sp_provctx *pc = provctx;

    if (strcasecmp(capability, "TLS-GROUP") != 0)
        return 0;
    /*
     * A bad configuration: OpenSSL 3.0's config loader ignores a provider
     * whose init fails (and drops its error), so the module stays loaded and
     * fails here instead, which fails SSL_CTX_new with this message.
     */
    if (!sp_is_poisoned(pc) && !sp_config_check_providers(pc))
        __atomic_store_n(&pc->poisoned, 1, __ATOMIC_RELEASE);
    if (sp_is_poisoned(pc)) {
        sp_raise_config_error(pc, "sp_get_capabilities");
        return 0;
    }
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        if (!cb(pc->cap[i], arg))
            return 0;
    }
    return 1;
}
