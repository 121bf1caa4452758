/*
 * Test fixture for the ApertoDNS engine: a temp state dir with a store, an
 * audit log, a key, a fake clock, and a request builder.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef DDNS_TESTUTIL_H
#define DDNS_TESTUTIL_H

#include <jansson.h>

#include "mamori/mm_ddns.h"

typedef struct fixture {
    char dir[256];
    mm_ddns_store *store;
    mm_audit *audit;
    mm_ddns_service *svc;
    uint8_t key[MM_DDNS_KEY_LEN];
    int64_t now_ms;
    char token[MM_DDNS_TOKEN_MAX];
    int64_t token_id;
    mm_ddns_http_resp rs;
    json_t *json; /* parsed body of the last response */
} fixture;

/* test_mode: the service's test mode; the token gets scopes for host home.example.net. */
fixture *fx_new(bool test_mode, uint32_t scopes, const mm_ddns_limits *limits);
void fx_free(fixture *f);
/* Another token for name (kind "host" or "zone"). */
void fx_token(fixture *f, uint32_t scopes, const char *kind, const char *name, char *out,
              int64_t *id);
/*
 * One request. headers: "Name: value" strings, NULL-terminated (may be NULL);
 * peer: address text. Returns the status; body parsed into f->json if JSON.
 */
int fx_req(fixture *f, const char *method, const char *target, const char *const *headers,
           const char *body, const char *peer);
/* fx_req with "Authorization: Bearer <f->token>". */
int fx_auth(fixture *f, const char *method, const char *target, const char *body);
/* error.code of the last response, or "" */
const char *fx_code(fixture *f);
/* data.<key> string of the last response ("" if absent, "null" if null) */
const char *fx_data_str(fixture *f, const char *key);
const char *fx_body(fixture *f);

#endif
