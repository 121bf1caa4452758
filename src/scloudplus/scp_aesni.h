/*
 * scp_aesni.h - the AES-128 key schedule with AES-NI (FIPS 197 section 5.2),
 * shared by the AVX2 and AVX-512 kernels (each file is compiled with -maes).
 * seedA is public, so nothing here needs to be constant time beyond what
 * AES-NI already is. SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_SCP_AESNI_H
#define MAMORI_SCP_AESNI_H

#include <immintrin.h>
#include <stdint.h>

/* One key-schedule step with AESKEYGENASSIST. */
static inline __m128i scp_aes128_next(__m128i key, __m128i assist)
{
    assist = _mm_shuffle_epi32(assist, 0xFF);
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}

#define SCP_KEYSTEP(rk, i, rcon)                                                             \
    (rk)[i] = scp_aes128_next((rk)[i - 1], _mm_aeskeygenassist_si128((rk)[i - 1], rcon))

/* The 11 round keys of AES-128 for key. */
static inline void scp_aes128_expand(__m128i rk[11], const uint8_t key[16])
{
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    SCP_KEYSTEP(rk, 1, 0x01);
    SCP_KEYSTEP(rk, 2, 0x02);
    SCP_KEYSTEP(rk, 3, 0x04);
    SCP_KEYSTEP(rk, 4, 0x08);
    SCP_KEYSTEP(rk, 5, 0x10);
    SCP_KEYSTEP(rk, 6, 0x20);
    SCP_KEYSTEP(rk, 7, 0x40);
    SCP_KEYSTEP(rk, 8, 0x80);
    SCP_KEYSTEP(rk, 9, 0x1B);
    SCP_KEYSTEP(rk, 10, 0x36);
}

#undef SCP_KEYSTEP
#endif
