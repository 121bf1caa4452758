/*
 * edit.c - the edit-config engine (RFC 6241 section 7.2): merge, replace,
 * create, delete and remove, with the operation inherited by descendants,
 * and RFC 7950 section 7.8.6 / 7.7.9 yang:insert (first, last, before,
 * after with yang:key or yang:value) for ordered-by user lists and
 * leaf-lists. libyang has no edit engine (that was sysrepo's), so it lives
 * here.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "nc_internal.h"

static const char *const op_names[] = {"merge", "replace", "create", "delete", "remove", "none"};

static enum nc_edit_op node_op(const struct lyd_node *n, enum nc_edit_op inherited)
{
    for (const struct lyd_meta *m = n->meta; m; m = m->next) {
        if (strcmp(m->name, "operation") || strcmp(m->annotation->module->name, "ietf-netconf"))
            continue;
        const char *v = lyd_get_meta_value(m);
        for (int i = 0; i < NC_OP_NONE; i++)
            if (!strcmp(v, op_names[i]))
                return (enum nc_edit_op)i;
    }
    return inherited;
}

/* ------------------------------------------------------------ parsing */

static const char *opaq_ns(const struct lyd_node *n)
{
    const char *ns = ((const struct lyd_node_opaq *)n)->name.module_ns;
    return ns ? ns : "";
}

/* An opaque node in edit content: unknown namespace, unknown element or bad value. */
static void opaque_error(nc_rpc *rpc, const struct lyd_node *n)
{
    struct ly_ctx *ctx = rpc->s->srv->ctx;
    const char *name = ((const struct lyd_node_opaq *)n)->name.name;
    const struct lys_module *mod = ly_ctx_get_module_implemented_ns(ctx, opaq_ns(n));
    const struct lyd_node *parent = lyd_parent(n);
    nc_err e = {.type = "application", .bad_elem = name};
    if (!mod) {
        e.tag = "unknown-namespace";
        e.bad_ns = opaq_ns(n);
        e.message = "unknown namespace in configuration data";
    } else if (lys_find_child(parent ? parent->schema : NULL, mod, name, 0, 0, 0)) {
        e.tag = "invalid-value";
        e.message = "invalid value or missing list keys";
        e.path_node = parent && parent->schema ? parent : NULL;
    } else {
        e.tag = "unknown-element";
        e.message = "unknown element in configuration data";
        e.path_node = parent && parent->schema ? parent : NULL;
    }
    nc_rpc_error(rpc, &e);
}

static int check_content(nc_rpc *rpc, const struct lyd_node *first, bool config)
{
    for (const struct lyd_node *n = first; n; n = n->next) {
        if (!n->schema) {
            opaque_error(rpc, n);
            return MM_EINVAL;
        }
        if (config && (n->schema->flags & LYS_CONFIG_R)) {
            nc_err e = {.type = "application", .tag = "invalid-value", .path_node = n,
                        .message = "state data in configuration", .bad_elem = n->schema->name};
            nc_rpc_error(rpc, &e);
            return MM_EINVAL;
        }
        MM_GUARD(check_content(rpc, lyd_child(n), config));
    }
    return 0;
}

int nc_edit_parse(nc_rpc *rpc, const struct lyd_node *anydata, struct lyd_node **edit, bool config)
{
    *edit = NULL;
    const struct lyd_node_any *any = (const struct lyd_node_any *)anydata;
    if (!any || !any->value.tree)
        return 0;
    if (any->value_type != LYD_ANYDATA_DATATREE) {
        nc_rpc_err(rpc, "application", "invalid-value", "unsupported content");
        return MM_EINVAL;
    }
    MM_GUARD(check_content(rpc, any->value.tree, config));
    if (lyd_dup_siblings(any->value.tree, NULL, LYD_DUP_RECURSIVE, edit) != LY_SUCCESS) {
        nc_rpc_err(rpc, "application", "operation-failed", "out of memory");
        return MM_ENOMEM;
    }
    return 0;
}

/* ------------------------------------------------------------ applying */

static int edit_error(nc_edit *e, const char *tag, const struct lyd_node *n, const char *msg)
{
    nc_err err = {.type = "application", .tag = tag, .path_node = n, .message = msg};
    nc_rpc_error(e->rpc, &err);
    e->errors++;
    return e->continue_on_error ? 0 : MM_EINVAL;
}

static int insert(struct lyd_node *parent, struct lyd_node **first, struct lyd_node *node)
{
    LY_ERR r = parent ? lyd_insert_child(parent, node) : lyd_insert_sibling(*first, node, first);
    if (r != LY_SUCCESS) {
        lyd_free_tree(node);
        return MM_EINVAL;
    }
    return 0;
}

static int insert_copy(nc_edit *e, const struct lyd_node *en, struct lyd_node *parent,
                       struct lyd_node **first, bool recursive, struct lyd_node **out)
{
    struct lyd_node *dup = NULL;
    uint32_t opts = LYD_DUP_NO_META | (recursive ? LYD_DUP_RECURSIVE : 0);
    if (lyd_dup_single(en, NULL, opts, &dup) != LY_SUCCESS || insert(parent, first, dup) < 0)
        return edit_error(e, "operation-failed", en, ly_errmsg(e->rpc->s->srv->ctx));
    if (out)
        *out = dup;
    return 0;
}

static int apply_level(nc_edit *e, const struct lyd_node *efirst, struct lyd_node *parent,
                       struct lyd_node **first, enum nc_edit_op inherited);

static void free_node(struct lyd_node *parent, struct lyd_node **first, struct lyd_node *n)
{
    if (!parent && *first == n)
        *first = n->next;
    lyd_free_tree(n);
}

static int apply_children(nc_edit *e, const struct lyd_node *en, struct lyd_node *match,
                          enum nc_edit_op op)
{
    struct lyd_node *unused = NULL;
    return apply_level(e, lyd_child_no_keys(en), match, &unused, op);
}

static int do_merge(nc_edit *e, const struct lyd_node *en, struct lyd_node *parent,
                    struct lyd_node **first, struct lyd_node *match, enum nc_edit_op op)
{
    if (!match) {
        bool term = en->schema->nodetype & LYD_NODE_TERM;
        struct lyd_node *created = NULL;
        MM_GUARD(insert_copy(e, en, parent, first, term, &created));
        return term || !created ? 0 : apply_children(e, en, created, op);
    }
    if (en->schema->nodetype == LYS_LEAF) {
        if (lysc_is_key(en->schema))
            return 0;
        LY_ERR r = lyd_change_term(match, lyd_get_value(en));
        return r == LY_SUCCESS || r == LY_EEXIST || r == LY_ENOT
                   ? 0
                   : edit_error(e, "invalid-value", en, ly_errmsg(e->rpc->s->srv->ctx));
    }
    if (en->schema->nodetype & LYD_NODE_INNER)
        return apply_children(e, en, match, op);
    return 0;
}

/*
 * The target node an edit node refers to. A leaf is one instance whatever its
 * value, so it is found by schema alone (a merge changes its value, a delete
 * removes it); list entries by keys and leaf-list entries by value.
 */
static struct lyd_node *find_target(struct lyd_node *siblings, const struct lyd_node *en)
{
    struct lyd_node *match = NULL;
    if (en->schema->nodetype == LYS_LEAF)
        lyd_find_sibling_val(siblings, en->schema, NULL, 0, &match);
    else
        lyd_find_sibling_first(siblings, en, &match);
    return match;
}

/* ------------------------------------------------------------ yang:insert */

static const char *yang_meta(const struct lyd_node *n, const char *name)
{
    for (const struct lyd_meta *m = n->meta; m; m = m->next)
        if (!strcmp(m->name, name) && !strcmp(m->annotation->module->name, "yang"))
            return lyd_get_meta_value(m);
    return NULL;
}

static int insert_error(nc_edit *e, const struct lyd_node *en, const char *attr,
                        const char *app_tag, const char *msg)
{
    nc_err err = {.type = "protocol", .tag = "bad-attribute", .app_tag = app_tag,
                  .path_node = en, .bad_attr = attr, .bad_elem = LYD_NAME(en),
                  .message = msg};
    nc_rpc_error(e->rpc, &err);
    e->errors++;
    return e->continue_on_error ? 0 : MM_EINVAL;
}

/* yang:key "[p:k='v'][p:k2='w']" as libyang wants it: "[k='v'][k2='w']". */
static int key_predicate(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    char quote = 0;
    for (const char *p = in; *p; p++) {
        if (quote) {
            quote = *p == quote ? 0 : quote;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == ':') {
            /* drop the prefix just copied: back to the '[' or white space */
            while (o > 0 && out[o - 1] != '[' && out[o - 1] != ' ')
                o--;
            continue;
        }
        if (o + 1 >= cap)
            return MM_ELIMIT;
        out[o++] = *p;
    }
    out[o] = '\0';
    return quote ? MM_EMALFORMED : 0;
}

/* First and last instance of node's schema among its siblings. */
static void instance_range(struct lyd_node *node, struct lyd_node **firsti, struct lyd_node **lasti)
{
    *firsti = *lasti = NULL;
    struct lyd_node *s;
    LY_LIST_FOR(lyd_first_sibling(node), s)
    {
        if (s->schema != node->schema)
            continue;
        if (!*firsti)
            *firsti = s;
        *lasti = s;
    }
}

/*
 * Move node (already in the tree, created or matched by the edit node en)
 * where en's yang:insert says. Absent: new entries go last (libyang's
 * default) and existing ones stay.
 */
static int place(nc_edit *e, const struct lyd_node *en, struct lyd_node *node,
                 struct lyd_node *parent, struct lyd_node **first)
{
    const char *where = yang_meta(en, "insert");
    if (!where || !node)
        return 0;
    if (!lysc_is_userordered(en->schema))
        return insert_error(e, en, "insert", NULL,
                            "insert applies to ordered-by user lists and leaf-lists only");
    struct lyd_node *ref = NULL, *fi, *la;
    instance_range(node, &fi, &la);
    bool before = !strcmp(where, "first") || !strcmp(where, "before");
    if (!strcmp(where, "first")) {
        ref = fi;
    } else if (!strcmp(where, "last")) {
        ref = la;
    } else if (!strcmp(where, "before") || !strcmp(where, "after")) {
        bool list = en->schema->nodetype == LYS_LIST;
        const char *attr = list ? "key" : "value";
        const char *want = yang_meta(en, attr);
        char pred[1024];
        if (!want)
            return insert_error(e, en, attr, "missing-attribute",
                                list ? "insert before/after needs yang:key"
                                     : "insert before/after needs yang:value");
        if (list && key_predicate(want, pred, sizeof(pred)) < 0)
            return insert_error(e, en, attr, NULL, "malformed key predicates");
        if (lyd_find_sibling_val(lyd_first_sibling(node), en->schema, list ? pred : want, 0,
                                 &ref) != LY_SUCCESS)
            ref = NULL;
        if (!ref)
            return insert_error(e, en, attr, "missing-instance",
                                "the entry to insert next to does not exist");
    } else {
        return insert_error(e, en, "insert", NULL, "insert must be first, last, before or after");
    }
    if (ref == node)
        return 0;
    LY_ERR r = before ? lyd_insert_before(ref, node) : lyd_insert_after(ref, node);
    if (r != LY_SUCCESS)
        return edit_error(e, "operation-failed", en, ly_errmsg(e->rpc->s->srv->ctx));
    if (!parent) /* node may have been, or now be, the first top-level node */
        *first = lyd_first_sibling(node);
    return 0;
}

static int apply_node(nc_edit *e, const struct lyd_node *en, struct lyd_node *parent,
                      struct lyd_node **first, enum nc_edit_op inherited)
{
    enum nc_edit_op op = node_op(en, inherited);
    struct lyd_node *siblings = parent ? lyd_child(parent) : *first;
    struct lyd_node *match = find_target(siblings, en);
    bool exists = match && !(match->flags & LYD_DEFAULT);
    struct lyd_node *placed = NULL;
    switch (op) {
    case NC_OP_CREATE:
        if (exists)
            return edit_error(e, "data-exists", en, "the data already exists");
        /* fallthrough */
    case NC_OP_REPLACE:
        if (match)
            free_node(parent, first, match);
        MM_GUARD(insert_copy(e, en, parent, first, true, &placed));
        return place(e, en, placed, parent, first);
    case NC_OP_DELETE:
        if (!exists)
            return edit_error(e, "data-missing", en, "the data does not exist");
        /* fallthrough */
    case NC_OP_REMOVE:
        if (exists)
            free_node(parent, first, match);
        return 0;
    case NC_OP_MERGE:
        MM_GUARD(do_merge(e, en, parent, first, match, op));
        if (!match && yang_meta(en, "insert")) /* the entry the merge created */
            match = find_target(parent ? lyd_child(parent) : *first, en);
        return place(e, en, match, parent, first);
    case NC_OP_NONE:
    default:
        if (match && (en->schema->nodetype & LYD_NODE_INNER))
            return apply_children(e, en, match, op);
        if (match || (en->schema->nodetype & LYD_NODE_TERM))
            return 0;
        if (en->schema->nodetype == LYS_CONTAINER && !(en->schema->flags & LYS_PRESENCE))
            return do_merge(e, en, parent, first, NULL, op);
        return edit_error(e, "data-missing", en, "the data does not exist");
    }
}

static int apply_level(nc_edit *e, const struct lyd_node *efirst, struct lyd_node *parent,
                       struct lyd_node **first, enum nc_edit_op inherited)
{
    for (const struct lyd_node *en = efirst; en; en = en->next)
        MM_GUARD(apply_node(e, en, parent, first, inherited));
    return 0;
}

int nc_edit_apply(nc_edit *e, const struct lyd_node *edit, struct lyd_node **target)
{
    if (e->dflt == NC_OP_REPLACE) {
        lyd_free_all(*target);
        *target = NULL;
        return apply_level(e, edit, NULL, target, NC_OP_MERGE);
    }
    return apply_level(e, edit, NULL, target, e->dflt);
}
