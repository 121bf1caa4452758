/*
 * bench_kem.c - Scloud+ keygen/encaps/decaps timings per level and kernel.
 *
 * Prints the median of N runs in cycles (rdtsc) and microseconds, and the
 * speed-up over the reference implementation's medians measured on this
 * machine class; the minimum is shown too because on a shared machine the
 * median mostly measures the neighbours (scloudplus/scloudplus 123fe28, gcc -O3 -march=native; see
 * docs/scloudplus.md). Usage: bench-kem [--iterations N] [--level L] [--kernel K]
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static uint64_t bench_cycles(void)
{
    return __rdtsc();
}
#else
static uint64_t bench_cycles(void)
{
    return 0;
}
#endif

#include "mamori/mm_core.h"
#include "mamori/mm_scloudplus.h"

/* Reference medians in Mcycles: keygen, encaps, decaps per level. */
static const double ref_mcycles[3][3] = {
    {0.53, 0.59, 0.61}, {1.12, 1.25, 1.30}, {1.73, 1.98, 2.09}};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct bench_bufs {
    uint8_t pk[MM_SCLOUDPLUS_MAX_PK_BYTES], sk[MM_SCLOUDPLUS_MAX_SK_BYTES];
    uint8_t ct[MM_SCLOUDPLUS_MAX_CT_BYTES], ss[32], ss2[32];
} bench_bufs;

static int bench_op(int op, enum mm_scloudplus_level lv, bench_bufs *b)
{
    switch (op) {
    case 0: return mm_scloudplus_keypair(lv, b->pk, b->sk);
    case 1: return mm_scloudplus_encaps(lv, MM_SCLOUDPLUS_VARIANT_REFERENCE, b->ct, b->ss, b->pk);
    default: return mm_scloudplus_decaps(lv, MM_SCLOUDPLUS_VARIANT_REFERENCE, b->ss2, b->ct, b->sk);
    }
}

static int bench_level_kernel(enum mm_scloudplus_level lv, int iters)
{
    static const char *ops[] = {"keygen", "encaps", "decaps"};
    bench_bufs *b = calloc(1, sizeof *b);
    uint64_t *cyc = calloc((size_t)iters, sizeof *cyc);
    double *us = calloc((size_t)iters, sizeof *us);
    if (!b || !cyc || !us)
        return 1;
    if (bench_op(0, lv, b) || bench_op(1, lv, b))
        return 1;
    for (int op = 0; op < 3; op++) {
        for (int i = 0; i < iters; i++) {
            double t0 = now_us();
            uint64_t c0 = bench_cycles();
            if (bench_op(op, lv, b))
                return 1;
            cyc[i] = bench_cycles() - c0;
            us[i] = now_us() - t0;
        }
        qsort(cyc, (size_t)iters, sizeof *cyc, cmp_u64);
        qsort(us, (size_t)iters, sizeof *us, cmp_dbl);
        double mc = (double)cyc[iters / 2] / 1e6, mn = (double)cyc[0] / 1e6;
        printf("%-14s %-9s %-7s %8.3f Mcyc %8.1f us  x%.2f   (min %.3f Mcyc x%.2f)\n",
               mm_scloudplus_info_get(lv)->name, mm_scloudplus_kernel_name(), ops[op], mc,
               us[iters / 2], ref_mcycles[lv][op] / mc, mn, ref_mcycles[lv][op] / mn);
    }
    if (memcmp(b->ss, b->ss2, mm_scloudplus_info_get(lv)->ss_bytes) != 0) {
        fprintf(stderr, "bench-kem: decapsulation mismatch\n");
        return 1;
    }
    free(b);
    free(cyc);
    free(us);
    return 0;
}

int main(int argc, char **argv)
{
    int iters = 101, lmin = 0, lmax = 2;
    const char *kernel = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
            iters = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--level") && i + 1 < argc) {
            enum mm_scloudplus_level lv;
            if (mm_scloudplus_level_parse(argv[++i], &lv))
                return fprintf(stderr, "bench-kem: unknown level %s\n", argv[i]), 2;
            lmin = lmax = (int)lv;
        } else if (!strcmp(argv[i], "--kernel") && i + 1 < argc) {
            kernel = argv[++i];
        } else {
            fprintf(stderr, "usage: bench-kem [--iterations N] [--level L] [--kernel K]\n");
            return 2;
        }
    }
    if (iters < 1)
        iters = 1;
    static const char *kernels[] = {"portable", "avx2", "avx512"};
    printf("# Scloud+ KEM, median (and min) of %d runs; xN = speed-up over the reference "
           "(scloudplus/scloudplus -O3 -march=native medians)\n", iters);
    for (int k = 0; k < 3; k++) {
        if ((kernel && strcmp(kernel, kernels[k])) || !mm_scloudplus_kernel_available(kernels[k]))
            continue;
        if (mm_scloudplus_kernel_set(kernels[k]) != 0)
            continue;
        for (int lv = lmin; lv <= lmax; lv++)
            if (bench_level_kernel((enum mm_scloudplus_level)lv, iters))
                return 1;
    }
    return 0;
}
