/*
 * libFuzzer harness: whole-message verification and ACDC change records.
 * Keys come from no source (every signature that parses ends in temperror),
 * so the fuzzer reaches the signature and ACDC parsers and mm_dkim_acdc_undo.
 * Invariant: nothing passes without a key.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mamori/mm_dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_dkim_verify_opts o = {0};
    mm_dkim_result r[MM_DKIM_MAX_SIGS];
    size_t n = 0;
    int rc = mm_dkim_verify_message(&o, data, size, r, MM_DKIM_MAX_SIGS, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (r[i].code == MM_DKIM_PASS)
            abort();
    mm_dkim_acdc_report rep;
    mm_dkim_acdc_verify(&o, data, size, NULL, &rep);
    if (rep.code == MM_DKIM_PASS)
        abort();
    mm_buf out;
    mm_buf_init(&out, 16 << 20);
    const char *why = "";
    int urc = mm_dkim_acdc_undo(data, size, 2, &out, &why);
    if (getenv("MM_FUZZ_VERBOSE"))
        fprintf(stderr, "verify rc=%d sigs=%zu first=%s (%s) acdc=%s undo=%d out=%zu\n", rc, n,
                n ? mm_dkim_result_name(r[0].code) : "-", n ? r[0].reason : "",
                mm_dkim_result_name(rep.code), urc, out.len);
    mm_buf_free(&out);
    return 0;
}
