/*
 * scp_pke.c - the Scloud+ public-key encryption (§9).
 *
 * Heavy work goes through the current kernel; everything secret (S, S', E,
 * E1, E2, the message matrix) lives in one stack workspace (about 90 KB) that
 * is wiped before returning. A heap workspace cost more than the whole
 * product at level 192: glibc trims the freed top chunk, so every call
 * faulted its pages in again.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mamori/mm_core.h"
#include "scp_ct.h"
#include "scp_internal.h"

#define SCP_NOISE_MAX 9600 /* largest CBD input (keygen 256: 9372) + read slack */

typedef struct __attribute__((aligned(64))) scp_ws {
    int16_t s[SCP_MAX_ROWS * SCP_MAX_LEN]; /* S^T or S' */
    uint16_t b[SCP_MAX_M * SCP_MAX_NBAR];
    uint16_t c1[SCP_MAX_MBAR * SCP_MAX_N];
    uint16_t c2[SCP_MAX_MBAR * SCP_MAX_NBAR];
    uint8_t noise[SCP_NOISE_MAX];
    uint8_t fw[SCP_FW_STACK_BYTES]; /* the sampler's SHAKE stream, when precomputed */
    uint8_t seeds[80];
} scp_ws;

/* Every part of the workspace is written before it is read. */

/* Wipe what held secrets for this level (S/S', noise, seeds, C1, C2/D). */
static void scp_ws_wipe(scp_ws *ws, const scp_params *p)
{
    size_t rows = p->mbar > p->nbar ? p->mbar : p->nbar, len = p->m > p->n ? p->m : p->n;
    scp_wipe(ws->s, sizeof(int16_t) * rows * len);
    scp_wipe(ws->c1, sizeof(uint16_t) * p->mbar * p->n);
    scp_wipe(ws->c2, sizeof ws->c2);
    scp_wipe(ws->noise, sizeof ws->noise);
    if (scp_kernel_current()->shake256_x2) { /* the longest stream of this level */
        size_t fw = SCP_FW_PRE_BYTES(&p->fw_s);
        for (unsigned v = 0; v < 2; v++)
            fw = SCP_FW_PRE_BYTES(&p->fw_sp[v]) > fw ? SCP_FW_PRE_BYTES(&p->fw_sp[v]) : fw;
        scp_wipe(ws->fw, fw);
    }
    scp_wipe(ws->seeds, sizeof ws->seeds);
}

int scp_pke_keygen(const scp_params *p, uint8_t *pk, uint8_t *pke_sk, const uint8_t alpha[32])
{
    const scp_kernel *k = scp_kernel_current();
    scp_ws wsb, *ws = &wsb;
    const size_t mn = (size_t)p->m * p->nbar, elen = mn * 2 * p->eta1 / 8;
    const uint8_t *seed_a = ws->seeds, *r1 = ws->seeds + 16, *r2 = ws->seeds + 48;
    const uint8_t *pre = NULL;
    int rc = scp_shake256(ws->seeds, 80, alpha, 32);
    /* seedA is published in pk: public from here on (constant-time checks) */
    SCP_DECLASSIFY(ws->seeds, SCP_SEEDA_BYTES);
    if (rc == 0 && k->shake256_x2) { /* the sampler's stream and the noise side by side */
        rc = k->shake256_x2(ws->fw, SCP_FW_PRE_BYTES(&p->fw_s), r1, ws->noise, elen, r2);
        pre = ws->fw;
    } else if (rc == 0) {
        rc = scp_shake256(ws->noise, elen, r2, 32);
    }
    if (rc == 0)
        rc = k->fixed_weight(&p->fw_s, p, r1, pre, ws->s);
    if (rc == 0) {
        k->cbd(ws->b, mn, p->eta1, ws->noise); /* B starts as E */
        rc = k->mul_as(p, seed_a, ws->s, ws->b);
    }
    if (rc == 0) {
        scp_pack12(pk, ws->b, mn);
        memcpy(pk + mn * 12 / 8, seed_a, SCP_SEEDA_BYTES);
        scp_pack_sk(pke_sk, ws->s, (size_t)p->n * p->nbar);
    }
    scp_ws_wipe(ws, p);
    return rc;
}

int scp_pke_enc(const scp_params *p, enum mm_scloudplus_variant v, uint8_t *ct,
                const uint8_t *pk, const uint8_t *msg, const uint8_t r[32])
{
    const scp_kernel *k = scp_kernel_current();
    scp_ws wsb, *ws = &wsb;
    const size_t mn = (size_t)p->m * p->nbar, n1 = (size_t)p->mbar * p->n;
    const size_t n2 = (size_t)p->mbar * p->nbar;
    const size_t l1 = n1 * 2 * p->eta2 / 8, l2 = (n2 * 2 * p->eta2 + 7) / 8;
    const uint8_t *seed_a = pk + mn * 12 / 8;
    uint16_t mu[SCP_MAX_MBAR * SCP_MAX_NBAR];
    const uint8_t *pre = NULL;
    int rc = scp_shake256(ws->seeds, 64, r, 32);
    if (rc == 0 && k->shake256_x2) { /* the sampler's stream and the noise side by side */
        rc = k->shake256_x2(ws->fw, SCP_FW_PRE_BYTES(&p->fw_sp[v]), ws->seeds, ws->noise,
                            l1 + l2, ws->seeds + 32);
        pre = ws->fw;
    } else if (rc == 0) {
        rc = scp_shake256(ws->noise, l1 + l2, ws->seeds + 32, 32);
    }
    if (rc == 0)
        rc = k->fixed_weight(&p->fw_sp[v], p, ws->seeds, pre, ws->s);
    if (rc == 0) {
        k->cbd(ws->c1, n1, p->eta2, ws->noise);      /* C1 starts as E1 */
        k->cbd(ws->c2, n2, p->eta2, ws->noise + l1); /* C2 starts as E2 */
        scp_bw32_encode(p, mu, msg);
        for (size_t i = 0; i < n2; i++)
            ws->c2[i] = (uint16_t)(ws->c2[i] + mu[i]);
        rc = k->mul_sa(p, seed_a, ws->s, ws->c1);
    }
    if (rc == 0) {
        scp_unpack12(ws->b, pk, mn);
        k->mul_sb(p, ws->s, ws->b, ws->c2);
        scp_compress_pack_ct(p, v, ct, ws->c1, ws->c2);
    }
    OPENSSL_cleanse(mu, sizeof mu);
    scp_ws_wipe(ws, p);
    return rc;
}

int scp_pke_dec(const scp_params *p, uint8_t *msg, const uint8_t *pke_sk, const uint8_t *ct)
{
    scp_ws wsb, *ws = &wsb;
    scp_unpack_decompress_ct(p, ws->c1, ws->c2, ct);
    scp_unpack_sk(ws->s, pke_sk, (size_t)p->n * p->nbar);
    scp_kernel_current()->mul_cs(p, ws->c1, ws->s, ws->c2); /* D = C2 - C1 S */
    scp_bw32_decode(p, msg, ws->c2);
    scp_ws_wipe(ws, p);
    return 0;
}
