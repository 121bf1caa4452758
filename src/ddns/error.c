/*
 * ApertoDNS error codes (spec section 8): one table row per code gives the
 * JSON code, the HTTP status, the dyndns2 reply line and a message.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "mamori/mm_ddns.h"

struct err_row {
    const char *code;
    int http;
    const char *line;
    const char *msg;
};

static const struct err_row rows[MM_DDNS_ERR_COUNT] = {
#define MM_DDNS_ERR_ROW(sym, code, http, line, msg) [sym] = {code, http, line, msg},
    MM_DDNS_ERROR_TABLE(MM_DDNS_ERR_ROW)
#undef MM_DDNS_ERR_ROW
};

static const struct err_row *row(enum mm_ddns_err e)
{
    return (unsigned)e < MM_DDNS_ERR_COUNT ? &rows[e] : &rows[MM_DDNS_SERVER_ERROR];
}

const char *mm_ddns_err_code(enum mm_ddns_err e) { return row(e)->code; }
int mm_ddns_err_http(enum mm_ddns_err e) { return row(e)->http; }
const char *mm_ddns_err_dyndns(enum mm_ddns_err e) { return row(e)->line; }
const char *mm_ddns_err_message(enum mm_ddns_err e) { return row(e)->msg; }
