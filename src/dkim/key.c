/*
 * key.c - DKIM key records (RFC 6376 3.6.1, RFC 8463 4), private keys and
 * key generation. Algorithms are one table.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mamori/mm_dkim.h"

static const struct {
    enum mm_dkim_alg alg;
    const char *name;
    const char *k; /* key type in the key record */
} algs[] = {
    {MM_DKIM_ALG_RSA_SHA256, "rsa-sha256", "rsa"},
    {MM_DKIM_ALG_ED25519_SHA256, "ed25519-sha256", "ed25519"},
    {MM_DKIM_ALG_RSA_SHA1, "rsa-sha1", "rsa"},
};

const char *mm_dkim_alg_name(enum mm_dkim_alg a)
{
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (algs[i].alg == a)
            return algs[i].name;
    return "unknown";
}

enum mm_dkim_alg mm_dkim_alg_parse(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (strlen(algs[i].name) == len && memcmp(algs[i].name, p, len) == 0)
            return algs[i].alg;
    return MM_DKIM_ALG_UNKNOWN;
}

static bool val_is(const uint8_t *v, size_t vl, const char *s)
{
    return strlen(s) == vl && memcmp(v, s, vl) == 0;
}

/* True if the colon-separated list v contains item (surrounding FWS ignored). */
static bool list_has(const uint8_t *v, size_t vl, const char *item)
{
    size_t i = 0;
    while (i <= vl) {
        size_t j = i;
        while (j < vl && v[j] != ':')
            j++;
        size_t a = i, b = j;
        while (a < b && (v[a] == ' ' || v[a] == '\t' || v[a] == '\r' || v[a] == '\n'))
            a++;
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t' || v[b - 1] == '\r' || v[b - 1] == '\n'))
            b--;
        if (val_is(v + a, b - a, item))
            return true;
        i = j + 1;
    }
    return false;
}

void mm_dkim_pubkey_free(mm_dkim_pubkey *k)
{
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof(*k));
}

#define KEY_FAIL(rc, text)                                                   \
    do {                                                                     \
        *why = (text);                                                       \
        return (rc);                                                         \
    } while (0)

int mm_dkim_pubkey_parse(const uint8_t *p, size_t len, mm_dkim_pubkey *k, const char **why)
{
    memset(k, 0, sizeof(*k));
    mm_dkim_taglist tl;
    if (mm_dkim_taglist_parse(&tl, p, len) < 0)
        KEY_FAIL(MM_EMALFORMED, mm_dkim_tag_strerror(tl.err));
    size_t vl;
    const uint8_t *v;
    int i = mm_dkim_taglist_find(&tl, "v");
    if (i >= 0) {
        v = mm_dkim_taglist_value(&tl, i, &vl);
        if (i != 0 || !val_is(v, vl, "DKIM1"))
            KEY_FAIL(MM_EMALFORMED, "key record v= is not DKIM1 or not first");
    }
    k->alg = MM_DKIM_ALG_RSA_SHA256;
    if ((i = mm_dkim_taglist_find(&tl, "k")) >= 0) {
        v = mm_dkim_taglist_value(&tl, i, &vl);
        if (val_is(v, vl, "rsa"))
            k->alg = MM_DKIM_ALG_RSA_SHA256;
        else if (val_is(v, vl, "ed25519"))
            k->alg = MM_DKIM_ALG_ED25519_SHA256;
        else
            KEY_FAIL(MM_EUNSUPPORTED, "key type (k=) not supported");
    }
    if ((i = mm_dkim_taglist_find(&tl, "h")) >= 0) {
        v = mm_dkim_taglist_value(&tl, i, &vl);
        if (!list_has(v, vl, "sha256"))
            KEY_FAIL(MM_EUNSUPPORTED, "key h= does not allow sha256");
    }
    if ((i = mm_dkim_taglist_find(&tl, "s")) >= 0) {
        v = mm_dkim_taglist_value(&tl, i, &vl);
        if (!list_has(v, vl, "*") && !list_has(v, vl, "email"))
            KEY_FAIL(MM_EUNSUPPORTED, "key service type (s=) excludes email");
    }
    if ((i = mm_dkim_taglist_find(&tl, "t")) >= 0) {
        v = mm_dkim_taglist_value(&tl, i, &vl);
        k->testing = list_has(v, vl, "y");
        k->strict = list_has(v, vl, "s");
    }
    if ((i = mm_dkim_taglist_find(&tl, "p")) < 0)
        KEY_FAIL(MM_EMALFORMED, "key record has no p=");
    v = mm_dkim_taglist_value(&tl, i, &vl);
    uint8_t der[2048];
    size_t dl;
    if (mm_dkim_b64_decode(v, vl, der, sizeof(der), &dl) < 0)
        KEY_FAIL(MM_EMALFORMED, "key p= is not valid base64");
    if (dl == 0) {
        k->revoked = true;
        KEY_FAIL(MM_EPERM, "key revoked (empty p=)");
    }
    if (k->alg == MM_DKIM_ALG_ED25519_SHA256) {
        if (dl != 32)
            KEY_FAIL(MM_EMALFORMED, "ed25519 p= is not 32 octets");
        k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, dl);
        if (!k->pkey)
            KEY_FAIL(MM_ECRYPTO, "ed25519 key rejected");
        k->bits = 256;
        return 0;
    }
    /* SubjectPublicKeyInfo as opendkim-genkey writes it, or a bare RSAPublicKey */
    const unsigned char *dp = der;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &dp, (long)dl);
    if (pk && (dp != der + dl || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)) {
        EVP_PKEY_free(pk);
        pk = NULL;
        KEY_FAIL(MM_EMALFORMED, "p= is not an RSA public key");
    }
    if (!pk) {
        dp = der;
        pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &dp, (long)dl);
        if (pk && dp != der + dl) {
            EVP_PKEY_free(pk);
            pk = NULL;
        }
    }
    if (!pk)
        KEY_FAIL(MM_EMALFORMED, "p= is not a DER RSA public key");
    k->pkey = pk;
    k->bits = EVP_PKEY_get_bits(pk);
    /* RFC 8301 3.2: verifiers MUST NOT consider signatures with keys < 1024 bits valid */
    if (k->bits < 1024) {
        mm_dkim_pubkey_free(k);
        KEY_FAIL(MM_EPERM, "RSA key shorter than 1024 bits (RFC 8301)");
    }
    return 0;
}

int mm_dkim_privkey_load(const char *path, void **pkey, enum mm_dkim_alg *alg, const char **why)
{
    *why = "";
    FILE *f = fopen(path, "rb");
    if (!f)
        KEY_FAIL(MM_ENOENT, "cannot open key file");
    mm_buf b;
    mm_buf_init(&b, 64 * 1024);
    b.secret = true;
    int rc = mm_buf_read_stream(&b, f);
    fclose(f);
    if (rc < 0) {
        mm_buf_free(&b);
        KEY_FAIL(rc, "cannot read key file");
    }
    EVP_PKEY *pk = NULL;
    if (b.len >= 10 && memcmp(b.data, "-----BEGIN", 10) == 0) {
        BIO *bio = BIO_new_mem_buf(b.data, (int)b.len);
        pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
    } else {
        /* dknewkey format: base64 of the 32-octet Ed25519 seed */
        uint8_t seed[64];
        size_t sl = 0;
        if (mm_dkim_b64_decode(b.data, b.len, seed, sizeof(seed), &sl) == 0 && sl >= 32)
            pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
        OPENSSL_cleanse(seed, sizeof(seed));
    }
    mm_buf_free(&b);
    if (!pk)
        KEY_FAIL(MM_EMALFORMED, "not a PEM private key or base64 Ed25519 seed");
    int id = EVP_PKEY_get_base_id(pk);
    if (id == EVP_PKEY_RSA) {
        *alg = MM_DKIM_ALG_RSA_SHA256;
    } else if (id == EVP_PKEY_ED25519) {
        *alg = MM_DKIM_ALG_ED25519_SHA256;
    } else {
        EVP_PKEY_free(pk);
        KEY_FAIL(MM_EUNSUPPORTED, "key is neither RSA nor Ed25519");
    }
    *pkey = pk;
    return 0;
}

static int txt_record(EVP_PKEY *pk, enum mm_dkim_alg alg, mm_buf *txt)
{
    uint8_t der[4096];
    size_t dl = sizeof(der);
    if (alg == MM_DKIM_ALG_ED25519_SHA256) {
        if (EVP_PKEY_get_raw_public_key(pk, der, &dl) != 1)
            return MM_ECRYPTO;
    } else {
        int n = i2d_PUBKEY(pk, NULL);
        if (n <= 0 || (size_t)n > sizeof(der))
            return MM_ECRYPTO;
        unsigned char *dp = der;
        dl = (size_t)i2d_PUBKEY(pk, &dp);
    }
    MM_GUARD(mm_buf_printf(txt, "v=DKIM1; k=%s; p=",
                           alg == MM_DKIM_ALG_ED25519_SHA256 ? "ed25519" : "rsa"));
    return mm_dkim_b64_encode(txt, der, dl);
}

int mm_dkim_keygen(enum mm_dkim_alg alg, int bits, const char *pem_path, mm_buf *txt)
{
    EVP_PKEY *pk = NULL;
    if (alg == MM_DKIM_ALG_RSA_SHA256) {
        if (bits < 2048 || bits > 8192)
            return MM_EINVAL; /* RFC 8301: signers use >= 2048 here (project rule) */
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    } else if (alg == MM_DKIM_ALG_ED25519_SHA256) {
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    } else {
        return MM_EUNSUPPORTED;
    }
    if (!pk)
        return MM_ECRYPTO;
    int rc = MM_EIO;
    int fd = open(pem_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        EVP_PKEY_free(pk);
        return MM_EEXIST;
    }
    FILE *f = fdopen(fd, "w");
    if (f && PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1 && fflush(f) == 0)
        rc = 0;
    if (f)
        fclose(f);
    else
        close(fd);
    if (rc == 0)
        rc = txt_record(pk, alg, txt);
    EVP_PKEY_free(pk);
    return rc;
}
