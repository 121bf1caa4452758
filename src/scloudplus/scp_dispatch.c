/*
 * scp_dispatch.c - choose the kernel at run time.
 *
 * Order of preference: avx512 (AVX-512F/BW + VAES), avx2 (AVX2 + AES-NI),
 * portable. MM_SCLOUDPLUS_KERNEL or mm_scloudplus_kernel_set() force one.
 * This file is compiled for the baseline ISA: it only asks CPUID.
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

#ifdef MM_SCP_HAVE_AVX2
static int scp_cpu_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("aes");
}
#endif

#ifdef MM_SCP_HAVE_AVX512
static int scp_cpu_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("vaes") &&
           __builtin_cpu_supports("aes") && __builtin_cpu_supports("avx2");
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
