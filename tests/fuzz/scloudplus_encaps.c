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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum mm_scloudplus_level lv = (enum mm_scloudplus_level)(data[0] % 3);
    enum mm_scloudplus_variant var = (enum mm_scloudplus_variant)((data[0] >> 2) & 1);
    const mm_scloudplus_info *i = mm_scloudplus_info_get(lv);
    data++;
    size--;
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
