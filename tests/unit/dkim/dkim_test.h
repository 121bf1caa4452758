/* Helpers of the DKIM unit tests. SPDX-License-Identifier: Apache-2.0 */
#ifndef MM_DKIM_TEST_H
#define MM_DKIM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mamori/mm_audit.h"
#include "mamori/mm_dkim.h"

/* Read a whole file into a NUL-terminated malloc'd buffer (NULL if absent). */
static inline uint8_t *t_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    mm_buf b;
    mm_buf_init(&b, 16 << 20);
    int rc = mm_buf_read_stream(&b, f);
    fclose(f);
    if (rc < 0) {
        mm_buf_free(&b);
        return NULL;
    }
    mm_buf_cstr(&b);
    *len = b.len;
    return b.data;
}

/* A key-file source holding the given "name rdata" text. */
static inline mm_dkim_keysrc *t_keys(const char *text)
{
    char path[] = "/tmp/mm-dkim-keys-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    mm_dkim_keysrc *ks = NULL;
    assert_int_equal(mm_dkim_keysrc_open(MM_DKIM_KEYS_FILE, path, 0, &ks), 0);
    unlink(path);
    return ks;
}

/* A fresh key and its key record line "sel._domainkey.example.test RDATA\n" appended to rec. */
static inline EVP_PKEY *t_key(enum mm_dkim_alg alg, int bits, const char *sel, mm_buf *rec)
{
    EVP_PKEY *pk = alg == MM_DKIM_ALG_ED25519_SHA256 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                                                     : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    assert_non_null(pk);
    uint8_t der[4096];
    size_t dl = sizeof(der);
    if (alg == MM_DKIM_ALG_ED25519_SHA256) {
        assert_int_equal(EVP_PKEY_get_raw_public_key(pk, der, &dl), 1);
    } else {
        unsigned char *p = der;
        dl = (size_t)i2d_PUBKEY(pk, &p);
    }
    mm_buf_printf(rec, "%s._domainkey.example.test v=DKIM1; k=%s; p=", sel,
                  alg == MM_DKIM_ALG_ED25519_SHA256 ? "ed25519" : "rsa");
    mm_dkim_b64_encode(rec, der, dl);
    mm_buf_append_str(rec, "\n");
    return pk;
}

/* Signed message = signature field + CRLF + msg. */
static inline uint8_t *t_sign(const mm_dkim_sign_opts *o, const char *msg, size_t *len)
{
    mm_buf f;
    mm_buf_init(&f, 1 << 24);
    assert_int_equal(mm_dkim_sign_message(o, (const uint8_t *)msg, strlen(msg), &f), 0);
    mm_buf_append_str(&f, "\r\n");
    mm_buf_append_str(&f, msg);
    mm_buf_cstr(&f);
    *len = f.len;
    return f.data;
}

/* Verify and return the result of the first signature (NONE if there is none). */
static inline mm_dkim_result t_verify(mm_dkim_keysrc *ks, const uint8_t *m, size_t len, bool allow_l)
{
    mm_dkim_verify_opts vo = {.keys = ks, .allow_l = allow_l};
    mm_dkim_result r[4];
    size_t n = 0;
    mm_dkim_result none = {.code = MM_DKIM_NONE};
    if (mm_dkim_verify_message(&vo, m, len, r, 4, &n) < 0) {
        none.code = MM_DKIM_PERMERROR;
        snprintf(none.reason, sizeof(none.reason), "message unparseable");
        return none;
    }
    return n ? r[0] : none;
}

#define T_MSG                                                                 \
    "From: Alice <alice@example.test>\r\n"                                    \
    "To: Bob <bob@example.net>\r\n"                                           \
    "Subject: hello\r\n"                                                      \
    "Date: Wed, 31 Dec 2025 12:00:00 +0000\r\n"                               \
    "Message-ID: <t1@example.test>\r\n"                                       \
    "\r\n"                                                                    \
    "Hello Bob,\r\n"                                                          \
    "  this  is a test.  \r\n"                                                \
    "\r\n"                                                                    \
    "\r\n"

#endif
