/*
 * The JSON endpoints (spec sections 4, 7.1-7.7). Each handler validates in
 * the spec's order, checks ownership before touching data, audits the
 * decision, then changes the store (one durable transaction) and answers.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ddns_internal.h"
#include "mamori/mm_core.h"

/* ------------------------------------------------------------ /info, /health */

void ddns_ep_info(struct ctx *c)
{
    const mm_ddns_service_config *k = &c->s->cfg;
    char doc[256], priv[256], terms[256], mail[128];
    snprintf(doc, sizeof(doc), "%s/docs", k->provider_site);
    snprintf(priv, sizeof(priv), "%s/privacy", k->provider_site);
    snprintf(terms, sizeof(terms), "%s/terms", k->provider_site);
    snprintf(mail, sizeof(mail), "support@%s", "localhost");
    json_t *scopes = json_array();
    for (unsigned i = 0; i < MM_DDNS_SCOPE_COUNT; i++)
        json_array_append_new(scopes, json_string(mm_ddns_scope_name(i)));
    json_t *d = json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s},"
        "s:{s:b,s:b,s:b,s:b,s:i,s:b,s:b,s:i,s:b,s:b},"
        "s:{s:[s,s,s],s:s,s:o},"
        "s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s},"
        "s:{s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i},s:{s:i,s:i}},s:o}",
        "protocol", "apertodns", "protocol_version", MM_DDNS_PROTOCOL_VERSION,
        "provider", "name", k->provider_name, "website", k->provider_site, "documentation", doc,
        "support_email", mail, "privacy_policy", priv, "terms_of_service", terms,
        "capabilities", "ipv4", 1, "ipv6", 1, "auto_ip_detection", 1, "bulk_update", 1,
        "max_bulk_size", MM_DDNS_BULK_MAX, "webhooks", 0, "txt_records", 1, "txt_max_records",
        MM_DDNS_TXT_MAX_RECORDS, "null_deletion", 1, "concurrent_update", 1,
        "authentication", "methods", "bearer_token", "api_key_header", "basic_auth_legacy",
        "token_format", "{provider}_{environment}_{random}", "scopes_supported", scopes,
        "endpoints", "info", MM_DDNS_PREFIX "/info", "health", MM_DDNS_PREFIX "/health",
        "update", MM_DDNS_PREFIX "/update", "bulk_update", MM_DDNS_PREFIX "/bulk-update",
        "status", MM_DDNS_PREFIX "/status/{hostname}", "domains", MM_DDNS_PREFIX "/domains",
        "txt", MM_DDNS_PREFIX "/txt", "legacy_dyndns2", "/nic/update",
        "rate_limits", "update", "requests", (int)k->limits.update, "window_seconds",
        (int)k->limits.window_s, "bulk_update", "requests", (int)k->limits.bulk,
        "window_seconds", (int)k->limits.window_s, "status", "requests", (int)k->limits.status,
        "window_seconds", (int)k->limits.window_s, "domains", "requests",
        (int)k->limits.domains, "window_seconds", (int)k->limits.window_s, "txt", "requests",
        (int)k->limits.txt, "window_seconds", (int)k->limits.window_s,
        "server_time", ddns_time_json(c->now_ms));
    ddns_reply_json(c, d ? 200 : 500, d);
}

void ddns_ep_health(struct ctx *c)
{
    const mm_ddns_service_config *k = &c->s->cfg;
    bool dns = k->dns_ok ? k->dns_ok(k->dns_arg) : true;
    int64_t pending = mm_ddns_store_push_pending(k->store);
    const char *status = pending < 0 ? "unhealthy" : dns ? "healthy" : "degraded";
    json_t *d = json_pack("{s:s,s:o,s:I,s:I}", "status", status, "timestamp",
                          ddns_time_json(c->now_ms), "uptime",
                          (json_int_t)((c->now_ms - c->s->started_ms) / 1000), "dns_queue",
                          (json_int_t)(pending < 0 ? 0 : pending));
    ddns_reply_json(c, pending < 0 ? 503 : 200, d);
}

/* ------------------------------------------------------------ updates */

static json_t *fail_json(const mm_ddns_fail *f)
{
    return json_pack("{s:s,s:s}", "code", mm_ddns_err_code(f->err), "message",
                     f->message ? f->message : mm_ddns_err_message(f->err));
}

static int failv(mm_ddns_fail *f, enum mm_ddns_err e, const char *msg)
{
    f->err = e;
    f->field = NULL;
    f->message = msg;
    return -1;
}

/*
 * One validated A/AAAA update: ownership, existence, then the auto address
 * (last: section 17), audit, durable commit.
 */
static int update_one(struct ctx *c, mm_ddns_update_req *r, mm_ddns_host *before,
                      mm_ddns_host *after, bool *changed, mm_ddns_fail *f)
{
    enum mm_ddns_err e = ddns_owner_check(c, r->hostname);
    if (e != MM_DDNS_OK) {
        if (ddns_audit(c, "update", r->hostname, false, mm_ddns_err_code(e)) < 0)
            e = MM_DDNS_SERVER_ERROR;
        return failv(f, e, NULL);
    }
    int rc = mm_ddns_store_host_get(c->s->cfg.store, r->hostname, before);
    if (rc == MM_ENOENT)
        return failv(f, MM_DDNS_NOT_FOUND, "Hostname not found");
    if (rc < 0)
        return failv(f, MM_DDNS_SERVER_ERROR, NULL);
    if (mm_ddns_update_resolve_auto(r, &c->client, &c->s->pol, f) < 0)
        return -1;
    char what[160], a4[46] = "-", a6[46] = "-";
    if (r->v4 == MM_DDNS_SET)
        mm_ddns_addr_format(&r->a4, a4, sizeof(a4));
    if (r->v6 == MM_DDNS_SET)
        mm_ddns_addr_format(&r->a6, a6, sizeof(a6));
    snprintf(what, sizeof(what), "ipv4=%s ipv6=%s ttl=%u", r->v4 == MM_DDNS_NULL ? "null" : a4,
             r->v6 == MM_DDNS_NULL ? "null" : a6, r->has_ttl ? r->ttl : 0);
    /* Fail closed: no change without its audit record. */
    if (ddns_audit(c, "update", r->hostname, true, what) < 0)
        return failv(f, MM_DDNS_SERVER_ERROR, "audit log unavailable");
    if (mm_ddns_store_host_update(c->s->cfg.store, r, c->now_ms, before, after, changed) < 0)
        return failv(f, MM_DDNS_SERVER_ERROR, "storage failed");
    if (after->zone[0] && c->s->cfg.on_push)
        c->s->cfg.on_push(c->s->cfg.push_arg);
    return 0;
}

static json_t *update_data(struct ctx *c, const mm_ddns_host *b, const mm_ddns_host *a,
                           bool changed)
{
    json_t *d = json_pack("{s:s,s:o,s:o,s:o,s:o,s:i,s:b,s:o,s:o}", "hostname", a->name, "ipv4",
                          ddns_addr_json(a->ipv4), "ipv6", ddns_addr_json(a->ipv6),
                          "previous_ipv4", ddns_addr_json(b->ipv4), "previous_ipv6",
                          ddns_addr_json(b->ipv6), "ttl", (int)a->ttl, "changed", changed,
                          "updated_at", ddns_time_json(c->now_ms), "timestamp",
                          ddns_time_json(c->now_ms));
    if (d && a->zone[0])
        json_object_set_new(d, "propagation_estimate_seconds", json_integer(1));
    return d;
}

/* TXT add/delete shared by /txt and /update's txt object (7.6, 7.7). */
static void txt_apply(struct ctx *c, const char *owner, const char *value, bool del, uint32_t ttl)
{
    char base[MM_DDNS_HOSTNAME_MAX + 1];
    mm_ddns_fail f = {0};
    if (mm_ddns_txt_owner_base(owner, base, sizeof(base)) < 0) {
        f.err = MM_DDNS_TXT_INVALID_NAME;
        ddns_reply_error(c, &f);
        return;
    }
    unsigned need = del ? MM_DDNS_SCOPE_TXT_DELETE_BIT : MM_DDNS_SCOPE_TXT_WRITE_BIT;
    enum mm_ddns_err e = (c->who.tok.scopes & MM_DDNS_SCOPE(need)) ? ddns_owner_check(c, base)
                                                                   : MM_DDNS_FORBIDDEN;
    mm_ddns_host h;
    if (e == MM_DDNS_OK) {
        int rc = mm_ddns_store_host_get(c->s->cfg.store, base, &h);
        e = rc == MM_ENOENT ? MM_DDNS_NOT_FOUND : rc < 0 ? MM_DDNS_SERVER_ERROR : MM_DDNS_OK;
    }
    if (ddns_audit(c, del ? "delete" : "create", owner, e == MM_DDNS_OK,
                   e == MM_DDNS_OK ? (del ? "txt-delete" : "txt-add") : mm_ddns_err_code(e)) < 0)
        e = MM_DDNS_SERVER_ERROR;
    if (e != MM_DDNS_OK) {
        ddns_reply_err(c, e);
        return;
    }
    mm_ddns_store *st = c->s->cfg.store;
    json_t *d;
    if (del) {
        size_t removed = 0, remaining = 0;
        if (mm_ddns_store_txt_delete(st, owner, h.zone, value, &removed, &remaining) < 0) {
            ddns_reply_err(c, MM_DDNS_SERVER_ERROR);
            return;
        }
        d = json_pack("{s:s,s:b,s:I,s:I,s:o}", "hostname", owner, "deleted", 1, "values_removed",
                      (json_int_t)removed, "remaining_count", (json_int_t)remaining, "timestamp",
                      ddns_time_json(c->now_ms));
    } else {
        size_t count = 0;
        int rc = mm_ddns_store_txt_add(st, owner, h.zone, value, ttl, c->now_ms, &count);
        if (rc == MM_ELIMIT) {
            ddns_reply_err(c, MM_DDNS_TXT_LIMIT_EXCEEDED);
            return;
        }
        if (rc < 0) {
            ddns_reply_err(c, MM_DDNS_SERVER_ERROR);
            return;
        }
        d = json_pack("{s:s,s:s,s:i,s:I,s:o}", "hostname", owner, "value", value, "ttl", (int)ttl,
                      "record_count", (json_int_t)count, "timestamp", ddns_time_json(c->now_ms));
    }
    if (h.zone[0] && c->s->cfg.on_push)
        c->s->cfg.on_push(c->s->cfg.push_arg);
    ddns_reply_json(c, 200, d);
}

void ddns_ep_update(struct ctx *c, json_t *body)
{
    mm_ddns_update_req r;
    mm_ddns_fail f = {0};
    if (mm_ddns_update_parse(body, NULL, &c->s->pol, &r, &f) < 0) {
        ddns_reply_error(c, &f);
        return;
    }
    if (r.has_txt) {
        txt_apply(c, r.txt_owner, r.txt_has_value ? r.txt_value : NULL, r.txt_delete,
                  r.has_ttl ? r.ttl : MM_DDNS_TXT_TTL_DEFAULT);
        return;
    }
    mm_ddns_host b, a;
    bool changed = false;
    if (update_one(c, &r, &b, &a, &changed, &f) < 0) {
        ddns_reply_error(c, &f);
        return;
    }
    ddns_reply_json(c, 200, update_data(c, &b, &a, changed));
}

void ddns_ep_bulk(struct ctx *c, json_t *body)
{
    json_t *ups = json_object_get(body, "updates");
    mm_ddns_fail f = {.err = MM_DDNS_VALIDATION_ERROR, .field = "updates",
                      .message = "updates must be a non-empty array"};
    if (!json_is_array(ups) || json_array_size(ups) == 0) {
        ddns_reply_error(c, &f);
        return;
    }
    /* The size limit comes before any per-entry check (section 17). */
    if (json_array_size(ups) > MM_DDNS_BULK_MAX) {
        f.err = MM_DDNS_BULK_LIMIT_EXCEEDED;
        f.message = "At most 100 updates per request";
        ddns_reply_error(c, &f);
        return;
    }
    json_t *defaults = json_object_get(body, "defaults");
    json_t *results = json_array();
    size_t ok = 0, n = json_array_size(ups);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(ups, i);
        mm_ddns_update_req r;
        mm_ddns_host b, a;
        bool changed = false;
        mm_ddns_fail ef = {0};
        json_t *hn = json_object_get(e, "hostname");
        json_t *item = json_pack("{s:o}", "hostname", json_is_string(hn) ? json_copy(hn) : json_null());
        int rc = mm_ddns_update_parse(e, defaults, &c->s->pol, &r, &ef);
        if (rc == 0 && r.has_txt)
            rc = failv(&ef, MM_DDNS_VALIDATION_ERROR, "txt is not allowed in bulk updates");
        if (rc == 0)
            rc = update_one(c, &r, &b, &a, &changed, &ef);
        if (rc == 0) {
            ok++;
            json_object_set_new(item, "hostname", json_string(a.name));
            json_object_set_new(item, "success", json_true());
            json_object_set_new(item, "ipv4", ddns_addr_json(a.ipv4));
            json_object_set_new(item, "ipv6", ddns_addr_json(a.ipv6));
            json_object_set_new(item, "ttl", json_integer(a.ttl));
            json_object_set_new(item, "changed", json_boolean(changed));
        } else {
            json_object_set_new(item, "success", json_false());
            json_object_set_new(item, "error", fail_json(&ef));
        }
        json_array_append_new(results, item);
    }
    json_t *d = json_pack("{s:{s:I,s:I,s:I},s:o}", "summary", "total", (json_int_t)n,
                          "successful", (json_int_t)ok, "failed", (json_int_t)(n - ok), "results",
                          results);
    if (ok == 0) { /* all failed: 400 with success false and the per-entry results */
        json_t *root = json_pack("{s:b,s:{s:s,s:s},s:o}", "success", 0, "error", "code",
                                 "validation_error", "message", "No update succeeded", "data", d);
        ddns_reply_json(c, 400, NULL);
        char *t = json_dumps(root, JSON_COMPACT);
        mm_buf_reset(&c->rs->body);
        mm_buf_append_str(&c->rs->body, t ? t : "{\"success\":false}");
        free(t);
        json_decref(root);
        return;
    }
    ddns_reply_json(c, ok == n ? 200 : 207, d);
}

/* ------------------------------------------------------------ reads */

/* Decode and normalise the {hostname} path segment; replies on failure. */
static bool name_from_path(struct ctx *c, const char *enc, bool txt_owner, char *out)
{
    char dec[MM_DDNS_HOSTNAME_MAX * 4 + 2]; /* U-labels: up to 4 UTF-8 bytes a character */
    const char *why = NULL;
    if (mm_ddns_pct_decode(enc, strlen(enc), false, dec, sizeof(dec)) < 0 ||
        mm_ddns_hostname_check(dec, strlen(dec), txt_owner, out, &why) < 0) {
        mm_ddns_fail f = {.err = MM_DDNS_INVALID_HOSTNAME, .field = "hostname", .message = why};
        ddns_reply_error(c, &f);
        return false;
    }
    return true;
}

void ddns_ep_status(struct ctx *c, const char *enc)
{
    char name[MM_DDNS_HOSTNAME_MAX + 1];
    if (!name_from_path(c, enc, false, name))
        return;
    enum mm_ddns_err e = ddns_owner_check(c, name);
    mm_ddns_host h;
    if (e == MM_DDNS_OK) {
        int rc = mm_ddns_store_host_get(c->s->cfg.store, name, &h);
        e = rc == MM_ENOENT ? MM_DDNS_NOT_FOUND : rc < 0 ? MM_DDNS_SERVER_ERROR : MM_DDNS_OK;
    }
    if (ddns_audit(c, "read", name, e == MM_DDNS_OK, mm_ddns_err_code(e)) < 0)
        e = MM_DDNS_SERVER_ERROR;
    if (e != MM_DDNS_OK) {
        ddns_reply_err(c, e);
        return;
    }
    ddns_reply_json(c, 200,
                    json_pack("{s:s,s:o,s:o,s:i,s:o,s:o,s:o,s:b,s:I}", "hostname", h.name, "ipv4",
                              ddns_addr_json(h.ipv4), "ipv6", ddns_addr_json(h.ipv6), "ttl",
                              (int)h.ttl, "updated_at", ddns_time_json(h.updated_ms),
                              "last_updated", ddns_time_json(h.updated_ms), "created_at",
                              ddns_time_json(h.created_ms), "is_active", 1, "update_count_total",
                              (json_int_t)h.update_count));
}

static int domain_row(const mm_ddns_host *h, void *arg)
{
    json_t *row = json_pack("{s:s,s:o,s:o,s:i,s:o,s:o,s:b}", "hostname", h->name, "ipv4",
                            ddns_addr_json(h->ipv4), "ipv6", ddns_addr_json(h->ipv6), "ttl",
                            (int)h->ttl, "updated_at", ddns_time_json(h->updated_ms),
                            "created_at", ddns_time_json(h->created_ms), "is_custom_domain",
                            h->zone[0] != 0);
    return json_array_append_new(arg, row) == 0 ? 0 : MM_ENOMEM;
}

void ddns_ep_domains(struct ctx *c)
{
    json_t *arr = json_array();
    if (mm_ddns_store_host_each(c->s->cfg.store, c->who.tok.id, domain_row, arr) < 0 ||
        ddns_audit(c, "read", "domains", true, "ok") < 0) {
        json_decref(arr);
        ddns_reply_err(c, MM_DDNS_SERVER_ERROR);
        return;
    }
    ddns_reply_json(c, 200, arr); /* -02+: data is a flat array */
}

/* ------------------------------------------------------------ /txt */

/* hostname, value, ttl of a /txt body, in the order of section 17. */
static bool txt_body(struct ctx *c, json_t *body, bool value_required, char *owner,
                     const char **value, uint32_t *ttl)
{
    mm_ddns_fail f = {.err = MM_DDNS_VALIDATION_ERROR};
    json_t *h = json_object_get(body, "hostname"), *v = json_object_get(body, "value"),
           *t = json_object_get(body, "ttl");
    *value = NULL;
    *ttl = MM_DDNS_TXT_TTL_DEFAULT;
    if (!json_is_object(body) || !json_is_string(h)) {
        f.field = "hostname";
        f.message = "hostname is required";
    } else if (strlen(json_string_value(h)) != json_string_length(h) ||
               mm_ddns_hostname_check(json_string_value(h), json_string_length(h), true, owner,
                                      &f.message) < 0) {
        f.err = MM_DDNS_INVALID_HOSTNAME;
        f.field = "hostname";
    } else if (t && (!json_is_integer(t) || json_integer_value(t) < MM_DDNS_TTL_MIN ||
                     json_integer_value(t) > MM_DDNS_TTL_MAX)) {
        f.err = MM_DDNS_INVALID_TTL;
        f.field = "ttl";
    } else if ((v && !json_is_string(v)) || (!v && value_required) ||
               (v && value_required && json_string_length(v) == 0)) {
        f.field = "value";
        f.message = "value is required";
    } else if (v && json_string_length(v) > MM_DDNS_TXT_VALUE_MAX) {
        f.err = MM_DDNS_TXT_VALUE_TOO_LONG;
        f.field = "value";
    } else {
        if (v) {
            const char *s = json_string_value(v);
            for (size_t i = 0; i < json_string_length(v); i++)
                if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
                    f.field = "value";
                    f.message = "value must be printable ASCII";
                    ddns_reply_error(c, &f);
                    return false;
                }
            *value = json_string_length(v) ? s : NULL;
        }
        if (t)
            *ttl = (uint32_t)json_integer_value(t);
        return true;
    }
    ddns_reply_error(c, &f);
    return false;
}

void ddns_ep_txt_post(struct ctx *c, json_t *body)
{
    char owner[MM_DDNS_HOSTNAME_MAX + 1];
    const char *value;
    uint32_t ttl;
    if (txt_body(c, body, true, owner, &value, &ttl))
        txt_apply(c, owner, value, false, ttl);
}

void ddns_ep_txt_delete(struct ctx *c, json_t *body)
{
    char owner[MM_DDNS_HOSTNAME_MAX + 1];
    const char *value;
    uint32_t ttl;
    if (txt_body(c, body, false, owner, &value, &ttl))
        txt_apply(c, owner, value, true, ttl);
}

void ddns_ep_txt_get(struct ctx *c, const char *enc)
{
    char owner[MM_DDNS_HOSTNAME_MAX + 1], base[MM_DDNS_HOSTNAME_MAX + 1];
    if (!name_from_path(c, enc, true, owner))
        return;
    if (mm_ddns_txt_owner_base(owner, base, sizeof(base)) < 0) {
        ddns_reply_err(c, MM_DDNS_TXT_INVALID_NAME);
        return;
    }
    enum mm_ddns_err e = ddns_owner_check(c, base);
    if (ddns_audit(c, "read", owner, e == MM_DDNS_OK, mm_ddns_err_code(e)) < 0)
        e = MM_DDNS_SERVER_ERROR;
    if (e != MM_DDNS_OK) {
        ddns_reply_err(c, e);
        return;
    }
    char vals[MM_DDNS_TXT_MAX_RECORDS][MM_DDNS_TXT_VALUE_MAX + 1];
    size_t n = 0;
    uint32_t ttl = 0;
    if (mm_ddns_store_txt_get(c->s->cfg.store, owner, vals, MM_DDNS_TXT_MAX_RECORDS, &n, &ttl) < 0) {
        ddns_reply_err(c, MM_DDNS_SERVER_ERROR);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(vals[i]));
    ddns_reply_json(c, 200, json_pack("{s:s,s:o,s:i,s:I}", "hostname", owner, "values", arr, "ttl",
                                      (int)ttl, "record_count", (json_int_t)n));
}
