/*
 * Unit test: parsing of mamori-netconfd's --call-home T:HOST[:PORT].
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netconfd_callhome.h"

static void test_good(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *transport, *host;
        uint16_t port;
    } rows[] = {
        {"tls:nms.example.net", "tls", "nms.example.net", 4335},
        {"ssh:nms.example.net", "ssh", "nms.example.net", 4334},
        {"tls:10.0.0.5:9999", "tls", "10.0.0.5", 9999},
        {"ssh:[2001:db8::1]:830", "ssh", "2001:db8::1", 830},
        {"tls:[::1]", "tls", "::1", 4335},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        mm_netconfd_callhome_client c;
        assert_int_equal(mm_netconfd_callhome_parse(rows[i].spec, &c), 0);
        assert_string_equal(c.transport, rows[i].transport);
        assert_string_equal(c.host, rows[i].host);
        assert_int_equal(c.port, rows[i].port);
    }
}

static void test_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "quic:h",   "tls:",     "tls::830",   "tls:h:", "tls:h:0", "tls:h:65536",
        "tls:h:8x", "ssh:[::1", "ssh:[::1]x", "h:830",  ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mm_netconfd_callhome_client c;
        assert_true(mm_netconfd_callhome_parse(bad[i], &c) < 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_good), cmocka_unit_test(test_bad)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
