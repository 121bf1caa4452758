/*
 * op_get.c - get, get-config (RFC 6241 7.1, 7.7) and NMDA get-data
 * (RFC 8526 3.1.1): select, filter, NACM read check, print.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
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

/*
 * A subtree filter walked over src with NACM checks on every node it looks
 * at (no copy of src), the result pruned for what the selected subtrees
 * hold that the user may not read.
 */
static int subtree_nacm(nc_rpc *rpc, const mm_nacm_req *req, const struct lyd_node *src,
                        const struct lyd_node *filter, struct lyd_node **out)
{
    mm_nacm_reader *rd = NULL;
    int rc = mm_nacm_reader_new(req, &rd);
    if (rc < 0)
        return rc;
    rc = nc_filter_subtree_nacm(nc_filter_first(rpc, filter), src, 0, rd, out);
    if (rc == 0 && rd)
        mm_nacm_filter_read(req, out);
    mm_nacm_reader_free(rd);
    return rc;
}

/*
 * The data a filter selects from src (src is not modified), of what the
 * user may read (RFC 8341 section 3.4.5): a content match on a node the
 * user may not read selects nothing, whatever its value. Subtree filters
 * check each node they visit; XPath filters, which libyang evaluates over
 * the whole tree, run on NACM's pruned copy of src. A user who may read
 * everything (recovery session, NACM disabled) filters src directly.
 */
static int select_from(nc_rpc *rpc, const struct lyd_node *src, const struct lyd_node *filter,
                       const char *xpath, struct lyd_node **out)
{
    *out = NULL;
    if (!src)
        return 0;
    mm_nacm_req req = nc_nacm_req(rpc->s);
    int rc;
    if (filter && !xpath) {
        rc = subtree_nacm(rpc, &req, src, filter, out);
    } else {
        struct lyd_node *view = NULL;
        rc = mm_nacm_read_view(&req, src, &view);
        if (rc == 1 && !xpath) {
            *out = view; /* no filter: the view is the answer */
            return 0;
        }
        if (rc == 1)
            src = view;
        if (rc >= 0)
            rc = xpath ? (src ? nc_filter_xpath(src, xpath, out) : 0)
                       : (lyd_dup_siblings(src, NULL, NC_DUP, out) == LY_SUCCESS ? 0 : MM_ENOMEM);
        lyd_free_all(view);
    }
    if (rc == MM_ENOMEM) {
        nc_rpc_err(rpc, "application", "operation-failed", "out of memory");
    } else if (rc < 0) {
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "filter",
                    .message = ly_errmsg(rpc->s->srv->ctx)};
        nc_rpc_error(rpc, &e);
    }
    return rc;
}

/*
 * Print as <elem xmlns=ns> (already pruned by NACM in select_from) with
 * extra print flags. Frees data.
 */
static void reply_selected_ex(nc_rpc *rpc, struct lyd_node *data, const char *elem,
                              const char *ns, uint32_t extra)
{
    bool ok;
    uint32_t wd = nc_wd_flags(rpc, rpc->op, &ok);
    if (ok)
        nc_print_data(rpc, elem, ns, data, wd | extra);
    lyd_free_all(data);
}

static void reply_selected(nc_rpc *rpc, struct lyd_node *data, const char *elem, const char *ns)
{
    reply_selected_ex(rpc, data, elem, ns, 0);
}

/* State data that is not stored in running, built only when asked for. */
static int yanglib_state(mm_nc_server *srv, struct lyd_node **out)
{
    *out = NULL;
    if (ly_ctx_get_yanglib_data(srv->ctx, out, "%u", srv->content_id) != LY_SUCCESS)
        return MM_ENOMEM;
    /* libyang fills the optional location leaves (RFC 8525) with file:// paths
     * of the server's module directory: install layout is not the client's
     * business, and get-schema (RFC 6022) serves the text. Drop them all,
     * and the deprecated modules-state's schema URIs (RFC 7895) likewise. */
    static const char *const leaks[] = {
        "/ietf-yang-library:yang-library//location",
        "/ietf-yang-library:modules-state/module/schema",
        "/ietf-yang-library:modules-state/module/submodule/schema",
    };
    for (size_t k = 0; k < sizeof(leaks) / sizeof(leaks[0]); k++) {
        struct ly_set *set = NULL;
        if (lyd_find_xpath(*out, leaks[k], &set) != LY_SUCCESS) {
            lyd_free_all(*out);
            *out = NULL;
            return MM_ENOMEM;
        }
        for (uint32_t i = 0; i < set->count; i++)
            lyd_free_tree(set->dnodes[i]);
        ly_set_free(set, NULL);
    }
    return 0;
}

/* The config false counters of /nacm (RFC 8341 section 3.1.3), merged with running's /nacm. */
static int nacm_state(mm_nc_server *srv, struct lyd_node **out)
{
    *out = NULL;
    static const char *const names[] = {"denied-operations", "denied-data-writes",
                                        "denied-notifications"};
    const uint32_t values[] = {srv->nacm.denied_operations, srv->nacm.denied_data_writes,
                               srv->nacm.denied_notifications};
    struct lyd_node *t = NULL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[96], v[16];
        snprintf(path, sizeof(path), "/ietf-netconf-acm:nacm/%s", names[i]);
        snprintf(v, sizeof(v), "%u", values[i]);
        if (lyd_new_path(t, srv->ctx, path, v, 0, t ? NULL : &t) != LY_SUCCESS) {
            lyd_free_all(t);
            return MM_ENOMEM;
        }
    }
    *out = t;
    return 0;
}

static const struct state_part {
    const char *module, *ns;
    int (*build)(mm_nc_server *srv, struct lyd_node **out);
} state_parts[] = {
    {"ietf-netconf-monitoring", "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring",
     nc_monitoring_state},
    {"nc-notifications", "urn:ietf:params:xml:ns:netmod:notification", nc_notif_streams},
    {"ietf-yang-library", "urn:ietf:params:xml:ns:yang:ietf-yang-library", yanglib_state},
    {"ietf-netconf-acm", "urn:ietf:params:xml:ns:yang:ietf-netconf-acm", nacm_state},
};

/* Could the filter select anything of this part? (No filter: yes.) */
static bool filter_wants(const struct lyd_node *filter, const char *xpath,
                         const struct state_part *part)
{
    if (xpath)
        return strstr(xpath, part->module) || strchr(xpath, '*') || strstr(xpath, "//");
    if (!filter)
        return true;
    const struct lyd_node_any *any = (const struct lyd_node_any *)filter;
    if (any->value_type != LYD_ANYDATA_DATATREE)
        return false;
    for (const struct lyd_node *f = any->value.tree; f; f = f->next) {
        const char *ns = f->schema ? f->schema->module->ns
                                   : ((const struct lyd_node_opaq *)f)->name.module_ns;
        if (!ns || !*ns || !strcmp(ns, part->ns))
            return true;
    }
    return false;
}

/* The whole operational view: a copy of running plus every state part. */
static int operational(mm_nc_server *srv, struct lyd_node **out)
{
    struct lyd_node *t = NULL;
    MM_ENSURE(!lyd_dup_siblings(srv->ds[NC_DS_RUNNING].tree, NULL, NC_DUP, &t), MM_ENOMEM);
    for (size_t i = 0; i < sizeof(state_parts) / sizeof(state_parts[0]); i++) {
        struct lyd_node *part = NULL;
        if (state_parts[i].build(srv, &part) == 0 && part)
            lyd_merge_siblings(&t, part, LYD_MERGE_DESTRUCT);
    }
    *out = t;
    return 0;
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

/* <get>: running config plus state (monitoring, streams, yang-library). */
int nc_op_get(nc_rpc *rpc)
{
    mm_nc_server *srv = rpc->s->srv;
    const struct lyd_node *filter;
    const char *xpath;
    nc_filter_param(rpc->op, &filter, &xpath);
    struct lyd_node *data = NULL;
    if (select_from(rpc, srv->ds[NC_DS_RUNNING].tree, filter, xpath, &data) < 0)
        return 0;
    for (size_t i = 0; i < sizeof(state_parts) / sizeof(state_parts[0]); i++) {
        if (!filter_wants(filter, xpath, &state_parts[i]))
            continue;
        struct lyd_node *part = NULL, *sel = NULL;
        int rc = state_parts[i].build(srv, &part);
        if (rc == 0)
            rc = select_from(rpc, part, filter, xpath, &sel);
        lyd_free_all(part);
        if (rc < 0) {
            lyd_free_all(data);
            return 0;
        }
        if (sel)
            lyd_merge_siblings(&data, sel, LYD_MERGE_DESTRUCT);
    }
    reply_selected(rpc, data, "data", NC_NS_BASE);
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
    const struct lyd_node *filter;
    const char *xpath;
    nc_filter_param(rpc->op, &filter, &xpath);
    struct lyd_node *data = NULL;
    if (select_from(rpc, rpc->s->srv->ds[ds].tree, filter, xpath, &data) == 0)
        reply_selected(rpc, data, "data", NC_NS_BASE);
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
    /* NACM before the filters (RFC 8341 section 3.4.5): they see only what the user may read. */
    mm_nacm_req req = nc_nacm_req(rpc->s);
    mm_nacm_filter_read(&req, &data);
    /*
     * RFC 8526 section 3.1.1 max-depth: "for each node selected by the
     * filters", that many levels, the node itself being the first: 1 gives
     * the selected nodes without children (list entries keep their keys).
     * Without a filter the top-level nodes are the selected ones.
     */
    struct lyd_node *md = find(rpc->op, "max-depth");
    uint32_t depth = md && strcmp(lyd_get_value(md), "unbounded")
                         ? (uint32_t)strtoul(lyd_get_value(md), NULL, 10) : 0;
    struct lyd_node *xp = find(rpc->op, "xpath-filter");
    if (nc_filter_apply(rpc, find(rpc->op, "subtree-filter"), xp ? lyd_get_value(xp) : NULL,
                        depth, &data) < 0) {
        lyd_free_all(data);
        return 0;
    }
    struct lyd_node *cf = find(rpc->op, "config-filter");
    if (cf && data)
        config_prune(&data, NULL, !strcmp(lyd_get_value(cf), "true"));
    /* A selected container cut to its first level is still data: print it. */
    reply_selected_ex(rpc, data, "data", NC_NS_NMDA, depth ? LYD_PRINT_KEEPEMPTYCONT : 0);
    return 0;
}
