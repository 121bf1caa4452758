/*
 * sp_prov.h - internals of the scloudplus OpenSSL 3 provider.
 *
 * The provider offers, for every row of the group table (sp_groups.c), a
 * KEYMGMT and a KEM algorithm of the same name plus a TLS-GROUP capability.
 * Hybrid rows combine an ECDHE half (X25519 / P-256 / P-384, computed by
 * whatever provider supplies it in the calling library context, normally
 * "default") with a Scloud+ half (src/scloudplus).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_SP_PROV_H
#define MAMORI_SP_PROV_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/evp.h>

#include "mamori/mm_scloudplus.h"

#define SP_PROVIDER_NAME "scloudplus"

/* ------------------------------------------------------------ the ECDHE half */

enum sp_ec {
    SP_EC_NONE = 0, /* pure Scloud+ */
    SP_EC_X25519,
    SP_EC_P256,
    SP_EC_P384,
};

/* Encoded public value length (RFC 8446 4.2.8.2): 32, 65 or 97; 0 for NONE. */
size_t sp_ec_pub_len(enum sp_ec ec);
/* Shared secret length (X25519 output or x-coordinate): 32, 32, 48; 0 for NONE. */
size_t sp_ec_ss_len(enum sp_ec ec);
/* Fresh key pair; its encoded public value (sp_ec_pub_len bytes) goes to pub. */
int sp_ec_keygen(OSSL_LIB_CTX *libctx, enum sp_ec ec, EVP_PKEY **key, uint8_t *pub);
/* Parse and validate a peer public value (length, uncompressed form, on curve). */
int sp_ec_parse(OSSL_LIB_CTX *libctx, enum sp_ec ec, const uint8_t *pub, size_t len,
                EVP_PKEY **key);
/* ECDH: writes sp_ec_ss_len bytes to ss; fails on an all-zero X25519 result. */
int sp_ec_derive(OSSL_LIB_CTX *libctx, enum sp_ec ec, EVP_PKEY *priv, EVP_PKEY *peer,
                 uint8_t *ss);

/* ------------------------------------------------------------ the group table */

typedef struct sp_group {
    const char *tls_name;     /* TLS group name (groups lists, $ssl_curve via id) */
    const char *alg;          /* KEYMGMT + KEM algorithm name, = internal group name */
    const char *cnf_key;      /* provider config key overriding the codepoint */
    uint16_t default_id;      /* PROVISIONAL private-use NamedGroup, not IANA */
    unsigned int secbits;     /* claimed classical security bits */
    enum sp_ec ec;            /* ECDHE half, first on the wire (ASSUMPTION) */
    enum mm_scloudplus_level level;
} sp_group;

#define SP_NGROUPS 6
extern const sp_group sp_groups[SP_NGROUPS];

/* Lengths of the concatenated values of a group. */
size_t sp_group_pub_len(const sp_group *g); /* client share: ECDH pub || pk */
size_t sp_group_ct_len(const sp_group *g);  /* server share: ECDH pub || ct */
size_t sp_group_ss_len(const sp_group *g);  /* ECDH ss || KEM ss */
const mm_scloudplus_info *sp_group_kem(const sp_group *g);
/* Row by TLS name or algorithm name (case-insensitive); NULL if none. */
const sp_group *sp_group_by_name(const char *name);

/* ------------------------------------------------------------ provider context */

#define SP_CAP_NPARAMS 11

typedef struct sp_provctx {
    const OSSL_CORE_HANDLE *handle;
    OSSL_LIB_CTX *libctx; /* child of the caller's library context */
    enum mm_scloudplus_variant variant;
    unsigned int ids[SP_NGROUPS]; /* codepoints in use (defaults or config) */
    /* A configuration error (empty if none); with poisoned set, the .so is
     * loaded but refuses every operation and raises this on each use. */
    char cfg_error[256];
    int poisoned;
    /* the core's error functions: errors under the provider's own library
     * ("scloudplus"), whose reason string SP_R_CONFIG is cfg_error itself, so
     * programs that print only ERR_error_string (curl) show it too */
    OSSL_FUNC_core_new_error_fn *core_new_error;
    OSSL_FUNC_core_set_error_debug_fn *core_set_error_debug;
    OSSL_FUNC_core_vset_error_fn *core_vset_error;
    OSSL_ITEM reasons[2];
    /* TLS-GROUP capability records; they point into ids[] and the constants. */
    OSSL_PARAM cap[SP_NGROUPS][SP_CAP_NPARAMS];
} sp_provctx;

/*
 * Provider entry point; OSSL_provider_init of scloudplus.so calls it, and
 * mamori registers it in-process with OSSL_PROVIDER_add_builtin().
 */
int mm_scloudplus_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                                const OSSL_DISPATCH **out, void **provctx);

/*
 * Provider options: the six codepoint keys (in sp_groups order), then these.
 * allow_any_codepoint = yes lifts the private-use range restriction (never the
 * refusal of a codepoint some other group already has).
 */
#define SP_NOPTS 8
#define SP_OPT_VARIANT 6
#define SP_OPT_ALLOW_ANY 7
extern const char *const sp_opt_keys[SP_NOPTS];

/*
 * Read the codepoint overrides and the variant from the core's config params
 * (the .so's config section), else from the in-process options below. 0 with
 * pc->cfg_error set (and raised) on a bad value, a duplicate, a codepoint of a
 * group OpenSSL knows, or one outside the private-use range.
 */
int sp_config_load(sp_provctx *pc, const OSSL_DISPATCH *in);
/* pc->poisoned, read across threads (set once, after cfg_error is written) */
static inline int sp_is_poisoned(const sp_provctx *pc)
{
    return __atomic_load_n(&pc->poisoned, __ATOMIC_ACQUIRE);
}

#define SP_R_CONFIG 1
/* Raise pc->cfg_error (poisoned provider) as an error of this provider. */
void sp_raise_config_error(sp_provctx *pc, const char *func);

/* 0 (cfg_error set) if another provider of pc->libctx has one of our codepoints. */
int sp_config_check_providers(sp_provctx *pc);

/*
 * In-process options for the built-in provider (mamori's TLS layer): set
 * before the provider is loaded. key is one of sp_opt_keys (-1 otherwise);
 * a NULL value removes the option.
 */
int mm_scloudplus_provider_option_set(const char *key, const char *value);
void mm_scloudplus_provider_options_clear(void);
/* OSSL_provider_init of scloudplus.so: on a bad configuration it loads in the
 * poisoned state (see sp_provctx) because OpenSSL would drop a failed init
 * silently. */
int mm_scloudplus_provider_init_module(const OSSL_CORE_HANDLE *handle,
                                       const OSSL_DISPATCH *in, const OSSL_DISPATCH **out,
                                       void **provctx);
/* Build pc->cap from pc->ids. */
void sp_capabilities_build(sp_provctx *pc);
int sp_get_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb, void *arg);

/* ------------------------------------------------------------ keys */

typedef struct sp_key {
    sp_provctx *pc;
    const sp_group *grp;
    EVP_PKEY *ec;     /* own ECDH key pair, or the peer's public ECDH key */
    uint8_t *pub;     /* encoded public key: ECDH public || Scloud+ pk */
    uint8_t *kem_sk;  /* Scloud+ secret key (secure heap), NULL if public only */
    int has_pub;
} sp_key;

sp_key *sp_key_new(sp_provctx *pc, const sp_group *grp);
void sp_key_free(sp_key *k);
/* Replace the public part by a received encoded public key; validates it. */
int sp_key_set_encoded_pub(sp_key *k, const uint8_t *in, size_t len);

extern const OSSL_ALGORITHM sp_keymgmt_algs[SP_NGROUPS + 1];
extern const OSSL_ALGORITHM sp_kem_algs[SP_NGROUPS + 1];

#endif
