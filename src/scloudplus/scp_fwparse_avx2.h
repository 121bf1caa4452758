/*
 * scp_fwparse_avx2.h - the fixed-weight sampler's candidate parser for one
 * digit per candidate (d = 1, level 192: 11-bit candidates), eight
 * candidates per step with AVX2. Included by the avx2 and avx512 kernels
 * (both compiled with -mavx2) before scp_fixedweight.h, which calls it
 * through SCP_FW_PARSE1.
 *
 * Candidate t of a step sits at bit s + w t (s = the step's bit offset mod 8)
 * of the 16 bytes loaded at the step's first byte: VPSHUFB moves the four
 * bytes from (s + w t) / 8 into dword lane t, VPSRLVD by (s + w t) mod 8
 * aligns it. The validity test x < bound is a compare. Loads and stores
 * are at public offsets (the chunk and candidate counters); no branch
 * depends on a candidate. Same output as the scalar parser: position in bits
 * 0..11, valid flag in bit 31. The scalar loop cost ~10 instructions per
 * candidate; this is ~1.5.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_SCP_FWPARSE_AVX2_H
#define MM_SCP_FWPARSE_AVX2_H

#include <immintrin.h>

#include "scp_internal.h"

/* Largest w for which the 4-byte window of lane 7 stays inside 16 bytes. */
#define SCP_FW_PARSE1_MAX_W 12u

/*
 * Slots of candidates [c0, c0 + count) into e; e must have room for count + 7
 * entries (the last step stores eight lanes). The stream must be readable
 * 16 bytes from the first byte of its last candidate: every chunk is
 * followed by the next one or, after the last, by the buffer's 8-byte slack
 * (a candidate starts at most 680 - 11 bytes into its chunk, since
 * nc * w <= 8 * 680 - w).
 */
static inline unsigned scp_fw_parse1_avx2(const scp_fw_spec *fw, const scp_params *p,
                                          const uint8_t *buf, unsigned c0, unsigned count,
                                          uint32_t *e)
{
    const unsigned nc = p->nc, w = p->w;
    unsigned c = c0 / nc, i = c0 % nc, n = 0; /* public */
    const __m256i lane = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    const __m256i wl = _mm256_mullo_epi32(lane, _mm256_set1_epi32((int)w));
    const __m256i wmask = _mm256_set1_epi32((int)((1u << w) - 1));
    const __m256i bound = _mm256_set1_epi32((int)fw->bound);
    const __m256i vbit = _mm256_set1_epi32((int)0x80000000u);
    const __m256i seven = _mm256_set1_epi32(7);
    /* byte 0 of each dword into all four of its bytes, then + 0, 1, 2, 3 */
    const __m256i rep = _mm256_set_epi8(12, 12, 12, 12, 8, 8, 8, 8, 4, 4, 4, 4, 0, 0, 0, 0,
                                        12, 12, 12, 12, 8, 8, 8, 8, 4, 4, 4, 4, 0, 0, 0, 0);
    const __m256i seq = _mm256_set1_epi32(0x03020100);
    while (n < count) {
        unsigned run = nc - i < count - n ? nc - i : count - n;
        for (unsigned t = 0; t < run; t += 8) {
            const size_t bit = (size_t)c * SCP_CHUNK_BYTES * 8 + (size_t)(i + t) * w;
            const __m128i raw = _mm_loadu_si128((const __m128i *)(buf + (bit >> 3)));
            const __m256i bp = _mm256_add_epi32(_mm256_set1_epi32((int)(bit & 7)), wl);
            const __m256i ctl =
                _mm256_add_epi32(_mm256_shuffle_epi8(_mm256_srli_epi32(bp, 3), rep), seq);
            __m256i x = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(raw), ctl);
            x = _mm256_and_si256(_mm256_srlv_epi32(x, _mm256_and_si256(bp, seven)), wmask);
            const __m256i v = _mm256_and_si256(_mm256_cmpgt_epi32(bound, x), vbit);
            _mm256_storeu_si256((__m256i *)(e + n + t), _mm256_or_si256(x, v));
        }
        n += run;
        i = 0;
        c++;
    }
    return n;
}

#define SCP_FW_PARSE1(fw, p, buf, c0, count, e) scp_fw_parse1_avx2(fw, p, buf, c0, count, e)

#endif
