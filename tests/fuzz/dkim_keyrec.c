/*
 * libFuzzer harness: the DKIM key record parser (RFC 6376 3.6.1, RFC 8463).
 * Invariant: a parsed key has a key object and a known type; revoked keys
 * never yield one.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mamori/mm_dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_dkim_pubkey k;
    const char *why = "";
    int rc = mm_dkim_pubkey_parse(data, size, &k, &why);
    if (rc == 0 && (!k.pkey || k.revoked ||
                    (k.alg != MM_DKIM_ALG_RSA_SHA256 && k.alg != MM_DKIM_ALG_ED25519_SHA256)))
        abort();
    if (getenv("MM_FUZZ_VERBOSE"))
        fprintf(stderr, "keyrec rc=%d %s bits=%d\n", rc, rc ? why : "parsed", k.bits);
    mm_dkim_pubkey_free(&k);
    return 0;
}
