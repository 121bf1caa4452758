/*
 * op_schema.c - <get-schema> (RFC 6022 section 3.1): the module's own
 * YANG text when it was read from a file, else libyang's rendering.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nc_internal.h"

static const char *param(const struct lyd_node *op, const char *name)
{
    struct lyd_node *n = NULL;
    if (lyd_find_path(op, name, 0, &n) != LY_SUCCESS || !n)
        return NULL;
    return lyd_get_value(n);
}

static char *read_text(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    mm_buf b;
    mm_buf_init(&b, max);
    int rc = mm_buf_read_stream(&b, f);
    fclose(f);
    if (rc < 0) {
        mm_buf_free(&b);
        return NULL;
    }
    char *text = strdup(mm_buf_cstr(&b));
    mm_buf_free(&b);
    return text;
}

static char *schema_text(mm_nc_server *srv, const char *id, const char *version, bool yin)
{
    const struct lys_module *mod = version && *version ? ly_ctx_get_module(srv->ctx, id, version)
                                                       : ly_ctx_get_module_latest(srv->ctx, id);
    char *text = NULL;
    if (mod) {
        if (!yin && mod->filepath)
            text = read_text(mod->filepath, srv->max_message);
        if (!text)
            lys_print_mem(&text, mod, yin ? LYS_OUT_YIN : LYS_OUT_YANG, 0);
        return text;
    }
    const struct lysp_submodule *sub = ly_ctx_get_submodule(srv->ctx, id, version);
    if (sub && !yin && sub->filepath)
        text = read_text(sub->filepath, srv->max_message);
    struct ly_out *out = NULL;
    if (sub && !text && ly_out_new_memory(&text, 0, &out) == LY_SUCCESS) {
        lys_print_submodule(out, sub, yin ? LYS_OUT_YIN : LYS_OUT_YANG, 0, 0);
        ly_out_free(out, NULL, 0);
    }
    return text;
}

int nc_op_get_schema(nc_rpc *rpc)
{
    const char *id = param(rpc->op, "identifier");
    const char *format = param(rpc->op, "format");
    bool yin = format && strstr(format, "yin");
    if (format && !yin && !strstr(format, "yang")) {
        nc_err e = {.type = "application", .tag = "invalid-value", .bad_elem = "format"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    char *text = id ? schema_text(rpc->s->srv, id, param(rpc->op, "version"), yin) : NULL;
    if (!text) {
        nc_err e = {.type = "application", .tag = "invalid-value", .bad_elem = "identifier",
                    .message = "no such schema"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    int rc = mm_buf_printf(&rpc->body, "<data xmlns=\"%s\">", NC_NS_MONITORING);
    rc = rc ? rc : nc_xml_escape(&rpc->body, text);
    rc = rc ? rc : mm_buf_append_str(&rpc->body, "</data>");
    free(text);
    if (rc < 0) {
        mm_buf_reset(&rpc->body);
        nc_rpc_err(rpc, "application", "too-big", "the schema exceeds the maximum message size");
    }
    return 0;
}
