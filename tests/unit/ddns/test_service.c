/*
 * The engine end to end without a socket: the conformance behaviour of spec
 * section 17, the order of checks, scopes, ownership, rate limits and their
 * headers, the envelope, dyndns2 replies, TXT, and fail-closed audit.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cmocka.h>

#include "ddns_testutil.h"
#include "mamori/mm_core.h"

#define P MM_DDNS_PREFIX

static void test_info_health(void **state)
{
    (void)state;
    fixture *f = fx_new(true, MM_DDNS_SCOPE_ALL, NULL);
    assert_int_equal(fx_req(f, "GET", P "/info", NULL, NULL, NULL), 200);
    assert_non_null(f->json);
    assert_true(json_is_true(json_object_get(f->json, "success")));
    assert_string_equal(fx_data_str(f, "protocol"), "apertodns");
    assert_string_equal(fx_data_str(f, "protocol_version"), "1.4.0");
    json_t *d = json_object_get(f->json, "data");
    json_t *sc = json_object_get(json_object_get(d, "authentication"), "scopes_supported");
    assert_int_equal(json_array_size(sc), 5);
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "endpoints"),
                                                          "legacy_dyndns2")), "/nic/update");
    assert_non_null(json_object_get(json_object_get(json_object_get(d, "rate_limits"), "update"),
                                    "window_seconds"));
    assert_string_equal(fx_data_str(f, "server_time"), "2026-01-15T12:00:00.000Z");
    assert_non_null(strstr(mm_ddns_resp_get_header(&f->rs, "Strict-Transport-Security"), "max-age="));
    assert_string_equal(mm_ddns_resp_get_header(&f->rs, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(mm_ddns_resp_get_header(&f->rs, "X-Frame-Options"), "DENY");
    assert_non_null(mm_ddns_resp_get_header(&f->rs, "X-RateLimit-Limit"));
    assert_int_equal(fx_req(f, "GET", P "/health", NULL, NULL, NULL), 200);
    assert_string_equal(fx_data_str(f, "status"), "healthy");
    /* routing */
    assert_int_equal(fx_req(f, "GET", P "/nope", NULL, NULL, NULL), 404);
    assert_string_equal(fx_code(f), "not_found");
    assert_int_equal(fx_req(f, "PUT", P "/info", NULL, NULL, NULL), 405);
    assert_string_equal(fx_code(f), "method_not_allowed");
    assert_int_equal(fx_req(f, "GET", P "/../v1/info", NULL, NULL, NULL), 404);
    assert_int_equal(fx_req(f, "GET", P "/status/a.example/x", NULL, NULL, NULL), 404);
    assert_int_equal(fx_req(f, "OPTIONS", P "/update", NULL, NULL, NULL), 204);
    assert_non_null(strstr(mm_ddns_resp_get_header(&f->rs, "Access-Control-Allow-Headers"), "X-API-Key"));
    fx_free(f);
}

static void test_auth(void **state)
{
    (void)state;
    fixture *f = fx_new(true, MM_DDNS_SCOPE_ALL, NULL);
    const char *body = "{\"hostname\":\"home.example.net\",\"ipv4\":\"203.0.113.50\"}";
    assert_int_equal(fx_req(f, "POST", P "/update", NULL, body, NULL), 401);
    assert_string_equal(fx_code(f), "unauthorized");
    assert_false(json_is_true(json_object_get(f->json, "success")));
    assert_non_null(strstr(f->rs.content_type, "application/json"));
    assert_non_null(mm_ddns_resp_get_header(&f->rs, "WWW-Authenticate"));
    /* auth is checked before the body: invalid JSON without a token is still 401 */
    assert_int_equal(fx_req(f, "POST", P "/update", NULL, "{not json", NULL), 401);
    const char *h1[] = {"Authorization: Bearer invalid_token_format", NULL};
    assert_int_equal(fx_req(f, "POST", P "/update", h1, body, NULL), 401);
    assert_string_equal(fx_code(f), "invalid_token");
    char tokhdr[200];
    snprintf(tokhdr, sizeof(tokhdr), "Authorization: InvalidBearer %s", f->token);
    const char *h2[] = {tokhdr, NULL};
    assert_int_equal(fx_req(f, "POST", P "/update", h2, body, NULL), 401);
    /* scheme is case-insensitive; X-API-Key works */
    snprintf(tokhdr, sizeof(tokhdr), "Authorization: bEaReR %s", f->token);
    assert_int_equal(fx_req(f, "POST", P "/update", h2, body, NULL), 200);
    snprintf(tokhdr, sizeof(tokhdr), "X-API-Key: %s", f->token);
    assert_int_equal(fx_req(f, "GET", P "/status/home.example.net", h2, NULL, NULL), 200);
    /* a well-formed unknown token */
    char other[MM_DDNS_TOKEN_MAX];
    assert_int_equal(mm_ddns_token_generate("mamori", "test", other, sizeof(other)), 0);
    snprintf(tokhdr, sizeof(tokhdr), "X-API-Key: %s", other);
    assert_int_equal(fx_req(f, "GET", P "/status/home.example.net", h2, NULL, NULL), 401);
    /* after auth, invalid JSON is 400 invalid_json */
    assert_int_equal(fx_auth(f, "POST", P "/update", "{not json"), 400);
    assert_string_equal(fx_code(f), "invalid_json");
    /* revoked */
    assert_int_equal(mm_ddns_store_token_revoke(f->store, f->token_id), 0);
    assert_int_equal(fx_auth(f, "POST", P "/update", body), 401);
    assert_string_equal(fx_code(f), "token_revoked");
    fx_free(f);
}

static void test_update_conformance(void **state)
{
    (void)state;
    fixture *f = fx_new(true, MM_DDNS_SCOPE_ALL, NULL);
    assert_int_equal(fx_auth(f, "POST", P "/update", "{}"), 400);
    assert_string_equal(fx_code(f), "validation_error");
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"invalid..hostname\"}"), 400);
    assert_int_equal(fx_auth(f, "POST", P "/update",
                             "{\"hostname\":\"home.example.net\",\"ipv4\":\"192.168.1.1\"}"), 400);
    assert_string_equal(fx_code(f), "invalid_ip");
    json_t *fields = json_object_get(json_object_get(json_object_get(f->json, "error"), "details"), "fields");
    assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 0), "field")), "ipv4");
    assert_int_equal(fx_auth(f, "POST", P "/update",
                             "{\"hostname\":\"home.example.net\",\"ttl\":30,\"ipv4\":\"auto\"}"), 400);
    assert_string_equal(fx_code(f), "invalid_ttl");
    /* auto from loopback in test mode: accepted */
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":\"auto\"}"), 200);
    assert_string_equal(fx_data_str(f, "ipv4"), "203.0.113.1");
    /* ipv6 auto over an IPv4 connection: ipv6_auto_failed, not invalid_ip */
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv6\":\"auto\"}"), 400);
    assert_string_equal(fx_code(f), "ipv6_auto_failed");
    /* set both, then delete A: AAAA stays */
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":"
                             "\"203.0.113.50\",\"ipv6\":\"2001:db8::1\"}"), 200);
    assert_true(json_is_true(json_object_get(json_object_get(f->json, "data"), "changed")));
    assert_string_equal(fx_data_str(f, "previous_ipv4"), "203.0.113.1");
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":null}"), 200);
    assert_string_equal(fx_data_str(f, "ipv4"), "null");
    assert_string_equal(fx_data_str(f, "ipv6"), "2001:db8::1");
    assert_string_equal(fx_data_str(f, "previous_ipv4"), "203.0.113.50");
    assert_true(json_is_true(json_object_get(json_object_get(f->json, "data"), "changed")));
    /* deleting again: success, changed false */
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":null}"), 200);
    assert_true(json_is_false(json_object_get(json_object_get(f->json, "data"), "changed")));
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":\"203.0.113.50\"}"), 200);
    /* TTL only keeps the address */
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ttl\":600}"), 200);
    assert_string_equal(fx_data_str(f, "ipv4"), "203.0.113.50");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f->json, "data"), "ttl")), 600);
    /* idempotent retry */
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":\"203.0.113.50\"}"), 200);
    assert_true(json_is_false(json_object_get(json_object_get(f->json, "data"), "changed")));
    /* status */
    assert_int_equal(fx_auth(f, "GET", P "/status/HOME.example.net", NULL), 200);
    assert_string_equal(fx_data_str(f, "ipv4"), "203.0.113.50");
    assert_string_equal(fx_data_str(f, "ipv6"), "2001:db8::1");
    assert_int_equal(fx_auth(f, "GET", P "/status/home%2Eexample.net", NULL), 200);
    assert_int_equal(fx_auth(f, "GET", P "/status/a..b", NULL), 400);
    /* domains: flat array */
    assert_int_equal(fx_auth(f, "GET", P "/domains", NULL), 200);
    json_t *arr = json_object_get(f->json, "data");
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 1);
    fx_free(f);
}

static void test_production_rejects_doc(void **state)
{
    (void)state;
    fixture *f = fx_new(false, MM_DDNS_SCOPE_ALL, NULL);
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":\"203.0.113.50\"}"), 400);
    assert_string_equal(fx_code(f), "invalid_ip");
    /* auto from loopback outside test mode: invalid_ip */
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":\"auto\"}"), 400);
    assert_string_equal(fx_code(f), "invalid_ip");
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":\"9.9.9.9\"}"), 200);
    fx_free(f);
}

static void test_ownership_scopes(void **state)
{
    (void)state;
    fixture *f = fx_new(true, MM_DDNS_SCOPE(MM_DDNS_SCOPE_DNS_UPDATE_BIT), NULL);
    assert_int_equal(mm_ddns_store_host_add(f->store, "other.example.net", f->now_ms), 0);
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"other.example.net\",\"ipv4\":\"9.9.9.9\"}"), 403);
    assert_string_equal(fx_code(f), "hostname_not_owned");
    /* scope missing: 403 forbidden */
    assert_int_equal(fx_auth(f, "GET", P "/status/home.example.net", NULL), 403);
    assert_string_equal(fx_code(f), "forbidden");
    assert_int_equal(fx_auth(f, "GET", P "/domains", NULL), 403);
    assert_int_equal(fx_auth(f, "POST", P "/txt", "{\"hostname\":\"_acme-challenge.home.example.net\",\"value\":\"v\"}"), 403);
    /* a zone grant covers names below it, only existing ones can be updated */
    char tok[MM_DDNS_TOKEN_MAX], hdr[200];
    int64_t id;
    fx_token(f, MM_DDNS_SCOPE_ALL, "zone", "example.net", tok, &id);
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
    const char *h[] = {hdr, NULL};
    assert_int_equal(fx_req(f, "POST", P "/update", h, "{\"hostname\":\"other.example.net\",\"ipv4\":\"9.9.9.9\"}", NULL), 200);
    assert_int_equal(fx_req(f, "POST", P "/update", h, "{\"hostname\":\"missing.example.net\",\"ipv4\":\"9.9.9.9\"}", NULL), 404);
    assert_int_equal(fx_req(f, "POST", P "/update", h, "{\"hostname\":\"x.example.org\",\"ipv4\":\"9.9.9.9\"}", NULL), 403);
    assert_int_equal(fx_req(f, "GET", P "/domains", h, NULL, NULL), 200);
    assert_int_equal(json_array_size(json_object_get(f->json, "data")), 2);
    fx_free(f);
}

static void test_bulk(void **state)
{
    (void)state;
    fixture *f = fx_new(true, MM_DDNS_SCOPE_ALL, NULL);
    /* 101 entries naming unowned hosts: the size limit answers first */
    mm_buf b;
    mm_buf_init(&b, 1 << 20);
    mm_buf_append_str(&b, "{\"updates\":[");
    for (int i = 0; i < 101; i++)
        mm_buf_printf(&b, "%s{\"hostname\":\"h%d.nobody.example\",\"ipv4\":\"9.9.9.9\"}", i ? "," : "", i);
    mm_buf_append_str(&b, "]}");
    assert_int_equal(fx_auth(f, "POST", P "/bulk-update", mm_buf_cstr(&b)), 400);
    assert_string_equal(fx_code(f), "bulk_limit_exceeded");
    mm_buf_free(&b);
    assert_int_equal(fx_auth(f, "POST", P "/bulk-update",
                             "{\"updates\":[{\"hostname\":\"home.example.net\",\"ipv4\":\"9.9.9.9\"}]}"), 200);
    json_t *sum = json_object_get(json_object_get(f->json, "data"), "summary");
    assert_int_equal(json_integer_value(json_object_get(sum, "total")), 1);
    assert_int_equal(json_integer_value(json_object_get(sum, "successful")), 1);
    assert_int_equal(fx_auth(f, "POST", P "/bulk-update",
                             "{\"defaults\":{\"ttl\":120},\"updates\":[{\"hostname\":\"home.example.net\",\"ipv4\":\"9.9.9.8\"},"
                             "{\"hostname\":\"nobody.example.net\",\"ipv4\":\"9.9.9.9\"}]}"), 207);
    json_t *res = json_object_get(json_object_get(f->json, "data"), "results");
    assert_true(json_is_true(json_object_get(json_array_get(res, 0), "success")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 0), "ttl")), 120);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(res, 1), "error"), "code")),
                        "hostname_not_owned");
    assert_int_equal(fx_auth(f, "POST", P "/bulk-update",
                             "{\"updates\":[{\"hostname\":\"nobody.example.net\",\"ipv4\":\"9.9.9.9\"}]}"), 400);
    assert_int_equal(fx_auth(f, "POST", P "/bulk-update", "{\"updates\":[]}"), 400);
    fx_free(f);
}

static void test_txt(void **state)
{
    (void)state;
    fixture *f = fx_new(true, MM_DDNS_SCOPE_ALL, NULL);
    const char *o = "_acme-challenge.home.example.net";
    char b[512];
    snprintf(b, sizeof(b), "{\"hostname\":\"%s\",\"value\":\"v1\"}", o);
    assert_int_equal(fx_auth(f, "POST", P "/txt", b), 200);
    assert_string_equal(fx_data_str(f, "value"), "v1");
    snprintf(b, sizeof(b), "{\"hostname\":\"%s\",\"value\":\"v2\"}", o);
    assert_int_equal(fx_auth(f, "POST", P "/txt", b), 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f->json, "data"), "record_count")), 2);
    assert_int_equal(fx_auth(f, "POST", P "/txt", b), 200); /* idempotent */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f->json, "data"), "record_count")), 2);
    assert_int_equal(fx_auth(f, "GET", P "/txt/_acme-challenge.home.example.net", NULL), 200);
    assert_int_equal(json_array_size(json_object_get(json_object_get(f->json, "data"), "values")), 2);
    /* limits */
    for (int i = 3; i <= 5; i++) {
        snprintf(b, sizeof(b), "{\"hostname\":\"%s\",\"value\":\"v%d\"}", o, i);
        assert_int_equal(fx_auth(f, "POST", P "/txt", b), 200);
    }
    snprintf(b, sizeof(b), "{\"hostname\":\"%s\",\"value\":\"v6\"}", o);
    assert_int_equal(fx_auth(f, "POST", P "/txt", b), 400);
    assert_string_equal(fx_code(f), "txt_limit_exceeded");
    char big[600];
    int n = snprintf(big, sizeof(big), "{\"hostname\":\"%s\",\"value\":\"", o);
    memset(big + n, 'a', 256);
    strcpy(big + n + 256, "\"}");
    assert_int_equal(fx_auth(f, "POST", P "/txt", big), 400);
    assert_string_equal(fx_code(f), "txt_value_too_long");
    assert_int_equal(fx_auth(f, "POST", P "/txt", "{\"value\":\"x\"}"), 400);
    assert_string_equal(fx_code(f), "validation_error");
    snprintf(b, sizeof(b), "{\"hostname\":\"%s\"}", o);
    assert_int_equal(fx_auth(f, "POST", P "/txt", b), 400);
    assert_string_equal(fx_code(f), "validation_error");
    assert_int_equal(fx_auth(f, "POST", P "/txt", "{\"hostname\":\"_x.home.example.net\",\"value\":\"x\"}"), 400);
    assert_string_equal(fx_code(f), "txt_invalid_name");
    /* delete one value, then all */
    snprintf(b, sizeof(b), "{\"hostname\":\"%s\",\"value\":\"v1\"}", o);
    assert_int_equal(fx_auth(f, "DELETE", P "/txt", b), 200);
    assert_true(json_is_true(json_object_get(json_object_get(f->json, "data"), "deleted")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f->json, "data"), "remaining_count")), 4);
    assert_int_equal(fx_auth(f, "DELETE", P "/txt", "{}"), 400);
    snprintf(b, sizeof(b), "{\"hostname\":\"%s\"}", o);
    assert_int_equal(fx_auth(f, "DELETE", P "/txt", b), 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f->json, "data"), "values_removed")), 4);
    /* TXT through /update (what the official clients send) */
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"txt\":"
                             "{\"name\":\"_acme-challenge\",\"value\":\"tok\",\"action\":\"set\"}}"), 200);
    assert_string_equal(fx_data_str(f, "hostname"), o);
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"txt\":"
                             "{\"name\":\"_acme-challenge\",\"action\":\"delete\"}}"), 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(f->json, "data"), "values_removed")), 1);
    /* no auth: 401 */
    assert_int_equal(fx_req(f, "GET", P "/txt/_acme-challenge.home.example.net", NULL, NULL, NULL), 401);
    fx_free(f);
}

static void test_rate_limit(void **state)
{
    (void)state;
    mm_ddns_limits l = {.update = 2, .auth_fail_max = 3};
    fixture *f = fx_new(true, MM_DDNS_SCOPE_ALL, &l);
    const char *body = "{\"hostname\":\"home.example.net\",\"ipv4\":\"9.9.9.9\"}";
    assert_int_equal(fx_auth(f, "POST", P "/update", body), 200);
    assert_string_equal(mm_ddns_resp_get_header(&f->rs, "X-RateLimit-Limit"), "2");
    assert_string_equal(mm_ddns_resp_get_header(&f->rs, "X-RateLimit-Remaining"), "1");
    char reset[32];
    snprintf(reset, sizeof(reset), "%lld", (long long)(f->now_ms / 1000 - (f->now_ms / 1000) % 60 + 60));
    assert_string_equal(mm_ddns_resp_get_header(&f->rs, "X-RateLimit-Reset"), reset);
    assert_int_equal(fx_auth(f, "POST", P "/update", body), 200);
    assert_int_equal(fx_auth(f, "POST", P "/update", body), 429);
    assert_string_equal(fx_code(f), "rate_limited");
    assert_non_null(mm_ddns_resp_get_header(&f->rs, "Retry-After"));
    assert_true(json_integer_value(json_object_get(json_object_get(f->json, "error"), "retry_after_seconds")) > 0);
    f->now_ms += 60000; /* next window */
    assert_int_equal(fx_auth(f, "POST", P "/update", body), 200);
    /* token guessing from one address: lockout after auth_fail_max failures */
    const char *bad[] = {"Authorization: Bearer mamori_test_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL};
    for (int i = 0; i < 3; i++)
        assert_int_equal(fx_req(f, "POST", P "/update", bad, body, "198.51.100.9"), 401);
    assert_int_equal(fx_req(f, "POST", P "/update", bad, body, "198.51.100.9"), 429);
    char good[200];
    snprintf(good, sizeof(good), "Authorization: Bearer %s", f->token);
    const char *gh[] = {good, NULL};
    /* even a valid token is locked out from that address; others are not */
    assert_int_equal(fx_req(f, "GET", P "/domains", gh, NULL, "198.51.100.9"), 429);
    assert_int_equal(fx_req(f, "GET", P "/domains", gh, NULL, "198.51.100.10"), 200);
    fx_free(f);
}

static void test_nic_update(void **state)
{
    (void)state;
    fixture *f = fx_new(true, MM_DDNS_SCOPE_ALL, NULL);
    char basic[500], raw[200];
    snprintf(raw, sizeof(raw), "anyuser:%s", f->token);
    unsigned char enc[400];
    EVP_EncodeBlock(enc, (const unsigned char *)raw, (int)strlen(raw));
    snprintf(basic, sizeof(basic), "Authorization: Basic %s", enc);
    const char *h[] = {basic, NULL};
    assert_int_equal(fx_req(f, "GET", "/nic/update?hostname=home.example.net&myip=203.0.113.7", h, NULL, NULL), 200);
    assert_string_equal(f->rs.content_type, "text/plain; charset=utf-8");
    assert_string_equal(fx_body(f), "good 203.0.113.7");
    assert_int_equal(fx_req(f, "GET", "/nic/update?hostname=home.example.net&myip=203.0.113.7", h, NULL, NULL), 200);
    assert_string_equal(fx_body(f), "nochg 203.0.113.7");
    /* missing myip: the client's address (loopback -> documentation address in test mode) */
    assert_int_equal(fx_req(f, "GET", "/nic/update?hostname=home.example.net", h, NULL, NULL), 200);
    assert_string_equal(fx_body(f), "good 203.0.113.1");
    assert_int_equal(fx_req(f, "GET", "/nic/update?hostname=home.example.net,nobody.example.net,a..b&myip=203.0.113.8", h, NULL, NULL), 200);
    assert_string_equal(fx_body(f), "good 203.0.113.8\nnohost\nnotfqdn");
    assert_int_equal(fx_req(f, "GET", "/nic/update?myip=203.0.113.8", h, NULL, NULL), 200);
    assert_string_equal(fx_body(f), "notfqdn");
    assert_int_equal(fx_req(f, "GET", "/nic/update?hostname=home.example.net&myip=192.168.1.1", h, NULL, NULL), 200);
    assert_string_equal(fx_body(f), "dnserr");
    mm_buf q;
    mm_buf_init(&q, 1 << 16);
    mm_buf_append_str(&q, "/nic/update?hostname=");
    for (int i = 0; i < 21; i++)
        mm_buf_printf(&q, "%sh%d.example.net", i ? "," : "", i);
    assert_int_equal(fx_req(f, "GET", mm_buf_cstr(&q), h, NULL, NULL), 200);
    assert_string_equal(fx_body(f), "numhost");
    mm_buf_free(&q);
    /* bad credentials */
    const char *bh[] = {"Authorization: Basic dXNlcjppbnZhbGlkX3Rva2Vu", NULL}; /* user:invalid_token */
    assert_int_equal(fx_req(f, "GET", "/nic/update?hostname=home.example.net", bh, NULL, NULL), 200);
    assert_string_equal(fx_body(f), "badauth");
    assert_int_equal(fx_req(f, "GET", "/nic/update?hostname=home.example.net", NULL, NULL, NULL), 200);
    assert_string_equal(fx_body(f), "badauth");
    /* the token in the query string is never accepted */
    char qt[300];
    snprintf(qt, sizeof(qt), "/nic/update?hostname=home.example.net&password=%s", f->token);
    assert_int_equal(fx_req(f, "GET", qt, NULL, NULL, NULL), 200);
    assert_string_equal(fx_body(f), "badauth");
    /* the update is visible through the JSON API */
    assert_int_equal(fx_auth(f, "GET", P "/status/home.example.net", NULL), 200);
    assert_string_equal(fx_data_str(f, "ipv4"), "203.0.113.8");
    fx_free(f);
}

/* A closed audit log makes every change fail and changes nothing. */
static void test_audit_fail_closed(void **state)
{
    (void)state;
    fixture *f = fx_new(true, MM_DDNS_SCOPE_ALL, NULL);
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":\"9.9.9.9\"}"), 200);
    /* break the audit fd under the logger: dup2 /dev/full onto it */
    char p[512];
    snprintf(p, sizeof(p), "%s/audit.log", f->dir);
    int full = open("/dev/full", O_WRONLY);
    assert_true(full >= 0);
    int fd = -1;
    for (int i = 3; i < 256 && fd < 0; i++) {
        char link[64], target[512];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", i);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n > 0) {
            target[n] = 0;
            if (strcmp(target, p) == 0)
                fd = i;
        }
    }
    assert_true(fd >= 0);
    assert_int_equal(dup2(full, fd), fd);
    close(full);
    assert_int_equal(fx_auth(f, "POST", P "/update", "{\"hostname\":\"home.example.net\",\"ipv4\":\"9.9.9.8\"}"), 500);
    assert_string_equal(fx_code(f), "server_error");
    mm_ddns_host h;
    assert_int_equal(mm_ddns_store_host_get(f->store, "home.example.net", &h), 0);
    assert_string_equal(h.ipv4, "9.9.9.9");
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_health),      cmocka_unit_test(test_auth),
        cmocka_unit_test(test_update_conformance), cmocka_unit_test(test_production_rejects_doc),
        cmocka_unit_test(test_ownership_scopes), cmocka_unit_test(test_bulk),
        cmocka_unit_test(test_txt),              cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_nic_update),       cmocka_unit_test(test_audit_fail_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
