/*
 * libFuzzer harness: the SSH public keys of ietf-netconf-server's
 * client-authentication users (mm_nc_ssh_pubkey_check), i.e. configuration
 * text an edit-config sent. First byte even: the rest is the leaf's text as
 * is; odd: the rest is a key blob, base64-encoded first so that the RFC 4253
 * section 6.6 parser (and libssh's import) sees arbitrary blobs.
 * A key accepted must come with its algorithm name.
 * MM_NC_FUZZ_SHOW=1 prints each input's result (to show seeds reach the parser).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mamori/mm_netconf_ssh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384)
        return 0;
    bool blob = data[0] & 1;
    data++;
    size--;
    char *text = malloc(blob ? 4 * ((size + 2) / 3) + 1 : size + 1);
    if (!text)
        return 0;
    if (blob) {
        EVP_EncodeBlock((unsigned char *)text, data, (int)size);
    } else {
        memcpy(text, data, size);
        text[size] = '\0';
    }
    char type[64], why[200];
    int rc = mm_nc_ssh_pubkey_check(text, type, sizeof(type), why, sizeof(why));
    if (getenv("MM_NC_FUZZ_SHOW"))
        fprintf(stderr, "rc=%d type=%s why=%s\n", rc, rc == 0 ? type : "-", rc ? why : "-");
    if (rc == 0 && !type[0])
        abort();
    free(text);
    return 0;
}
