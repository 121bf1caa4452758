/*
 * scloudplus_fuzz.h - the input prefix the SCloud+ fuzz harnesses share:
 * byte 0 picks the level (mod 3) and the variant (bit 2).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_SCLOUDPLUS_FUZZ_H
#define MM_SCLOUDPLUS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "mamori/mm_scloudplus.h"

/* Consume byte 0 of *data into *lv and *var; the level's sizes, or NULL
 * when the input is empty. */
static inline const mm_scloudplus_info *scp_fuzz_pick(const uint8_t **data, size_t *size,
                                                      enum mm_scloudplus_level *lv,
                                                      enum mm_scloudplus_variant *var)
{
    if (*size < 1)
        return NULL;
    *lv = (enum mm_scloudplus_level)((*data)[0] % 3);
    *var = (enum mm_scloudplus_variant)(((*data)[0] >> 2) & 1);
    (*data)++;
    (*size)--;
    return mm_scloudplus_info_get(*lv);
}

#endif
