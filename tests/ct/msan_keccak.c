/*
 * msan_keccak.c - SHA-3 / SHAKE256 in plain C (FIPS 202) for the
 * MemorySanitizer build of the KEM core: MSan needs every instruction that
 * touches a secret instrumented, and OpenSSL's libcrypto is not, so this
 * file stands in for scp_hash.c there. It implements the same four
 * functions; the MSan test checks its output against known answers.
 * Straightforward, not fast. Test code only.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <string.h>

#include "scp_internal.h"

static const uint64_t kc_rc[24] = {
    0x0000000000000001ull, 0x0000000000008082ull, 0x800000000000808Aull,
    0x8000000080008000ull, 0x000000000000808Bull, 0x0000000080000001ull,
    0x8000000080008081ull, 0x8000000000008009ull, 0x000000000000008Aull,
    0x0000000000000088ull, 0x0000000080008009ull, 0x000000008000000Aull,
    0x000000008000808Bull, 0x800000000000008Bull, 0x8000000000008089ull,
    0x8000000000008003ull, 0x8000000000008002ull, 0x8000000000000080ull,
    0x000000000000800Aull, 0x800000008000000Aull, 0x8000000080008081ull,
    0x8000000000008080ull, 0x0000000080000001ull, 0x8000000080008008ull};

/* rotation offsets r[x + 5y] (FIPS 202 3.2.2) */
static const unsigned kc_rot[25] = {0,  1,  62, 28, 27, 36, 44, 6,  55, 20, 3,  10, 43,
                                    25, 39, 41, 45, 15, 21, 8,  18, 2,  61, 56, 14};

static uint64_t rol(uint64_t v, unsigned r)
{
    return r == 0 ? v : (v << r) | (v >> (64 - r));
}

static void keccak_f(uint64_t a[25])
{
    for (int round = 0; round < 24; round++) {
        uint64_t c[5], d[5], b[25];
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++)
            d[x] = c[(x + 4) % 5] ^ rol(c[(x + 1) % 5], 1);
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++) /* theta, rho, pi: B[y, 2x + 3y] */
                b[y + 5 * ((2 * x + 3 * y) % 5)] = rol(a[x + 5 * y] ^ d[x], kc_rot[x + 5 * y]);
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++) /* chi */
                a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
        a[0] ^= kc_rc[round]; /* iota */
    }
}

typedef struct kc {
    uint64_t a[25];
    size_t rate, pos;
} kc;

static void kc_xor_byte(kc *k, size_t i, uint8_t v)
{
    k->a[i / 8] ^= (uint64_t)v << (8 * (i % 8));
}

static void kc_absorb(kc *k, const uint8_t *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        kc_xor_byte(k, k->pos++, in[i]);
        if (k->pos == k->rate) {
            keccak_f(k->a);
            k->pos = 0;
        }
    }
}

static void kc_finish(kc *k, uint8_t dsbyte, uint8_t *out, size_t outlen)
{
    kc_xor_byte(k, k->pos, dsbyte);
    kc_xor_byte(k, k->rate - 1, 0x80);
    keccak_f(k->a);
    for (size_t i = 0, pos = 0; i < outlen; i++, pos++) {
        if (pos == k->rate) {
            keccak_f(k->a);
            pos = 0;
        }
        out[i] = (uint8_t)(k->a[pos / 8] >> (8 * (pos % 8)));
    }
    memset(k, 0, sizeof *k);
}

static int kc_hash(size_t rate, uint8_t ds, uint8_t *out, size_t outlen, const uint8_t *a,
                   size_t alen, const uint8_t *b, size_t blen)
{
    kc k;
    memset(&k, 0, sizeof k);
    k.rate = rate;
    kc_absorb(&k, a, alen);
    if (blen)
        kc_absorb(&k, b, blen);
    kc_finish(&k, ds, out, outlen);
    return 0;
}

int scp_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    return kc_hash(136, 0x1F, out, outlen, in, inlen, NULL, 0);
}

int scp_shake256_2(uint8_t *out, size_t outlen, const uint8_t *a, size_t alen,
                   const uint8_t *b, size_t blen)
{
    return kc_hash(136, 0x1F, out, outlen, a, alen, b, blen);
}

int scp_sha3_256(uint8_t out[32], const uint8_t *in, size_t inlen)
{
    return kc_hash(136, 0x06, out, 32, in, inlen, NULL, 0);
}

int scp_sha3_512_2(uint8_t out[64], const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen)
{
    return kc_hash(72, 0x06, out, 64, a, alen, b, blen);
}
