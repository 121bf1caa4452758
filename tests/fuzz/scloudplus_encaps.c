/*
 * scloudplus_encaps.c - libFuzzer harness: encapsulation to arbitrary bytes.
 *
 * Byte 0 picks the level (mod 3) and the variant (bit 2); the rest is the
 * public key, zero-padded to the level's size. Every pk decodes (§8), so
 * encapsulation must succeed; the length-checked form must refuse raw
 * sizes other than pk_bytes.
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
    uint8_t *pk = calloc(1, i->pk_bytes), *ct = malloc(i->ct_bytes), ss[32];
    if (!pk || !ct)
        abort();
    size_t npk = size < i->pk_bytes ? size : i->pk_bytes;
    memcpy(pk, data, npk);
    if (mm_scloudplus_encaps(lv, var, ct, ss, pk) != 0)
        abort();
    int rc = mm_scloudplus_encaps_buf(lv, var, ct, i->ct_bytes, ss, i->ss_bytes, pk, size);
    if ((size == i->pk_bytes) != (rc == 0))
        abort();
    free(pk);
    free(ct);
    return 0;
}
