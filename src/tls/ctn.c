/*
 * ctn.c - RFC 7407 cert-to-name: map a verified peer certificate to a name.
 *
 * The map types follow ietf-x509-cert-to-name, whose text defers to RFC 6353
 * (SNMP TLSTM) section 5.3 for the conversions: rfc822Name with the host
 * part lowercased, dNSName lowercased, iPAddress as a dotted quad or (IPv6)
 * 32 lowercase hex digits without colons; san-any takes the first of those
 * three SAN kinds in certificate order.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "mamori/mm_core.h"
#include "mamori/mm_tls.h"

/* One row per map type: YANG identity name. Adding a type is adding a row. */
static const char *const map_type_names[] = {
    [MM_CTN_SPECIFIED] = "specified",
    [MM_CTN_SAN_RFC822_NAME] = "san-rfc822-name",
    [MM_CTN_SAN_DNS_NAME] = "san-dns-name",
    [MM_CTN_SAN_IP_ADDRESS] = "san-ip-address",
    [MM_CTN_SAN_ANY] = "san-any",
    [MM_CTN_COMMON_NAME] = "common-name",
};
#define N_MAP_TYPES (sizeof(map_type_names) / sizeof(map_type_names[0]))

int mm_ctn_map_type_parse(const char *name, enum mm_ctn_map_type *out)
{
    MM_ENSURE(name != NULL && out != NULL, MM_EINVAL);
    /* Accept a module prefix as in YANG identityref values ("x509c2n:san-any"). */
    const char *colon = strrchr(name, ':');
    if (colon != NULL)
        name = colon + 1;
    for (size_t i = 0; i < N_MAP_TYPES; i++) {
        if (strcmp(name, map_type_names[i]) == 0) {
            *out = (enum mm_ctn_map_type)i;
            return 0;
        }
    }
    return MM_EINVAL;
}

const char *mm_ctn_map_type_name(enum mm_ctn_map_type type)
{
    return (size_t)type < N_MAP_TYPES ? map_type_names[type] : "unknown";
}

/* ------------------------------------------------------------ fingerprints */

static const char *hash_name(unsigned int alg)
{
    static const char *const names[] = {
        [MM_CTN_MD5] = "MD5",       [MM_CTN_SHA1] = "SHA1",     [MM_CTN_SHA224] = "SHA224",
        [MM_CTN_SHA256] = "SHA256", [MM_CTN_SHA384] = "SHA384", [MM_CTN_SHA512] = "SHA512",
    };
    return alg < sizeof(names) / sizeof(names[0]) ? names[alg] : NULL;
}

int mm_ctn_fingerprint_of(X509 *cert, enum mm_ctn_hash hash, uint8_t *out, size_t outlen,
                          size_t *len)
{
    const char *name = hash_name((unsigned int)hash);
    EVP_MD *md = NULL;
    unsigned int n = 0;
    int rc = MM_ECRYPTO;

    MM_ENSURE(cert != NULL && out != NULL && len != NULL, MM_EINVAL);
    MM_ENSURE(name != NULL, MM_EUNSUPPORTED);
    md = EVP_MD_fetch(NULL, name, NULL);
    MM_ENSURE(md != NULL, MM_EUNSUPPORTED);
    if (outlen < 1 + (size_t)EVP_MD_get_size(md)) {
        rc = MM_ESPACE;
    } else if (X509_digest(cert, md, out + 1, &n) == 1) {
        out[0] = (uint8_t)hash;
        *len = 1 + n;
        rc = 0;
    }
    EVP_MD_free(md);
    return rc;
}

int mm_ctn_fingerprint_parse(const char *text, uint8_t *out, size_t outlen, size_t *len)
{
    size_t n = 0;

    MM_ENSURE(text != NULL && out != NULL && len != NULL, MM_EINVAL);
    for (const char *p = text; *p != '\0';) {
        unsigned int v;

        if (*p == ':' && n > 0) {
            p++;
            continue;
        }
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
            return MM_EMALFORMED;
        MM_ENSURE(n < outlen, MM_ESPACE);
        if (sscanf(p, "%2x", &v) != 1)
            return MM_EMALFORMED;
        out[n++] = (uint8_t)v;
        p += 2;
    }
    MM_ENSURE(n >= 2 && hash_name(out[0]) != NULL, MM_EMALFORMED);
    *len = n;
    return 0;
}

/* Does the fingerprint match cert (computed with the fingerprint's own hash)? */
static int fingerprint_matches(X509 *cert, const uint8_t *fp, size_t fp_len)
{
    uint8_t mine[MM_CTN_FINGERPRINT_MAX];
    size_t n = 0;

    if (fp_len < 2 || mm_ctn_fingerprint_of(cert, (enum mm_ctn_hash)fp[0], mine, sizeof(mine),
                                            &n) < 0)
        return 0;
    return n == fp_len && memcmp(mine, fp, n) == 0;
}

/* ------------------------------------------------------------ conversions */

/* Copy an ASN1 string (no embedded NUL, not empty) into name; lower: 0 none,
 * 1 all, 2 after '@' only. */
static int put_string(const ASN1_STRING *s, int lower, char *name, size_t len)
{
    const unsigned char *d = ASN1_STRING_get0_data(s);
    size_t n = (size_t)ASN1_STRING_length(s);
    int in_host = lower == 1;

    if (n == 0 || memchr(d, '\0', n) != NULL)
        return MM_EMALFORMED;
    MM_ENSURE(n < len, MM_ESPACE);
    for (size_t i = 0; i < n; i++) {
        name[i] = in_host ? (char)tolower(d[i]) : (char)d[i];
        if (lower == 2 && d[i] == '@')
            in_host = 1;
    }
    name[n] = '\0';
    return 0;
}

static int put_ip(const ASN1_OCTET_STRING *ip, char *name, size_t len)
{
    const unsigned char *d = ASN1_STRING_get0_data(ip);
    int n = ASN1_STRING_length(ip);
    char buf[33];

    if (n == 4) {
        snprintf(buf, sizeof(buf), "%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
    } else if (n == 16) {
        for (int i = 0; i < 16; i++)
            snprintf(buf + 2 * i, 3, "%02x", d[i]);
    } else {
        return MM_EMALFORMED;
    }
    MM_ENSURE(strlen(buf) < len, MM_ESPACE);
    memcpy(name, buf, strlen(buf) + 1);
    return 0;
}

static int put_general_name(const GENERAL_NAME *gn, char *name, size_t len)
{
    switch (gn->type) {
    case GEN_EMAIL:
        return put_string(gn->d.rfc822Name, 2, name, len);
    case GEN_DNS:
        return put_string(gn->d.dNSName, 1, name, len);
    case GEN_IPADD:
        return put_ip(gn->d.iPAddress, name, len);
    default:
        return MM_ENOENT;
    }
}

/* First SAN of gen_type (or of any of the three kinds when gen_type < 0). */
static int from_san(X509 *leaf, int gen_type, char *name, size_t len)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    int rc = MM_ENOENT;

    for (int i = 0; i < sk_GENERAL_NAME_num(sans) && rc == MM_ENOENT; i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);

        if (gen_type >= 0 && gn->type != gen_type)
            continue;
        rc = put_general_name(gn, name, len);
    }
    GENERAL_NAMES_free(sans);
    return rc;
}

static int from_common_name(X509 *leaf, char *name, size_t len)
{
    X509_NAME *subj = X509_get_subject_name(leaf);
    int idx = -1, last = -1;

    while ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName, idx)) >= 0)
        last = idx;
    if (last < 0)
        return MM_ENOENT;
    return put_string(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, last)), 0, name, len);
}

static int apply_map(const mm_ctn_entry *e, X509 *leaf, char *name, size_t len)
{
    switch (e->map_type) {
    case MM_CTN_SPECIFIED:
        if (e->name == NULL || e->name[0] == '\0')
            return MM_ENOENT;
        MM_ENSURE(strlen(e->name) < len, MM_ESPACE);
        memcpy(name, e->name, strlen(e->name) + 1);
        return 0;
    case MM_CTN_SAN_RFC822_NAME:
        return from_san(leaf, GEN_EMAIL, name, len);
    case MM_CTN_SAN_DNS_NAME:
        return from_san(leaf, GEN_DNS, name, len);
    case MM_CTN_SAN_IP_ADDRESS:
        return from_san(leaf, GEN_IPADD, name, len);
    case MM_CTN_SAN_ANY:
        return from_san(leaf, -1, name, len);
    case MM_CTN_COMMON_NAME:
        return from_common_name(leaf, name, len);
    }
    return MM_ENOENT;
}

/* ------------------------------------------------------------ resolution */

static int chain_matches(STACK_OF(X509) *chain, const mm_ctn_entry *e)
{
    for (int i = 0; i < sk_X509_num(chain); i++) {
        if (fingerprint_matches(sk_X509_value(chain, i), e->fingerprint, e->fingerprint_len))
            return 1;
    }
    return 0;
}

/* The entry with the smallest id above *after (or any id when first). */
static const mm_ctn_entry *next_entry(const mm_ctn_map *map, const mm_ctn_entry *prev)
{
    const mm_ctn_entry *best = NULL;

    for (size_t i = 0; i < map->count; i++) {
        const mm_ctn_entry *e = &map->entries[i];

        if (prev != NULL && (e->id < prev->id || (e->id == prev->id && e <= prev)))
            continue;
        if (best == NULL || e->id < best->id)
            best = e;
    }
    return best;
}

int mm_ctn_resolve(STACK_OF(X509) *chain, const mm_ctn_map *map, char *name, size_t len)
{
    X509 *leaf;

    MM_ENSURE(chain != NULL && map != NULL && name != NULL && len > 0, MM_EINVAL);
    MM_ENSURE(sk_X509_num(chain) > 0, MM_EVERIFY);
    leaf = sk_X509_value(chain, 0);
    for (const mm_ctn_entry *e = next_entry(map, NULL); e != NULL; e = next_entry(map, e)) {
        int rc;

        if (!chain_matches(chain, e))
            continue;
        rc = apply_map(e, leaf, name, len);
        if (rc == MM_ESPACE)
            return rc;
        if (rc == 0)
            return 0;
        /* The map type found nothing usable: try the next entry. */
    }
    name[0] = '\0';
    return MM_ENOENT;
}

int mm_tls_peer_identity(SSL *ssl, const mm_ctn_map *map, char *name, size_t len)
{
    STACK_OF(X509) *chain;

    MM_ENSURE(ssl != NULL && map != NULL && name != NULL && len > 0, MM_EINVAL);
    name[0] = '\0';
    /* Only a chain that OpenSSL verified against our trust anchors counts. */
    chain = SSL_get0_verified_chain(ssl);
    MM_ENSURE(chain != NULL && SSL_get_verify_result(ssl) == X509_V_OK, MM_EVERIFY);
    return mm_ctn_resolve(chain, map, name, len);
}
