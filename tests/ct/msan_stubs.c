/*
 * msan_stubs.c - the libcrypto symbols the KEM core references, for its
 * MemorySanitizer build (tests/ct/scloudplus_msan.c), which must not run
 * uninstrumented code on secrets. CRYPTO_memcmp and OPENSSL_cleanse are
 * implemented (constant time, instrumented); everything else is never
 * reached by the derandomised API under test and aborts if it is.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static void unreachable(const char *what)
{
    fprintf(stderr, "msan-ct: %s reached in the MSan build\n", what);
    abort();
}

int CRYPTO_memcmp(const void *a, const void *b, size_t len)
{
    const unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < len; i++)
        d |= x[i] ^ y[i];
    return d;
}

void OPENSSL_cleanse(void *p, size_t len)
{
    memset(p, 0, len);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

int RAND_bytes_ex(OSSL_LIB_CTX *ctx, unsigned char *buf, size_t num, unsigned int strength)
{
    unreachable("RAND_bytes_ex");
    return 0;
}

EVP_CIPHER *EVP_CIPHER_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties)
{
    unreachable("EVP_CIPHER_fetch");
    return NULL;
}

EVP_CIPHER_CTX *EVP_CIPHER_CTX_new(void)
{
    unreachable("EVP_CIPHER_CTX_new");
    return NULL;
}

void EVP_CIPHER_CTX_free(EVP_CIPHER_CTX *c)
{
    if (c)
        unreachable("EVP_CIPHER_CTX_free");
}

int EVP_EncryptInit_ex2(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, const unsigned char *key,
                        const unsigned char *iv, const OSSL_PARAM params[])
{
    unreachable("EVP_EncryptInit_ex2");
    return 0;
}

int EVP_CIPHER_CTX_set_padding(EVP_CIPHER_CTX *c, int pad)
{
    unreachable("EVP_CIPHER_CTX_set_padding");
    return 0;
}

int EVP_EncryptUpdate(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl,
                      const unsigned char *in, int inl)
{
    unreachable("EVP_EncryptUpdate");
    return 0;
}
