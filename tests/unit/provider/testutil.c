/*
 * testutil.c - see testutil.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "sp_prov.h"

/* Providers loaded per library context, to unload before freeing it. */
static struct {
    OSSL_LIB_CTX *libctx;
    OSSL_PROVIDER *prov[2];
} loaded[8];

OSSL_LIB_CTX *tu_libctx_new(void)
{
    OSSL_LIB_CTX *libctx = OSSL_LIB_CTX_new();
    OSSL_PROVIDER *def = NULL, *sp = NULL;

    if (libctx == NULL)
        return NULL;
    def = OSSL_PROVIDER_load(libctx, "default");
    if (def != NULL &&
        OSSL_PROVIDER_add_builtin(libctx, SP_PROVIDER_NAME, mm_scloudplus_provider_init))
        sp = OSSL_PROVIDER_load(libctx, SP_PROVIDER_NAME);
    for (size_t i = 0; sp != NULL && i < sizeof(loaded) / sizeof(loaded[0]); i++) {
        if (loaded[i].libctx == NULL) {
            loaded[i].libctx = libctx;
            loaded[i].prov[0] = sp;
            loaded[i].prov[1] = def;
            return libctx;
        }
    }
    OSSL_PROVIDER_unload(sp);
    OSSL_PROVIDER_unload(def);
    OSSL_LIB_CTX_free(libctx);
    return NULL;
}

void tu_libctx_free(OSSL_LIB_CTX *libctx)
{
    /*
     * Unload first: the provider's child library context holds references
     * to the parent's providers, and OpenSSL 3.0's OSSL_LIB_CTX_free() alone
     * leaves that cycle allocated.
     */
    for (size_t i = 0; libctx != NULL && i < sizeof(loaded) / sizeof(loaded[0]); i++) {
        if (loaded[i].libctx == libctx) {
            OSSL_PROVIDER_unload(loaded[i].prov[0]);
            OSSL_PROVIDER_unload(loaded[i].prov[1]);
            loaded[i].libctx = NULL;
        }
    }
    OSSL_LIB_CTX_free(libctx);
}

int tu_issue(OSSL_LIB_CTX *libctx, EVP_PKEY *ca_key, X509 *ca_cert, const char *cn,
             const char *san, EVP_PKEY **key, X509 **cert)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    static long serial = 100;

    *key = EVP_PKEY_Q_keygen(libctx, NULL, "EC", "P-256");
    *cert = X509_new_ex(libctx, NULL);
    if (*key == NULL || *cert == NULL)
        return 0;
    if (!X509_set_version(*cert, X509_VERSION_3) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(*cert), serial++) ||
        X509_gmtime_adj(X509_getm_notBefore(*cert), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(*cert), 86400) == NULL ||
        !X509_NAME_add_entry_by_txt(X509_get_subject_name(*cert), "CN", MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(*cert, X509_get_subject_name(ca_cert != NULL ? ca_cert : *cert)) ||
        !X509_set_pubkey(*cert, *key))
        return 0;
    X509V3_set_ctx(&v3, ca_cert != NULL ? ca_cert : *cert, *cert, NULL, NULL, 0);
    if (san != NULL) {
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
        if (ext == NULL || !X509_add_ext(*cert, ext, -1))
            return 0;
        X509_EXTENSION_free(ext);
    }
    if (ca_cert == NULL) {
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
        if (ext == NULL || !X509_add_ext(*cert, ext, -1))
            return 0;
        X509_EXTENSION_free(ext);
    }
    return X509_sign(*cert, ca_key != NULL ? ca_key : *key, EVP_sha256()) > 0;
}

int tu_self_signed(OSSL_LIB_CTX *libctx, EVP_PKEY **key, X509 **cert)
{
    return tu_issue(libctx, NULL, NULL, "localhost", "DNS:localhost", key, cert);
}

static SSL_CTX *ctx_common(OSSL_LIB_CTX *libctx, const SSL_METHOD *m, const char *groups)
{
    SSL_CTX *ctx = SSL_CTX_new_ex(libctx, NULL, m);

    if (ctx == NULL)
        return NULL;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        (groups != NULL && !SSL_CTX_set1_groups_list(ctx, groups))) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *tu_server_ctx(OSSL_LIB_CTX *libctx, EVP_PKEY *key, X509 *cert, const char *groups)
{
    SSL_CTX *ctx = ctx_common(libctx, TLS_server_method(), groups);

    if (ctx == NULL)
        return NULL;
    if (!SSL_CTX_use_certificate(ctx, cert) || !SSL_CTX_use_PrivateKey(ctx, key)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *tu_client_ctx(OSSL_LIB_CTX *libctx, const char *groups)
{
    return ctx_common(libctx, TLS_client_method(), groups);
}

SSL *tu_ssl_mem(SSL_CTX *ctx, int server)
{
    SSL *ssl = SSL_new(ctx);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());

    if (ssl == NULL || rb == NULL || wb == NULL) {
        SSL_free(ssl);
        BIO_free(rb);
        BIO_free(wb);
        return NULL;
    }
    BIO_set_mem_eof_return(rb, -1);
    BIO_set_mem_eof_return(wb, -1);
    SSL_set_bio(ssl, rb, wb);
    if (server)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    return ssl;
}

uint8_t *tu_take_output(SSL *ssl, size_t *len)
{
    BIO *wb = SSL_get_wbio(ssl);
    size_t n = (size_t)BIO_ctrl_pending(wb);
    uint8_t *buf;

    *len = 0;
    if (n == 0)
        return NULL;
    buf = malloc(n);
    if (buf == NULL || BIO_read(wb, buf, (int)n) != (int)n) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

void tu_feed(SSL *ssl, const uint8_t *buf, size_t len)
{
    if (len > 0)
        BIO_write(SSL_get_rbio(ssl), buf, (int)len);
}

size_t tu_pump(SSL *from, SSL *to)
{
    size_t len = 0;
    uint8_t *buf = tu_take_output(from, &len);

    tu_feed(to, buf, len);
    free(buf);
    return len;
}

static int step(SSL *ssl, int *done)
{
    int rc;

    if (*done)
        return 1;
    rc = SSL_do_handshake(ssl);
    if (rc == 1) {
        *done = 1;
        return 1;
    }
    return SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ;
}

int tu_handshake(SSL *c, SSL *s, size_t *bytes_c2s, size_t *bytes_s2c)
{
    int cdone = 0, sdone = 0;
    size_t c2s = 0, s2c = 0;
    int ok = 0;

    for (int round = 0; round < 16 && !(cdone && sdone); round++) {
        if (!step(c, &cdone))
            break;
        c2s += tu_pump(c, s);
        if (!step(s, &sdone))
            break;
        s2c += tu_pump(s, c);
    }
    ok = cdone && sdone;
    /* Deliver a last flight (e.g. an alert) so the peer sees it. */
    c2s += tu_pump(c, s);
    s2c += tu_pump(s, c);
    if (bytes_c2s != NULL)
        *bytes_c2s = c2s;
    if (bytes_s2c != NULL)
        *bytes_s2c = s2c;
    return ok;
}

int tu_find_alert(const uint8_t *buf, size_t len)
{
    size_t off = 0;

    while (off + 5 <= len) {
        size_t rlen = ((size_t)buf[off + 3] << 8) | buf[off + 4];

        if (off + 5 + rlen > len)
            break;
        if (buf[off] == 21 && rlen == 2)
            return buf[off + 6];
        off += 5 + rlen;
    }
    return -1;
}

EVP_PKEY *tu_keygen(OSSL_LIB_CTX *libctx, const char *alg)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(libctx, alg, NULL);
    EVP_PKEY *pkey = NULL;

    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &pkey) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

uint8_t *tu_keygen_share(OSSL_LIB_CTX *libctx, const char *alg, size_t *len)
{
    EVP_PKEY *pkey = tu_keygen(libctx, alg);
    unsigned char *pub = NULL;
    uint8_t *copy = NULL;

    *len = 0;
    if (pkey == NULL)
        return NULL;
    *len = EVP_PKEY_get1_encoded_public_key(pkey, &pub);
    if (*len > 0 && (copy = malloc(*len)) != NULL)
        memcpy(copy, pub, *len);
    OPENSSL_free(pub);
    EVP_PKEY_free(pkey);
    return copy;
}

/* ------------------------------------------------------------ writing messages */

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
} wbuf;

static void w_bytes(wbuf *w, const void *d, size_t n)
{
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2;
        w->p = realloc(w->p, w->cap);
        if (w->p == NULL)
            abort();
    }
    memcpy(w->p + w->len, d, n);
    w->len += n;
}

static void w_u8(wbuf *w, unsigned v)
{
    uint8_t b = (uint8_t)v;
    w_bytes(w, &b, 1);
}

static void w_u16(wbuf *w, size_t v)
{
    w_u8(w, (unsigned)(v >> 8) & 0xff);
    w_u8(w, (unsigned)v & 0xff);
}

static void w_u24(wbuf *w, size_t v)
{
    w_u8(w, (unsigned)(v >> 16) & 0xff);
    w_u16(w, v & 0xffff);
}

/* Wrap a handshake message into records of at most 2^14 bytes (RFC 8446 5.1). */
static uint8_t *records(const wbuf *msg, size_t *outlen)
{
    wbuf out = {0};

    for (size_t off = 0; off < msg->len;) {
        size_t n = msg->len - off > 16384 ? 16384 : msg->len - off;

        w_u8(&out, 22);
        w_u16(&out, 0x0301);
        w_u16(&out, n);
        w_bytes(&out, msg->p + off, n);
        off += n;
    }
    *outlen = out.len;
    return out.p;
}

uint8_t *tu_client_hello(uint16_t group, const uint8_t *share, size_t share_len,
                         size_t *outlen)
{
    wbuf ext = {0}, body = {0}, msg = {0};
    uint8_t random[32], sid[32];
    uint8_t *out;

    RAND_bytes(random, sizeof(random));
    RAND_bytes(sid, sizeof(sid));
    /* supported_versions: TLS 1.3 */
    w_u16(&ext, 43), w_u16(&ext, 3), w_u8(&ext, 2), w_u16(&ext, 0x0304);
    /* supported_groups: just this group */
    w_u16(&ext, 10), w_u16(&ext, 4), w_u16(&ext, 2), w_u16(&ext, group);
    /* signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256 */
    w_u16(&ext, 13), w_u16(&ext, 6), w_u16(&ext, 4), w_u16(&ext, 0x0403), w_u16(&ext, 0x0804);
    /* key_share: one KeyShareEntry */
    w_u16(&ext, 51), w_u16(&ext, share_len + 6), w_u16(&ext, share_len + 4);
    w_u16(&ext, group), w_u16(&ext, share_len);
    w_bytes(&ext, share, share_len);

    w_u16(&body, 0x0303);
    w_bytes(&body, random, sizeof(random));
    w_u8(&body, sizeof(sid));
    w_bytes(&body, sid, sizeof(sid));
    w_u16(&body, 2), w_u16(&body, 0x1301); /* TLS_AES_128_GCM_SHA256 */
    w_u8(&body, 1), w_u8(&body, 0);        /* null compression */
    w_u16(&body, ext.len);
    w_bytes(&body, ext.p, ext.len);

    w_u8(&msg, 1); /* client_hello */
    w_u24(&msg, body.len);
    w_bytes(&msg, body.p, body.len);
    out = records(&msg, outlen);
    free(ext.p);
    free(body.p);
    free(msg.p);
    return out;
}

/* ------------------------------------------------------------ ServerHello rewriting */

static size_t rd16(const uint8_t *p)
{
    return ((size_t)p[0] << 8) | p[1];
}

/* Offsets inside the first record: of the extensions block and of key_share. */
static int find_key_share(const uint8_t *f, size_t len, size_t *exts, size_t *ks)
{
    size_t rlen, off, end;

    if (len < 5 || f[0] != 22)
        return 0;
    rlen = rd16(f + 3);
    if (5 + rlen > len || rlen < 4 + 2 + 32 + 1 || f[5] != 2)
        return 0;
    end = 5 + rlen;
    off = 5 + 4 + 2 + 32;
    off += 1 + f[off];     /* legacy_session_id_echo */
    off += 2 + 1;          /* cipher_suite, compression */
    if (off + 2 > end)
        return 0;
    *exts = off;
    off += 2;
    while (off + 4 <= end) {
        size_t elen = rd16(f + off + 2);

        if (rd16(f + off) == 51) {
            *ks = off;
            return off + 4 + elen <= end;
        }
        off += 4 + elen;
    }
    return 0;
}

size_t tu_server_share_offset(const uint8_t *flight, size_t len, size_t *share_len)
{
    size_t exts, ks;

    if (!find_key_share(flight, len, &exts, &ks))
        return 0;
    *share_len = rd16(flight + ks + 6);
    return ks + 8;
}

uint8_t *tu_rewrite_server_share(const uint8_t *f, size_t len, const uint8_t *share,
                                 size_t share_len, size_t *outlen)
{
    size_t exts, ks, rec_end, old_share, after;
    wbuf msg = {0}, out = {0};

    if (!find_key_share(f, len, &exts, &ks))
        return NULL;
    rec_end = 5 + rd16(f + 3);
    old_share = rd16(f + ks + 6);
    after = ks + 8 + old_share;
    /* handshake body up to the extensions block */
    w_bytes(&msg, f + 9, exts - 9);
    w_u16(&msg, rd16(f + exts) - old_share + share_len);
    w_bytes(&msg, f + exts + 2, ks - exts - 2);
    w_u16(&msg, 51), w_u16(&msg, share_len + 4), w_u16(&msg, rd16(f + ks + 4));
    w_u16(&msg, share_len);
    w_bytes(&msg, share, share_len);
    w_bytes(&msg, f + after, rec_end - after);

    w_u8(&out, 22), w_u16(&out, rd16(f + 1)), w_u16(&out, msg.len + 4);
    w_u8(&out, 2), w_u24(&out, msg.len);
    w_bytes(&out, msg.p, msg.len);
    w_bytes(&out, f + rec_end, len - rec_end);
    free(msg.p);
    *outlen = out.len;
    return out.p;
}
