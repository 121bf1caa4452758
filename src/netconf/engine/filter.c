/*
 * filter.c - subtree filtering (RFC 6241 section 6) and XPath filtering
 * (section 8.9) over libyang trees; the reply <data> printer with the
 * with-defaults modes of RFC 6243.
 *
 * A filter arrives as an anyxml data tree whose nodes are typed where the
 * schema knows them and opaque otherwise (an empty <enabled/> selection
 * node of a boolean leaf, a list entry without keys), so every accessor
 * here handles both.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "nc_internal.h"

enum f_kind { F_CONTAINMENT, F_SELECTION, F_CONTENT };

static const char *f_name(const struct lyd_node *n)
{
    return n->schema ? n->schema->name : ((const struct lyd_node_opaq *)n)->name.name;
}

static const char *f_ns(const struct lyd_node *n)
{
    const char *ns = n->schema ? n->schema->module->ns
                               : ((const struct lyd_node_opaq *)n)->name.module_ns;
    return ns ? ns : "";
}

static const char *f_value(const struct lyd_node *n)
{
    if (!n->schema)
        return ((const struct lyd_node_opaq *)n)->value;
    return (n->schema->nodetype & LYD_NODE_TERM) ? lyd_get_value(n) : NULL;
}

static bool blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static enum f_kind f_kind(const struct lyd_node *f)
{
    if (lyd_child(f))
        return F_CONTAINMENT;
    return blank(f_value(f)) ? F_SELECTION : F_CONTENT;
}

/* Does data node d carry metadata name (in namespace ns, if any) with value v? */
static bool d_has_meta(const struct lyd_node *d, const char *ns, const char *name, const char *v)
{
    for (const struct lyd_meta *m = d->meta; m; m = m->next)
        if (!strcmp(m->name, name) && (!ns || !*ns || !strcmp(m->annotation->module->ns, ns)) &&
            !strcmp(lyd_get_meta_value(m), v ? v : ""))
            return true;
    return false;
}

/*
 * RFC 6241 section 6.2.2 attribute match expressions: every attribute of a
 * filter node must be on the data node with the same value. YANG data has
 * no XML attributes, only metadata, so a node filtered by any other
 * attribute is not selected. (Opaque filter nodes carry attributes; see
 * nc_filter_first().)
 */
static bool f_attrs_match(const struct lyd_node *f, const struct lyd_node *d)
{
    if (f->schema)
        return true;
    for (const struct lyd_attr *a = ((const struct lyd_node_opaq *)f)->attr; a; a = a->next)
        if (!d_has_meta(d, a->name.module_ns, a->name.name, a->value))
            return false;
    return true;
}

/* Same name, the filter's namespace (if it has one) is the node's, attributes match. */
static bool f_match(const struct lyd_node *f, const struct lyd_node *d)
{
    const char *ns = f_ns(f);
    return !strcmp(f_name(f), d->schema->name) &&
           (!*ns || !strcmp(ns, d->schema->module->ns)) && f_attrs_match(f, d);
}

static bool f_value_eq(const struct lyd_node *f, const struct lyd_node *d)
{
    const char *fv = f_value(f), *dv = (d->schema->nodetype & LYD_NODE_TERM) ? lyd_get_value(d)
                                                                            : NULL;
    return fv && dv && !strcmp(fv, dv);
}

/* Move piece under parent (or into *first), merging with an equal node. */
static void graft(struct lyd_node *parent, struct lyd_node **first, struct lyd_node *piece)
{
    struct lyd_node *existing = NULL;
    lyd_find_sibling_first(parent ? lyd_child(parent) : *first, piece, &existing);
    if (!existing) {
        LY_ERR r = parent ? lyd_insert_child(parent, piece)
                          : lyd_insert_sibling(*first, piece, first);
        if (r != LY_SUCCESS)
            lyd_free_tree(piece);
        return;
    }
    struct lyd_node *c = lyd_child_no_keys(piece);
    while (c) {
        struct lyd_node *next = c->next;
        lyd_unlink_tree(c);
        graft(existing, NULL, c);
        c = next;
    }
    lyd_free_tree(piece);
}

static struct lyd_node *dup_node(const struct lyd_node *d, bool recursive)
{
    struct lyd_node *dup = NULL;
    uint32_t opts = LYD_DUP_WITH_FLAGS | (recursive ? LYD_DUP_RECURSIVE : 0);
    return lyd_dup_single(d, NULL, opts, &dup) == LY_SUCCESS ? dup : NULL;
}

/*
 * One subtree filtering: the max-depth of selected nodes (0: all) and, for
 * a user NACM restricts, the reader that says whether a data node may be
 * read. Every data node the filter looks at (to match it, compare its
 * value or descend into it) is checked first, top-down, so a node the user
 * may not read never decides anything (RFC 8341 section 3.4.5).
 */
typedef struct f_ctx {
    uint32_t depth;
    mm_nacm_reader *rd; /* NULL: everything readable */
} f_ctx;

static bool readable(const f_ctx *cx, const struct lyd_node *d)
{
    return !cx->rd || mm_nacm_reader_may_read(cx->rd, d);
}

/* Do all content-match children of f match (readable) children of d? */
static bool content_matches(const f_ctx *cx, const struct lyd_node *f, const struct lyd_node *d)
{
    for (const struct lyd_node *fc = lyd_child(f); fc; fc = fc->next) {
        if (f_kind(fc) != F_CONTENT)
            continue;
        bool hit = false;
        for (const struct lyd_node *dc = lyd_child(d); dc && !hit; dc = dc->next)
            hit = f_match(fc, dc) && readable(cx, dc) && f_value_eq(fc, dc);
        if (!hit)
            return false;
    }
    return true;
}

static struct lyd_node *filter_node(const f_ctx *cx, const struct lyd_node *f,
                                    const struct lyd_node *d);

void nc_depth_prune(struct lyd_node *n, uint32_t depth)
{
    if (!n->schema || !(n->schema->nodetype & LYD_NODE_INNER))
        return;
    if (depth > 1) {
        for (struct lyd_node *c = lyd_child_no_keys(n); c; c = c->next)
            nc_depth_prune(c, depth - 1);
        return;
    }
    bool had = lyd_child_no_keys(n) != NULL;
    struct lyd_node *c = lyd_child_no_keys(n);
    while (c) {
        struct lyd_node *next = c->next;
        lyd_free_tree(c);
        c = next;
    }
    /* libyang marks a container left without children as a default node,
     * which the explicit with-defaults mode would not print: it is data. */
    if (had)
        n->flags &= ~LYD_DEFAULT;
}

/* A copy of the selected node d: its subtree down to depth levels (0: all). */
static struct lyd_node *dup_selected(const struct lyd_node *d, uint32_t depth)
{
    struct lyd_node *dup = dup_node(d, true);
    if (dup && depth)
        nc_depth_prune(dup, depth);
    return dup;
}

/*
 * A list filter node whose content-match children give every key names at
 * most one entry: build its key predicate ("[k1='v1'][k2='v2']") so the entry
 * is found by a hashed lookup instead of a scan of the whole list.
 */
static bool key_predicate(const struct lyd_node *fc, char *out, size_t len)
{
    if (!fc->schema || fc->schema->nodetype != LYS_LIST)
        return false;
    size_t used = 0;
    for (const struct lysc_node *k = lysc_node_child(fc->schema); k && lysc_is_key(k);
         k = k->next) {
        const char *v = NULL;
        for (const struct lyd_node *c = lyd_child(fc); c && !v; c = c->next)
            if (f_kind(c) == F_CONTENT && !strcmp(f_name(c), k->name))
                v = f_value(c);
        if (!v || (strchr(v, '\'') && strchr(v, '"')))
            return false;
        char q = strchr(v, '\'') ? '"' : '\'';
        int n = snprintf(out + used, len - used, "[%s=%c%s%c]", k->name, q, v, q);
        if (n < 0 || (size_t)n >= len - used)
            return false;
        used += (size_t)n;
    }
    return used > 0;
}

/* One filter child fc applied to one data child dc, grafted into r. */
static bool containment_one(const f_ctx *cx, const struct lyd_node *fc, const struct lyd_node *dc,
                            struct lyd_node *r, bool content)
{
    if (!f_match(fc, dc) || lysc_is_key(dc->schema) || !readable(cx, dc))
        return false;
    if (content && !f_value_eq(fc, dc))
        return false;
    struct lyd_node *piece = content ? dup_node(dc, true) : filter_node(cx, fc, dc);
    if (!piece)
        return false;
    graft(r, NULL, piece);
    return !content;
}

/* Children of a containment node f applied to d, into r. */
static bool containment_children(const f_ctx *cx, const struct lyd_node *f,
                                 const struct lyd_node *d, struct lyd_node *r)
{
    bool got = false;
    for (const struct lyd_node *fc = lyd_child(f); fc; fc = fc->next) {
        bool content = f_kind(fc) == F_CONTENT;
        char pred[512];
        if (!content && key_predicate(fc, pred, sizeof(pred))) {
            struct lyd_node *match = NULL;
            if (lyd_find_sibling_val(lyd_child(d), fc->schema, pred, 0, &match) == LY_SUCCESS)
                got = containment_one(cx, fc, match, r, false) || got;
            continue;
        }
        for (const struct lyd_node *dc = lyd_child(d); dc; dc = dc->next) {
            got = containment_one(cx, fc, dc, r, content) || got;
        }
    }
    return got;
}

static struct lyd_node *filter_node(const f_ctx *cx, const struct lyd_node *f,
                                    const struct lyd_node *d)
{
    enum f_kind k = f_kind(f);
    if (k == F_SELECTION)
        return dup_selected(d, cx->depth);
    if (k == F_CONTENT)
        return f_value_eq(f, d) ? dup_node(d, true) : NULL;
    if ((d->schema->nodetype & LYD_NODE_TERM) || !content_matches(cx, f, d))
        return NULL;
    bool only_content = true, any_content = false;
    for (const struct lyd_node *fc = lyd_child(f); fc; fc = fc->next) {
        only_content = only_content && f_kind(fc) == F_CONTENT;
        any_content = any_content || f_kind(fc) == F_CONTENT;
    }
    if (only_content) /* RFC 6241 6.2.5: the whole matching subtree */
        return dup_selected(d, cx->depth);
    struct lyd_node *r = dup_node(d, false);
    if (r && !containment_children(cx, f, d, r) && !any_content) {
        lyd_free_tree(r);
        r = NULL;
    }
    return r;
}

int nc_filter_subtree(const struct lyd_node *filter_first, const struct lyd_node *data,
                      struct lyd_node **out)
{
    return nc_filter_subtree_depth(filter_first, data, 0, out);
}

int nc_filter_subtree_depth(const struct lyd_node *filter_first, const struct lyd_node *data,
                            uint32_t depth, struct lyd_node **out)
{
    return nc_filter_subtree_nacm(filter_first, data, depth, NULL, out);
}

int nc_filter_subtree_nacm(const struct lyd_node *filter_first, const struct lyd_node *data,
                           uint32_t depth, mm_nacm_reader *rd, struct lyd_node **out)
{
    *out = NULL;
    const f_ctx cx = {.depth = depth, .rd = rd};
    for (const struct lyd_node *f = filter_first; f; f = f->next) {
        for (const struct lyd_node *d = data; d; d = d->next) {
            if (!d->schema || !f_match(f, d) || !readable(&cx, d))
                continue;
            struct lyd_node *piece = filter_node(&cx, f, d);
            if (piece)
                graft(NULL, out, piece);
        }
    }
    return 0;
}

int nc_filter_xpath(const struct lyd_node *data, const char *xpath, struct lyd_node **out)
{
    return nc_filter_xpath_depth(data, xpath, 0, out);
}

int nc_filter_xpath_depth(const struct lyd_node *data, const char *xpath, uint32_t depth,
                          struct lyd_node **out)
{
    *out = NULL;
    if (!data)
        return 0;
    struct ly_set *set = NULL;
    MM_ENSURE(lyd_find_xpath(data, xpath, &set) == LY_SUCCESS, MM_EINVAL);
    for (uint32_t i = 0; i < set->count; i++) {
        struct lyd_node *dup = NULL;
        if (lyd_dup_single(set->dnodes[i], NULL,
                           LYD_DUP_RECURSIVE | LYD_DUP_WITH_PARENTS | LYD_DUP_WITH_FLAGS,
                           &dup) != LY_SUCCESS)
            continue;
        if (depth)
            nc_depth_prune(dup, depth);
        while (dup->parent)
            dup = lyd_parent(dup);
        graft(NULL, out, dup);
    }
    ly_set_free(set, NULL);
    return 0;
}

/*
 * Does the raw XML text of a filter's content have an attribute other than
 * a namespace declaration? A cheap scan of start tags, so the usual filter
 * keeps libyang's typed tree (and its keyed lookups).
 */
static bool raw_has_attrs(const char *p, const char *end)
{
    while (p && p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        p++;
        if (p >= end || *p == '/' || *p == '!' || *p == '?')
            continue;
        const char *gt = memchr(p, '>', (size_t)(end - p));
        if (!gt)
            return false;
        char quote = 0;
        for (const char *q = p; q < gt; q++) {
            if (quote) {
                quote = *q == quote ? 0 : quote;
            } else if (*q == '"' || *q == '\'') {
                quote = *q;
            } else if (isspace((unsigned char)q[0]) && !isspace((unsigned char)q[1]) &&
                       q[1] != '/' && q + 1 < gt && strncmp(q + 1, "xmlns", 5) != 0) {
                return true;
            }
        }
        p = gt + 1;
    }
    return false;
}

static const struct lyd_node *opaq_child(const struct lyd_node *n, const char *name)
{
    for (const struct lyd_node *c = n ? lyd_child(n) : NULL; c; c = c->next)
        if (!c->schema && !strcmp(((const struct lyd_node_opaq *)c)->name.name, name))
            return c;
    return NULL;
}

const struct lyd_node *nc_filter_first(nc_rpc *rpc, const struct lyd_node *filter)
{
    const struct lyd_node_any *any = (const struct lyd_node_any *)filter;
    const struct lyd_node *typed =
        any && any->value_type == LYD_ANYDATA_DATATREE ? any->value.tree : NULL;
    /* <filter> of get/get-config, <subtree-filter> of get-data */
    const char *name = filter ? LYD_NAME(filter) : "filter";
    char close[40];
    snprintf(close, sizeof(close), "%s>", name);
    const char *open = rpc->xml ? strstr(rpc->xml, name) : NULL;
    const char *start = open ? strchr(open, '>') : NULL;
    const char *end = start ? strstr(start, close) : NULL; /* the closing tag */
    if (!typed || !start || !end || end < start || !raw_has_attrs(start + 1, end))
        return typed;
    mm_nc_server *srv = rpc->s->srv;
    if (!srv->opaq_ctx && ly_ctx_new(NULL, LY_CTX_NO_YANGLIBRARY | LY_CTX_DISABLE_SEARCHDIR_CWD,
                                     &srv->opaq_ctx) != LY_SUCCESS)
        return typed;
    if (!rpc->raw && lyd_parse_data_mem(srv->opaq_ctx, rpc->xml, LYD_XML,
                                        LYD_PARSE_OPAQ | LYD_PARSE_ONLY, 0,
                                        &rpc->raw) != LY_SUCCESS)
        return typed;
    /* <rpc> / the operation / <filter> */
    const struct lyd_node *op = rpc->raw ? lyd_child(rpc->raw) : NULL;
    const struct lyd_node *f = opaq_child(op, name);
    return f ? lyd_child(f) : typed;
}

int nc_filter_apply(nc_rpc *rpc, const struct lyd_node *filter, const char *xpath,
                    uint32_t depth, struct lyd_node **data)
{
    struct lyd_node *out = NULL;
    int rc = 0;
    if (xpath) {
        rc = nc_filter_xpath_depth(*data, xpath, depth, &out);
    } else if (filter) {
        rc = nc_filter_subtree_depth(nc_filter_first(rpc, filter), *data, depth, &out);
    } else {
        for (struct lyd_node *n = *data; depth && n; n = n->next)
            nc_depth_prune(n, depth);
        return 0;
    }
    if (rc < 0) {
        nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "filter",
                    .message = ly_errmsg(rpc->s->srv->ctx)};
        nc_rpc_error(rpc, &e);
        return rc;
    }
    lyd_free_all(*data);
    *data = out;
    return 0;
}

uint32_t nc_wd_flags(nc_rpc *rpc, const struct lyd_node *op, bool *ok)
{
    static const struct {
        const char *mode;
        uint32_t flag;
    } modes[] = {{"report-all", LYD_PRINT_WD_ALL}, {"trim", LYD_PRINT_WD_TRIM},
                 {"explicit", LYD_PRINT_WD_EXPLICIT}, {"report-all-tagged", LYD_PRINT_WD_ALL_TAG}};
    *ok = true;
    /* A scan of the children: a path lookup per RPC costs an XPath parse. */
    const struct lyd_node *n = NULL, *c;
    LY_LIST_FOR(lyd_child(op), c)
    {
        if (strcmp(LYD_NAME(c), "with-defaults") == 0) {
            n = c;
            if (c->schema && !strcmp(c->schema->module->name, "ietf-netconf-with-defaults"))
                break;
        }
    }
    if (!n)
        return LYD_PRINT_WD_EXPLICIT; /* basic-mode=explicit */
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (!strcmp(lyd_get_value(n), modes[i].mode))
            return modes[i].flag;
    *ok = false;
    nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "with-defaults"};
    nc_rpc_error(rpc, &e);
    return 0;
}

/*
 * libyang tags defaults with the module's namespace; RFC 6243 section 6
 * defines the attribute in urn:ietf:params:xml:ns:netconf:default:1.0.
 */
static int append_wd_fixed(mm_buf *b, const char *xml)
{
    static const char from[] = "xmlns:ncwd=\"urn:ietf:params:xml:ns:yang:"
                               "ietf-netconf-with-defaults\"";
    static const char to[] = "xmlns:ncwd=\"" NC_NS_WD "\"";
    const char *p = xml, *hit;
    while ((hit = strstr(p, from)) != NULL) {
        MM_GUARD(mm_buf_append(b, p, (size_t)(hit - p)));
        MM_GUARD(mm_buf_append_str(b, to));
        p = hit + sizeof(from) - 1;
    }
    return mm_buf_append_str(b, p);
}

int nc_print_data(nc_rpc *rpc, const char *elem, const char *ns, struct lyd_node *data,
                  uint32_t wd_flags)
{
    char *xml = NULL;
    if (data && lyd_print_mem(&xml, data, LYD_XML, LYD_PRINT_WITHSIBLINGS | LYD_PRINT_SHRINK | wd_flags)) {
        nc_rpc_err(rpc, "application", "operation-failed", "cannot print the data");
        return MM_ENOMEM;
    }
    mm_buf *b = &rpc->body;
    int rc = mm_buf_append(b, "<", 1);
    rc = rc ? rc : mm_buf_append_str(b, elem);
    rc = rc ? rc : mm_buf_append(b, " xmlns=\"", 8);
    rc = rc ? rc : mm_buf_append_str(b, ns);
    rc = rc ? rc : mm_buf_append(b, "\">", 2);
    rc = rc ? rc : append_wd_fixed(b, xml ? xml : "");
    rc = rc ? rc : mm_buf_append(b, "</", 2);
    rc = rc ? rc : mm_buf_append_str(b, elem);
    rc = rc ? rc : mm_buf_append(b, ">", 1);
    free(xml);
    if (rc < 0) {
        mm_buf_reset(&rpc->body);
        nc_rpc_err(rpc, "application", "too-big", "the reply exceeds the maximum message size");
    }
    return rc;
}
