/*
 * nacm.c - NETCONF Access Control Model (RFC 8341) over the running datastore.
 *
 * Every call loads the policy from /ietf-netconf-acm:nacm in `running`
 * (section 3.1.3: changes take effect at once), keeps only the rules of
 * rule-lists whose group matches one of the user's groups, and walks them
 * in configuration order. The first rule that matches decides; without one,
 * the nacm:default-deny-all / default-deny-write extensions and then the
 * read-/write-/exec-default leaves decide (sections 3.4.4 to 3.4.6).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libyang/libyang.h>
#include <libyang/plugins_exts.h>

#include "mamori/mm_core.h"
#include "nacm.h"

#define NACM_MODULE "ietf-netconf-acm"
#define NACM_REASON_MAX 320
#define NACM_ALL_OPS                                                                               \
    (MM_NACM_CREATE | MM_NACM_READ | MM_NACM_UPDATE | MM_NACM_DELETE | MM_NACM_EXEC)

/* One rule of a rule-list that applies to the user, in configuration order. */
typedef struct nacm_rule {
    const char *list;   /* rule-list name */
    const char *name;   /* rule name */
    const char *module; /* module-name, "*" when absent */
    const char *rpc;    /* rpc-name, or NULL */
    const char *notif;  /* notification-name, or NULL */
    const char *path;   /* path (node-instance-identifier, JSON prefixes), or NULL */
    unsigned ops;       /* access-operations bits */
    bool permit;        /* action */
    /* path evaluated on one data tree: sorted node addresses */
    const struct lyd_node *hits_tree;
    uintptr_t *hits;
    size_t nhits;
} nacm_rule;

/* The policy as it applies to one user at one moment. */
typedef struct nacm_policy {
    bool enabled;
    bool read_permit, write_permit, exec_permit;
    nacm_rule *rules;
    size_t nrules;
} nacm_policy;

/* The outcome of one check. */
typedef struct nacm_decision {
    bool permit;
    char reason[NACM_REASON_MAX];
} nacm_decision;

/* What is being checked against a rule. */
typedef struct nacm_target {
    const struct lyd_node *node; /* data node, rpc/action or notification */
    const char *module;          /* its module name, NULL if unknown */
    const char *name;            /* its name */
    unsigned op;                 /* one MM_NACM_* bit */
    enum { TGT_RPC, TGT_NOTIF, TGT_DATA } kind;
} nacm_target;

/* ---------------------------------------------------------------- tree access */

static const struct lyd_node *child_named(const struct lyd_node *parent, const char *name)
{
    const struct lyd_node *c;
    LY_LIST_FOR(lyd_child(parent), c)
    {
        if (strcmp(LYD_NAME(c), name) == 0)
            return c;
    }
    return NULL;
}

static const char *child_value(const struct lyd_node *parent, const char *name)
{
    const struct lyd_node *c = child_named(parent, name);
    return c ? lyd_get_value(c) : NULL;
}

static bool value_is(const char *v, const char *want)
{
    return v && strcmp(v, want) == 0;
}

static const struct lyd_node *nacm_root(const struct lyd_node *running)
{
    const struct lyd_node *n;
    LY_LIST_FOR(running ? lyd_first_sibling(running) : NULL, n)
    {
        if (n->schema && strcmp(n->schema->name, "nacm") == 0 &&
            strcmp(n->schema->module->name, NACM_MODULE) == 0)
            return n;
    }
    return NULL;
}

/* access-operations: "*" or a space-separated list of bit names. */
static unsigned parse_ops(const char *v)
{
    static const struct {
        const char *name;
        unsigned bit;
    } bits[] = {
        {"create", MM_NACM_CREATE}, {"read", MM_NACM_READ}, {"update", MM_NACM_UPDATE},
        {"delete", MM_NACM_DELETE}, {"exec", MM_NACM_EXEC},
    };
    if (!v || strcmp(v, "*") == 0)
        return NACM_ALL_OPS;
    unsigned ops = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
            if (n == strlen(bits[i].name) && strncmp(p, bits[i].name, n) == 0)
                ops |= bits[i].bit;
        }
        p += n;
    }
    return ops;
}

/* ---------------------------------------------------------------- policy */

/* Is user listed in some group named in the rule-list's group leaf-list? */
static bool leaflist_has(const struct lyd_node *parent, const char *name, const char *value)
{
    const struct lyd_node *c;
    LY_LIST_FOR(lyd_child(parent), c)
    {
        if (strcmp(LYD_NAME(c), name) == 0 && value_is(lyd_get_value(c), value))
            return true;
    }
    return false;
}

/* Section 3.4.4 step 4: the NACM groups whose user-name list holds user. */
static bool user_in_group(const struct lyd_node *groups, const char *group, const char *user)
{
    const struct lyd_node *g;
    LY_LIST_FOR(lyd_child(groups), g)
    {
        if (strcmp(LYD_NAME(g), "group") == 0 && value_is(child_value(g, "name"), group))
            return leaflist_has(g, "user-name", user);
    }
    return false;
}

static bool user_has_any_group(const struct lyd_node *groups, const char *user)
{
    const struct lyd_node *g;
    LY_LIST_FOR(lyd_child(groups), g)
    {
        if (strcmp(LYD_NAME(g), "group") == 0 && leaflist_has(g, "user-name", user))
            return true;
    }
    return false;
}

/* Step 6: a rule-list applies if one of its groups is "*" or one of the user's. */
static bool rule_list_applies(const struct lyd_node *list, const struct lyd_node *groups,
                              const char *user)
{
    const struct lyd_node *c;
    LY_LIST_FOR(lyd_child(list), c)
    {
        if (strcmp(LYD_NAME(c), "group") != 0)
            continue;
        const char *g = lyd_get_value(c);
        if (value_is(g, "*") || user_in_group(groups, g, user))
            return true;
    }
    return false;
}

static void rule_parse(const char *list, const struct lyd_node *r, nacm_rule *out)
{
    memset(out, 0, sizeof(*out));
    out->list = list;
    out->name = child_value(r, "name");
    out->module = child_value(r, "module-name");
    if (!out->module)
        out->module = "*";
    out->rpc = child_value(r, "rpc-name");
    out->notif = child_value(r, "notification-name");
    out->path = child_value(r, "path");
    out->ops = parse_ops(child_value(r, "access-operations"));
    out->permit = value_is(child_value(r, "action"), "permit");
}

static int policy_add_rules(nacm_policy *pol, const struct lyd_node *list)
{
    const char *list_name = child_value(list, "name");
    const struct lyd_node *r;
    LY_LIST_FOR(lyd_child(list), r)
    {
        if (strcmp(LYD_NAME(r), "rule") != 0)
            continue;
        nacm_rule *grown = realloc(pol->rules, (pol->nrules + 1) * sizeof(*grown));
        if (!grown)
            return MM_ENOMEM;
        pol->rules = grown;
        rule_parse(list_name, r, &pol->rules[pol->nrules++]);
    }
    return 0;
}

static void policy_free(nacm_policy *pol)
{
    for (size_t i = 0; i < pol->nrules; i++)
        free(pol->rules[i].hits);
    free(pol->rules);
    pol->rules = NULL;
    pol->nrules = 0;
}

/*
 * Load the policy for req->user. Absent leaves take their YANG defaults
 * (enable-nacm true, read permit, write deny, exec permit). On allocation
 * failure the policy denies everything (fail closed).
 */
static void policy_load(const mm_nacm_req *req, nacm_policy *pol)
{
    memset(pol, 0, sizeof(*pol));
    const struct lyd_node *nacm = nacm_root(req->running);
    pol->enabled = !value_is(child_value(nacm, "enable-nacm"), "false");
    pol->read_permit = !value_is(child_value(nacm, "read-default"), "deny");
    pol->write_permit = value_is(child_value(nacm, "write-default"), "permit");
    pol->exec_permit = !value_is(child_value(nacm, "exec-default"), "deny");
    if (!nacm || !req->user)
        return;
    const struct lyd_node *groups = child_named(nacm, "groups");
    /* Step 5: a user in no group gets the defaults only. */
    if (!user_has_any_group(groups, req->user))
        return;
    const struct lyd_node *list;
    LY_LIST_FOR(lyd_child(nacm), list)
    {
        if (strcmp(LYD_NAME(list), "rule-list") != 0 || !rule_list_applies(list, groups, req->user))
            continue;
        if (policy_add_rules(pol, list) < 0) {
            policy_free(pol);
            pol->read_permit = pol->write_permit = pol->exec_permit = false;
            return;
        }
    }
}

/* ---------------------------------------------------------------- path rules */

static int cmp_uintptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static const struct lyd_node *tree_root(const struct lyd_node *n)
{
    while (lyd_parent(n))
        n = lyd_parent(n);
    return lyd_first_sibling(n);
}

/* Evaluate the rule's path once per data tree; an invalid path matches nothing. */
static void rule_eval_path(nacm_rule *r, const struct lyd_node *root)
{
    if (r->hits_tree == root)
        return;
    free(r->hits);
    r->hits = NULL;
    r->nhits = 0;
    r->hits_tree = root;
    struct ly_set *set = NULL;
    if (lyd_find_xpath(root, r->path, &set) != LY_SUCCESS) {
        mm_log_debug("nacm_path", "rule-list=%s rule=%s path=\"%s\" result=invalid", r->list,
                     r->name, r->path);
        return;
    }
    if (set->count) {
        r->hits = malloc(set->count * sizeof(*r->hits));
        if (r->hits) {
            for (uint32_t i = 0; i < set->count; i++)
                r->hits[i] = (uintptr_t)set->dnodes[i];
            r->nhits = set->count;
            qsort(r->hits, r->nhits, sizeof(*r->hits), cmp_uintptr);
        }
    }
    ly_set_free(set, NULL);
}

/* Does the rule's path identify the node or one of its ancestors? */
static bool rule_path_covers(nacm_rule *r, const struct lyd_node *node)
{
    rule_eval_path(r, tree_root(node));
    for (const struct lyd_node *n = node; n; n = lyd_parent(n)) {
        uintptr_t key = (uintptr_t)n;
        if (r->nhits && bsearch(&key, r->hits, r->nhits, sizeof(key), cmp_uintptr))
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- matching */

static bool name_matches(const char *pattern, const char *name)
{
    return value_is(pattern, "*") || (name && value_is(pattern, name));
}

/*
 * Sections 3.4.4 (rpc: rpc-name or no type; an action also by path), 3.4.5
 * (data: path or no type) and 3.4.7 (notification: notification-name or no
 * type; a nested one also by path). A rule of another type never matches.
 */
static bool rule_matches(nacm_rule *r, const nacm_target *t)
{
    if (!(r->ops & t->op) || !name_matches(r->module, t->module))
        return false;
    bool nested = t->node && lyd_parent(t->node) != NULL;
    switch (t->kind) {
    case TGT_RPC:
        if (r->notif)
            return false;
        if (r->rpc)
            return name_matches(r->rpc, t->name);
        if (r->path)
            return nested && rule_path_covers(r, t->node);
        return true;
    case TGT_NOTIF:
        if (r->rpc)
            return false;
        if (r->notif)
            return name_matches(r->notif, t->name);
        if (r->path)
            return nested && rule_path_covers(r, t->node);
        return true;
    case TGT_DATA:
        if (r->rpc || r->notif)
            return false;
        return !r->path || rule_path_covers(r, t->node);
    }
    return false;
}

/* The nacm extension on the schema node or any ancestor (name without prefix). */
static bool schema_has_ext(const struct lysc_node *snode, const char *ext)
{
    for (; snode; snode = snode->parent) {
        LY_ARRAY_COUNT_TYPE u;
        LY_ARRAY_FOR(snode->exts, u)
        {
            const struct lysc_ext *def = snode->exts[u].def;
            if (def && strcmp(def->name, ext) == 0 && strcmp(def->module->name, NACM_MODULE) == 0)
                return true;
        }
    }
    return false;
}

/*
 * RFC 6241's ietf-netconf marks <kill-session> and <delete-config> with
 * nacm:default-deny-all, and RFC 8341's default policy relies on it; the
 * copy of ietf-netconf@2011-06-01 that Debian ships (yuma123) lacks the
 * marks, so they are applied here as well.
 */
static bool rfc6241_deny_all(const struct lysc_node *snode)
{
    static const char *const ops[] = {"kill-session", "delete-config"};
    if (!snode || snode->nodetype != LYS_RPC || strcmp(snode->module->name, "ietf-netconf"))
        return false;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (!strcmp(snode->name, ops[i]))
            return true;
    return false;
}

static bool default_permit(const nacm_policy *pol, unsigned op)
{
    if (op == MM_NACM_READ)
        return pol->read_permit;
    if (op == MM_NACM_EXEC)
        return pol->exec_permit;
    return pol->write_permit;
}

static const char *default_name(unsigned op)
{
    if (op == MM_NACM_READ)
        return "read-default";
    if (op == MM_NACM_EXEC)
        return "exec-default";
    return "write-default";
}

/* Steps 6 to 10 of the validation procedures, once the short cuts are done. */
static void decide(nacm_policy *pol, const nacm_target *t, nacm_decision *d)
{
    for (size_t i = 0; i < pol->nrules; i++) {
        nacm_rule *r = &pol->rules[i];
        if (rule_matches(r, t)) {
            d->permit = r->permit;
            snprintf(d->reason, sizeof(d->reason), "rule-list=%s rule=%s action=%s",
                     r->list ? r->list : "?", r->name ? r->name : "?",
                     r->permit ? "permit" : "deny");
            return;
        }
    }
    const struct lysc_node *snode = t->node ? t->node->schema : NULL;
    if (schema_has_ext(snode, "default-deny-all") || rfc6241_deny_all(snode)) {
        d->permit = false;
        snprintf(d->reason, sizeof(d->reason), "default-deny-all");
        return;
    }
    bool write = t->op & (MM_NACM_CREATE | MM_NACM_UPDATE | MM_NACM_DELETE);
    if (write && schema_has_ext(snode, "default-deny-write")) {
        d->permit = false;
        snprintf(d->reason, sizeof(d->reason), "default-deny-write");
        return;
    }
    d->permit = default_permit(pol, t->op);
    snprintf(d->reason, sizeof(d->reason), "%s=%s", default_name(t->op),
             d->permit ? "permit" : "deny");
}

/* Short cuts before any rule: disabled NACM and the recovery session. */
static bool bypass(const mm_nacm_req *req, const nacm_policy *pol, nacm_decision *d)
{
    if (!pol->enabled) {
        d->permit = true;
        snprintf(d->reason, sizeof(d->reason), "enable-nacm=false");
        return true;
    }
    if (req->recovery) {
        d->permit = true;
        snprintf(d->reason, sizeof(d->reason), "recovery-session");
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- audit */

static void audit(const mm_nacm_req *req, const char *action, const char *object,
                  const nacm_decision *d)
{
    char sid[16];
    snprintf(sid, sizeof(sid), "%u", req->session_id);
    mm_audit_record rec = {
        .module = "netconf",
        .subject = req->user ? req->user : "",
        .action = action,
        .object = object ? object : "",
        .permit = d->permit,
        .reason = d->reason,
        .session = sid,
    };
    int rc = req->audit ? mm_audit_write(req->audit, &rec) : 0;
    if (rc < 0) {
        mm_log_error("nacm_audit", "user=%s action=%s object=%s result=write-failed", rec.subject,
                     action, rec.object);
        /* The caller fails the operation: a decision must not go unrecorded. */
        if (req->audit_err && *req->audit_err == 0)
            *req->audit_err = rc;
    }
    mm_log_debug("nacm", "user=%s session=%s action=%s object=%s permit=%d reason=\"%s\"",
                 rec.subject, sid, action, rec.object, d->permit, d->reason);
}

static void target_init(nacm_target *t, const struct lyd_node *node, unsigned op, int kind)
{
    t->node = node;
    t->module = node && node->schema ? node->schema->module->name : NULL;
    t->name = node ? LYD_NAME(node) : NULL;
    t->op = op;
    t->kind = kind;
}

/* "module:name" for a top-level operation, the data path for a nested one. */
static char *object_name(const struct lyd_node *node)
{
    if (!node)
        return NULL;
    if (lyd_parent(node))
        return lyd_path(node, LYD_PATH_STD, NULL, 0);
    char *s = NULL;
    const char *mod = node->schema ? node->schema->module->name : "?";
    if (asprintf(&s, "%s:%s", mod, LYD_NAME(node)) < 0)
        return NULL;
    return s;
}

static void count(uint32_t *c)
{
    if (*c < UINT32_MAX)
        (*c)++;
}

/* ---------------------------------------------------------------- rpc */

static bool is_close_session(const struct lyd_node *op)
{
    return op && op->schema && !lyd_parent(op) && strcmp(op->schema->name, "close-session") == 0 &&
           strcmp(op->schema->module->name, "ietf-netconf") == 0;
}

bool mm_nacm_rpc_allowed(const mm_nacm_req *req, const struct lyd_node *op)
{
    nacm_policy pol;
    nacm_decision d = {0};
    policy_load(req, &pol);
    if (!bypass(req, &pol, &d)) {
        if (is_close_session(op)) {
            d.permit = true;
            snprintf(d.reason, sizeof(d.reason), "close-session");
        } else if (!op || !op->schema) {
            d.permit = false;
            snprintf(d.reason, sizeof(d.reason), "unknown-operation");
        } else {
            nacm_target t;
            target_init(&t, op, MM_NACM_EXEC, TGT_RPC);
            decide(&pol, &t, &d);
        }
    }
    policy_free(&pol);
    char *obj = object_name(op);
    audit(req, "rpc", obj, &d);
    free(obj);
    if (!d.permit && req->counters)
        count(&req->counters->denied_operations);
    return d.permit;
}

/* ---------------------------------------------------------------- write */

static const char *write_action(enum mm_nacm_op op)
{
    switch (op) {
    case MM_NACM_CREATE:
        return "create";
    case MM_NACM_UPDATE:
        return "update";
    case MM_NACM_DELETE:
        return "delete";
    default:
        return "write";
    }
}

bool mm_nacm_write_allowed(const mm_nacm_req *req, const struct lyd_node *node, enum mm_nacm_op op)
{
    nacm_policy pol;
    nacm_decision d = {0};
    policy_load(req, &pol);
    if (!bypass(req, &pol, &d)) {
        if (!node || !(op & (MM_NACM_CREATE | MM_NACM_UPDATE | MM_NACM_DELETE))) {
            d.permit = false;
            snprintf(d.reason, sizeof(d.reason), "invalid-request");
        } else {
            nacm_target t;
            target_init(&t, node, op, TGT_DATA);
            decide(&pol, &t, &d);
        }
    }
    policy_free(&pol);
    char *path = node ? lyd_path(node, LYD_PATH_STD, NULL, 0) : NULL;
    audit(req, write_action(op), path, &d);
    free(path);
    if (!d.permit && req->counters)
        count(&req->counters->denied_data_writes);
    return d.permit;
}

/* ---------------------------------------------------------------- read */

typedef struct prune_list {
    struct lyd_node **nodes;
    size_t count;
    bool failed;
} prune_list;

static void prune_add(prune_list *pl, struct lyd_node *n)
{
    struct lyd_node **grown = realloc(pl->nodes, (pl->count + 1) * sizeof(*grown));
    if (!grown) {
        pl->failed = true;
        return;
    }
    pl->nodes = grown;
    pl->nodes[pl->count++] = n;
}

/*
 * Top-down: a node the user may not read goes with its whole subtree; the
 * children of a readable node are checked in turn. List keys follow their
 * list entry (a list entry without its key cannot exist).
 */
static void collect_denied(const mm_nacm_req *req, nacm_policy *pol, struct lyd_node *first,
                           prune_list *pl)
{
    struct lyd_node *n;
    LY_LIST_FOR(first, n)
    {
        if (n->schema && lysc_is_key(n->schema))
            continue;
        nacm_target t;
        nacm_decision d = {0};
        target_init(&t, n, MM_NACM_READ, TGT_DATA);
        decide(pol, &t, &d);
        if (!d.permit) {
            char *path = lyd_path(n, LYD_PATH_STD, NULL, 0);
            audit(req, "read", path, &d);
            free(path);
            prune_add(pl, n);
            continue;
        }
        collect_denied(req, pol, lyd_child(n), pl);
    }
}

void mm_nacm_filter_read(const mm_nacm_req *req, struct lyd_node **tree)
{
    nacm_policy pol;
    nacm_decision d = {0};
    policy_load(req, &pol);
    if (bypass(req, &pol, &d)) {
        policy_free(&pol);
        audit(req, "read", "request", &d);
        return;
    }
    prune_list pl = {0};
    collect_denied(req, &pol, tree ? *tree : NULL, &pl);
    policy_free(&pol);
    for (size_t i = 0; i < pl.count; i++) {
        if (*tree == pl.nodes[i])
            *tree = pl.nodes[i]->next;
        lyd_free_tree(pl.nodes[i]);
    }
    if (pl.failed) {
        /* Out of memory while collecting: return nothing rather than too much. */
        lyd_free_siblings(*tree);
        *tree = NULL;
    }
    d.permit = true;
    snprintf(d.reason, sizeof(d.reason), "pruned=%zu%s", pl.count, pl.failed ? " oom=1" : "");
    audit(req, "read", "request", &d);
    free(pl.nodes);
}

int mm_nacm_read_view(const mm_nacm_req *req, const struct lyd_node *src, struct lyd_node **view)
{
    *view = NULL;
    nacm_policy pol;
    nacm_decision d = {0};
    policy_load(req, &pol);
    bool all = bypass(req, &pol, &d);
    policy_free(&pol);
    if (all) {
        audit(req, "read", "request", &d);
        return 0;
    }
    if (src && lyd_dup_siblings(src, NULL, LYD_DUP_RECURSIVE | LYD_DUP_WITH_FLAGS, view) !=
                   LY_SUCCESS)
        return MM_ENOMEM;
    mm_nacm_filter_read(req, view);
    return 1;
}

struct mm_nacm_reader {
    nacm_policy pol;
};

int mm_nacm_reader_new(const mm_nacm_req *req, mm_nacm_reader **out)
{
    *out = NULL;
    mm_nacm_reader *rd = calloc(1, sizeof(*rd));
    MM_ENSURE(rd, MM_ENOMEM);
    nacm_decision d = {0};
    policy_load(req, &rd->pol);
    if (bypass(req, &rd->pol, &d)) {
        mm_nacm_reader_free(rd);
        audit(req, "read", "request", &d);
        return 0;
    }
    *out = rd;
    return 1;
}

bool mm_nacm_reader_may_read(mm_nacm_reader *rd, const struct lyd_node *node)
{
    if (!node || !node->schema)
        return false;
    if (lysc_is_key(node->schema))
        return true; /* a key goes with its list entry */
    nacm_target t;
    nacm_decision d = {0};
    target_init(&t, node, MM_NACM_READ, TGT_DATA);
    decide(&rd->pol, &t, &d);
    return d.permit;
}

void mm_nacm_reader_free(mm_nacm_reader *rd)
{
    if (!rd)
        return;
    policy_free(&rd->pol);
    free(rd);
}

/* ---------------------------------------------------------------- notifications */

/* RFC 5277 section 3.6: these end a replay or a subscription and are always sent. */
static bool is_always_notif(const struct lyd_node *n)
{
    const char *name = n ? LYD_NAME(n) : "";
    return strcmp(name, "replayComplete") == 0 || strcmp(name, "notificationComplete") == 0;
}

bool mm_nacm_notification_allowed(const mm_nacm_req *req, const struct lyd_node *notif)
{
    nacm_policy pol;
    nacm_decision d = {0};
    policy_load(req, &pol);
    if (!bypass(req, &pol, &d)) {
        if (is_always_notif(notif)) {
            d.permit = true;
            snprintf(d.reason, sizeof(d.reason), "%s", LYD_NAME(notif));
        } else if (!notif) {
            d.permit = false;
            snprintf(d.reason, sizeof(d.reason), "invalid-request");
        } else {
            nacm_target t;
            target_init(&t, notif, MM_NACM_READ, TGT_NOTIF);
            decide(&pol, &t, &d);
        }
    }
    policy_free(&pol);
    char *obj = object_name(notif);
    audit(req, "notification", obj, &d);
    free(obj);
    if (!d.permit && req->counters)
        count(&req->counters->denied_notifications);
    return d.permit;
}
