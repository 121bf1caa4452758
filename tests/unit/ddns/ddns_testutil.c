/*
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "ddns_testutil.h"
#include "mamori/mm_core.h"

static int64_t fake_now(void *arg)
{
    return ((fixture *)arg)->now_ms;
}

void fx_token(fixture *f, uint32_t scopes, const char *kind, const char *name, char *out,
              int64_t *id)
{
    char hint[64];
    uint8_t h[MM_DDNS_HASH_LEN];
    assert_int_equal(mm_ddns_token_generate("mamori", "test", out, MM_DDNS_TOKEN_MAX), 0);
    mm_ddns_token_hint(out, hint, sizeof(hint));
    assert_int_equal(mm_ddns_token_hash(f->key, out, strlen(out), h), 0);
    assert_int_equal(mm_ddns_store_token_add(f->store, h, hint, scopes, 0, id), 0);
    if (kind)
        assert_int_equal(mm_ddns_store_grant_add(f->store, *id, kind, name), 0);
}

fixture *fx_new(bool test_mode, uint32_t scopes, const mm_ddns_limits *limits)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "%s/mm-ddns-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    char p[512];
    snprintf(p, sizeof(p), "%s/ddns.db", f->dir);
    assert_int_equal(mm_ddns_store_open(p, &f->store), 0);
    snprintf(p, sizeof(p), "%s/audit.log", f->dir);
    assert_int_equal(mm_audit_open(p, &f->audit), 0);
    snprintf(p, sizeof(p), "%s/token.key", f->dir);
    assert_int_equal(mm_ddns_key_load(p, f->key), 0);
    f->now_ms = 1768478400000LL; /* 2026-01-15T12:00:00.000Z */
    assert_int_equal(mm_ddns_store_host_add(f->store, "home.example.net", f->now_ms), 0);
    fx_token(f, scopes, "host", "home.example.net", f->token, &f->token_id);
    mm_ddns_service_config cfg = {.store = f->store, .audit = f->audit, .test_mode = test_mode,
                                  .now_ms = fake_now, .now_arg = f};
    memcpy(cfg.key, f->key, sizeof(cfg.key));
    if (limits)
        cfg.limits = *limits;
    f->svc = mm_ddns_service_new(&cfg);
    assert_non_null(f->svc);
    mm_ddns_resp_init(&f->rs);
    return f;
}

void fx_free(fixture *f)
{
    char cmd[600];
    json_decref(f->json);
    mm_ddns_resp_free(&f->rs);
    mm_ddns_service_free(f->svc);
    mm_audit_close(f->audit);
    mm_ddns_store_close(f->store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
    free(f);
}

struct hdrs {
    const char *const *h;
};

static const char *get_header(void *arg, const char *name)
{
    struct hdrs *hs = arg;
    size_t nl = strlen(name);
    for (const char *const *p = hs->h; p && *p; p++)
        if (strncasecmp(*p, name, nl) == 0 && (*p)[nl] == ':') {
            const char *v = *p + nl + 1;
            while (*v == ' ')
                v++;
            return v;
        }
    return NULL;
}

int fx_req(fixture *f, const char *method, const char *target, const char *const *headers,
           const char *body, const char *peer)
{
    struct hdrs hs = {headers};
    mm_ddns_http_req rq = {.method = method, .target = target, .header = get_header,
                           .header_arg = &hs, .body = (const uint8_t *)body,
                           .body_len = body ? strlen(body) : 0};
    const char *pa = peer ? peer : "127.0.0.1";
    assert_int_equal(mm_ddns_addr_parse(pa, strlen(pa), &rq.peer), 0);
    mm_ddns_resp_free(&f->rs);
    mm_ddns_resp_init(&f->rs);
    json_decref(f->json);
    f->json = NULL;
    mm_ddns_service_handle(f->svc, &rq, &f->rs);
    if (f->rs.content_type && strstr(f->rs.content_type, "json"))
        f->json = json_loadb((const char *)f->rs.body.data, f->rs.body.len, 0, NULL);
    return f->rs.status;
}

int fx_auth(fixture *f, const char *method, const char *target, const char *body)
{
    char a[200];
    snprintf(a, sizeof(a), "Authorization: Bearer %s", f->token);
    const char *h[] = {a, "Content-Type: application/json", NULL};
    return fx_req(f, method, target, h, body, NULL);
}

const char *fx_code(fixture *f)
{
    const char *s = json_string_value(json_object_get(json_object_get(f->json, "error"), "code"));
    return s ? s : "";
}

const char *fx_data_str(fixture *f, const char *key)
{
    json_t *v = json_object_get(json_object_get(f->json, "data"), key);
    if (!v)
        return "";
    if (json_is_null(v))
        return "null";
    return json_is_string(v) ? json_string_value(v) : "?";
}

const char *fx_body(fixture *f)
{
    return mm_buf_cstr(&f->rs.body);
}
