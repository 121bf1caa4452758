/*
 * mm_tls.h - the TLS layer of every mamori daemon and client.
 *
 * TLS 1.3 only, mutual X.509 authentication against the mamori PKI, hybrid
 * post-quantum groups offered first (X25519SCloud+128, from the scloudplus
 * provider, which is registered in-process: no provider path, no system
 * openssl.cnf involved), and RFC 7407 cert-to-name mapping of the peer's
 * certificate to a user name.
 *
 * Functions return 0 or a negative MM_E* code (mm_core.h), or a pointer
 * (NULL on error, with the reason logged through mm_log).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_TLS_H
#define MAMORI_MM_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Offered in this order; a ClientHello carries a key share for the first only.
 * On OpenSSL >= 3.5 (mamori's private build, docs/tls.md) OpenSSL's own
 * ML-KEM hybrid comes second, so every service has both a Scloud+ and an
 * ML-KEM hybrid: mm_tls_default_groups() picks the list at run time.
 */
#define MM_TLS_DEFAULT_GROUPS "X25519SCloud+128:SecP256r1SCloud+192:X25519"
#define MM_TLS_DEFAULT_GROUPS_MLKEM "X25519SCloud+128:X25519MLKEM768:SecP256r1SCloud+192:X25519"

typedef struct mm_tls_config {
    const char *ca_file;   /* PEM trust anchors for the peer's certificate */
    const char *cert_file; /* own certificate, PEM (may carry the chain) */
    const char *key_file;  /* own private key, PEM */
    const char *groups;    /* colon-separated; NULL: mm_tls_default_groups() */
    const char *ciphersuites; /* TLS 1.3 suites; NULL: OpenSSL's default */
    /* Server: also accept clients without a certificate (bearer-token APIs). */
    bool client_cert_optional;
    /* Client: do not verify the server at all (diagnostics such as `tls probe`). */
    bool no_verify;
} mm_tls_config;

/*
 * The library context every mm_tls object lives in: created on first use
 * with OpenSSL's "default" provider and the built-in "scloudplus" provider.
 * Thread-safe; NULL only if OpenSSL could not set it up.
 */
OSSL_LIB_CTX *mm_tls_libctx(void);

/* MM_TLS_DEFAULT_GROUPS_MLKEM when the OpenSSL in use has X25519MLKEM768
 * (>= 3.5), else MM_TLS_DEFAULT_GROUPS. */
const char *mm_tls_default_groups(void);

/*
 * An option of the built-in scloudplus provider, from mamori's configuration
 * (the keys of the provider's openssl.cnf section, docs/provider.md:
 * x25519_scloudplus128_codepoint, ..., scloudplus_variant,
 * allow_any_codepoint). The provider section of OPENSSL_CONF (or OpenSSL's
 * default config file) is read too; a key set to different values in both
 * makes the library context fail. Effective only before the first use of
 * mm_tls_libctx(). MM_EINVAL for an unknown key.
 */
int mm_tls_provider_option_set(const char *key, const char *value);

/*
 * Server context: own cert/key required; clients must present a certificate
 * chaining to ca_file (required) unless client_cert_optional.
 */
SSL_CTX *mm_tls_ctx_new_server(const mm_tls_config *cfg);
/*
 * Client context: verifies the server against ca_file (required unless
 * no_verify); presents cert/key if given.
 */
SSL_CTX *mm_tls_ctx_new_client(const mm_tls_config *cfg);

/*
 * Client side, before the handshake: SNI (for a DNS name) and the name or IP
 * address the server certificate must match. MM_EINVAL on a bad name.
 */
int mm_tls_set_peer_name(SSL *ssl, const char *name);

/* Name of the negotiated group ("X25519SCloud+128", "x25519", ...), NULL before. */
const char *mm_tls_negotiated_group_name(SSL *ssl);
/* NamedGroup codepoint of the negotiated group, 0 before the handshake. */
unsigned int mm_tls_negotiated_group_id(SSL *ssl);

/* ------------------------------------------------------------ cert-to-name */

/* RFC 7407 (ietf-x509-cert-to-name) map types. */
enum mm_ctn_map_type {
    MM_CTN_SPECIFIED = 0,     /* the entry's name */
    MM_CTN_SAN_RFC822_NAME,   /* rfc822Name, host part lowercased */
    MM_CTN_SAN_DNS_NAME,      /* dNSName, lowercased */
    MM_CTN_SAN_IP_ADDRESS,    /* iPAddress: dotted quad, or 32 lowercase hex digits (IPv6) */
    MM_CTN_SAN_ANY,           /* first rfc822Name, dNSName or iPAddress, in cert order */
    MM_CTN_COMMON_NAME,       /* the (last, most specific) CN of the subject */
};

/* Hash algorithm byte of a tls-fingerprint (TLS HashAlgorithm registry). */
enum mm_ctn_hash {
    MM_CTN_MD5 = 1,
    MM_CTN_SHA1 = 2,
    MM_CTN_SHA224 = 3,
    MM_CTN_SHA256 = 4,
    MM_CTN_SHA384 = 5,
    MM_CTN_SHA512 = 6,
};

#define MM_CTN_FINGERPRINT_MAX (1 + 64)

typedef struct mm_ctn_entry {
    uint32_t id; /* entries are tried in increasing id order */
    /* hash-algorithm byte followed by the hash of the DER certificate */
    uint8_t fingerprint[MM_CTN_FINGERPRINT_MAX];
    size_t fingerprint_len;
    enum mm_ctn_map_type map_type;
    const char *name; /* MM_CTN_SPECIFIED only */
} mm_ctn_entry;

typedef struct mm_ctn_map {
    const mm_ctn_entry *entries;
    size_t count;
} mm_ctn_map;

/*
 * Map the verified peer of ssl to a name (RFC 7407 section 4.1 / RFC 6353):
 * for each entry in id order whose fingerprint matches any certificate of
 * the peer's verified chain (leaf to trust anchor), apply its map type to
 * the leaf; the first that yields a name wins; an entry whose map type finds
 * nothing (e.g. no such SAN) falls through to the next.
 * MM_EVERIFY if the peer is not verified, MM_ENOENT if no entry maps it,
 * MM_ESPACE if the name does not fit len (NUL included).
 */
int mm_tls_peer_identity(SSL *ssl, const mm_ctn_map *map, char *name, size_t len);
/* The same on an explicit chain (chain[0] is the leaf). */
int mm_ctn_resolve(STACK_OF(X509) *chain, const mm_ctn_map *map, char *name, size_t len);

/* "04:AB:..." (YANG tls-fingerprint, colons optional) into out; MM_EMALFORMED. */
int mm_ctn_fingerprint_parse(const char *text, uint8_t *out, size_t outlen, size_t *len);
/* Fingerprint of cert with the given hash algorithm. */
int mm_ctn_fingerprint_of(X509 *cert, enum mm_ctn_hash hash, uint8_t *out, size_t outlen,
                          size_t *len);
/* "specified", "san-rfc822-name", ... (YANG identity names) <-> enum. */
int mm_ctn_map_type_parse(const char *name, enum mm_ctn_map_type *out);
const char *mm_ctn_map_type_name(enum mm_ctn_map_type type);

#ifdef __cplusplus
}
#endif
#endif
