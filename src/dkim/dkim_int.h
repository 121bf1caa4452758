/*
 * dkim_int.h - internals shared by the signer, the verifier and ACDC.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_DKIM_INT_H
#define MM_DKIM_INT_H

#include "mamori/mm_dkim.h"

typedef struct dkim_span {
    const uint8_t *p;
    size_t len;
} dkim_span;

/* A parsed DKIM-Signature (RFC 6376 3.5) plus the ACDC [P] tags. */
typedef struct dkim_sig {
    mm_dkim_taglist tl;
    const mm_dkim_field *field;
    enum mm_dkim_alg alg;
    enum mm_dkim_canon hc, bc;
    char d[256], s[128], i[320], b8[9];
    uint8_t b[1024];
    size_t blen;
    dkim_span bval; /* b= value text (for acdc_ps ordering and header.b) */
    uint8_t bh[64];
    size_t bhlen;
    dkim_span h[MM_DKIM_MAX_H];
    size_t nh;
    bool has_l, has_t, has_x;
    uint64_t l;
    int64_t t, x;
    size_t bdel_start, bdel_end; /* octets of the field deleted for hashing (b= value) */
    /* ACDC [P] */
    int acdc_n;           /* 0: classic signature */
    uint8_t acdc_salt[16];
    char acdc_mf[23];
    dkim_span acdc_rt;
    char acdc_pr[23];
    bool has_pr, has_ps;
    uint8_t acdc_ps[32];
    int acdc_d;
} dkim_sig;

/* Parse field as a DKIM-Signature; 0 or <0 with a reason in why. */
int dkim_sig_parse(const mm_dkim_field *f, dkim_sig *s, const char **why);
/* ACDC tags (acdc.c); 0 if absent or valid, <0 with why. */
int dkim_sig_acdc_parse(dkim_sig *s, const char **why);

/* hdr_in of RFC 6376 3.7: signed fields then the signature field minus its b= value. */
int dkim_hdr_input(const mm_dkim_msg *m, enum mm_dkim_canon hc, const dkim_span *h, size_t nh,
                   const uint8_t *sigfield, size_t siglen, size_t del_start, size_t del_end,
                   mm_buf *out);

int dkim_crypto_sign(void *pkey, enum mm_dkim_alg alg, const uint8_t *data, size_t len,
                     uint8_t *sig, size_t *siglen);
int dkim_crypto_verify(void *pkey, enum mm_dkim_alg alg, const uint8_t *data, size_t len,
                       const uint8_t *sig, size_t siglen);

/* Body hashing with an optional length cap (l=). */
typedef struct dkim_bodyhash {
    void *md; /* EVP_MD_CTX */
    uint64_t limit, hashed, seen;
    mm_dkim_body canon;
} dkim_bodyhash;
int dkim_bodyhash_init(dkim_bodyhash *h, enum mm_dkim_canon c, uint64_t limit);
void dkim_bodyhash_update(dkim_bodyhash *h, const uint8_t *p, size_t n);
int dkim_bodyhash_final(dkim_bodyhash *h, uint8_t out[32]);
void dkim_bodyhash_free(dkim_bodyhash *h);

int dkim_acdc_strip(mm_dkim_msg *m, int k, const mm_dkim_field **diff_out);
/* The parsed key of record rd for qname, from the keysrc's cache or parsed now (the caller
 * frees it with mm_dkim_pubkey_free; the cache holds its own reference). */
int dkim_keysrc_pubkey(mm_dkim_keysrc *s, const char *qname, const uint8_t *rd, size_t rl,
                       mm_dkim_pubkey *out, const char **why);
bool dkim_acdc_rt_has(const dkim_span *rt, const char *h);

/* Fold-aware append of "tag=value;" to a signature being built (line length ~78). */
int dkim_fold_append(mm_buf *b, size_t *col, const char *text, size_t len, bool breakable);

#endif
