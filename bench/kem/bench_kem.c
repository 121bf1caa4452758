/*
 * bench_kem.c - Scloud+ keygen/encaps/decaps cycles per level and kernel,
 * their stages, and how close each operation comes to a physical bound
 * measured in the same run on the same machine.
 *
 * Cycles are rdtsc (constant-rate "reference" cycles). Rounds are
 * interleaved: every round runs every kernel, level and operation once over
 * N iterations, so a noisy neighbour spreads over all of them instead of
 * hitting one. Printed per operation: the median and p90 of all samples and
 * the minimum of the round medians, and the fastest single sample (on a
 * host shared with other jobs, the least disturbed figure).
 *
 * The bound of an operation is what it cannot avoid on this machine:
 *   T_aes  the time to expand the same number of bytes of A with the same
 *          AES construction (the kernel's own ExpandA: VAES for avx512,
 *          VAES or AES-NI for avx2, as CPUID allows), measured as the
 *          "expandA" stage;
 *   T_mem  one pass over the operation's operands (keys, ciphertext and the
 *          S/S', B, C1 matrices) at the read bandwidth measured in this run
 *          (a 64 MiB sequential read, best of the rounds).
 * "bound" = (T_aes + T_mem) / median: the fraction of the bound achieved
 * (1.0 = at the bound). Nothing measured elsewhere is divided by.
 *
 * usage: bench-kem [--iterations N] [--rounds R] [--level L] [--kernel K]
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static uint64_t bench_cycles(void)
{
    return __rdtsc();
}
#else
#include <time.h>
static uint64_t bench_cycles(void) /* nanoseconds where there is no TSC */
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

#include "mamori/mm_core.h"
#include "mamori/mm_scloudplus.h"
#include "scp_internal.h"

enum { OP_KEYGEN, OP_ENCAPS, OP_DECAPS, NOPS };
enum {
    ST_EXPAND, /* ExpandA of the whole matrix, the kernel's AES */
    ST_MUL_AS, /* B += A S (keygen; fused with ExpandA in avx512) */
    ST_MUL_SA, /* C1 += S' A (encaps; fused with ExpandA in avx512) */
    ST_MUL_SB, /* C2 += S' B */
    ST_MUL_CS, /* D -= C1 S (decaps) */
    ST_FW,     /* fixed-weight sampler, S' of encaps */
    ST_CBD,    /* CBD noise E of keygen */
    ST_SHAKE,  /* SHAKE256 of encaps' noise stream */
    ST_SHA3,   /* SHA3-256 H(pk) */
    NSTAGES
};
static const char *op_names[NOPS] = {"keygen", "encaps", "decaps"};
static const char *st_names[NSTAGES] = {
    "expandA (AES, whole A)", "A*S (keygen product)", "S'*A (encaps product)",
    "S'*B", "C1*S (decaps)", "fixed-weight S'", "CBD E (keygen)",
    "SHAKE256 noise (encaps)", "SHA3-256 H(pk)"};
static const char *kernels[] = {"portable", "avx2", "avx512"};
#define NKERNELS 3
#define NLEVELS 3

typedef struct samples {
    uint64_t *v;
    size_t n, cap;
    double round_med_min;
} samples;

static samples op_s[NKERNELS][NLEVELS][NOPS], st_s[NKERNELS][NLEVELS][NSTAGES];

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void add(samples *s, uint64_t *round, int iters)
{
    if (s->n + (size_t)iters > s->cap) {
        s->cap = (s->n + (size_t)iters) * 2;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v)
            exit(1);
    }
    memcpy(s->v + s->n, round, (size_t)iters * sizeof *round);
    s->n += (size_t)iters;
    qsort(round, (size_t)iters, sizeof *round, cmp_u64);
    double med = (double)round[iters / 2];
    if (s->round_med_min == 0 || med < s->round_med_min)
        s->round_med_min = med;
}

static double pct(samples *s, double q)
{
    qsort(s->v, s->n, sizeof *s->v, cmp_u64);
    size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
    return (double)s->v[i];
}

typedef struct bufs {
    uint8_t pk[MM_SCLOUDPLUS_MAX_PK_BYTES], sk[MM_SCLOUDPLUS_MAX_SK_BYTES];
    uint8_t ct[MM_SCLOUDPLUS_MAX_CT_BYTES], ss[32], ss2[32];
    int16_t s[SCP_MAX_ROWS * SCP_MAX_LEN];
    uint16_t b[SCP_MAX_M * SCP_MAX_NBAR], c1[SCP_MAX_MBAR * SCP_MAX_N];
    uint16_t c2[SCP_MAX_MBAR * SCP_MAX_NBAR], a[8 * SCP_MAX_N + 64];
    uint8_t noise[16384], fw[SCP_FW_STACK_BYTES];
} bufs;

static int run_op(int op, enum mm_scloudplus_level lv, bufs *b)
{
    switch (op) {
    case OP_KEYGEN: return mm_scloudplus_keypair(lv, b->pk, b->sk);
    case OP_ENCAPS: return mm_scloudplus_encaps(lv, 0, b->ct, b->ss, b->pk);
    default: return mm_scloudplus_decaps(lv, 0, b->ss2, b->ct, b->sk);
    }
}

static const uint8_t seed[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static int run_stage(int st, const scp_params *p, const scp_kernel *k, bufs *b)
{
    const size_t n1 = (size_t)p->mbar * p->n, n2 = (size_t)p->mbar * p->nbar;
    const size_t l12 = n1 * 2 * p->eta2 / 8 + (n2 * 2 * p->eta2 + 7) / 8;
    switch (st) {
    case ST_EXPAND: { /* 8 rows at a time into one buffer, like the buffered products */
        const unsigned bpr = p->n / 8;
        for (unsigned i0 = 0; i0 < p->m; i0 += 8) {
            unsigned rows = p->m - i0 < 8 ? p->m - i0 : 8;
            if (k->expand_a(seed, i0 * bpr, (size_t)rows * bpr, b->a))
                return 1;
        }
        return 0;
    }
    case ST_MUL_AS: return k->mul_as(p, seed, b->s, b->b);
    case ST_MUL_SA: return k->mul_sa(p, seed, b->s, b->c1);
    case ST_MUL_SB: k->mul_sb(p, b->s, b->b, b->c2); return 0;
    case ST_MUL_CS: k->mul_cs(p, b->c1, b->s, b->c2); return 0;
    case ST_FW: return k->fixed_weight(&p->fw_sp[0], p, seed, NULL, b->s);
    case ST_CBD: k->cbd(b->b, (size_t)p->m * p->nbar, p->eta1, b->noise); return 0;
    case ST_SHAKE: return scp_shake256(b->noise, l12, seed, 32);
    default: return scp_sha3_256(b->fw, b->pk, p->info.pk_bytes);
    }
}

/* Bytes one pass over an operation's operands touches (keys, ciphertext,
 * and the matrices in the kernels' uint16 layout). */
static double operand_bytes(int op, const scp_params *p)
{
    const double sbytes = 2.0 * p->n * p->nbar, bbytes = 2.0 * p->m * p->nbar;
    const double spbytes = 2.0 * p->mbar * p->m, c1bytes = 2.0 * p->mbar * p->n;
    const double enc = p->info.pk_bytes + spbytes + bbytes + c1bytes + p->info.ct_bytes;
    switch (op) {
    case OP_KEYGEN: return p->info.pk_bytes + p->info.sk_bytes + sbytes + bbytes;
    case OP_ENCAPS: return enc;
    default: return p->info.sk_bytes + p->info.ct_bytes + c1bytes + sbytes + enc;
    }
}

/* Sequential read bandwidth in bytes per cycle (best of a few passes). */
static double read_bandwidth(void)
{
    const size_t n = (64u << 20) / sizeof(uint64_t);
    uint64_t *buf = malloc(n * sizeof *buf);
    double best = 0;
    if (!buf)
        return 0;
    for (size_t i = 0; i < n; i++)
        buf[i] = i;
    for (int pass = 0; pass < 3; pass++) {
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, c0 = bench_cycles();
        for (size_t i = 0; i < n; i += 4) {
            s0 += buf[i];
            s1 += buf[i + 1];
            s2 += buf[i + 2];
            s3 += buf[i + 3];
        }
        uint64_t c = bench_cycles() - c0;
        __asm__ volatile("" : : "r"(s0 + s1 + s2 + s3));
        double bw = (double)(n * sizeof *buf) / (double)c;
        best = bw > best ? bw : best;
    }
    free(buf);
    return best;
}

int main(int argc, char **argv)
{
    int iters = 31, rounds = 3, lmin = 0, lmax = 2, stages = 1;
    const char *kernel = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iterations") && i + 1 < argc) {
            iters = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            rounds = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--level") && i + 1 < argc) {
            enum mm_scloudplus_level lv;
            if (mm_scloudplus_level_parse(argv[++i], &lv))
                return fprintf(stderr, "bench-kem: unknown level %s\n", argv[i]), 2;
            lmin = lmax = (int)lv;
        } else if (!strcmp(argv[i], "--kernel") && i + 1 < argc) {
            kernel = argv[++i];
        } else if (!strcmp(argv[i], "--no-stages")) {
            stages = 0;
        } else {
            fprintf(stderr, "usage: bench-kem [--iterations N] [--rounds R] [--level L] "
                            "[--kernel K] [--no-stages]\n");
            return 2;
        }
    }
    iters = iters < 1 ? 1 : iters;
    rounds = rounds < 1 ? 1 : rounds;
    int use[NKERNELS];
    for (int k = 0; k < NKERNELS; k++)
        use[k] = (!kernel || !strcmp(kernel, kernels[k])) &&
                 mm_scloudplus_kernel_available(kernels[k]);
    bufs *b = calloc(1, sizeof *b);
    uint64_t *round = calloc((size_t)iters, sizeof *round);
    if (!b || !round)
        return 1;
    memset(b->noise, 0x5A, sizeof b->noise);
    double bw = 0;

    for (int r = 0; r < rounds; r++) {
        double rbw = read_bandwidth();
        bw = rbw > bw ? rbw : bw;
        for (int k = 0; k < NKERNELS; k++) {
            if (!use[k] || mm_scloudplus_kernel_set(kernels[k]) != 0)
                continue;
            const scp_kernel *kern = scp_kernel_current();
            for (int lv = lmin; lv <= lmax; lv++) {
                const scp_params *p = scp_params_get((enum mm_scloudplus_level)lv);
                if (run_op(OP_KEYGEN, p->info.level, b) || run_op(OP_ENCAPS, p->info.level, b))
                    return fprintf(stderr, "bench-kem: operation failed\n"), 1;
                for (int op = 0; op < NOPS; op++) {
                    for (int i = 0; i < iters; i++) {
                        uint64_t c0 = bench_cycles();
                        if (run_op(op, p->info.level, b))
                            return fprintf(stderr, "bench-kem: %s failed\n", op_names[op]), 1;
                        round[i] = bench_cycles() - c0;
                    }
                    add(&op_s[k][lv][op], round, iters);
                }
                if (memcmp(b->ss, b->ss2, p->info.ss_bytes) != 0)
                    return fprintf(stderr, "bench-kem: decapsulation mismatch\n"), 1;
                (void)kern->fixed_weight(&p->fw_s, p, seed, NULL, b->s); /* a valid S */
                for (int st = 0; st < NSTAGES; st++) {
                    if (!stages && st != ST_EXPAND) /* the bound always needs expandA */
                        continue;
                    for (int i = 0; i < iters; i++) {
                        uint64_t c0 = bench_cycles();
                        if (run_stage(st, p, kern, b))
                            return fprintf(stderr, "bench-kem: stage failed\n"), 1;
                        round[i] = bench_cycles() - c0;
                    }
                    add(&st_s[k][lv][st], round, iters);
                }
            }
        }
    }

    printf("# Scloud+ KEM, rdtsc cycles; %d interleaved rounds x %d iterations per op.\n"
           "# med/p90 over all samples, rmin = min of the round medians, min = fastest sample\n"
           "# (the least disturbed one on a shared host). bound = (T_aes + T_mem) / med,\n"
           "# T_aes = expandA of the same matrix with the same AES (measured below), T_mem = "
           "operand bytes\n"
           "# at the read bandwidth measured in this run: %.2f bytes/cycle.\n",
           rounds, iters, bw);
    for (int k = 0; k < NKERNELS; k++) {
        if (!use[k])
            continue;
        for (int lv = lmin; lv <= lmax; lv++) {
            const scp_params *p = scp_params_get((enum mm_scloudplus_level)lv);
            double t_aes = pct(&st_s[k][lv][ST_EXPAND], 0.5);
            for (int op = 0; op < NOPS; op++) {
                samples *s = &op_s[k][lv][op];
                double med = pct(s, 0.5), p90 = pct(s, 0.9);
                double t_mem = bw > 0 ? operand_bytes(op, p) / bw : 0;
                printf("%-14s %-8s %-7s med %9.0f  p90 %9.0f  rmin %9.0f  min %9.0f cycles   "
                       "bound %.2f (aes %.0f + mem %.0f)\n",
                       p->info.name, kernels[k], op_names[op], med, p90, s->round_med_min,
                       pct(s, 0.0), (t_aes + t_mem) / med, t_aes, t_mem);
            }
            for (int st = 0; stages && st < NSTAGES; st++) {
                samples *s = &st_s[k][lv][st];
                printf("%-14s %-8s   stage %-24s med %9.0f  p90 %9.0f  rmin %9.0f  min %9.0f\n",
                       p->info.name, kernels[k], st_names[st], pct(s, 0.5), pct(s, 0.9),
                       s->round_med_min, pct(s, 0.0));
            }
        }
    }
    return 0;
}
