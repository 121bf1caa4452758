/*
 * Tokens, scopes and the key file (spec 5.2, 5.3).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

static void test_generate(void **state)
{
    (void)state;
    char a[MM_DDNS_TOKEN_MAX], b[MM_DDNS_TOKEN_MAX];
    assert_int_equal(mm_ddns_token_generate("mamori", "live", a, sizeof(a)), 0);
    assert_int_equal(mm_ddns_token_generate("mamori", "live", b, sizeof(b)), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(strlen(a), strlen("mamori_live_") + 32);
    assert_true(mm_ddns_token_well_formed(a, strlen(a)));
    assert_int_equal(mm_ddns_token_generate("UPPER", "live", a, sizeof(a)), MM_EINVAL);
    assert_int_equal(mm_ddns_token_generate("mamori", "prod", a, sizeof(a)), MM_EINVAL);
    assert_int_equal(mm_ddns_token_generate("mamori", "live", a, 20), MM_ESPACE);
    static const char *bad[] = {"invalid_token_format", "x", "mamori_live_short", "ab_live_" "0123456789abcdef",
                                "mamori_prod_0123456789abcdef", "mamori_live_0123456789abcde!"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (mm_ddns_token_well_formed(bad[i], strlen(bad[i])))
            fail_msg("well-formed: %s", bad[i]);
    /* random part may contain '_' (base64url): split on the first two only */
    assert_true(mm_ddns_token_well_formed("mamori_test_abc_def_ghijklmnopqrs", 33));
    char hint[64];
    mm_ddns_token_hint("mamori_test_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", hint, sizeof(hint));
    assert_string_equal(hint, "mamori_test_ABCD...2345");
}

static void test_hash(void **state)
{
    (void)state;
    uint8_t k1[MM_DDNS_KEY_LEN] = {1}, k2[MM_DDNS_KEY_LEN] = {2};
    uint8_t h1[32], h2[32], h3[32];
    assert_int_equal(mm_ddns_token_hash(k1, "tok", 3, h1), 0);
    assert_int_equal(mm_ddns_token_hash(k1, "tok", 3, h2), 0);
    assert_int_equal(mm_ddns_token_hash(k2, "tok", 3, h3), 0);
    assert_true(mm_ddns_hash_equal(h1, h2));
    assert_false(mm_ddns_hash_equal(h1, h3)); /* keyed: another key, another hash */
    h2[31] ^= 1;
    assert_false(mm_ddns_hash_equal(h1, h2));
    /* HMAC-SHA256 with key 0x01 00.. over "tok" is not the token */
    assert_memory_not_equal(h1, "tok", 3);
    /*
     * Stored hashes must not change: the hand-rolled HMAC equals OpenSSL's
     * HMAC-SHA256 (tokens of every length up to the maximum, keys with
     * high bits), so databases made before keep working.
     */
    uint8_t k[MM_DDNS_KEY_LEN], ref[32], got[32];
    char tok[MM_DDNS_TOKEN_MAX];
    for (size_t i = 0; i < sizeof(k); i++)
        k[i] = (uint8_t)(0xa5 ^ (i * 37));
    for (size_t n = 0; n < sizeof(tok); n++) {
        tok[n] = (char)('A' + n % 26);
        unsigned int rl = 0;
        assert_non_null(HMAC(EVP_sha256(), k, sizeof(k), (const unsigned char *)tok, n, ref, &rl));
        assert_int_equal(mm_ddns_token_hash(k, tok, n, got), 0);
        assert_memory_equal(ref, got, 32);
    }
}

static void test_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/mm-ddns-key.XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/token.key", dir);
    uint8_t k1[32], k2[32];
    assert_int_equal(mm_ddns_key_load(path, k1), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(mm_ddns_key_load(path, k2), 0);
    assert_memory_equal(k1, k2, 32); /* created once, then read back */
    chmod(path, 0644);
    assert_int_equal(mm_ddns_key_load(path, k2), MM_EPERM); /* readable by others: refused */
    unlink(path);
    rmdir(dir);
}

static void test_scopes(void **state)
{
    (void)state;
    uint32_t m;
    char out[128];
    assert_int_equal(mm_ddns_scopes_parse("all", &m), 0);
    assert_int_equal(m, MM_DDNS_SCOPE_ALL);
    assert_int_equal(mm_ddns_scopes_parse("dns:update,txt:write", &m), 0);
    assert_int_equal(m, MM_DDNS_SCOPE(MM_DDNS_SCOPE_DNS_UPDATE_BIT) |
                            MM_DDNS_SCOPE(MM_DDNS_SCOPE_TXT_WRITE_BIT));
    assert_int_equal(mm_ddns_scopes_format(m, out, sizeof(out)), 0);
    assert_string_equal(out, "dns:update,txt:write");
    assert_int_equal(mm_ddns_scopes_parse("dns:update,admin", &m), MM_EINVAL);
    assert_int_equal(mm_ddns_scopes_parse("", &m), MM_EINVAL);
    assert_int_equal(mm_ddns_scopes_parse("dns:updat", &m), MM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate), cmocka_unit_test(test_hash),
        cmocka_unit_test(test_key_file), cmocka_unit_test(test_scopes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
