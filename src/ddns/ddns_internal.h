/*
 * Internals shared by the engine's files (service, handlers, nic).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_DDNS_INTERNAL_H
#define MM_DDNS_INTERNAL_H

#include <jansson.h>

#include "mamori/mm_ddns.h"

struct mm_ddns_service {
    mm_ddns_service_config cfg;
    mm_ddns_policy pol;
    mm_ddns_rl *rl;
    int64_t started_ms;
};

/* The authenticated principal of one request. */
struct principal {
    mm_ddns_token_info tok;
    char peer[64];
};

/* One request being handled. */
struct ctx {
    mm_ddns_service *s;
    const mm_ddns_http_req *rq;
    mm_ddns_http_resp *rs;
    struct principal who;
    /* The client: the socket peer, or what a trusted proxy says (proxy.c). */
    mm_ddns_addr client;
    int64_t now_ms;
    char path[512];
    const char *query; /* into the request target, or NULL */
};

/* Envelope (service.c). */
void ddns_reply_json(struct ctx *c, int status, json_t *data);           /* steals data */
void ddns_reply_error(struct ctx *c, const mm_ddns_fail *f);
void ddns_reply_err(struct ctx *c, enum mm_ddns_err e);
void ddns_reply_text(struct ctx *c, const char *text);
/* Audit one decision; MM_EIO if it could not be written (the caller must fail). */
int ddns_audit(struct ctx *c, const char *action, const char *object, bool permit,
               const char *reason);
/* Authenticate the token text; 0 with c->who filled, else the error. */
enum mm_ddns_err ddns_authenticate(struct ctx *c, const char *token, size_t len);
/* Count a rate-limited hit; false (and 429 sent unless quiet) when over. */
bool ddns_rate(struct ctx *c, const char *kind, const char *key, uint32_t limit, bool quiet);
/* Ownership of name by the principal: OK, HOSTNAME_NOT_OWNED or SERVER_ERROR. */
enum mm_ddns_err ddns_owner_check(struct ctx *c, const char *name);
json_t *ddns_time_json(int64_t ms);
json_t *ddns_addr_json(const char *text);

/* Endpoints (handlers.c, nic.c). */
void ddns_ep_info(struct ctx *c);
void ddns_ep_health(struct ctx *c);
void ddns_ep_update(struct ctx *c, json_t *body);
void ddns_ep_bulk(struct ctx *c, json_t *body);
void ddns_ep_status(struct ctx *c, const char *name_enc);
void ddns_ep_domains(struct ctx *c);
void ddns_ep_txt_post(struct ctx *c, json_t *body);
void ddns_ep_txt_delete(struct ctx *c, json_t *body);
void ddns_ep_txt_get(struct ctx *c, const char *name_enc);
void ddns_ep_nic_update(struct ctx *c);

#endif
