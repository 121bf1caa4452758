/*
 * scloudplus_decaps.c - libFuzzer harness: decapsulation of arbitrary bytes.
 *
 * Byte 0 picks the level (mod 3) and the variant (bit 2); the rest fills sk
 * then ct, zero-padded to the level's sizes. Decapsulation must succeed on
 * every well-sized input (implicit rejection) and never read out of bounds;
 * the length-checked form must refuse the raw, unpadded sizes.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "mamori/mm_scloudplus.h"
#include "scloudplus_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum mm_scloudplus_level lv;
    enum mm_scloudplus_variant var;
    const mm_scloudplus_info *i = scp_fuzz_pick(&data, &size, &lv, &var);
    if (i == NULL)
        return 0;
    uint8_t *sk = calloc(1, i->sk_bytes), *ct = calloc(1, i->ct_bytes), ss[32];
    if (!sk || !ct)
        abort();
    size_t nsk = size < i->sk_bytes ? size : i->sk_bytes;
    memcpy(sk, data, nsk);
    size_t nct = size - nsk < i->ct_bytes ? size - nsk : i->ct_bytes;
    memcpy(ct, data + nsk, nct);
    if (mm_scloudplus_decaps(lv, var, ss, ct, sk) != 0)
        abort(); /* implicit rejection: never an error */
    int rc = mm_scloudplus_decaps_buf(lv, var, ss, i->ss_bytes, ct, nct, sk, nsk);
    if ((nsk == i->sk_bytes && nct == i->ct_bytes) != (rc == 0))
        abort();
    free(sk);
    free(ct);
    return 0;
}
