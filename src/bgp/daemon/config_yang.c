/*
 * config_yang.c - mamori-bgpd's configuration in its YANG encodings: JSON
 * (RFC 7951, top-level member "mamori-bgp:bgp") or XML (<bgp> in namespace
 * urn:mamori:params:xml:ns:yang:mamori-bgp), validated by libyang against
 * yang/mamori-bgp.yang first, then handed to the member-by-member checks of
 * config.c as the plain JSON object they read (the YANG tree printed as JSON
 * with explicit values only, so config.c applies its own defaults).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgpd.h"
#include "mamori/mm_buf.h"
#include "mamori/mm_config.h"
#include "mamori/mm_core.h"

static const char *const bgp_modules[] = {"mamori-bgp", NULL};

/* "<file>: <path>: <message>" for each libyang error (XML; JSON goes through mm_config). */
static void xml_errors(struct ly_ctx *ctx, const char *path, char *err, size_t errlen)
{
    size_t used = 0;
    err[0] = 0;
    for (const struct ly_err_item *e = ly_err_first(ctx); e && used + 1 < errlen; e = e->next) {
        int n = snprintf(err + used, errlen - used, "%s%s: %s%s%s%s", used ? "\n" : "", path,
                         e->msg ? e->msg : "invalid", e->path ? " (" : "", e->path ? e->path : "",
                         e->path ? ")" : "");
        if (n < 0)
            break;
        used += (size_t)n < errlen - used ? (size_t)n : errlen - used - 1;
    }
    if (!err[0])
        snprintf(err, errlen, "%s: not valid against mamori-bgp", path);
}

/* The validated tree as the plain object config.c reads. */
static int tree_to_plain(const struct lyd_node *tree, const char *path, json_t **out, char *err,
                         size_t errlen)
{
    char *text = NULL;
    if (!tree) { /* an empty document: no container at all */
        snprintf(err, errlen, "%s: no mamori-bgp:bgp container", path);
        return MM_ECONFIG;
    }
    if (lyd_print_mem(&text, tree, LYD_JSON, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_WD_EXPLICIT) != LY_SUCCESS ||
        !text) {
        snprintf(err, errlen, "%s: cannot print the validated tree", path);
        return MM_ENOMEM;
    }
    json_error_t je;
    json_t *all = json_loads(text, 0, &je);
    free(text);
    json_t *bgp = all ? json_object_get(all, "mamori-bgp:bgp") : NULL;
    if (!bgp) {
        json_decref(all);
        snprintf(err, errlen, "%s: no mamori-bgp:bgp container", path);
        return MM_ECONFIG;
    }
    *out = json_incref(bgp);
    json_decref(all);
    return 0;
}

int bgpd_config_yang_plain(const char *path, const char *text, bool xml, json_t **out, char *err,
                           size_t errlen)
{
    *out = NULL;
    int rc;
    if (!xml) {
        mm_config *cfg = NULL;
        if ((rc = mm_config_load_string(path, text, bgp_modules, &cfg, err, errlen)) < 0)
            return rc;
        rc = tree_to_plain(cfg->tree, path, out, err, errlen);
        mm_config_free(cfg);
        return rc;
    }
    struct ly_ctx *ctx = NULL;
    if ((rc = mm_config_ctx_new(bgp_modules, &ctx, err, errlen)) < 0)
        return rc;
    struct lyd_node *tree = NULL;
    /* Config only, as for JSON: state data in a config file is an error. */
    if (lyd_parse_data_mem(ctx, text, LYD_XML, LYD_PARSE_STRICT | LYD_PARSE_NO_STATE,
                           LYD_VALIDATE_PRESENT | LYD_VALIDATE_NO_STATE, &tree) != LY_SUCCESS) {
        xml_errors(ctx, path, err, errlen);
        lyd_free_all(tree);
        ly_ctx_destroy(ctx);
        return MM_ECONFIG;
    }
    rc = tree_to_plain(tree, path, out, err, errlen);
    lyd_free_all(tree);
    ly_ctx_destroy(ctx);
    return rc;
}
