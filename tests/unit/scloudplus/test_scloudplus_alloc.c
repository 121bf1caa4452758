/*
 * test_scloudplus_alloc.c - no heap on the hot path: after one warm-up
 * operation of each kind (which may create the per-thread digest contexts,
 * fetch algorithms and seed the DRBG), keygen, encapsulation and
 * decapsulation make no heap allocation at all, for every kernel this CPU
 * runs, every level and both variants.
 *
 * Counting: this program defines malloc/calloc/realloc/aligned_alloc/
 * posix_memalign/memalign/valloc itself (forwarding to glibc's __libc_*
 * entry points), so every allocation in the process - ours, OpenSSL's
 * (CRYPTO_malloc calls malloc) - goes through the counter. Not built under
 * sanitizers, which own malloc.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_scloudplus.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile int counting;
static volatile unsigned long allocs;

static void count(void)
{
    if (counting)
        allocs++;
}

void *malloc(size_t n)
{
    count();
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    count();
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    count();
    return __libc_realloc(p, n);
}

void *aligned_alloc(size_t al, size_t n)
{
    count();
    return __libc_memalign(al, n);
}

void *memalign(size_t al, size_t n)
{
    count();
    return __libc_memalign(al, n);
}

void *valloc(size_t n)
{
    count();
    return __libc_memalign(4096, n);
}

int posix_memalign(void **out, size_t al, size_t n)
{
    count();
    void *p = __libc_memalign(al, n);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void free(void *p)
{
    __libc_free(p);
}

static uint8_t pk[MM_SCLOUDPLUS_MAX_PK_BYTES], sk[MM_SCLOUDPLUS_MAX_SK_BYTES];
static uint8_t ct[MM_SCLOUDPLUS_MAX_CT_BYTES];

/* allocations made by 3 rounds of op after a warm-up one */
static unsigned long measure(int op, enum mm_scloudplus_level lv, enum mm_scloudplus_variant v)
{
    uint8_t ss[32], ss2[32];
    unsigned long n;
    for (int round = 0; round < 4; round++) {
        counting = round > 0;
        int rc = op == 0   ? mm_scloudplus_keypair(lv, pk, sk)
                 : op == 1 ? mm_scloudplus_encaps(lv, v, ct, ss, pk)
                           : mm_scloudplus_decaps(lv, v, ss2, ct, sk);
        counting = 0;
        if (rc != 0) {
            fprintf(stderr, "operation %d failed: %d\n", op, rc);
            exit(1);
        }
    }
    n = allocs;
    allocs = 0;
    return n;
}

int main(void)
{
    static const char *kernels[] = {"portable", "avx2", "avx512"};
    static const char *ops[] = {"keygen", "encaps", "decaps"};
    int failed = 0, ran = 0;

    /* the counter must see an allocation when there is one */
    /* (through a volatile pointer: a compiler may drop a malloc/free pair) */
    void *(*volatile alloc)(size_t) = malloc;
    void (*volatile release)(void *) = free;
    counting = 1;
    void *probe = alloc(100);
    counting = 0;
    release(probe);
    if (allocs != 1) {
        fprintf(stderr, "FAIL: the malloc counter does not count (%lu)\n", allocs);
        return 1;
    }
    allocs = 0;
    for (int k = 0; k < 3; k++) {
        if (mm_scloudplus_kernel_set(kernels[k]) != 0) {
            printf("kernel %s: not available on this CPU, not checked\n", kernels[k]);
            continue;
        }
        for (int lv = 0; lv < 3; lv++) {
            for (int v = 0; v < 2; v++) {
                for (int op = 0; op < 3; op++) {
                    unsigned long n = measure(op, (enum mm_scloudplus_level)lv,
                                              (enum mm_scloudplus_variant)v);
                    ran++;
                    if (n != 0) {
                        printf("FAIL: kernel %s level %d variant %d %s: %lu allocations in 3 "
                               "operations\n",
                               kernels[k], 128 + 64 * lv, v, ops[op], n);
                        failed = 1;
                    }
                }
            }
        }
        printf("kernel %s: keygen/encaps/decaps of 3 levels x 2 variants: %s\n", kernels[k],
               failed ? "allocations seen" : "0 allocations after warm-up");
    }
    return failed || ran == 0;
}
