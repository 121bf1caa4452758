/*
 * Address parsing and classes (spec section 10, -02 lists).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

static enum mm_ddns_addr_class cls(const char *s)
{
    mm_ddns_addr a;
    assert_int_equal(mm_ddns_addr_parse(s, strlen(s), &a), 0);
    return mm_ddns_addr_classify(&a);
}

static void test_classes(void **state)
{
    (void)state;
    static const struct { const char *a; enum mm_ddns_addr_class c; } rows[] = {
        {"8.8.8.8", MM_DDNS_ADDR_PUBLIC},          {"0.1.2.3", MM_DDNS_ADDR_UNSPECIFIED},
        {"10.1.2.3", MM_DDNS_ADDR_PRIVATE},        {"100.64.0.1", MM_DDNS_ADDR_SHARED},
        {"100.128.0.1", MM_DDNS_ADDR_PUBLIC},      {"127.0.0.1", MM_DDNS_ADDR_LOOPBACK},
        {"169.254.1.1", MM_DDNS_ADDR_LINK_LOCAL},  {"172.16.0.1", MM_DDNS_ADDR_PRIVATE},
        {"172.31.255.255", MM_DDNS_ADDR_PRIVATE},  {"172.32.0.1", MM_DDNS_ADDR_PUBLIC},
        {"192.0.0.8", MM_DDNS_ADDR_RESERVED},      {"192.0.2.1", MM_DDNS_ADDR_DOCUMENTATION},
        {"192.168.1.1", MM_DDNS_ADDR_PRIVATE},     {"198.18.0.1", MM_DDNS_ADDR_BENCHMARK},
        {"198.19.255.1", MM_DDNS_ADDR_BENCHMARK},  {"198.20.0.1", MM_DDNS_ADDR_PUBLIC},
        {"198.51.100.7", MM_DDNS_ADDR_DOCUMENTATION}, {"203.0.113.50", MM_DDNS_ADDR_DOCUMENTATION},
        {"224.0.0.1", MM_DDNS_ADDR_MULTICAST},     {"239.255.255.255", MM_DDNS_ADDR_MULTICAST},
        {"240.0.0.1", MM_DDNS_ADDR_RESERVED},      {"255.255.255.255", MM_DDNS_ADDR_BROADCAST},
        {"::", MM_DDNS_ADDR_UNSPECIFIED},          {"::1", MM_DDNS_ADDR_LOOPBACK},
        {"::ffff:1.2.3.4", MM_DDNS_ADDR_TRANSLATION}, {"64:ff9b::1.2.3.4", MM_DDNS_ADDR_TRANSLATION},
        {"100::1", MM_DDNS_ADDR_RESERVED},         {"2001:db8::1", MM_DDNS_ADDR_DOCUMENTATION},
        {"fd00::1", MM_DDNS_ADDR_ULA},             {"fc00::1", MM_DDNS_ADDR_ULA},
        {"fe80::1", MM_DDNS_ADDR_LINK_LOCAL},      {"febf::1", MM_DDNS_ADDR_LINK_LOCAL},
        {"fec0::1", MM_DDNS_ADDR_PUBLIC},          {"ff02::1", MM_DDNS_ADDR_MULTICAST},
        {"2606:4700::1111", MM_DDNS_ADDR_PUBLIC},  {"2001:db9::1", MM_DDNS_ADDR_PUBLIC},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        enum mm_ddns_addr_class got = cls(rows[i].a);
        if (got != rows[i].c)
            fail_msg("%s: got %s want %s", rows[i].a, mm_ddns_addr_class_name(got),
                     mm_ddns_addr_class_name(rows[i].c));
    }
}

static void test_parse_strict(void **state)
{
    (void)state;
    static const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.256", "1.2.3.4 ",
                                " 1.2.3.4", "0x7f.0.0.1", "fe80::1%eth0", "::g", "1.2.3.4/24",
                                "auto", "1:2:3:4:5:6:7:8:9"};
    mm_ddns_addr a;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (mm_ddns_addr_parse(bad[i], strlen(bad[i]), &a) == 0)
            fail_msg("accepted '%s'", bad[i]);
    /* embedded NUL */
    assert_int_not_equal(mm_ddns_addr_parse("1.2.3.4\0x", 9, &a), 0);
    char out[64];
    assert_int_equal(mm_ddns_addr_parse("2001:DB8:0:0:0:0:0:1", 20, &a), 0);
    mm_ddns_addr_format(&a, out, sizeof(out));
    assert_string_equal(out, "2001:db8::1"); /* RFC 5952 canonical */
    assert_int_equal(mm_ddns_addr_parse("::ffff:203.0.113.9", 18, &a), 0);
    mm_ddns_addr_unmap(&a);
    assert_int_equal(a.family, AF_INET);
    mm_ddns_addr_format(&a, out, sizeof(out));
    assert_string_equal(out, "203.0.113.9");
}

static void test_publishable(void **state)
{
    (void)state;
    mm_ddns_addr a;
    assert_int_equal(mm_ddns_addr_parse("203.0.113.50", 12, &a), 0);
    assert_false(mm_ddns_addr_publishable(&a, false));
    assert_true(mm_ddns_addr_publishable(&a, true));
    assert_int_equal(mm_ddns_addr_parse("192.168.1.1", 11, &a), 0);
    assert_false(mm_ddns_addr_publishable(&a, true)); /* test mode still rejects private */
    assert_int_equal(mm_ddns_addr_parse("9.9.9.9", 7, &a), 0);
    assert_true(mm_ddns_addr_publishable(&a, false));
}

/* The client behind trusted proxies: who may set X-Forwarded-For, and which entry counts. */
static const char *client_of(const char *peer, const char *xff, const char *const *trust, size_t n,
                             int *rc)
{
    static char out[64];
    mm_ddns_prefix t[4];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(mm_ddns_prefix_parse(trust[i], &t[i]), 0);
    mm_ddns_addr p, c;
    assert_int_equal(mm_ddns_addr_parse(peer, strlen(peer), &p), 0);
    *rc = mm_ddns_client_addr(&p, xff, t, n, &c);
    mm_ddns_addr_format(&c, out, sizeof(out));
    return out;
}

static void test_forwarded_for(void **state)
{
    (void)state;
    int rc;
    const char *none[] = {NULL};
    const char *lb[] = {"127.0.0.1"};
    const char *two[] = {"10.0.0.0/8", "2001:db8:ff::/48"};
    /* default: no trusted proxy, the header is ignored */
    assert_string_equal(client_of("127.0.0.1", "203.0.113.9", none, 0, &rc), "127.0.0.1");
    /* a peer that is not trusted cannot choose its address */
    assert_string_equal(client_of("198.51.100.1", "203.0.113.9", lb, 1, &rc), "198.51.100.1");
    /* trusted peer: the client it saw */
    assert_string_equal(client_of("127.0.0.1", "203.0.113.9", lb, 1, &rc), "203.0.113.9");
    assert_int_equal(rc, 0);
    /* IPv4-mapped peer matches an IPv4 prefix */
    assert_string_equal(client_of("::ffff:127.0.0.1", " 203.0.113.9 ", lb, 1, &rc), "203.0.113.9");
    /* entries left of the first untrusted one were written by the client: ignored */
    assert_string_equal(client_of("10.1.1.1", "192.0.2.66, 203.0.113.9,10.2.2.2", two, 2, &rc),
                        "203.0.113.9");
    assert_string_equal(client_of("2001:db8:ff::1", "2001:db8:1::5, 10.9.9.9", two, 2, &rc),
                        "2001:db8:1::5");
    /* garbage stops the walk at the last trusted hop */
    assert_string_equal(client_of("127.0.0.1", "203.0.113.9, evil.example", lb, 1, &rc), "127.0.0.1");
    assert_int_equal(rc, MM_EINVAL);
    assert_string_equal(client_of("10.1.1.1", "203.0.113.9, 10.2.2.2, junk", two, 2, &rc), "10.1.1.1");
    /* every entry trusted: the leftmost is the client */
    assert_string_equal(client_of("10.1.1.1", "10.3.3.3", two, 2, &rc), "10.3.3.3");
    /* empty header: the peer */
    assert_string_equal(client_of("127.0.0.1", "", lb, 1, &rc), "127.0.0.1");
    /* prefixes */
    mm_ddns_prefix p;
    assert_int_equal(mm_ddns_prefix_parse("10.0.0.0/33", &p), MM_EINVAL);
    assert_int_equal(mm_ddns_prefix_parse("10.0.0.0/", &p), MM_EINVAL);
    assert_int_equal(mm_ddns_prefix_parse("nope", &p), MM_EINVAL);
    assert_int_equal(mm_ddns_prefix_parse("172.16.0.0/12", &p), 0);
    mm_ddns_addr a;
    mm_ddns_addr_parse("172.31.1.1", 10, &a);
    assert_true(mm_ddns_prefix_match(&p, &a));
    mm_ddns_addr_parse("172.32.1.1", 10, &a);
    assert_false(mm_ddns_prefix_match(&p, &a));
    /* an over-long header keeps the peer */
    char big[MM_DDNS_XFF_MAX + 10];
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_string_equal(client_of("127.0.0.1", big, lb, 1, &rc), "127.0.0.1");
    assert_int_equal(rc, MM_ELIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_parse_strict),
        cmocka_unit_test(test_publishable),
        cmocka_unit_test(test_forwarded_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
