/*
 * sp_groups.c - the one table of scloudplus TLS groups, their provisional
 * codepoints, and the TLS-GROUP capability built from it.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/prov_ssl.h>

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
    unsigned long v = strtoul(s, &end, 0);

    if (end == s || *end != '\0' || v == 0 || v > 0xFFFF)
        return 0;
    *out = (unsigned int)v;
    return 1;
}

int sp_config_load(sp_provctx *pc, const OSSL_DISPATCH *in)
{
    OSSL_FUNC_core_get_params_fn *get_params = NULL;
    const char *vals[SP_NGROUPS + 1] = {0};
    OSSL_PARAM req[SP_NGROUPS + 2];

    for (size_t i = 0; i < SP_NGROUPS; i++)
        pc->ids[i] = sp_groups[i].default_id;
    pc->variant = MM_SCLOUDPLUS_VARIANT_REFERENCE;

    for (; in != NULL && in->function_id != 0; in++) {
        if (in->function_id == OSSL_FUNC_CORE_GET_PARAMS)
            get_params = OSSL_FUNC_core_get_params(in);
    }
    if (get_params == NULL)
        return 1; /* no config available: defaults */

    for (size_t i = 0; i < SP_NGROUPS; i++)
        req[i] = OSSL_PARAM_construct_utf8_ptr(sp_groups[i].cnf_key, (char **)&vals[i], 0);
    req[SP_NGROUPS] = OSSL_PARAM_construct_utf8_ptr("scloudplus_variant",
                                                    (char **)&vals[SP_NGROUPS], 0);
    req[SP_NGROUPS + 1] = OSSL_PARAM_construct_end();
    if (!get_params(pc->handle, req))
        return 1;

    for (size_t i = 0; i < SP_NGROUPS; i++) {
        if (vals[i] != NULL && !parse_codepoint(vals[i], &pc->ids[i])) {
            ERR_raise_data(ERR_LIB_PROV, ERR_R_PASSED_INVALID_ARGUMENT,
                           "scloudplus: bad %s = %s", sp_groups[i].cnf_key, vals[i]);
            return 0;
        }
    }
    /* Two groups on one codepoint would make the peer's choice ambiguous. */
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        for (size_t j = i + 1; j < SP_NGROUPS; j++) {
            if (pc->ids[i] == pc->ids[j]) {
                ERR_raise_data(ERR_LIB_PROV, ERR_R_PASSED_INVALID_ARGUMENT,
                               "scloudplus: %s and %s share codepoint 0x%04X",
                               sp_groups[i].tls_name, sp_groups[j].tls_name, pc->ids[i]);
                return 0;
            }
        }
    }
    if (vals[SP_NGROUPS] != NULL &&
        mm_scloudplus_variant_parse(vals[SP_NGROUPS], &pc->variant) < 0) {
        ERR_raise_data(ERR_LIB_PROV, ERR_R_PASSED_INVALID_ARGUMENT,
                       "scloudplus: bad scloudplus_variant = %s", vals[SP_NGROUPS]);
        return 0;
    }
    return 1;
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
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        if (!cb(pc->cap[i], arg))
            return 0;
    }
    return 1;
}
