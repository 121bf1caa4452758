/*
 * Tokens (spec section 5.2): "{provider}_{environment}_{random}" with 24
 * CSPRNG bytes in base64url. Only HMAC-SHA256(server key, token) is stored
 * (the spec's keyed-hash alternative to bcrypt for high-entropy tokens);
 * lookups compare hashes in constant time. The key file is 0600.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static bool provider_ok(const char *p, size_t l)
{
    if (l < 3 || l > 20)
        return false;
    for (size_t i = 0; i < l; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
            return false;
    return true;
}

int mm_ddns_token_generate(const char *provider, const char *env, char *out, size_t outlen)
{
    uint8_t rnd[24];
    if (!provider_ok(provider, strlen(provider)) ||
        (strcmp(env, "live") && strcmp(env, "test") && strcmp(env, "sandbox")))
        return MM_EINVAL;
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return MM_ECRYPTO;
    int w = snprintf(out, outlen, "%s_%s_", provider, env);
    if (w < 0 || (size_t)w + 33 > outlen)
        return MM_ESPACE;
    size_t n = (size_t)w;
    for (size_t i = 0; i < sizeof(rnd); i += 3) {
        uint32_t v = (uint32_t)rnd[i] << 16 | (uint32_t)rnd[i + 1] << 8 | rnd[i + 2];
        out[n++] = b64url[(v >> 18) & 63];
        out[n++] = b64url[(v >> 12) & 63];
        out[n++] = b64url[(v >> 6) & 63];
        out[n++] = b64url[v & 63];
    }
    out[n] = 0;
    OPENSSL_cleanse(rnd, sizeof(rnd));
    return 0;
}

bool mm_ddns_token_well_formed(const char *t, size_t len)
{
    /* base64url may contain '_': split on the first two underscores only. */
    const char *u1 = memchr(t, '_', len);
    if (!u1 || !provider_ok(t, (size_t)(u1 - t)))
        return false;
    const char *rest = u1 + 1;
    const char *u2 = memchr(rest, '_', len - (size_t)(rest - t));
    if (!u2)
        return false;
    size_t el = (size_t)(u2 - rest);
    if (!((el == 4 && (!memcmp(rest, "live", 4) || !memcmp(rest, "test", 4))) ||
          (el == 7 && !memcmp(rest, "sandbox", 7))))
        return false;
    const char *r = u2 + 1;
    size_t rl = len - (size_t)(r - t);
    if (rl < 16 || rl > 96)
        return false;
    for (size_t i = 0; i < rl; i++)
        if (!strchr(b64url, r[i]) || r[i] == 0)
            return false;
    return true;
}

/* SHA-256 fetched once: the one-shot HMAC() fetches it on every call (a visible cost per request). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* H(pad(key) || a || b) with pad = key XOR x over the 64-byte block (RFC 2104). */
static int hmac_half(EVP_MD_CTX *ctx, const uint8_t *key, uint8_t x, const void *a, size_t al,
                     uint8_t out[32])
{
    uint8_t pad[64];
    memset(pad, x, sizeof(pad));
    for (size_t i = 0; i < MM_DDNS_KEY_LEN; i++)
        pad[i] ^= key[i];
    unsigned int ol = 0;
    int ok = EVP_DigestInit_ex(ctx, sha256_md, NULL) && EVP_DigestUpdate(ctx, pad, sizeof(pad)) &&
             EVP_DigestUpdate(ctx, a, al) && EVP_DigestFinal_ex(ctx, out, &ol) && ol == 32;
    OPENSSL_cleanse(pad, sizeof(pad));
    return ok ? 0 : MM_ECRYPTO;
}

int mm_ddns_token_hash(const uint8_t key[MM_DDNS_KEY_LEN], const char *token, size_t len,
                       uint8_t out[MM_DDNS_HASH_LEN])
{
    /* HMAC-SHA256 (RFC 2104); the 32-byte key is shorter than the block, so it is padded as is. */
    pthread_once(&sha256_once, sha256_fetch);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t inner[32];
    int rc = sha256_md && ctx ? 0 : MM_ECRYPTO;
    if (rc == 0)
        rc = hmac_half(ctx, key, 0x36, token, len, inner);
    if (rc == 0)
        rc = hmac_half(ctx, key, 0x5c, inner, sizeof(inner), out);
    OPENSSL_cleanse(inner, sizeof(inner));
    EVP_MD_CTX_free(ctx);
    return rc;
}

bool mm_ddns_hash_equal(const uint8_t a[MM_DDNS_HASH_LEN], const uint8_t b[MM_DDNS_HASH_LEN])
{
    return CRYPTO_memcmp(a, b, MM_DDNS_HASH_LEN) == 0;
}

void mm_ddns_token_hint(const char *token, char *out, size_t outlen)
{
    size_t l = strlen(token);
    const char *u1 = strchr(token, '_');
    const char *u2 = u1 ? strchr(u1 + 1, '_') : NULL;
    if (!u2 || l - (size_t)(u2 + 1 - token) < 8) {
        snprintf(out, outlen, "%s", "****");
        return;
    }
    const char *r = u2 + 1;
    snprintf(out, outlen, "%.*s%.4s...%.4s", (int)(r - token), token, r, token + l - 4);
}

int mm_ddns_key_load(const char *path, uint8_t key[MM_DDNS_KEY_LEN])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        if (RAND_bytes(key, MM_DDNS_KEY_LEN) != 1)
            return MM_ECRYPTO;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return errno == EEXIST ? mm_ddns_key_load(path, key) : MM_EIO;
        int rc = mm_write_all(fd, key, MM_DDNS_KEY_LEN);
        if (rc == 0 && fsync(fd) != 0)
            rc = MM_EIO;
        close(fd);
        return rc;
    }
    if (fd < 0)
        return MM_EIO;
    struct stat st;
    /* A key others can read is no secret: refuse it rather than use it. */
    if (fstat(fd, &st) != 0 || (st.st_mode & 077)) {
        close(fd);
        return MM_EPERM;
    }
    ssize_t r = read(fd, key, MM_DDNS_KEY_LEN);
    close(fd);
    return r == MM_DDNS_KEY_LEN ? 0 : MM_EMALFORMED;
}
