/*
 * op_get.c - get, get-config (RFC 6241 7.1, 7.7) and NMDA get-data
 * (RFC 8526 3.1.1): select, filter, NACM read check, print.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "nc_internal.h"

#define NC_NS_NMDA "urn:ietf:params:xml:ns:yang:ietf-netconf-nmda"

static struct lyd_node *find(const struct lyd_node *op, const char *path)
{
    struct lyd_node *n = NULL;
    return lyd_find_path(op, path, 0, &n) == LY_SUCCESS ? n : NULL;
}

static const char *meta_value(const struct lyd_node *n, const char *name)
{
    for (const struct lyd_meta *m = n ? n->meta : NULL; m; m = m->next)
        if (!strcmp(m->name, name))
            return lyd_get_meta_value(m);
    return NULL;
}

/* Running config plus state: monitoring, streams, yang-library. */
static int operational(mm_nc_server *srv, struct lyd_node **out)
{
    struct lyd_node *t = NULL, *part = NULL;
    MM_ENSURE(!lyd_dup_siblings(srv->ds[NC_DS_RUNNING].tree, NULL, NC_DUP, &t), MM_ENOMEM);
    int (*const parts[])(mm_nc_server *, struct lyd_node **) = {nc_monitoring_state,
                                                                nc_notif_streams};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        part = NULL;
        if (parts[i](srv, &part) == 0 && part)
            lyd_merge_siblings(&t, part, LYD_MERGE_DESTRUCT);
    }
    part = NULL;
    if (ly_ctx_get_yanglib_data(srv->ctx, &part, "%u", srv->content_id) == LY_SUCCESS && part)
        lyd_merge_siblings(&t, part, LYD_MERGE_DESTRUCT);
    *out = t;
    return 0;
}

/* Filter (subtree or xpath from the ietf-netconf filter), NACM, print. */
static void reply_data(nc_rpc *rpc, struct lyd_node *data, const struct lyd_node *filter,
                       const char *xpath, const char *elem, const char *ns)
{
    bool ok;
    uint32_t wd = nc_wd_flags(rpc, rpc->op, &ok);
    if (ok && nc_filter_apply(rpc, filter, xpath, &data) == 0) {
        mm_nacm_req req = nc_nacm_req(rpc->s);
        mm_nacm_filter_read(&req, &data);
        nc_print_data(rpc, elem, ns, data, wd);
    }
    lyd_free_all(data);
}

static void nc_filter_param(const struct lyd_node *op, const struct lyd_node **filter,
                            const char **xpath)
{
    *filter = find(op, "filter");
    *xpath = NULL;
    const char *type = meta_value(*filter, "type");
    if (type && !strcmp(type, "xpath")) {
        *xpath = meta_value(*filter, "select");
        *xpath = *xpath ? *xpath : "/..";
    }
}

int nc_op_get(nc_rpc *rpc)
{
    struct lyd_node *data = NULL;
    if (operational(rpc->s->srv, &data) < 0) {
        nc_rpc_err(rpc, "application", "operation-failed", "out of memory");
        return 0;
    }
    const struct lyd_node *filter;
    const char *xpath;
    nc_filter_param(rpc->op, &filter, &xpath);
    reply_data(rpc, data, filter, xpath, "data", NC_NS_BASE);
    return 0;
}

int nc_op_get_config(nc_rpc *rpc)
{
    enum nc_ds ds = NC_DS_COUNT;
    if (nc_ds_parse_target(rpc->op, "source", &ds) < 0 || ds >= NC_DS_COUNT) {
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "source",
                    .message = "unsupported datastore"};
        nc_rpc_error(rpc, &e);
        return 0;
    }
    struct lyd_node *data = NULL;
    if (lyd_dup_siblings(rpc->s->srv->ds[ds].tree, NULL, NC_DUP, &data)) {
        nc_rpc_err(rpc, "application", "operation-failed", "out of memory");
        return 0;
    }
    const struct lyd_node *filter;
    const char *xpath;
    nc_filter_param(rpc->op, &filter, &xpath);
    reply_data(rpc, data, filter, xpath, "data", NC_NS_BASE);
    return 0;
}

/* ------------------------------------------------------------ get-data */

/* config-filter: keep config (want=true) or state (want=false) nodes. */
static void config_prune(struct lyd_node **first, struct lyd_node *parent, bool want)
{
    struct lyd_node *n = parent ? lyd_child_no_keys(parent) : *first;
    while (n) {
        struct lyd_node *next = n->next;
        bool is_config = !(n->schema->flags & LYS_CONFIG_R);
        if (n->schema->nodetype & LYD_NODE_INNER && is_config)
            config_prune(first, n, want);
        bool keep = is_config == want ||
                    ((n->schema->nodetype & LYD_NODE_INNER) && lyd_child_no_keys(n));
        if (!keep) {
            if (!parent && *first == n)
                *first = next;
            lyd_free_tree(n);
        }
        n = next;
    }
}

static void depth_prune(struct lyd_node *first, uint32_t depth, uint32_t max)
{
    for (struct lyd_node *n = first; n; n = n->next) {
        if (!(n->schema->nodetype & LYD_NODE_INNER))
            continue;
        if (depth < max) {
            depth_prune(lyd_child(n), depth + 1, max);
            continue;
        }
        struct lyd_node *c = lyd_child_no_keys(n);
        while (c) {
            struct lyd_node *next = c->next;
            lyd_free_tree(c);
            c = next;
        }
    }
}

static int get_data_source(nc_rpc *rpc, struct lyd_node **data)
{
    mm_nc_server *srv = rpc->s->srv;
    struct lyd_node *n = find(rpc->op, "datastore");
    enum nc_ds ds;
    if (!n || nc_ds_from_identity(lyd_get_value(n), &ds) < 0) {
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "datastore",
                    .message = "unsupported datastore"};
        nc_rpc_error(rpc, &e);
        return MM_EUNSUPPORTED;
    }
    int rc = ds == NC_DS_OPERATIONAL ? operational(srv, data)
             : lyd_dup_siblings(srv->ds[ds].tree, NULL, NC_DUP, data) ? MM_ENOMEM : 0;
    if (rc < 0)
        nc_rpc_err(rpc, "application", "operation-failed", "out of memory");
    return rc;
}

int nc_op_get_data(nc_rpc *rpc)
{
    struct lyd_node *data = NULL;
    if (get_data_source(rpc, &data) < 0)
        return 0;
    struct lyd_node *xp = find(rpc->op, "xpath-filter");
    if (nc_filter_apply(rpc, find(rpc->op, "subtree-filter"), xp ? lyd_get_value(xp) : NULL,
                        &data) < 0) {
        lyd_free_all(data);
        return 0;
    }
    struct lyd_node *cf = find(rpc->op, "config-filter");
    if (cf && data)
        config_prune(&data, NULL, !strcmp(lyd_get_value(cf), "true"));
    struct lyd_node *md = find(rpc->op, "max-depth");
    if (md && data && strcmp(lyd_get_value(md), "unbounded"))
        depth_prune(data, 1, (uint32_t)strtoul(lyd_get_value(md), NULL, 10));
    reply_data(rpc, data, NULL, NULL, "data", NC_NS_NMDA);
    return 0;
}
