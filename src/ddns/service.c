/*
 * The ApertoDNS request engine: routing, the security and CORS headers,
 * authentication (Bearer, X-API-Key; Basic only on /nic/update), scopes,
 * rate limits and the response envelope (spec sections 2, 3, 5, 8, 9).
 *
 * Order of checks for a protected endpoint (section 17): route (404/405),
 * lockout of an address that guessed tokens too often, credentials (401),
 * scope (403), per-token rate limit (429), body JSON (400), then the
 * endpoint's own validation. Every decision that changes data, and every
 * refusal, is audited before the reply; an audit failure fails the request.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ddns_internal.h"
#include "mamori/mm_core.h"

/* ------------------------------------------------------------ responses */

void mm_ddns_resp_init(mm_ddns_http_resp *rs)
{
    memset(rs, 0, sizeof(*rs));
    mm_buf_init(&rs->body, 4 * 1024 * 1024);
}

void mm_ddns_resp_free(mm_ddns_http_resp *rs)
{
    mm_buf_free(&rs->body);
}

int mm_ddns_resp_header(mm_ddns_http_resp *rs, const char *name, const char *value)
{
    if (rs->n_headers >= MM_DDNS_RESP_HEADERS)
        return MM_ESPACE;
    snprintf(rs->headers[rs->n_headers].name, sizeof(rs->headers[0].name), "%s", name);
    snprintf(rs->headers[rs->n_headers].value, sizeof(rs->headers[0].value), "%s", value);
    rs->n_headers++;
    return 0;
}

const char *mm_ddns_resp_get_header(const mm_ddns_http_resp *rs, const char *name)
{
    for (size_t i = 0; i < rs->n_headers; i++)
        if (strcasecmp(rs->headers[i].name, name) == 0)
            return rs->headers[i].value;
    return NULL;
}

/* [impl] security headers on every response, even errors. */
static int64_t real_now_ms(void *arg);

static void security_headers(mm_ddns_http_resp *rs)
{
    static const char *const h[][2] = {
        {"Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload"},
        {"X-Content-Type-Options", "nosniff"},
        {"X-Frame-Options", "DENY"},
        {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
        {"Referrer-Policy", "no-referrer"},
        {"Cache-Control", "no-store, no-cache, must-revalidate, private"},
        {"Access-Control-Allow-Origin", "*"},
    };
    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
        mm_ddns_resp_header(rs, h[i][0], h[i][1]);
}

json_t *ddns_time_json(int64_t ms)
{
    char t[32];
    mm_ddns_time_format(ms, t, sizeof(t));
    return json_string(t);
}

json_t *ddns_addr_json(const char *text)
{
    return text && text[0] ? json_string(text) : json_null();
}

static void set_body_json(struct ctx *c, int status, json_t *root)
{
    mm_ddns_http_resp *rs = c->rs;
    rs->status = status;
    rs->content_type = "application/json; charset=utf-8";
    mm_buf_reset(&rs->body);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    if (!text || mm_buf_append_str(&rs->body, text) < 0) {
        mm_buf_reset(&rs->body);
        mm_buf_append_str(&rs->body, "{\"success\":false,\"error\":{\"code\":\"server_error\","
                                     "\"message\":\"Internal server error\"}}");
        rs->status = 500;
    }
    free(text);
    json_decref(root);
}

void ddns_reply_json(struct ctx *c, int status, json_t *data)
{
    set_body_json(c, status, json_pack("{s:b,s:o}", "success", 1, "data", data ? data : json_object()));
}

void ddns_reply_error(struct ctx *c, const mm_ddns_fail *f)
{
    const char *msg = f->message ? f->message : mm_ddns_err_message(f->err);
    json_t *err = json_pack("{s:s,s:s}", "code", mm_ddns_err_code(f->err), "message", msg);
    if (f->field && err)
        json_object_set_new(err, "details",
                            json_pack("{s:[{s:s,s:s,s:s}]}", "fields", "field", f->field, "code",
                                      mm_ddns_err_code(f->err), "message", msg));
    json_t *root = json_pack("{s:b,s:o}", "success", 0, "error", err);
    if (root)
        json_object_set_new(root, "meta", json_pack("{s:o}", "timestamp", ddns_time_json(c->now_ms)));
    int status = mm_ddns_err_http(f->err);
    if (status == 401) {
        c->rs->close = false;
        mm_ddns_resp_header(c->rs, "WWW-Authenticate",
                            f->err == MM_DDNS_UNAUTHORIZED
                                ? "Bearer realm=\"apertodns\""
                                : "Bearer realm=\"apertodns\", error=\"invalid_token\"");
    }
    set_body_json(c, status, root);
}

void mm_ddns_resp_error(mm_ddns_http_resp *rs, enum mm_ddns_err e, const char *message)
{
    mm_ddns_resp_free(rs);
    mm_ddns_resp_init(rs);
    security_headers(rs);
    struct ctx c = {.rs = rs, .now_ms = real_now_ms(NULL)};
    mm_ddns_fail f = {.err = e, .message = message};
    ddns_reply_error(&c, &f);
}

void ddns_reply_err(struct ctx *c, enum mm_ddns_err e)
{
    mm_ddns_fail f = {.err = e};
    ddns_reply_error(c, &f);
}

void ddns_reply_text(struct ctx *c, const char *text)
{
    c->rs->status = 200; /* dyndns2 always answers 200 (section 7.8) */
    c->rs->content_type = "text/plain; charset=utf-8";
    mm_buf_reset(&c->rs->body);
    mm_buf_append_str(&c->rs->body, text);
}

/* ------------------------------------------------------------ audit, auth, limits */

int ddns_audit(struct ctx *c, const char *action, const char *object, bool permit,
               const char *reason)
{
    mm_audit_record r = {.module = "ddns",
                         .subject = c->who.tok.hint[0] ? c->who.tok.hint : "-",
                         .action = action,
                         .object = object ? object : "-",
                         .permit = permit,
                         .reason = reason,
                         .session = c->who.peer};
    int rc = mm_audit_write(c->s->cfg.audit, &r);
    /* A permitted change is about to be applied: its record must be durable first. */
    bool change = strcmp(action, "update") == 0 || strcmp(action, "create") == 0 ||
                  strcmp(action, "delete") == 0;
    if (rc == 0 && permit && change && !c->s->cfg.group_commit)
        rc = mm_audit_flush_critical(c->s->cfg.audit);
    if (rc < 0) {
        mm_log_error("ddns-audit", "action=%s object=%s err=\"audit write failed\"", action,
                     r.object);
        return MM_EIO;
    }
    return 0;
}

bool ddns_rate(struct ctx *c, const char *kind, const char *key, uint32_t limit, bool quiet)
{
    char k[96];
    snprintf(k, sizeof(k), "%s|%s", kind, key);
    mm_ddns_rl_result r;
    int64_t now_s = c->now_ms / 1000;
    int rc = mm_ddns_rl_hit(c->s->rl, k, limit, c->s->cfg.limits.window_s, now_s, &r);
    char v[32];
    snprintf(v, sizeof(v), "%u", r.limit);
    mm_ddns_resp_header(c->rs, "X-RateLimit-Limit", v);
    snprintf(v, sizeof(v), "%u", r.remaining);
    mm_ddns_resp_header(c->rs, "X-RateLimit-Remaining", v);
    snprintf(v, sizeof(v), "%lld", (long long)r.reset);
    mm_ddns_resp_header(c->rs, "X-RateLimit-Reset", v);
    if (rc == 0)
        return true;
    snprintf(v, sizeof(v), "%u", r.retry_after);
    mm_ddns_resp_header(c->rs, "Retry-After", v);
    if (ddns_audit(c, "rate-limit", kind, false, "rate_limited") < 0) {
        ddns_reply_err(c, MM_DDNS_SERVER_ERROR);
        return false;
    }
    if (!quiet) {
        ddns_reply_err(c, MM_DDNS_RATE_LIMITED);
        json_t *root = json_loadb((const char *)c->rs->body.data, c->rs->body.len, 0, NULL);
        json_t *err = json_object_get(root, "error");
        if (err) {
            json_object_set_new(err, "retry_after_seconds", json_integer(r.retry_after));
            set_body_json(c, 429, root);
        } else {
            json_decref(root);
        }
    }
    return false;
}

enum mm_ddns_err ddns_authenticate(struct ctx *c, const char *token, size_t len)
{
    uint8_t h[MM_DDNS_HASH_LEN];
    /* Hash even malformed tokens: the same work whatever was sent. */
    if (mm_ddns_token_hash(c->s->cfg.key, token, len, h) < 0)
        return MM_DDNS_SERVER_ERROR;
    int rc = mm_ddns_token_well_formed(token, len)
                 ? mm_ddns_store_token_find(c->s->cfg.store, h, &c->who.tok)
                 : MM_ENOENT;
    OPENSSL_cleanse(h, sizeof(h));
    if (rc == MM_ENOENT)
        return MM_DDNS_INVALID_TOKEN;
    if (rc < 0)
        return MM_DDNS_SERVER_ERROR;
    if (c->who.tok.revoked)
        return MM_DDNS_TOKEN_REVOKED;
    if (c->who.tok.expires && c->who.tok.expires * 1000 <= c->now_ms)
        return MM_DDNS_TOKEN_EXPIRED;
    return MM_DDNS_OK;
}

enum mm_ddns_err ddns_owner_check(struct ctx *c, const char *name)
{
    bool ok = false;
    if (mm_ddns_store_may_manage(c->s->cfg.store, c->who.tok.id, name, &ok) < 0)
        return MM_DDNS_SERVER_ERROR;
    return ok ? MM_DDNS_OK : MM_DDNS_HOSTNAME_NOT_OWNED;
}

/* Lockout: an address with too many failed authentications in the window. */
static bool locked_out(struct ctx *c)
{
    char k[96];
    snprintf(k, sizeof(k), "authfail|%s", c->who.peer);
    return mm_ddns_rl_peek(c->s->rl, k, c->s->cfg.limits.window_s, c->now_ms / 1000) >=
           c->s->cfg.limits.auth_fail_max;
}

static void count_auth_failure(struct ctx *c)
{
    char k[96];
    mm_ddns_rl_result r;
    snprintf(k, sizeof(k), "authfail|%s", c->who.peer);
    mm_ddns_rl_hit(c->s->rl, k, UINT32_MAX, c->s->cfg.limits.window_s, c->now_ms / 1000, &r);
}

/* Bearer or X-API-Key credentials of a JSON endpoint; 401 on failure. */
static bool auth_json(struct ctx *c)
{
    const mm_ddns_http_req *rq = c->rq;
    const char *authz = rq->header(rq->header_arg, "Authorization");
    const char *key = rq->header(rq->header_arg, "X-API-Key");
    const char *tok = NULL;
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
        tok = authz + 7;
        while (*tok == ' ')
            tok++;
    } else if (key && !authz) {
        tok = key;
    }
    enum mm_ddns_err e;
    if (!authz && !key)
        e = MM_DDNS_UNAUTHORIZED;
    else if (!tok)
        e = MM_DDNS_INVALID_TOKEN; /* another scheme, e.g. "InvalidBearer x" */
    else
        e = ddns_authenticate(c, tok, strlen(tok));
    if (e == MM_DDNS_OK)
        return true;
    if (e != MM_DDNS_UNAUTHORIZED && e != MM_DDNS_SERVER_ERROR)
        count_auth_failure(c);
    if (ddns_audit(c, "authenticate", c->path, false, mm_ddns_err_code(e)) < 0)
        e = MM_DDNS_SERVER_ERROR;
    ddns_reply_err(c, e);
    return false;
}

/* ------------------------------------------------------------ routing */

enum { EP_PUBLIC = 1, EP_BODY = 2, EP_SUFFIX = 4 };

struct route {
    const char *method, *path;
    unsigned flags;
    int scope;            /* scope bit, -1 for none */
    const char *limit;    /* rate-limit bucket */
    int kind;
};

enum { R_INFO, R_HEALTH, R_UPDATE, R_BULK, R_STATUS, R_DOMAINS, R_TXT_POST, R_TXT_DELETE,
       R_TXT_GET, R_NIC };

static const struct route routes[] = {
    {"GET", MM_DDNS_PREFIX "/info", EP_PUBLIC, -1, "public", R_INFO},
    {"GET", MM_DDNS_PREFIX "/health", EP_PUBLIC, -1, "public", R_HEALTH},
    {"POST", MM_DDNS_PREFIX "/update", EP_BODY, MM_DDNS_SCOPE_DNS_UPDATE_BIT, "update", R_UPDATE},
    {"POST", MM_DDNS_PREFIX "/bulk-update", EP_BODY, MM_DDNS_SCOPE_DNS_UPDATE_BIT, "bulk", R_BULK},
    {"GET", MM_DDNS_PREFIX "/status/", EP_SUFFIX, MM_DDNS_SCOPE_DOMAINS_READ_BIT, "status",
     R_STATUS},
    {"GET", MM_DDNS_PREFIX "/domains", 0, MM_DDNS_SCOPE_DOMAINS_READ_BIT, "domains", R_DOMAINS},
    {"POST", MM_DDNS_PREFIX "/txt", EP_BODY, MM_DDNS_SCOPE_TXT_WRITE_BIT, "txt", R_TXT_POST},
    {"DELETE", MM_DDNS_PREFIX "/txt", EP_BODY, MM_DDNS_SCOPE_TXT_DELETE_BIT, "txt", R_TXT_DELETE},
    {"GET", MM_DDNS_PREFIX "/txt/", EP_SUFFIX, MM_DDNS_SCOPE_TXT_READ_BIT, "txt", R_TXT_GET},
    {"GET", "/nic/update", EP_PUBLIC, -1, "nic", R_NIC},
};

static uint32_t limit_of(const mm_ddns_limits *l, const char *bucket)
{
    static const struct { const char *name; size_t off; } map[] = {
        {"public", offsetof(mm_ddns_limits, public_)}, {"update", offsetof(mm_ddns_limits, update)},
        {"bulk", offsetof(mm_ddns_limits, bulk)},       {"status", offsetof(mm_ddns_limits, status)},
        {"domains", offsetof(mm_ddns_limits, domains)}, {"txt", offsetof(mm_ddns_limits, txt)},
        {"nic", offsetof(mm_ddns_limits, nic)},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].name, bucket) == 0)
            return *(const uint32_t *)((const char *)l + map[i].off);
    return 60;
}

/* Match the path; *path_ok says whether some route has this path (for 405). */
static const struct route *match(const char *method, const char *path, const char **suffix,
                                 bool *path_ok)
{
    *path_ok = false;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        size_t pl = strlen(r->path);
        bool hit = (r->flags & EP_SUFFIX)
                       ? strncmp(path, r->path, pl) == 0 && path[pl] && !strchr(path + pl, '/')
                       : strcmp(path, r->path) == 0;
        if (!hit)
            continue;
        *path_ok = true;
        if (strcmp(method, r->method) == 0) {
            *suffix = path + pl;
            return r;
        }
    }
    return NULL;
}

static void dispatch(struct ctx *c, const struct route *r, const char *suffix, json_t *body)
{
    switch (r->kind) {
    case R_INFO: ddns_ep_info(c); break;
    case R_HEALTH: ddns_ep_health(c); break;
    case R_UPDATE: ddns_ep_update(c, body); break;
    case R_BULK: ddns_ep_bulk(c, body); break;
    case R_STATUS: ddns_ep_status(c, suffix); break;
    case R_DOMAINS: ddns_ep_domains(c); break;
    case R_TXT_POST: ddns_ep_txt_post(c, body); break;
    case R_TXT_DELETE: ddns_ep_txt_delete(c, body); break;
    case R_TXT_GET: ddns_ep_txt_get(c, suffix); break;
    case R_NIC: ddns_ep_nic_update(c); break;
    default: ddns_reply_err(c, MM_DDNS_SERVER_ERROR);
    }
}

static void handle(struct ctx *c)
{
    const mm_ddns_http_req *rq = c->rq;
    const char *target = rq->target ? rq->target : "";
    const char *q = strchr(target, '?');
    size_t pl = q ? (size_t)(q - target) : strlen(target);
    if (pl == 0 || pl >= sizeof(c->path) || target[0] != '/') {
        ddns_reply_err(c, MM_DDNS_NOT_FOUND);
        return;
    }
    memcpy(c->path, target, pl);
    c->path[pl] = 0;
    c->query = q ? q + 1 : NULL;
    if (strcmp(rq->method, "OPTIONS") == 0) { /* CORS preflight [impl] */
        c->rs->status = 204;
        mm_ddns_resp_header(c->rs, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        mm_ddns_resp_header(c->rs, "Access-Control-Allow-Headers",
                            "Content-Type, Authorization, X-API-Key");
        mm_ddns_resp_header(c->rs, "Access-Control-Max-Age", "86400");
        return;
    }
    const char *suffix = NULL;
    bool path_ok = false;
    const struct route *r = match(rq->method, c->path, &suffix, &path_ok);
    if (!r) {
        ddns_reply_err(c, path_ok ? MM_DDNS_METHOD_NOT_ALLOWED : MM_DDNS_NOT_FOUND);
        return;
    }
    uint32_t limit = limit_of(&c->s->cfg.limits, r->limit);
    if (r->flags & EP_PUBLIC) {
        if (r->kind == R_NIC) {
            dispatch(c, r, suffix, NULL); /* keeps its text replies for every outcome */
            return;
        }
        if (ddns_rate(c, r->limit, c->who.peer, limit, false))
            dispatch(c, r, suffix, NULL);
        return;
    }
    if (locked_out(c)) {
        if (ddns_audit(c, "authenticate", c->path, false, "locked-out") < 0)
            ddns_reply_err(c, MM_DDNS_SERVER_ERROR);
        else
            ddns_reply_err(c, MM_DDNS_RATE_LIMITED);
        mm_ddns_resp_header(c->rs, "Retry-After", "60");
        return;
    }
    if (!auth_json(c))
        return;
    if (!(c->who.tok.scopes & MM_DDNS_SCOPE((unsigned)r->scope))) {
        if (ddns_audit(c, "authorize", c->path, false, "forbidden") < 0) {
            ddns_reply_err(c, MM_DDNS_SERVER_ERROR);
            return;
        }
        mm_ddns_fail f = {.err = MM_DDNS_FORBIDDEN, .message = "Token lacks the required scope"};
        ddns_reply_error(c, &f);
        return;
    }
    char key[32];
    snprintf(key, sizeof(key), "tok%lld", (long long)c->who.tok.id);
    if (!ddns_rate(c, r->limit, key, limit, false))
        return;
    json_t *body = NULL;
    if (r->flags & EP_BODY) {
        json_error_t je;
        body = json_loadb((const char *)rq->body, rq->body_len,
                          JSON_REJECT_DUPLICATES, &je);
        if (!body) {
            mm_ddns_fail f = {.err = MM_DDNS_INVALID_JSON};
            ddns_reply_error(c, &f);
            return;
        }
    }
    dispatch(c, r, suffix, body);
    json_decref(body);
}

static int64_t real_now_ms(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mm_ddns_service_handle(mm_ddns_service *s, const mm_ddns_http_req *rq, mm_ddns_http_resp *rs)
{
    struct ctx c = {.s = s, .rq = rq, .rs = rs};
    c.now_ms = s->cfg.now_ms(s->cfg.now_arg);
    /* Auto-detection, rate limits and the audit all see the client, not the proxy. */
    const char *xff = s->cfg.n_trusted_proxies ? rq->header(rq->header_arg, "X-Forwarded-For") : NULL;
    int xrc = mm_ddns_client_addr(&rq->peer, xff, s->cfg.trusted_proxies,
                                  s->cfg.n_trusted_proxies, &c.client);
    mm_ddns_addr_format(&c.client, c.who.peer, sizeof(c.who.peer));
    security_headers(rs);
    mm_audit_batch_begin(s->cfg.audit);
    if (xrc < 0) {
        /* A list through a trusted proxy that names no usable client: the
         * proxy's own address must not stand in for it (it would be
         * published by auto and share one rate-limit bucket). Refused. */
        if (ddns_audit(&c, "proxy", "X-Forwarded-For", false, "unusable X-Forwarded-For") >= 0)
            ddns_reply_err(&c, MM_DDNS_INVALID_REQUEST);
    } else {
        handle(&c);
    }
    /* Records of denials and changes are durable before the reply leaves. */
    if (mm_audit_batch_end(s->cfg.audit) < 0) {
        mm_ddns_fail f = {.err = MM_DDNS_SERVER_ERROR, .message = "audit log unavailable"};
        rs->n_headers = 0;
        security_headers(rs);
        ddns_reply_error(&c, &f);
    }
    if (!rs->status)
        rs->status = 500;
}

/* ------------------------------------------------------------ construction */

static void default_limits(mm_ddns_limits *l, bool test_mode)
{
    /* Section 9 defaults; test mode raises them (issue 13, item 6). */
    uint32_t k = test_mode ? 1000 : 1;
    if (!l->update) l->update = 60 * k;
    if (!l->bulk) l->bulk = 10 * k;
    if (!l->status) l->status = 120 * k;
    if (!l->domains) l->domains = 60 * k;
    if (!l->txt) l->txt = 30 * k;
    if (!l->public_) l->public_ = 120 * k;
    if (!l->nic) l->nic = 60 * k;
    if (!l->window_s) l->window_s = 60;
    if (!l->auth_fail_max) l->auth_fail_max = test_mode ? 50 : 10;
}

mm_ddns_service *mm_ddns_service_new(const mm_ddns_service_config *cfg)
{
    if (!cfg->store || !cfg->audit)
        return NULL; /* fail closed: no audit log, no service */
    mm_ddns_service *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (!s->cfg.now_ms)
        s->cfg.now_ms = real_now_ms;
    if (!s->cfg.provider_name)
        s->cfg.provider_name = "mamori";
    if (!s->cfg.provider_site)
        s->cfg.provider_site = "https://localhost";
    default_limits(&s->cfg.limits, cfg->test_mode);
    s->pol.allow_doc = cfg->test_mode;
    s->pol.allow_loopback_auto = cfg->test_mode;
    s->pol.txt_enabled = true;
    s->rl = mm_ddns_rl_new(65536);
    if (!s->rl) {
        free(s);
        return NULL;
    }
    s->started_ms = s->cfg.now_ms(s->cfg.now_arg);
    return s;
}

void mm_ddns_service_free(mm_ddns_service *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s->cfg.key, sizeof(s->cfg.key));
    mm_ddns_rl_free(s->rl);
    free(s);
}
