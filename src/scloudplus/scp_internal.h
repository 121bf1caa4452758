/*
 * scp_internal.h - shared declarations of the Scloud+ module.
 *
 * Section numbers (§) refer to ../shared/specs/scloudplus.md.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_SCP_INTERNAL_H
#define MM_SCP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mamori/mm_scloudplus.h"

#define SCP_Q_MASK 0x0FFFu
#define SCP_SEEDA_BYTES 16
#define SCP_CHUNK_BYTES 680 /* one fixed-weight chunk: 5 SHAKE256 blocks (§5.1) */
#define SCP_MAX_M 1136
#define SCP_MAX_N 1120
#define SCP_MAX_MBAR 12
#define SCP_MAX_NBAR 11
#define SCP_MAX_ROWS 12     /* rows of S^T or S' */
#define SCP_MAX_LEN 1136    /* length of a fixed-weight row */
#define SCP_BM_WORDS 18     /* 64-bit words of a row bitmap: ceil(1136 / 64) */

/* One fixed-weight sampling job (§5.1): rows x len, h of each sign per row. */
typedef struct scp_fw_spec {
    uint16_t rows, len, h, bound;
    uint16_t chunks; /* SHAKE chunks processed in constant time; see docs/scloudplus.md */
} scp_fw_spec;

/* Parameters of one level (§2, §3). */
typedef struct scp_params {
    mm_scloudplus_info info;
    uint16_t m, n, mbar, nbar;
    uint8_t logq1, logq2, eta1, eta2, tau, subm;
    uint8_t w, d;      /* candidate bits and digits per candidate (§5.1) */
    uint16_t nc;       /* candidates per chunk */
    uint16_t pke_sk_bytes, c1_bytes, c2_bytes;
    scp_fw_spec fw_s;  /* keygen: S^T */
    scp_fw_spec fw_sp[2]; /* encrypt: S', indexed by variant (§12 items 1, 2) */
} scp_params;

const scp_params *scp_params_get(enum mm_scloudplus_level level);

/* ------------------------------------------------------------ hashing (§4) */
int scp_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);
int scp_shake256_2(uint8_t *out, size_t outlen, const uint8_t *a, size_t alen,
                   const uint8_t *b, size_t blen);
int scp_sha3_256(uint8_t out[32], const uint8_t *in, size_t inlen);
int scp_sha3_512_2(uint8_t out[64], const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen);

/* ------------------------------------------------------------ samplers (§5) */
/* CBD: count samples of parameter eta from the bitstream buf (§5.2). */
void scp_cbd(uint16_t *out, size_t count, unsigned eta, const uint8_t *buf);

/* ------------------------------------------------------------ message code (§6) */
void scp_bw32_encode(const scp_params *p, uint16_t *mu, const uint8_t *msg);
void scp_bw32_decode(const scp_params *p, uint8_t *msg, const uint16_t *mu);

/* ------------------------------------------------------------ packing (§7, §8) */
void scp_pack12(uint8_t *out, const uint16_t *in, size_t count);
void scp_unpack12(uint16_t *out, const uint8_t *in, size_t count);
void scp_pack_sk(uint8_t *out, const int16_t *st, size_t count);
void scp_unpack_sk(int16_t *out, const uint8_t *in, size_t count);
void scp_compress_pack_ct(const scp_params *p, enum mm_scloudplus_variant v, uint8_t *ct,
                          const uint16_t *c1, const uint16_t *c2);
void scp_unpack_decompress_ct(const scp_params *p, uint16_t *c1, uint16_t *c2,
                              const uint8_t *ct);

/* ------------------------------------------------------------ kernels */
/*
 * One implementation of the heavy parts. All of them compute identical
 * results; they differ only in instruction set. Matrices are row-major
 * uint16 (mod 2^16; reduced mod q when packed). Secret ternary matrices are
 * dense int16 in {-1, 0, 1}.
 */
typedef struct scp_kernel {
    const char *name;
    /* b (m x nbar) += A * S, with S given transposed as st (nbar x n). */
    int (*mul_as)(const scp_params *p, const uint8_t seed_a[16], const int16_t *st,
                  uint16_t *b);
    /* c1 (mbar x n) += S' * A, sp is mbar x m. */
    int (*mul_sa)(const scp_params *p, const uint8_t seed_a[16], const int16_t *sp,
                  uint16_t *c1);
    /* c2 (mbar x nbar) += S' * B. */
    void (*mul_sb)(const scp_params *p, const int16_t *sp, const uint16_t *b, uint16_t *c2);
    /* d (mbar x nbar) -= C1 * S. */
    void (*mul_cs)(const scp_params *p, const uint16_t *c1, const int16_t *st, uint16_t *d);
    /* Constant-time fixed-weight sampler (§5.1) into dense rows x len. pre is
     * NULL or the first SCP_FW_PRE_BYTES(fw) bytes of SHAKE256(seed), already
     * computed by the caller (side by side with another stream). */
    int (*fixed_weight)(const scp_fw_spec *fw, const scp_params *p, const uint8_t seed[32],
                        const uint8_t *pre, int16_t *out);
    /* CBD noise (§5.2), same contract and output as scp_cbd. */
    void (*cbd)(uint16_t *out, size_t count, unsigned eta, const uint8_t *buf);
    /* ExpandA alone (§4.1), with this kernel's AES construction: nblocks
     * blocks from counter ctr into out (8 uint16 per block). For the
     * benchmark's stage lines and its AES bound; the products do not call it. */
    int (*expand_a)(const uint8_t seed_a[16], uint32_t ctr, size_t nblocks, uint16_t *out);
    /* NULL, or o0 = SHAKE256(s0, l0) and o1 = SHAKE256(s1, l1) side by side. */
    int (*shake256_x2)(uint8_t *o0, size_t l0, const uint8_t s0[32], uint8_t *o1, size_t l1,
                       const uint8_t s1[32]);
} scp_kernel;

/* The sampler's first-try SHAKE output: its chunk budget plus 8 bytes of
 * slack for the 64-bit loads; at most 28 chunks (the table). */
#define SCP_FW_PRE_BYTES(fw) ((size_t)(fw)->chunks * SCP_CHUNK_BYTES + 8)
#define SCP_FW_STACK_BYTES (28 * SCP_CHUNK_BYTES + 8)

/* Four SHAKE256 streams side by side (AVX-512VL; only when that kernel is
 * built and the CPU has it): out[j] = SHAKE256(in[j], outlen[j]). */
void scp_avx512_shake256_x4(uint8_t *const out[4], const size_t outlen[4],
                            const uint8_t *const in[4], size_t inlen);

extern const scp_kernel scp_kernel_portable;
extern const scp_kernel scp_kernel_avx2;
extern const scp_kernel scp_kernel_avx512;

const scp_kernel *scp_kernel_current(void);

/* ------------------------------------------------------------ PKE (§9) */
int scp_pke_keygen(const scp_params *p, uint8_t *pk, uint8_t *pke_sk,
                   const uint8_t alpha[32]);
int scp_pke_enc(const scp_params *p, enum mm_scloudplus_variant v, uint8_t *ct,
                const uint8_t *pk, const uint8_t *msg, const uint8_t r[32]);
int scp_pke_dec(const scp_params *p, uint8_t *msg, const uint8_t *pke_sk, const uint8_t *ct);

#endif
