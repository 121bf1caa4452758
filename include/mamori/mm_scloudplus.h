/*
 * mm_scloudplus.h - the Scloud+ key encapsulation mechanism.
 *
 * Levels 128/192/256, byte-exact with the reference implementation
 * (scloudplus/scloudplus at 123fe28) and, as a separately named variant, with
 * the openHiTLS PQCP behaviour (see docs/scloudplus.md and
 * ../shared/specs/scloudplus.md section 12).
 *
 * All functions return 0 or a negative MM_E* code (see mm_core.h).
 * Secret-dependent work is constant time; secrets are wiped before return.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_SCLOUDPLUS_H
#define MAMORI_MM_SCLOUDPLUS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mm_scloudplus_level {
    MM_SCLOUDPLUS_128 = 0,
    MM_SCLOUDPLUS_192 = 1,
    MM_SCLOUDPLUS_256 = 2,
};

enum mm_scloudplus_variant {
    MM_SCLOUDPLUS_VARIANT_REFERENCE = 0, /* scloudplus/scloudplus HEAD: the default */
    MM_SCLOUDPLUS_VARIANT_OPENHITLS = 1, /* openHiTLS PQCP 7563b46 behaviour */
};

/* Sizes in bytes. */
#define MM_SCLOUDPLUS128_PK_BYTES 7216
#define MM_SCLOUDPLUS128_SK_BYTES 8480
#define MM_SCLOUDPLUS128_CT_BYTES 5456
#define MM_SCLOUDPLUS128_SS_BYTES 16
#define MM_SCLOUDPLUS192_PK_BYTES 11152
#define MM_SCLOUDPLUS192_SK_BYTES 13008
#define MM_SCLOUDPLUS192_CT_BYTES 10832
#define MM_SCLOUDPLUS192_SS_BYTES 24
#define MM_SCLOUDPLUS256_PK_BYTES 18760
#define MM_SCLOUDPLUS256_SK_BYTES 21904
#define MM_SCLOUDPLUS256_CT_BYTES 16916
#define MM_SCLOUDPLUS256_SS_BYTES 32
#define MM_SCLOUDPLUS_MAX_PK_BYTES MM_SCLOUDPLUS256_PK_BYTES
#define MM_SCLOUDPLUS_MAX_SK_BYTES MM_SCLOUDPLUS256_SK_BYTES
#define MM_SCLOUDPLUS_MAX_CT_BYTES MM_SCLOUDPLUS256_CT_BYTES
#define MM_SCLOUDPLUS_MAX_SS_BYTES MM_SCLOUDPLUS256_SS_BYTES
#define MM_SCLOUDPLUS_SEED_BYTES 32 /* z and alpha of keygen */

/* Static description of one level. */
typedef struct mm_scloudplus_info {
    enum mm_scloudplus_level level;
    const char *name; /* "scloudplus128", ... */
    size_t pk_bytes, sk_bytes, ct_bytes, ss_bytes;
} mm_scloudplus_info;

/* NULL for an unknown level. */
const mm_scloudplus_info *mm_scloudplus_info_get(enum mm_scloudplus_level level);
/* Look a level up by name ("scloudplus128", "128", ...); MM_EINVAL if unknown. */
int mm_scloudplus_level_parse(const char *name, enum mm_scloudplus_level *out);
/* "reference" or "openhitls". */
int mm_scloudplus_variant_parse(const char *name, enum mm_scloudplus_variant *out);
const char *mm_scloudplus_variant_name(enum mm_scloudplus_variant v);

/*
 * Randomised API (randomness from the OS CSPRNG via OpenSSL RAND_bytes).
 * Buffers must have exactly the sizes of the level (info->*_bytes).
 * Decapsulation never fails on a well-sized ciphertext (implicit rejection).
 */
int mm_scloudplus_keypair(enum mm_scloudplus_level level, uint8_t *pk, uint8_t *sk);
int mm_scloudplus_encaps(enum mm_scloudplus_level level, enum mm_scloudplus_variant variant,
                         uint8_t *ct, uint8_t *ss, const uint8_t *pk);
int mm_scloudplus_decaps(enum mm_scloudplus_level level, enum mm_scloudplus_variant variant,
                         uint8_t *ss, const uint8_t *ct, const uint8_t *sk);

/*
 * The same, drawing randomness with RAND_bytes_ex from libctx (NULL: the
 * default library context). The OpenSSL provider passes its own library
 * context so a configured DRBG is honoured.
 */
int mm_scloudplus_keypair_ex(OSSL_LIB_CTX *libctx, enum mm_scloudplus_level level, uint8_t *pk,
                             uint8_t *sk);
int mm_scloudplus_encaps_ex(OSSL_LIB_CTX *libctx, enum mm_scloudplus_level level,
                            enum mm_scloudplus_variant variant, uint8_t *ct, uint8_t *ss,
                            const uint8_t *pk);

/*
 * Length-checked forms of the randomised API (added for callers holding
 * buffers of untrusted length, e.g. TLS key shares): MM_EINVAL unless every
 * length equals the level's size.
 */
int mm_scloudplus_keypair_buf(enum mm_scloudplus_level level, uint8_t *pk, size_t pk_len,
                              uint8_t *sk, size_t sk_len);
int mm_scloudplus_encaps_buf(enum mm_scloudplus_level level,
                             enum mm_scloudplus_variant variant, uint8_t *ct, size_t ct_len,
                             uint8_t *ss, size_t ss_len, const uint8_t *pk, size_t pk_len);
int mm_scloudplus_decaps_buf(enum mm_scloudplus_level level,
                             enum mm_scloudplus_variant variant, uint8_t *ss, size_t ss_len,
                             const uint8_t *ct, size_t ct_len, const uint8_t *sk,
                             size_t sk_len);

/*
 * Derandomised API for tests and KATs: z and alpha are the two 32-byte
 * keygen inputs (in the order the reference draws them), m the ss_bytes-long
 * encapsulation message.
 */
int mm_scloudplus_keypair_derand(enum mm_scloudplus_level level, uint8_t *pk, uint8_t *sk,
                                 const uint8_t z[32], const uint8_t alpha[32]);
int mm_scloudplus_encaps_derand(enum mm_scloudplus_level level,
                                enum mm_scloudplus_variant variant, uint8_t *ct, uint8_t *ss,
                                const uint8_t *pk, const uint8_t *m);

/*
 * Kernels: "portable", "avx2" (AVX2 + AES-NI), "avx512" (AVX-512 + VAES).
 * By default the best one the CPU supports is chosen at first use; the
 * environment variable MM_SCLOUDPLUS_KERNEL or mm_scloudplus_kernel_set()
 * forces one. Forcing a kernel the CPU lacks returns MM_EUNSUPPORTED.
 */
int mm_scloudplus_kernel_set(const char *name);
const char *mm_scloudplus_kernel_name(void);
/* 1 if this CPU (and build) can run the named kernel, 0 if not. */
int mm_scloudplus_kernel_available(const char *name);

/*
 * NIST PQC AES-256 CTR_DRBG (as in NIST's rng.c), for KAT reproduction only:
 * never use it for real keys.
 */
typedef struct mm_kat_drbg {
    uint8_t key[32];
    uint8_t v[16];
} mm_kat_drbg;
void mm_kat_drbg_init(mm_kat_drbg *d, const uint8_t entropy[48]);
int mm_kat_drbg_bytes(mm_kat_drbg *d, uint8_t *out, size_t len);

/*
 * One KAT vector from its 48-byte seed, drawing exactly like NIST's
 * PQCgenKAT_kem (../shared/kat/README.md): drbg init(seed), z = 32 bytes,
 * alpha = 32 bytes, m = ss_bytes; then keypair and encapsulation.
 */
int mm_scloudplus_kat_derive(enum mm_scloudplus_level level,
                             enum mm_scloudplus_variant variant, const uint8_t seed[48],
                             uint8_t *pk, uint8_t *sk, uint8_t *ct, uint8_t *ss);

#ifdef __cplusplus
}
#endif
#endif
