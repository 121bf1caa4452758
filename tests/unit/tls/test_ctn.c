/*
 * test_ctn.c - RFC 7407 cert-to-name: every map type, entry order, fall
 * through, fingerprints over the whole chain, and the text helpers.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_tls.h"
#include "testutil.h"

typedef struct fixture {
    EVP_PKEY *ca_key, *key, *bare_key;
    X509 *ca, *leaf, *bare; /* bare: no SAN at all */
    STACK_OF(X509) *chain, *bare_chain;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || !tu_issue(NULL, NULL, NULL, "Test CA", NULL, &f->ca_key, &f->ca) ||
        !tu_issue(NULL, f->ca_key, f->ca, "Alice Leaf",
                  "DNS:Router1.Example.NET,email:Alice@Example.COM,IP:192.0.2.7,"
                  "IP:2001:db8::1",
                  &f->key, &f->leaf) ||
        !tu_issue(NULL, f->ca_key, f->ca, "bare", NULL, &f->bare_key, &f->bare))
        return -1;
    f->chain = sk_X509_new_null();
    f->bare_chain = sk_X509_new_null();
    sk_X509_push(f->chain, f->leaf);
    sk_X509_push(f->chain, f->ca);
    sk_X509_push(f->bare_chain, f->bare);
    sk_X509_push(f->bare_chain, f->ca);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    sk_X509_free(f->chain);
    sk_X509_free(f->bare_chain);
    X509_free(f->ca);
    X509_free(f->leaf);
    X509_free(f->bare);
    EVP_PKEY_free(f->ca_key);
    EVP_PKEY_free(f->key);
    EVP_PKEY_free(f->bare_key);
    free(f);
    return 0;
}

static mm_ctn_entry entry(uint32_t id, X509 *fp_of, enum mm_ctn_hash h,
                          enum mm_ctn_map_type t, const char *name)
{
    mm_ctn_entry e = {.id = id, .map_type = t, .name = name};

    assert_int_equal(mm_ctn_fingerprint_of(fp_of, h, e.fingerprint, sizeof(e.fingerprint),
                                           &e.fingerprint_len),
                     0);
    return e;
}

static int resolve1(STACK_OF(X509) *chain, mm_ctn_entry e, char *out, size_t len)
{
    mm_ctn_map map = {&e, 1};
    return mm_ctn_resolve(chain, &map, out, len);
}

static void test_each_map_type(void **state)
{
    fixture *f = *state;
    char name[128];
    static const struct {
        enum mm_ctn_map_type type;
        const char *want;
    } cases[] = {
        {MM_CTN_SPECIFIED, "operator"},
        {MM_CTN_SAN_RFC822_NAME, "Alice@example.com"}, /* host part lowercased */
        {MM_CTN_SAN_DNS_NAME, "router1.example.net"},
        {MM_CTN_SAN_IP_ADDRESS, "192.0.2.7"}, /* the first iPAddress */
        {MM_CTN_SAN_ANY, "router1.example.net"}, /* first of the kinds, cert order */
        {MM_CTN_COMMON_NAME, "Alice Leaf"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Matching on the leaf's own fingerprint ... */
        mm_ctn_entry e = entry(1, f->leaf, MM_CTN_SHA256, cases[i].type, "operator");
        assert_int_equal(resolve1(f->chain, e, name, sizeof(name)), 0);
        assert_string_equal(name, cases[i].want);
        /* ... and on the CA's (any certificate of the chain), other hashes. */
        e = entry(1, f->ca, (enum mm_ctn_hash)(MM_CTN_SHA1 + i % 5), cases[i].type, "operator");
        assert_int_equal(resolve1(f->chain, e, name, sizeof(name)), 0);
        assert_string_equal(name, cases[i].want);
    }
}

static void test_ipv6_format(void **state)
{
    fixture *f = *state;
    X509 *c;
    EVP_PKEY *k;
    STACK_OF(X509) *chain = sk_X509_new_null();
    char name[64];

    assert_int_equal(tu_issue(NULL, f->ca_key, f->ca, "v6", "IP:2001:db8::1", &k, &c), 1);
    sk_X509_push(chain, c);
    assert_int_equal(resolve1(chain, entry(1, c, MM_CTN_SHA256, MM_CTN_SAN_IP_ADDRESS, NULL),
                              name, sizeof(name)),
                     0);
    assert_string_equal(name, "20010db8000000000000000000000001");
    sk_X509_free(chain);
    X509_free(c);
    EVP_PKEY_free(k);
}

static void test_fingerprint_mismatch_falls_through(void **state)
{
    fixture *f = *state;
    char name[64];
    mm_ctn_entry entries[3];
    mm_ctn_map map = {entries, 3};

    /* Given out of order: ids 30, 10, 20. id 10 is for another certificate. */
    entries[0] = entry(30, f->ca, MM_CTN_SHA256, MM_CTN_SPECIFIED, "third");
    entries[1] = entry(10, f->bare, MM_CTN_SHA256, MM_CTN_SPECIFIED, "not-me");
    entries[2] = entry(20, f->leaf, MM_CTN_SHA512, MM_CTN_COMMON_NAME, NULL);
    assert_int_equal(mm_ctn_resolve(f->chain, &map, name, sizeof(name)), 0);
    assert_string_equal(name, "Alice Leaf");
    /* The bare certificate matches id 10 first (its own fingerprint). */
    assert_int_equal(mm_ctn_resolve(f->bare_chain, &map, name, sizeof(name)), 0);
    assert_string_equal(name, "not-me");

    /* Nothing matches: MM_ENOENT. */
    map.count = 1;
    entries[0] = entry(1, f->bare, MM_CTN_SHA256, MM_CTN_SPECIFIED, "x");
    assert_int_equal(mm_ctn_resolve(f->chain, &map, name, sizeof(name)), MM_ENOENT);
    /* A one-byte change of the fingerprint no longer matches. */
    entries[0] = entry(1, f->leaf, MM_CTN_SHA256, MM_CTN_SPECIFIED, "x");
    entries[0].fingerprint[5] ^= 0x80;
    assert_int_equal(mm_ctn_resolve(f->chain, &map, name, sizeof(name)), MM_ENOENT);
}

static void test_map_type_without_value_falls_through(void **state)
{
    fixture *f = *state;
    char name[64];
    mm_ctn_entry entries[2];
    mm_ctn_map map = {entries, 2};

    /* The bare leaf has no SAN: san-dns-name finds nothing, the next entry applies. */
    entries[0] = entry(1, f->ca, MM_CTN_SHA256, MM_CTN_SAN_DNS_NAME, NULL);
    entries[1] = entry(2, f->ca, MM_CTN_SHA256, MM_CTN_COMMON_NAME, NULL);
    assert_int_equal(mm_ctn_resolve(f->bare_chain, &map, name, sizeof(name)), 0);
    assert_string_equal(name, "bare");
    map.count = 1;
    assert_int_equal(mm_ctn_resolve(f->bare_chain, &map, name, sizeof(name)), MM_ENOENT);
    entries[0] = entry(1, f->ca, MM_CTN_SHA256, MM_CTN_SAN_ANY, NULL);
    assert_int_equal(mm_ctn_resolve(f->bare_chain, &map, name, sizeof(name)), MM_ENOENT);
}

static void test_name_too_long(void **state)
{
    fixture *f = *state;
    char name[5];

    assert_int_equal(resolve1(f->chain, entry(1, f->leaf, MM_CTN_SHA256, MM_CTN_SAN_DNS_NAME,
                                              NULL),
                              name, sizeof(name)),
                     MM_ESPACE);
}

static void test_text_helpers(void **state)
{
    fixture *f = *state;
    uint8_t fp[MM_CTN_FINGERPRINT_MAX], fp2[MM_CTN_FINGERPRINT_MAX];
    size_t n = 0, n2 = 0;
    char text[3 * MM_CTN_FINGERPRINT_MAX + 1];
    enum mm_ctn_map_type t;

    assert_int_equal(mm_ctn_fingerprint_of(f->leaf, MM_CTN_SHA256, fp, sizeof(fp), &n), 0);
    assert_int_equal(n, 33);
    assert_int_equal(fp[0], 4);
    for (size_t i = 0; i < n; i++)
        snprintf(text + 3 * i, 4, "%02X%s", fp[i], i + 1 < n ? ":" : "");
    assert_int_equal(mm_ctn_fingerprint_parse(text, fp2, sizeof(fp2), &n2), 0);
    assert_int_equal(n2, n);
    assert_memory_equal(fp, fp2, n);
    assert_int_equal(mm_ctn_fingerprint_parse("04:zz", fp2, sizeof(fp2), &n2), MM_EMALFORMED);
    assert_int_equal(mm_ctn_fingerprint_parse("09:00", fp2, sizeof(fp2), &n2), MM_EMALFORMED);
    assert_int_equal(mm_ctn_fingerprint_parse("04:0", fp2, sizeof(fp2), &n2), MM_EMALFORMED);
    assert_int_equal(mm_ctn_fingerprint_of(f->leaf, (enum mm_ctn_hash)9, fp, sizeof(fp), &n),
                     MM_EUNSUPPORTED);

    for (int i = MM_CTN_SPECIFIED; i <= MM_CTN_COMMON_NAME; i++) {
        assert_int_equal(mm_ctn_map_type_parse(mm_ctn_map_type_name(i), &t), 0);
        assert_int_equal(t, i);
    }
    assert_int_equal(mm_ctn_map_type_parse("x509c2n:san-any", &t), 0);
    assert_int_equal(t, MM_CTN_SAN_ANY);
    assert_int_equal(mm_ctn_map_type_parse("san-foo", &t), MM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_map_type),
        cmocka_unit_test(test_ipv6_format),
        cmocka_unit_test(test_fingerprint_mismatch_falls_through),
        cmocka_unit_test(test_map_type_without_value_falls_through),
        cmocka_unit_test(test_name_too_long),
        cmocka_unit_test(test_text_helpers),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
