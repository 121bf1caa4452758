/*
 * scp_dispatch.c - choose the kernel at run time.
 *
 * Order of preference: avx512 (AVX-512F/BW/VL/CD/VBMI/VNNI/VPOPCNTDQ + VAES), avx2 (AVX2 + AES-NI;
 * both also use BMI1/2, which every such CPU has),
 * portable. MM_SCLOUDPLUS_KERNEL or mm_scloudplus_kernel_set() force one.
 * This file is compiled for the baseline ISA: it only asks CPUID (and XGETBV:
 * the OS must save the YMM/ZMM state).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "scp_internal.h"

static int scp_cpu_portable(void)
{
    return 1;
}

#if defined(MM_SCP_HAVE_AVX2) || defined(MM_SCP_HAVE_AVX512)
#include <cpuid.h>

/* CPUID/XGETBV directly: the compilers disagree on __builtin_cpu_supports names. */
enum {
    SCP_CPU_AVX2 = 1 << 0,   /* AVX2 + AES-NI + BMI1/2, OS saves YMM */
    SCP_CPU_AVX512 = 1 << 1, /* + AVX-512 F/BW/VL/CD/VBMI/VNNI/VPOPCNTDQ, VAES, POPCNT; ZMM */
};

static unsigned scp_cpu_flags(void)
{
    unsigned a, b, c, d, flags = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AES))
        return 0;
    const unsigned popcnt = c & bit_POPCNT; /* leaf 1; c is reused below */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & 0x6) != 0x6 || !__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    if ((b & bit_AVX2) && (b & bit_BMI) && (b & bit_BMI2))
        flags |= SCP_CPU_AVX2;
    const unsigned zmm_state = 0xE0, f = bit_AVX512F | bit_AVX512BW | bit_AVX512VL;
    if ((flags & SCP_CPU_AVX2) && popcnt && (lo & zmm_state) == zmm_state && (b & f) == f &&
        (b & bit_AVX512CD) && (c & bit_VAES) && (c & bit_AVX512VNNI) &&
        (c & bit_AVX512VPOPCNTDQ) && (c & bit_AVX512VBMI))
        flags |= SCP_CPU_AVX512;
    return flags;
}
#endif

#ifdef MM_SCP_HAVE_AVX2
static int scp_cpu_avx2(void)
{
    return (scp_cpu_flags() & SCP_CPU_AVX2) != 0;
}
#endif

#ifdef MM_SCP_HAVE_AVX512
static int scp_cpu_avx512(void)
{
    return (scp_cpu_flags() & SCP_CPU_AVX512) != 0;
}
#endif

static const struct scp_kernel_row {
    const scp_kernel *k;
    int (*cpu_ok)(void);
} scp_kernels[] = {
#ifdef MM_SCP_HAVE_AVX512
    {&scp_kernel_avx512, scp_cpu_avx512},
#endif
#ifdef MM_SCP_HAVE_AVX2
    {&scp_kernel_avx2, scp_cpu_avx2},
#endif
    {&scp_kernel_portable, scp_cpu_portable},
};

#define SCP_NKERNELS (sizeof scp_kernels / sizeof scp_kernels[0])

static _Atomic(const scp_kernel *) scp_current;

static const struct scp_kernel_row *scp_kernel_find(const char *name)
{
    for (size_t i = 0; name && i < SCP_NKERNELS; i++) {
        if (!strcmp(scp_kernels[i].k->name, name))
            return &scp_kernels[i];
    }
    return NULL;
}

static const scp_kernel *scp_kernel_best(void)
{
    for (size_t i = 0; i < SCP_NKERNELS; i++) {
        if (scp_kernels[i].cpu_ok())
            return scp_kernels[i].k;
    }
    return &scp_kernel_portable;
}

const scp_kernel *scp_kernel_current(void)
{
    const scp_kernel *k = atomic_load(&scp_current);
    if (k)
        return k;
    /* An unknown or unsupported forced name falls back to the best kernel. */
    const struct scp_kernel_row *row = scp_kernel_find(getenv("MM_SCLOUDPLUS_KERNEL"));
    k = row && row->cpu_ok() ? row->k : scp_kernel_best();
    atomic_store(&scp_current, k);
    return k;
}

int mm_scloudplus_kernel_set(const char *name)
{
    MM_ENSURE(name, MM_EINVAL);
    if (!strcmp(name, "auto")) {
        atomic_store(&scp_current, scp_kernel_best());
        return 0;
    }
    const struct scp_kernel_row *row = scp_kernel_find(name);
    if (!row) {
        /* a known name whose kernel was not built is unsupported, not invalid */
        if (!strcmp(name, "avx2") || !strcmp(name, "avx512"))
            return MM_EUNSUPPORTED;
        return MM_EINVAL;
    }
    MM_ENSURE(row->cpu_ok(), MM_EUNSUPPORTED);
    atomic_store(&scp_current, row->k);
    return 0;
}

const char *mm_scloudplus_kernel_name(void)
{
    return scp_kernel_current()->name;
}

int mm_scloudplus_kernel_available(const char *name)
{
    const struct scp_kernel_row *row = scp_kernel_find(name);
    return row && row->cpu_ok();
}
