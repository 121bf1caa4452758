/*
 * Request validation: hostnames, TTL, tri-state addresses, TXT, and the
 * order of checks the conformance suite depends on (spec sections 10, 17).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <jansson.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

static const mm_ddns_policy prod = {.allow_doc = false, .allow_loopback_auto = false,
                                    .txt_enabled = true};
static const mm_ddns_policy testm = {.allow_doc = true, .allow_loopback_auto = true,
                                     .txt_enabled = true};

/* Parse body; return the error code string ("ok" when accepted). */
static const char *parse(const char *body, const mm_ddns_policy *pol, mm_ddns_update_req *r)
{
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    mm_ddns_fail f = {0};
    int rc = mm_ddns_update_parse(j, NULL, pol, r, &f);
    json_decref(j);
    return rc == 0 ? "ok" : mm_ddns_err_code(f.err);
}

static void test_hostnames(void **state)
{
    (void)state;
    char out[MM_DDNS_HOSTNAME_MAX + 1];
    static const char *good[] = {"home.example.net", "HOME.Example.NET.", "a.b", "xn--bcher-kva.example",
                                 "1.2.3.4.example", "a-b.c-d.example"};
    static const char *bad[] = {"", ".", "example", "invalid..hostname", ".a.b", "a.b..", "-a.b",
                                "a-.b", "a_b.example", "ex ample.net",
                                "a.b/c", "a.b\\c", "a.b%2e"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (mm_ddns_hostname_normalize(good[i], strlen(good[i]), false, out) != 0)
            fail_msg("rejected %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (mm_ddns_hostname_normalize(bad[i], strlen(bad[i]), false, out) == 0)
            fail_msg("accepted %s", bad[i]);
    assert_int_equal(mm_ddns_hostname_normalize("HOME.Example.NET.", 17, false, out), 0);
    assert_string_equal(out, "home.example.net");
    /* label of 63 ok, 64 not; name of 253 ok, 254 not */
    char l[300];
    memset(l, 'a', 63);
    strcpy(l + 63, ".example");
    assert_int_equal(mm_ddns_hostname_normalize(l, strlen(l), false, out), 0);
    memset(l, 'a', 64);
    strcpy(l + 64, ".example");
    assert_int_not_equal(mm_ddns_hostname_normalize(l, strlen(l), false, out), 0);
    for (int i = 0; i < 126; i++)
        memcpy(l + 2 * i, "a.", 2);
    l[252] = 'b';
    l[253] = 0; /* 253 characters */
    assert_int_equal(mm_ddns_hostname_normalize(l, 253, false, out), 0);
    l[253] = 'c';
    l[254] = 0;
    assert_int_not_equal(mm_ddns_hostname_normalize(l, 254, false, out), 0);
    /* TXT owners: leading underscore label only with txt_owner */
    assert_int_equal(mm_ddns_hostname_normalize("_acme-challenge.home.example.net", 32, true, out), 0);
    assert_int_not_equal(mm_ddns_hostname_normalize("_acme-challenge.home.example.net", 32, false, out), 0);
    assert_int_not_equal(mm_ddns_hostname_normalize("home._x.example.net", 19, true, out), 0);
    char base[300];
    assert_int_equal(mm_ddns_txt_owner_base("_acme-challenge.home.example.net", base, sizeof(base)), 0);
    assert_string_equal(base, "home.example.net");
    assert_int_equal(mm_ddns_txt_owner_base("_evil.home.example.net", base, sizeof(base)), MM_EPERM);
    assert_int_equal(mm_ddns_txt_owner_base("_acme-challenge.net", base, sizeof(base)), MM_EPERM);
    assert_true(mm_ddns_name_in_zone("a.dyn.example", "dyn.example"));
    assert_true(mm_ddns_name_in_zone("dyn.example", "dyn.example"));
    assert_false(mm_ddns_name_in_zone("xdyn.example", "dyn.example"));
}

static void test_order(void **state)
{
    (void)state;
    mm_ddns_update_req r;
    /* hostname before everything */
    assert_string_equal(parse("{\"ipv4\":\"192.168.1.1\",\"ttl\":5}", &prod, &r), "validation_error");
    assert_string_equal(parse("{\"hostname\":\"invalid..hostname\",\"ttl\":5}", &prod, &r),
                        "invalid_hostname");
    assert_string_equal(parse("{\"hostname\":5}", &prod, &r), "validation_error");
    /* TTL before addresses, and before any auto-detection (section 17) */
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ttl\":30,\"ipv4\":\"auto\"}", &prod, &r),
                        "invalid_ttl");
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ttl\":100000,\"ipv4\":\"10.0.0.1\"}", &prod, &r),
                        "invalid_ttl");
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ttl\":300.5}", &prod, &r), "invalid_ttl");
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ttl\":\"300\"}", &prod, &r), "invalid_ttl");
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ttl\":60}", &prod, &r), "ok");
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ttl\":86400}", &prod, &r), "ok");
    /* addresses */
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv4\":\"192.168.1.1\"}", &testm, &r),
                        "invalid_ip");
    static const char *v6bad[] = {"::1", "fe80::1", "fd00::1", "ff02::1"};
    for (size_t i = 0; i < 4; i++) {
        char b[128];
        snprintf(b, sizeof(b), "{\"hostname\":\"a.example\",\"ipv6\":\"%s\"}", v6bad[i]);
        assert_string_equal(parse(b, &testm, &r), "invalid_ip");
    }
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv4\":\"2001:db8::1\"}", &testm, &r),
                        "invalid_ip"); /* wrong family */
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv4\":\"203.0.113.50\"}", &prod, &r),
                        "invalid_ip"); /* documentation: production rejects */
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv4\":\"203.0.113.50\"}", &testm, &r), "ok");
    assert_int_equal(r.v4, MM_DDNS_SET);
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv4\":7}", &testm, &r), "validation_error");
}

static void test_tristate(void **state)
{
    (void)state;
    mm_ddns_update_req r;
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv4\":null,\"ipv6\":\"auto\"}", &prod, &r), "ok");
    assert_int_equal(r.v4, MM_DDNS_NULL);
    assert_int_equal(r.v6, MM_DDNS_AUTO);
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ttl\":600}", &prod, &r), "ok");
    assert_int_equal(r.v4, MM_DDNS_ABSENT); /* TTL only: addresses untouched */
    assert_int_equal(r.v6, MM_DDNS_ABSENT);
    assert_string_equal(parse("{\"hostname\":\"a.example\"}", &prod, &r), "ok");
    assert_int_equal(r.v4, MM_DDNS_AUTO); /* nothing at all: auto IPv4 (-00) */
    assert_int_equal(r.v6, MM_DDNS_ABSENT);
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ip\":\"9.9.9.9\"}", &prod, &r), "ok");
    assert_int_equal(r.v4, MM_DDNS_SET);
}

static void test_auto(void **state)
{
    (void)state;
    mm_ddns_update_req r;
    mm_ddns_fail f;
    mm_ddns_addr peer4, peer6, lo;
    mm_ddns_addr_parse("9.9.9.9", 7, &peer4);
    mm_ddns_addr_parse("2606:4700::1", 12, &peer6);
    mm_ddns_addr_parse("127.0.0.1", 9, &lo);
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv6\":\"auto\"}", &prod, &r), "ok");
    assert_int_equal(mm_ddns_update_resolve_auto(&r, &peer4, &prod, &f), MM_EINVAL);
    assert_int_equal(f.err, MM_DDNS_IPV6_AUTO_FAILED);
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv4\":\"auto\"}", &prod, &r), "ok");
    assert_int_equal(mm_ddns_update_resolve_auto(&r, &peer6, &prod, &f), MM_EINVAL);
    assert_int_equal(f.err, MM_DDNS_IPV4_AUTO_FAILED);
    assert_int_equal(mm_ddns_update_resolve_auto(&r, &peer4, &prod, &f), 0);
    assert_int_equal(r.v4, MM_DDNS_SET);
    /* loopback peer: invalid_ip in production, a documentation address in test mode */
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv4\":\"auto\"}", &prod, &r), "ok");
    assert_int_equal(mm_ddns_update_resolve_auto(&r, &lo, &prod, &f), MM_EINVAL);
    assert_int_equal(f.err, MM_DDNS_INVALID_IP);
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv4\":\"auto\"}", &testm, &r), "ok");
    assert_int_equal(mm_ddns_update_resolve_auto(&r, &lo, &testm, &f), 0);
    char t[64];
    mm_ddns_addr_format(&r.a4, t, sizeof(t));
    assert_string_equal(t, "203.0.113.1");
    /* an IPv4-mapped peer counts as IPv4 */
    mm_ddns_addr mapped;
    mm_ddns_addr_parse("::ffff:9.9.9.9", 14, &mapped);
    assert_string_equal(parse("{\"hostname\":\"a.example\",\"ipv4\":\"auto\"}", &prod, &r), "ok");
    assert_int_equal(mm_ddns_update_resolve_auto(&r, &mapped, &prod, &f), 0);
}

static void test_txt(void **state)
{
    (void)state;
    mm_ddns_update_req r;
    assert_string_equal(parse("{\"hostname\":\"home.example.net\",\"txt\":{\"name\":\"_acme-challenge\","
                              "\"value\":\"tok\",\"action\":\"set\"}}", &prod, &r), "ok");
    assert_true(r.has_txt);
    assert_string_equal(r.txt_owner, "_acme-challenge.home.example.net");
    assert_string_equal(parse("{\"hostname\":\"home.example.net\",\"txt\":{\"name\":\"_evil\","
                              "\"value\":\"tok\"}}", &prod, &r), "txt_invalid_name");
    assert_string_equal(parse("{\"hostname\":\"home.example.net\",\"txt\":{\"name\":\"_acme-challenge\"}}",
                              &prod, &r), "validation_error");
    assert_string_equal(parse("{\"hostname\":\"home.example.net\",\"txt\":{\"name\":\"_acme-challenge\","
                              "\"action\":\"delete\"}}", &prod, &r), "ok");
    assert_true(r.txt_delete);
    assert_false(r.txt_has_value);
    char big[400];
    int n = snprintf(big, sizeof(big), "{\"hostname\":\"home.example.net\",\"txt\":{\"name\":"
                     "\"_acme-challenge\",\"value\":\"");
    memset(big + n, 'x', 256);
    strcpy(big + n + 256, "\"}}");
    assert_string_equal(parse(big, &prod, &r), "txt_value_too_long");
    mm_ddns_policy off = prod;
    off.txt_enabled = false;
    assert_string_equal(parse("{\"hostname\":\"home.example.net\",\"txt\":{\"name\":\"_acme-challenge\","
                              "\"value\":\"tok\"}}", &off, &r), "txt_not_supported");
}

static void test_errors_table(void **state)
{
    (void)state;
    /* every code has an HTTP status, a dyndns2 line and a message */
    for (int e = 0; e < MM_DDNS_ERR_COUNT; e++) {
        assert_true(mm_ddns_err_http(e) >= 200 && mm_ddns_err_http(e) < 600);
        assert_true(strlen(mm_ddns_err_code(e)) > 0);
        assert_true(strlen(mm_ddns_err_dyndns(e)) > 0);
        assert_true(strlen(mm_ddns_err_message(e)) > 0);
    }
    assert_int_equal(mm_ddns_err_http(MM_DDNS_RATE_LIMITED), 429);
    assert_int_equal(mm_ddns_err_http(MM_DDNS_HOSTNAME_NOT_OWNED), 403);
    assert_string_equal(mm_ddns_err_dyndns(MM_DDNS_INVALID_TOKEN), "badauth");
    assert_string_equal(mm_ddns_err_code(MM_DDNS_BULK_LIMIT_EXCEEDED), "bulk_limit_exceeded");
}

static void test_small_parsers(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(mm_ddns_query_get("hostname=a.example&myip=1.2.3.4", "myip", out, sizeof(out)), 0);
    assert_string_equal(out, "1.2.3.4");
    assert_int_equal(mm_ddns_query_get("hostname=a%2Eexample", "hostname", out, sizeof(out)), 0);
    assert_string_equal(out, "a.example");
    assert_int_equal(mm_ddns_query_get("x=1", "myip", out, sizeof(out)), MM_ENOENT);
    assert_int_equal(mm_ddns_query_get("myip=%zz", "myip", out, sizeof(out)), MM_EMALFORMED);
    assert_int_equal(mm_ddns_query_get("myip=%00", "myip", out, sizeof(out)), MM_EMALFORMED);
    assert_int_equal(mm_ddns_query_get("myip=%4", "myip", out, sizeof(out)), MM_EMALFORMED);
    /* "user:pass" = dXNlcjpwYXNz ; "u:" = dTo= ; "nocolon" = bm9jb2xvbg== */
    assert_int_equal(mm_ddns_basic_password("Basic dXNlcjpwYXNz", out, sizeof(out)), 0);
    assert_string_equal(out, "pass");
    assert_int_equal(mm_ddns_basic_password("basic dTo=", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(mm_ddns_basic_password("Basic bm9jb2xvbg==", out, sizeof(out)), MM_EMALFORMED);
    assert_int_equal(mm_ddns_basic_password("Basic !!!!", out, sizeof(out)), MM_EMALFORMED);
    assert_int_equal(mm_ddns_basic_password("Bearer x", out, sizeof(out)), MM_EINVAL);
    mm_ddns_time_format(1768478400123LL, out, sizeof(out));
    assert_string_equal(out, "2026-01-15T12:00:00.123Z");
}

static void test_http_response(void **state)
{
    (void)state;
    mm_ddns_http_response r;
    const char *ok = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\ncontent-length: 2\r\n\r\n{}";
    assert_int_equal(mm_ddns_http_response_parse((const uint8_t *)ok, strlen(ok), &r), 0);
    assert_int_equal(r.status, 429);
    assert_int_equal(r.retry_after, 7);
    assert_int_equal(r.body_len, 2);
    assert_memory_equal(ok + r.body_off, "{}", 2);
    /* incomplete: headers, then body */
    assert_int_equal(mm_ddns_http_response_parse((const uint8_t *)ok, 20, &r), MM_EAGAIN);
    assert_int_equal(mm_ddns_http_response_parse((const uint8_t *)ok, strlen(ok) - 1, &r), MM_EAGAIN);
    static const char *bad[] = {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n",
                                "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                                "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
                                "HTTP/1.1 200 OK\r\nno colon\r\n\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (mm_ddns_http_response_parse((const uint8_t *)bad[i], strlen(bad[i]), &r) != MM_EMALFORMED)
            fail_msg("accepted: %s", bad[i]);
    const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_int_equal(mm_ddns_http_response_parse((const uint8_t *)chunked, strlen(chunked), &r),
                     MM_EUNSUPPORTED);
}

/* IDNA2008: U-labels become A-labels; invalid ones get a precise reason. */
static void test_idn(void **state)
{
    (void)state;
    char out[MM_DDNS_HOSTNAME_MAX + 1];
    const char *why = NULL;
    static const struct { const char *in, *want; } good[] = {
        {"bücher.example", "xn--bcher-kva.example"},
        {"Bücher.Example.", "xn--bcher-kva.example"},         /* UTS 46 lowercase mapping */
        {"home.bücher.example", "home.xn--bcher-kva.example"}, /* mixed labels */
        {"例え.テスト", "xn--r8jz45g.xn--zckzah"},
        {"XN--BCHER-KVA.example", "xn--bcher-kva.example"},    /* A-label, any case */
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (mm_ddns_hostname_check(good[i].in, strlen(good[i].in), false, out, &why) != 0)
            fail_msg("rejected %s: %s", good[i].in, why ? why : "?");
        assert_string_equal(out, good[i].want);
    }
    /* the TXT owner of an internationalised host */
    assert_int_equal(mm_ddns_hostname_check("_acme-challenge.bücher.example", 31, true, out, &why), 0);
    assert_string_equal(out, "_acme-challenge.xn--bcher-kva.example");
    static const struct { const char *in, *reason; } bad[] = {
        {"xn--abc-.example", "invalid A-label 'xn--abc-'"},          /* not Punycode */
        {"xn--a.example", "invalid A-label 'xn--a'"},                /* decodes to an ASCII label */
        {"b\xc3.example", "invalid internationalised label"},       /* truncated UTF-8 */
        {"a\xe2\x80\x8d" "b.example", "invalid internationalised label"}, /* ZWJ outside its context */
        {"\xe2\x98\x83x.example", "invalid internationalised label"},  /* U+2603 disallowed */
        {"b\xc3\xbc" "cher_x.example", "invalid internationalised label"}, /* STD3: no '_' */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (mm_ddns_hostname_check(bad[i].in, strlen(bad[i].in), false, out, &why) == 0)
            fail_msg("accepted %s as %s", bad[i].in, out);
        assert_non_null(why);
        if (strncmp(why, bad[i].reason, strlen(bad[i].reason)) != 0)
            fail_msg("%s: reason '%s', wanted '%s...'", bad[i].in, why, bad[i].reason);
    }
    /* an over-long name after conversion says so */
    char l[400] = "";
    for (int i = 0; i < 40; i++)
        strcat(l, "bücher.");
    strcat(l, "example");
    assert_int_not_equal(mm_ddns_hostname_check(l, strlen(l), false, out, &why), 0);
    assert_non_null(strstr(why, "253"));
    /* through the request parser: the reason reaches the error envelope */
    mm_ddns_policy pol = {.txt_enabled = true};
    mm_ddns_update_req r;
    mm_ddns_fail f;
    json_t *j = json_loads("{\"hostname\":\"xn--abc-.example\",\"ipv4\":\"8.8.8.8\"}", 0, NULL);
    assert_int_not_equal(mm_ddns_update_parse(j, NULL, &pol, &r, &f), 0);
    assert_int_equal(f.err, MM_DDNS_INVALID_HOSTNAME);
    assert_non_null(f.message);
    assert_non_null(strstr(f.message, "xn--abc-"));
    json_decref(j);
    j = json_loads("{\"hostname\":\"bücher.example\",\"ipv4\":\"8.8.8.8\"}", 0, NULL);
    assert_int_equal(mm_ddns_update_parse(j, NULL, &pol, &r, &f), 0);
    assert_string_equal(r.hostname, "xn--bcher-kva.example");
    json_decref(j);
}

/* The header-section screen in front of evhttp (http_head.c). */
static void test_http_head(void **state)
{
    (void)state;
    static const struct { const char *head; enum mm_ddns_err e; uint64_t cl; } rows[] = {
        {"GET /x HTTP/1.1\r\nHost: a\r\n\r\n", MM_DDNS_OK, 0},
        {"POST /u HTTP/1.0\r\ncontent-length:  12 \r\n\r\n", MM_DDNS_OK, 12},
        {"POST /u HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", MM_DDNS_OK, 3},
        {"POST /u HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"POST /u HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", MM_DDNS_PAYLOAD_TOO_LARGE, 0},
        {"POST /u HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", MM_DDNS_PAYLOAD_TOO_LARGE, 0},
        {"POST /u HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"POST /u HTTP/1.1\r\nContent-Length: -1\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"BREW /u HTTP/1.1\r\n\r\n", MM_DDNS_METHOD_NOT_ALLOWED, 0},
        {"get /u HTTP/1.1\r\n\r\n", MM_DDNS_METHOD_NOT_ALLOWED, 0},
        {"GET u HTTP/1.1\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"GET /u HTTP/1.2\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"GET /u\x01 HTTP/1.1\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"GET /u HTTP/1.1\r\nA: b\r\n c\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"GET /u HTTP/1.1\r\nA b\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"GET /u HTTP/1.1\r\nA(: b\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"GET /u HTTP/1.1\nA: b\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
        {"GET /u HTTP/1.1\r\nA: b\x7f\r\n\r\n", MM_DDNS_INVALID_REQUEST, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint64_t cl = 99;
        const char *why = NULL;
        enum mm_ddns_err e = mm_ddns_http_head_check((const uint8_t *)rows[i].head,
                                                     strlen(rows[i].head), &cl, &why);
        if (e != rows[i].e)
            fail_msg("row %zu: got %s want %s (%s)", i, mm_ddns_err_code(e),
                     mm_ddns_err_code(rows[i].e), why ? why : "");
        if (e == MM_DDNS_OK)
            assert_int_equal(cl, rows[i].cl);
        else
            assert_non_null(why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostnames),   cmocka_unit_test(test_idn),
        cmocka_unit_test(test_http_head),   cmocka_unit_test(test_order),
        cmocka_unit_test(test_tristate),    cmocka_unit_test(test_auto),
        cmocka_unit_test(test_txt),         cmocka_unit_test(test_errors_table),
        cmocka_unit_test(test_small_parsers), cmocka_unit_test(test_http_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
