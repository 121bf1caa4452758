/*
 * scp_ct.h - constant-time helpers: masks are all-ones (true) or zero.
 *
 * Everything here is branch-free integer arithmetic, so the compiler has no
 * comparison to turn into a jump (it may use setcc/cmov, which do not leak).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_SCP_CT_H
#define MM_SCP_CT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(memory_sanitizer)
#define SCP_UNDER_MSAN 1
#endif
#endif

#ifdef SCP_UNDER_MSAN
/* The MemorySanitizer constant-time check (tests/ct/scloudplus_msan.c):
 * secrets are poisoned; a declassified value is unpoisoned. */
#include <sanitizer/msan_interface.h>
#define SCP_DECLASSIFY(ptr, len) __msan_unpoison((ptr), (len))
#elif defined(MM_SCP_HAVE_VALGRIND)
#include <valgrind/memcheck.h>
/*
 * Mark a value public. Used only where docs/scloudplus.md argues the value
 * carries no secret (the sampler's "enough chunks" flag). The client request
 * is a few no-op instructions outside valgrind.
 */
#define SCP_DECLASSIFY(ptr, len) ((void)VALGRIND_MAKE_MEM_DEFINED((ptr), (len)))
#else
#define SCP_DECLASSIFY(ptr, len) ((void)(ptr), (void)(len))
#endif

/*
 * VPTERNLOGQ through SCP_TERNLOG512/256. clang 14's MemorySanitizer does not
 * model the instruction: it checks its operands strictly, as if they were a
 * branch condition, which would report every use on secret data. In the MSan
 * build the real instruction still runs, on unpoisoned copies, and the
 * result then gets the union of the operands' shadows (what MSan does for
 * any bitwise operation): x ^ x' with x' reloaded through a volatile slot is
 * 0 with x's shadow, and XORing that in changes no bit of the value. In
 * every other build these are the bare intrinsics.
 */
#ifdef SCP_UNDER_MSAN
#include <immintrin.h>
#define SCP_MSAN_TAINT(T, x)                                                                 \
    ({                                                                                       \
        volatile T scp_slot_ = (x);                                                          \
        T scp_again_ = scp_slot_;                                                            \
        (x) ^ scp_again_;                                                                    \
    })
#define SCP_MSAN_CLEAN(T, x)                                                                 \
    ({                                                                                       \
        T scp_clean_ = (x);                                                                  \
        __msan_unpoison(&scp_clean_, sizeof scp_clean_);                                     \
        scp_clean_;                                                                          \
    })
#define SCP_TERNLOG_MSAN(T, fn, a, b, c, imm)                                                \
    ({                                                                                       \
        T scp_a_ = (a), scp_b_ = (b), scp_c_ = (c);                                          \
        T scp_r_ = fn(SCP_MSAN_CLEAN(T, scp_a_), SCP_MSAN_CLEAN(T, scp_b_),                  \
                      SCP_MSAN_CLEAN(T, scp_c_), imm);                                       \
        (T)((__v8di)(scp_r_) ^ (__v8di)SCP_MSAN_TAINT(T, scp_a_) ^                           \
            (__v8di)SCP_MSAN_TAINT(T, scp_b_) ^ (__v8di)SCP_MSAN_TAINT(T, scp_c_));          \
    })
/* VPACKUSDW (512-bit): also checked strictly by clang 14's MSan; same treatment
 * (the result's shadow is the union over all lanes: coarser, never finer). */
#define SCP_PACKUS512(a, b)                                                                  \
    ({                                                                                       \
        __m512i scp_a_ = (a), scp_b_ = (b);                                                  \
        __m512i scp_r_ = _mm512_packus_epi32(SCP_MSAN_CLEAN(__m512i, scp_a_),                \
                                             SCP_MSAN_CLEAN(__m512i, scp_b_));               \
        (__m512i)((__v8di)scp_r_ ^ (__v8di)SCP_MSAN_TAINT(__m512i, scp_a_) ^                 \
                  (__v8di)SCP_MSAN_TAINT(__m512i, scp_b_));                                  \
    })
#define SCP_TERNLOG512(a, b, c, imm) SCP_TERNLOG_MSAN(__m512i, _mm512_ternarylogic_epi64, a, b, c, imm)
#define SCP_TERNLOG256(a, b, c, imm)                                                         \
    ({                                                                                       \
        __m256i scp_a_ = (a), scp_b_ = (b), scp_c_ = (c);                                    \
        __m256i scp_r_ = _mm256_ternarylogic_epi64(SCP_MSAN_CLEAN(__m256i, scp_a_),          \
                                                   SCP_MSAN_CLEAN(__m256i, scp_b_),          \
                                                   SCP_MSAN_CLEAN(__m256i, scp_c_), imm);    \
        (__m256i)((__v4di)scp_r_ ^ (__v4di)SCP_MSAN_TAINT(__m256i, scp_a_) ^                 \
                  (__v4di)SCP_MSAN_TAINT(__m256i, scp_b_) ^                                  \
                  (__v4di)SCP_MSAN_TAINT(__m256i, scp_c_));                                  \
    })
#else
#define SCP_PACKUS512(a, b) _mm512_packus_epi32(a, b)
#define SCP_TERNLOG512(a, b, c, imm) _mm512_ternarylogic_epi64(a, b, c, imm)
#define SCP_TERNLOG256(a, b, c, imm) _mm256_ternarylogic_epi64(a, b, c, imm)
#endif

/*
 * Wipe a secret buffer: memset (the C library's vector version; OpenSSL's
 * OPENSSL_cleanse stores 8 bytes at a time) followed by a compiler barrier
 * that makes the stores observable, so they cannot be dropped as dead.
 */
static inline void scp_wipe(void *p, size_t n)
{
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

/* all-ones if x != 0 */
static inline uint64_t scp_ct_nz64(uint64_t x)
{
    return (uint64_t)0 - ((x | ((uint64_t)0 - x)) >> 63);
}

/* all-ones if a == b */
static inline uint64_t scp_ct_eq64(uint64_t a, uint64_t b)
{
    return ~scp_ct_nz64(a ^ b);
}

/* all-ones if a < b, for a, b < 2^63 */
static inline uint64_t scp_ct_lt64(uint64_t a, uint64_t b)
{
    return (uint64_t)0 - ((a - b) >> 63);
}

static inline uint32_t scp_ct_eq32(uint32_t a, uint32_t b)
{
    return (uint32_t)scp_ct_eq64(a, b);
}

#endif
