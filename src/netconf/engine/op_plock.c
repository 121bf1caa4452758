/*
 * op_plock.c - partial-lock and partial-unlock (RFC 5717) on running.
 *
 * A partial lock holds the instances its select expressions found when it
 * was granted, each with everything below it, until partial-unlock or the
 * end of the session. The instances are kept as instance-identifier
 * strings (the running tree is replaced on every write). Another session's
 * write to running that changes a locked instance, something below one, or
 * an ancestor it deletes or replaces is refused with in-use; a global lock
 * of running is refused while another session holds a partial lock, and a
 * partial lock while another session holds the global one.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nc_internal.h"

#define PL_NS "urn:ietf:params:xml:ns:netconf:partial-lock:1.0"

static void plock_free(nc_plock *pl)
{
    for (size_t i = 0; i < pl->npaths; i++)
        free(pl->paths[i]);
    free(pl->paths);
    for (size_t i = 0; i < pl->nselects; i++)
        free(pl->selects[i]);
    free(pl->selects);
    memset(pl, 0, sizeof(*pl));
}

/* Is path a equal to b or an ancestor of it ("/m:a" of "/m:a/b", "/m:l[k='1']/c")? */
static bool covers(const char *a, const char *b)
{
    size_t n = strlen(a);
    return !strncmp(a, b, n) && (b[n] == '\0' || b[n] == '/');
}

/* The lock of another session than sid that overlaps path, or NULL. */
static const nc_plock *overlapping(const mm_nc_server *srv, uint32_t sid, const char *path)
{
    for (size_t i = 0; i < srv->nplocks; i++) {
        const nc_plock *pl = &srv->plocks[i];
        if (pl->sid == sid)
            continue;
        for (size_t j = 0; j < pl->npaths; j++)
            if (covers(pl->paths[j], path) || covers(path, pl->paths[j]))
                return pl;
    }
    return NULL;
}

bool nc_plock_held_by_other(const mm_nc_server *srv, uint32_t sid, uint32_t *holder)
{
    for (size_t i = 0; i < srv->nplocks; i++) {
        if (srv->plocks[i].sid != sid) {
            *holder = srv->plocks[i].sid;
            return true;
        }
    }
    return false;
}

void nc_plock_release_session(mm_nc_server *srv, uint32_t sid)
{
    size_t o = 0;
    for (size_t i = 0; i < srv->nplocks; i++) {
        if (srv->plocks[i].sid == sid)
            plock_free(&srv->plocks[i]);
        else
            srv->plocks[o++] = srv->plocks[i];
    }
    srv->nplocks = o;
}

void nc_plock_free_all(mm_nc_server *srv)
{
    for (size_t i = 0; i < srv->nplocks; i++)
        plock_free(&srv->plocks[i]);
    free(srv->plocks);
    srv->plocks = NULL;
    srv->nplocks = 0;
}

static void in_use(nc_rpc *rpc, const nc_plock *pl, const struct lyd_node *n)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "partially locked by session %u (lock-id %u)", pl->sid, pl->id);
    nc_err e = {.type = "protocol", .tag = "in-use", .path_node = n, .message = msg,
                .session_id = pl->sid, .has_session_id = true};
    nc_rpc_error(rpc, &e);
}

/* Every change in a diff subtree clear of other sessions' locks? */
static bool diff_clear(nc_rpc *rpc, const struct lyd_node *n, const char *inherited)
{
    const char *op = nc_diff_op(n, inherited);
    if (strcmp(op, "none") != 0) {
        char *path = lyd_path(n, LYD_PATH_STD, NULL, 0);
        const nc_plock *pl = path ? overlapping(rpc->s->srv, rpc->s->id, path) : NULL;
        free(path);
        if (pl) {
            in_use(rpc, pl, n);
            return false;
        }
        if (!strcmp(op, "delete") || !strcmp(op, "create"))
            return true; /* the whole subtree: its root was checked against ancestors too */
    }
    for (const struct lyd_node *c = lyd_child_no_keys(n); c; c = c->next)
        if (!diff_clear(rpc, c, op))
            return false;
    return true;
}

bool nc_plock_diff_ok(nc_rpc *rpc, const struct lyd_node *diff)
{
    uint32_t holder;
    if (!nc_plock_held_by_other(rpc->s->srv, rpc->s->id, &holder))
        return true;
    for (const struct lyd_node *n = diff; n; n = n->next)
        if (!diff_clear(rpc, n, "none"))
            return false;
    return true;
}

/* ------------------------------------------------------------ operations */

static int add_select(nc_plock *pl, const char *xpath)
{
    return mm_strv_push(&pl->selects, &pl->nselects, strdup(xpath));
}

static int add_path(nc_plock *pl, const struct lyd_node *n)
{
    char *path = lyd_path(n, LYD_PATH_STD, NULL, 0);
    MM_ENSURE(path, MM_ENOMEM);
    for (size_t i = 0; i < pl->npaths; i++) {
        if (!strcmp(pl->paths[i], path)) {
            free(path);
            return 0;
        }
    }
    return mm_strv_push(&pl->paths, &pl->npaths, path);
}

/*
 * The module an XML prefix of the request stands for: a namespace declared
 * for it anywhere in the request (xmlns:p="ns"), else a module of that name,
 * else a module whose own YANG prefix it is. The select leaf is a plain
 * string in RFC 5717's module, so libyang keeps no prefix map for it.
 */
static const char *prefix_module(const nc_rpc *rpc, const char *p, size_t n)
{
    const struct ly_ctx *ctx = rpc->s->srv->ctx;
    char decl[96];
    if (n + 8 < sizeof(decl) && rpc->xml) {
        snprintf(decl, sizeof(decl), "xmlns:%.*s=", (int)n, p);
        const char *d = strstr(rpc->xml, decl);
        if (d) {
            d += strlen(decl);
            char q = *d++;
            const char *e = (q == '"' || q == '\'') ? strchr(d, q) : NULL;
            char ns[512];
            if (e && (size_t)(e - d) < sizeof(ns)) {
                snprintf(ns, sizeof(ns), "%.*s", (int)(e - d), d);
                const struct lys_module *m = ly_ctx_get_module_implemented_ns(ctx, ns);
                if (m)
                    return m->name;
            }
        }
    }
    uint32_t idx = 0;
    const struct lys_module *m, *by_prefix = NULL;
    while ((m = ly_ctx_get_module_iter(ctx, &idx)) != NULL) {
        if (!m->implemented)
            continue;
        if (strlen(m->name) == n && !strncmp(m->name, p, n))
            return m->name;
        if (!by_prefix && m->prefix && strlen(m->prefix) == n && !strncmp(m->prefix, p, n))
            by_prefix = m;
    }
    return by_prefix ? by_prefix->name : NULL;
}

/* xpath with every prefix outside quotes replaced by its module name. */
static int json_prefixes(const nc_rpc *rpc, const char *xpath, mm_buf *out)
{
    char quote = 0;
    const char *p = xpath;
    while (*p) {
        if (quote) {
            quote = *p == quote ? 0 : quote;
            MM_GUARD(mm_buf_append(out, p++, 1));
            continue;
        }
        if (*p == '\'' || *p == '"') {
            quote = *p;
            MM_GUARD(mm_buf_append(out, p++, 1));
            continue;
        }
        size_t n = 0;
        while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-' || p[n] == '.'))
            n++;
        if (n > 0 && p[n] == ':' && p[n + 1] != ':') {
            const char *mod = prefix_module(rpc, p, n);
            MM_GUARD(mod ? mm_buf_append_str(out, mod) : mm_buf_append(out, p, n));
            p += n;
            continue;
        }
        n = n ? n : 1;
        MM_GUARD(mm_buf_append(out, p, n));
        p += n;
    }
    return 0;
}

/* One select expression (module-name prefixes) evaluated and its instances added. */
static int select_one(nc_rpc *rpc, struct lyd_node *readable, const char *xpath, nc_plock *pl,
                      mm_buf *out)
{
    struct ly_set *set = NULL;
    if (readable && lyd_find_xpath(readable, xpath, &set) != LY_SUCCESS) {
        ly_set_free(set, NULL);
        char msg[512];
        snprintf(msg, sizeof(msg), "the select expression %.200s is not valid: %.250s", xpath,
                 ly_errmsg(rpc->s->srv->ctx));
        nc_err e = {.type = "application", .tag = "invalid-value", .bad_elem = "select",
                    .message = msg};
        nc_rpc_error(rpc, &e);
        return MM_EINVAL;
    }
    if (!set || set->count == 0) {
        ly_set_free(set, NULL);
        nc_err e = {.type = "application", .tag = "operation-failed", .app_tag = "no-matches",
                    .bad_elem = "select", .message = "the select expression selects no node"};
        nc_rpc_error(rpc, &e);
        return MM_EINVAL;
    }
    int rc = add_select(pl, xpath);
    for (uint32_t i = 0; rc == 0 && i < set->count; i++) {
        const struct lyd_node *n = set->dnodes[i];
        char *path = lyd_path(n, LYD_PATH_STD, NULL, 0);
        const nc_plock *other = path ? overlapping(rpc->s->srv, rpc->s->id, path) : NULL;
        free(path);
        if (other) {
            char msg[96];
            snprintf(msg, sizeof(msg), "already locked by session %u (lock-id %u)", other->sid,
                     other->id);
            nc_lock_denied(rpc, other->sid, msg);
            rc = MM_EPERM;
        }
        rc = rc ? rc : add_path(pl, n);
        rc = rc ? rc : nc_path_xml(out, "locked-node", "xmlns=\"" PL_NS "\"", n);
    }
    ly_set_free(set, NULL);
    return rc;
}

/*
 * Evaluate every select on the part of running the user may read (a lock
 * must not reveal or hold what NACM hides) and collect the instances.
 */
static int select_nodes(nc_rpc *rpc, struct lyd_node *readable, nc_plock *pl, mm_buf *out)
{
    const struct lyd_node *c;
    LY_LIST_FOR(lyd_child(rpc->op), c)
    {
        if (strcmp(LYD_NAME(c), "select") != 0)
            continue;
        mm_buf conv;
        mm_buf_init(&conv, 65536);
        int rc = json_prefixes(rpc, lyd_get_value(c), &conv);
        if (rc < 0)
            nc_rpc_err(rpc, "application", "invalid-value", "select expression too long");
        rc = rc ? rc : select_one(rpc, readable, mm_buf_cstr(&conv), pl, out);
        mm_buf_free(&conv);
        MM_GUARD(rc);
    }
    return 0;
}

int nc_op_partial_lock(nc_rpc *rpc)
{
    mm_nc_server *srv = rpc->s->srv;
    uint32_t holder = srv->ds[NC_DS_RUNNING].lock_sid;
    if (holder && holder != rpc->s->id) {
        nc_lock_denied(rpc, holder, "the running datastore is locked");
        return 0;
    }
    struct lyd_node *readable = NULL;
    if (lyd_dup_siblings(srv->ds[NC_DS_RUNNING].tree, NULL, NC_DUP, &readable) != LY_SUCCESS) {
        nc_rpc_err(rpc, "application", "operation-failed", "out of memory");
        return 0;
    }
    mm_nacm_req req = nc_nacm_req(rpc->s);
    mm_nacm_filter_read(&req, &readable);
    nc_plock pl = {.sid = rpc->s->id};
    mm_buf nodes;
    mm_buf_init(&nodes, srv->max_message);
    int rc = select_nodes(rpc, readable, &pl, &nodes);
    lyd_free_all(readable);
    nc_plock *grown = NULL;
    if (rc == 0) {
        grown = realloc(srv->plocks, (srv->nplocks + 1) * sizeof(*grown));
        if (!grown) {
            nc_rpc_err(rpc, "application", "operation-failed", "out of memory");
            rc = MM_ENOMEM;
        }
    }
    if (rc == 0) {
        srv->plocks = grown;
        pl.id = ++srv->plock_next;
        pl.time = time(NULL);
        srv->plocks[srv->nplocks++] = pl;
        rc = mm_buf_printf(&rpc->body, "<lock-id xmlns=\"" PL_NS "\">%u</lock-id>", pl.id);
        rc = rc ? rc : mm_buf_append(&rpc->body, nodes.data, nodes.len);
        if (rc < 0)
            nc_rpc_err(rpc, "application", "operation-failed", "reply too large");
    } else {
        plock_free(&pl);
    }
    mm_buf_free(&nodes);
    return 0;
}

int nc_op_partial_unlock(nc_rpc *rpc)
{
    mm_nc_server *srv = rpc->s->srv;
    const struct lyd_node *c;
    const char *v = NULL;
    LY_LIST_FOR(lyd_child(rpc->op), c)
    {
        if (!strcmp(LYD_NAME(c), "lock-id"))
            v = lyd_get_value(c);
    }
    uint32_t id = v ? (uint32_t)strtoul(v, NULL, 10) : 0;
    for (size_t i = 0; i < srv->nplocks; i++) {
        if (srv->plocks[i].id == id && srv->plocks[i].sid == rpc->s->id) {
            plock_free(&srv->plocks[i]);
            srv->plocks[i] = srv->plocks[--srv->nplocks];
            return 0;
        }
    }
    nc_err e = {.type = "protocol", .tag = "invalid-value", .bad_elem = "lock-id",
                .message = "no partial lock with this lock-id is held by this session"};
    nc_rpc_error(rpc, &e);
    return 0;
}
