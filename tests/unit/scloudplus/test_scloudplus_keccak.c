/*
 * test_scloudplus_keccak.c - the avx512 kernel's 4-way SHAKE256 against
 * OpenSSL's EVP SHAKE256: every input length 0..600 (each lane a different
 * input), outputs of 0..several KB (several squeezes, lengths not multiples
 * of the rate, different per lane). Skipped (77) without AVX-512.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mamori/mm_scloudplus.h"
#include "../../../src/scloudplus/scp_internal.h"

static int ref_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_shake256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, in, inlen) == 1 &&
             EVP_DigestFinalXOF(ctx, out, outlen) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

int main(void)
{
#ifndef MM_SCP_HAVE_AVX512
    puts("keccak: avx512 kernel not built: skipped");
    return 77;
#else
    if (mm_scloudplus_kernel_set("avx512") != 0) {
        puts("keccak: no AVX-512 on this CPU: skipped");
        return 77;
    }
    enum { MAXIN = 600, MAXOUT = 5000 };
    static uint8_t in[4][MAXIN], out[4][MAXOUT + 16], ref[MAXOUT];
    unsigned long long x = 0x9E3779B97F4A7C15ull;
    for (unsigned j = 0; j < 4; j++)
        for (unsigned i = 0; i < MAXIN; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            in[j][i] = (uint8_t)x;
        }
    unsigned checks = 0;
    for (size_t inlen = 0; inlen <= MAXIN; inlen++) {
        size_t outlen[4];
        uint8_t *outs[4];
        const uint8_t *ins[4];
        for (unsigned j = 0; j < 4; j++) {
            /* lengths around the rate and up to MAXOUT; lane 3 sometimes empty */
            outlen[j] = (inlen * 37 + j * 1361 + (inlen % 7) * 136) % (MAXOUT + 1);
            if (j == 3 && inlen % 5 == 0)
                outlen[j] = 0;
            outs[j] = out[j];
            ins[j] = in[j] + (j * 7) % 13; /* different data per lane */
            memset(out[j], 0xA5, sizeof out[j]);
        }
        if (inlen + 12 > MAXIN)
            for (unsigned j = 0; j < 4; j++)
                ins[j] = in[j];
        scp_avx512_shake256_x4(outs, outlen, ins, inlen);
        for (unsigned j = 0; j < 4; j++) {
            if (!ref_shake256(ref, outlen[j], ins[j], inlen)) {
                puts("keccak: EVP failed");
                return 1;
            }
            if (memcmp(ref, out[j], outlen[j]) != 0 || out[j][outlen[j]] != 0xA5) {
                printf("keccak: mismatch inlen %zu lane %u outlen %zu\n", inlen, j,
                       outlen[j]);
                return 1;
            }
            checks++;
        }
    }
    printf("keccak: %u SHAKE256 streams match OpenSSL\n", checks);
    return 0;
#endif
}
