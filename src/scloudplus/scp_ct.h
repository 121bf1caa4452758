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
