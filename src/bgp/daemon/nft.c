/*
 * nft.c - the optional install mode: accepted FlowSpec rules become one
 * nftables table (libnftables, JSON commands), rebuilt atomically in
 * RFC 8955 §5.1 order whenever the installed set changes, so a withdrawn
 * rule or a lost session removes its entries.
 *
 * Table inet <name>: base chains "input" and "forward" (filter hooks) jump
 * to the regular chain "flowspec", one nftables rule per FlowSpec rule,
 * first match wins (every rule ends in accept or drop):
 *   traffic-rate 0 (bytes or packets)  -> drop
 *   traffic-rate N bytes|packets       -> limit rate over N -> drop, else accept
 *   traffic-marking DSCP               -> set the DSCP, accept
 * Every rule counts its packets; a rule with IFIT instructions gets a NAMED
 * counter "ifit_<n>" (bgpd_nft_counters) - this kernel has no IOAM
 * encapsulation, so the per-rule counter is the measurement we can take.
 * Components nftables cannot express here (port = src-or-dst, fragment,
 * IPv6 length, OR-ed bitmask terms, redirect) make the rule "not
 * installable": it is reported, not half-installed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "bgpd.h"
#include "bgpd_nft.h"
#include "mamori/mm_core.h"

struct bgpd_nft {
    struct nft_ctx *ctx;
    char table[64];
};

static json_t *payload(const char *proto, const char *field)
{
    return json_pack("{s:{s:s, s:s}}", "payload", "protocol", proto, "field", field);
}

static json_t *match(const char *op, json_t *left, json_t *right)
{
    return json_pack("{s:{s:s, s:o, s:o}}", "match", "op", op, "left", left, "right", right);
}

/* The left-hand side for a component, or NULL if not expressible. */
static json_t *comp_left(uint16_t afi, uint8_t type)
{
    bool v6 = afi == MM_BGP_AFI_IPV6;
    switch (type) {
    case 3: return json_pack("{s:{s:s}}", "meta", "key", "l4proto");
    case 5: return payload("th", "dport");
    case 6: return payload("th", "sport");
    case 7: return payload(v6 ? "icmpv6" : "icmp", "type");
    case 8: return payload(v6 ? "icmpv6" : "icmp", "code");
    case 10: return v6 ? NULL : payload("ip", "length");
    case 11: return payload(v6 ? "ip6" : "ip", "dscp");
    case 13: return payload("ip6", "flowlabel");
    default: return NULL;
    }
}

static const char *num_op(uint8_t op)
{
    static const char *const ops[8] = {NULL, "==", ">", ">=", "<", "<=", "!=", NULL};
    return ops[op & 7];
}

/*
 * Numeric terms (an OR of AND-groups, RFC 8955 §4.2.1.1) as nftables
 * matches appended to expr: one AND-group of any comparisons, or several
 * groups that are each an equality or a closed range (an anonymous set).
 */
static int numeric(json_t *expr, uint16_t afi, const mm_bgp_fs_comp *k, bool *never, const char **why)
{
    size_t ngroups = 0;
    for (size_t t = 0; t < k->n_terms; t++)
        if (t == 0 || !(k->terms[t].op & MM_BGP_FS_OP_AND))
            ngroups++;
    if (ngroups == 1) {
        for (size_t t = 0; t < k->n_terms; t++) {
            uint8_t o = k->terms[t].op & 7;
            if (o == 0) { *never = true; return 0; } /* false */
            if (o == 7) continue;                      /* true */
            json_t *left = comp_left(afi, k->type);
            if (!left)
                return *why = "component not expressible in nftables", MM_EUNSUPPORTED;
            json_array_append_new(expr, match(num_op(o), left, json_integer((json_int_t)k->terms[t].value)));
        }
        return 0;
    }
    json_t *set = json_array();
    for (size_t t = 0; t < k->n_terms;) {
        size_t end = t + 1;
        while (end < k->n_terms && (k->terms[end].op & MM_BGP_FS_OP_AND))
            end++;
        uint8_t a = k->terms[t].op & 7;
        uint64_t va = k->terms[t].value;
        if (end - t == 1 && a == 1) {
            json_array_append_new(set, json_integer((json_int_t)va));
        } else if (end - t == 2 && (a == 3 || a == 2) &&
                   ((k->terms[t + 1].op & 7) == 5 || (k->terms[t + 1].op & 7) == 4)) {
            uint64_t lo = a == 3 ? va : va + 1, vb = k->terms[t + 1].value;
            uint64_t hi = (k->terms[t + 1].op & 7) == 5 ? vb : vb - 1;
            if (vb == 0 || lo > hi) {
                t = end;
                continue; /* an empty range adds nothing to the OR */
            }
            json_array_append_new(set, json_pack("{s:[I,I]}", "range", (json_int_t)lo, (json_int_t)hi));
        } else {
            json_decref(set);
            return *why = "operator list too complex for an nftables set", MM_EUNSUPPORTED;
        }
        t = end;
    }
    if (json_array_size(set) == 0) {
        json_decref(set);
        *never = true;
        return 0;
    }
    json_t *left = comp_left(afi, k->type);
    if (!left) {
        json_decref(set);
        return *why = "component not expressible in nftables", MM_EUNSUPPORTED;
    }
    json_array_append_new(expr, match("==", left, json_pack("{s:o}", "set", set)));
    return 0;
}

/* TCP flags: AND-ed bitmask terms only (RFC 8955 §4.2.1.2). */
static int tcp_flags(json_t *expr, const mm_bgp_fs_comp *k, const char **why)
{
    for (size_t t = 0; t < k->n_terms; t++) {
        uint8_t op = k->terms[t].op;
        if (t && !(op & MM_BGP_FS_OP_AND))
            return *why = "OR-ed TCP flag terms are not installed", MM_EUNSUPPORTED;
        json_int_t v = (json_int_t)(k->terms[t].value & 0xff);
        json_t *masked = json_pack("{s:[o,I]}", "&", payload("tcp", "flags"), v);
        bool not = op & MM_BGP_FS_OP_NOT;
        if (op & MM_BGP_FS_OP_MATCH) /* all bits set */
            json_array_append_new(expr, match(not ? "!=" : "==", masked, json_integer(v)));
        else /* any bit set */
            json_array_append_new(expr, match(not ? "==" : "!=", masked, json_integer(0)));
    }
    return 0;
}

json_t *bgpd_nft_rule_expr(uint16_t afi, const uint8_t *rule, size_t len, const uint8_t *ec,
                           size_t eclen, const char *counter, const char **why)
{
    mm_bgp_fs_rule *r = malloc(sizeof(*r));
    json_t *expr = json_array();
    bool never = false;
    if (!r || mm_bgp_fs_decode(afi, rule, len, r, why) < 0)
        goto fail;
    bool v6 = afi == MM_BGP_AFI_IPV6;
    /* In an inet table a rule without addresses would match both families. */
    json_array_append_new(expr, match("==", json_pack("{s:{s:s}}", "meta", "key", "nfproto"),
                                      json_string(v6 ? "ipv6" : "ipv4")));
    for (size_t i = 0; i < r->n_comp; i++) {
        const mm_bgp_fs_comp *k = &r->comp[i];
        if (k->type == 1 || k->type == 2) {
            if (k->offset) {
                *why = "IPv6 prefix offsets are not installed";
                goto fail;
            }
            char a[64];
            inet_ntop(v6 ? AF_INET6 : AF_INET, k->addr, a, sizeof(a));
            json_array_append_new(expr, match("==", payload(v6 ? "ip6" : "ip", k->type == 1 ? "daddr" : "saddr"),
                                              json_pack("{s:{s:s, s:i}}", "prefix", "addr", a, "len", k->plen)));
        } else if (k->type == 9) {
            if (tcp_flags(expr, k, why) < 0)
                goto fail;
        } else if (k->type == 4 || k->type == 12) {
            *why = k->type == 4 ? "'port' (source or destination) is not installed"
                                : "fragment matching is not installed";
            goto fail;
        } else if (numeric(expr, afi, k, &never, why) < 0) {
            goto fail;
        }
    }
    if (never) {
        *why = "the rule can never match";
        goto fail;
    }
    mm_bgp_fs_actions act;
    if (mm_bgp_fs_actions_decode(ec, eclen, &act) < 0) {
        *why = "malformed extended communities";
        goto fail;
    }
    json_array_append_new(expr, counter ? json_pack("{s:s}", "counter", counter)
                                        : json_pack("{s:{s:i, s:i}}", "counter", "packets", 0, "bytes", 0));
    bool drop = (act.has_rate_bytes && act.rate_bytes <= 0.0f) ||
                (act.has_rate_packets && act.rate_packets <= 0.0f);
    json_t *rules = json_array();
    if (drop) {
        json_array_append_new(expr, json_pack("{s:n}", "drop"));
        json_array_append_new(rules, expr);
    } else {
        /*
         * A rate limit is two nftables rules on the same match: over the
         * rate -> drop (this one counts every matching packet); under it
         * -> the next rule marks (if asked) and accepts, so the FlowSpec
         * rule stays the first match.
         */
        json_t *second = json_deep_copy(expr);
        json_array_remove(second, json_array_size(second) - 1); /* its counter */
        if (act.has_rate_bytes || act.has_rate_packets) {
            json_t *lim = act.has_rate_bytes
                              ? json_pack("{s:{s:I, s:s, s:s, s:b}}", "limit", "rate",
                                          (json_int_t)act.rate_bytes, "per", "second", "rate_unit",
                                          "bytes", "inv", 1)
                              : json_pack("{s:{s:I, s:s, s:b}}", "limit", "rate",
                                          (json_int_t)act.rate_packets, "per", "second", "inv", 1);
            json_array_append_new(expr, lim);
            json_array_append_new(expr, json_pack("{s:n}", "drop"));
            json_array_append_new(rules, expr);
            expr = second;
        } else {
            json_decref(second);
        }
        if (act.has_mark)
            json_array_append_new(expr, json_pack("{s:{s:o, s:i}}", "mangle", "key",
                                                  payload(v6 ? "ip6" : "ip", "dscp"), "value", act.dscp));
        json_array_append_new(expr, json_pack("{s:n}", "accept"));
        json_array_append_new(rules, expr);
    }
    free(r);
    return rules;
fail:
    free(r);
    json_decref(expr);
    return NULL;
}

int bgpd_nft_new(const char *table, bgpd_nft **out)
{
    bgpd_nft *n = calloc(1, sizeof(*n));
    if (!n)
        return MM_ENOMEM;
    n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!n->ctx) {
        free(n);
        return MM_ENOMEM;
    }
    /* JSON output makes libnftables parse the input as JSON too (1.0.x). */
    nft_ctx_output_set_flags(n->ctx, NFT_CTX_OUTPUT_JSON);
    nft_ctx_buffer_output(n->ctx);
    nft_ctx_buffer_error(n->ctx);
    snprintf(n->table, sizeof(n->table), "%s", table);
    *out = n;
    return 0;
}

static int run(bgpd_nft *n, json_t *cmds, char *err, size_t errlen)
{
    json_t *root = json_pack("{s:o}", "nftables", cmds);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!s)
        return MM_ENOMEM;
    int rc = nft_run_cmd_from_buffer(n->ctx, s);
    free(s);
    if (rc != 0) {
        const char *e = nft_ctx_get_error_buffer(n->ctx);
        snprintf(err, errlen, "%s", e && *e ? e : "nftables refused the commands");
        for (char *p = err; *p; p++)
            if (*p == '\n')
                *p = ' ';
        return MM_ESYS;
    }
    return 0;
}

static json_t *obj(const char *verb, const char *kind, json_t *body)
{
    return json_pack("{s:{s:o}}", verb, kind, body);
}

int bgpd_nft_sync(bgpd_nft *n, const bgpd_nft_rule *rules, size_t nrules, size_t *installed,
                  char *err, size_t errlen)
{
    json_t *cmds = json_array();
    const char *t = n->table;
    /* add (no-op if present) then delete gives a clean slate in the same transaction. */
    json_array_append_new(cmds, obj("add", "table", json_pack("{s:s, s:s}", "family", "inet", "name", t)));
    json_array_append_new(cmds, obj("delete", "table", json_pack("{s:s, s:s}", "family", "inet", "name", t)));
    json_array_append_new(cmds, obj("add", "table", json_pack("{s:s, s:s}", "family", "inet", "name", t)));
    json_array_append_new(cmds, obj("add", "chain", json_pack("{s:s, s:s, s:s}", "family", "inet",
                                                              "table", t, "name", "flowspec")));
    static const char *const hooks[] = {"input", "forward"};
    for (int h = 0; h < 2; h++) {
        json_array_append_new(cmds, obj("add", "chain",
                                        json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "family", "inet",
                                                  "table", t, "name", hooks[h], "type", "filter",
                                                  "hook", hooks[h], "prio", 0, "policy", "accept")));
        json_array_append_new(cmds, obj("add", "rule",
                                        json_pack("{s:s, s:s, s:s, s:[{s:{s:s}}]}", "family", "inet",
                                                  "table", t, "chain", hooks[h], "expr", "jump",
                                                  "target", "flowspec")));
    }
    size_t ok = 0;
    for (size_t i = 0; i < nrules; i++) {
        const bgpd_nft_rule *r = &rules[i];
        char cname[32];
        snprintf(cname, sizeof(cname), "ifit_%zu", i + 1);
        mm_bgp_fs_actions act;
        bool ifit = mm_bgp_fs_actions_decode(r->ecomm, r->ecomm_len, &act) == 0 && act.n_ifit > 0;
        const char *why = NULL;
        json_t *list = bgpd_nft_rule_expr(r->afi, r->rule, r->rule_len, r->ecomm, r->ecomm_len,
                                          ifit ? cname : NULL, &why);
        if (!list) {
            mm_log_warn("nft", "rule %zu not installed: %s", i + 1, why ? why : "?");
            continue;
        }
        if (ifit)
            json_array_append_new(cmds, obj("add", "counter", json_pack("{s:s, s:s, s:s}", "family", "inet",
                                                                        "table", t, "name", cname)));
        size_t k;
        json_t *expr;
        json_array_foreach(list, k, expr) {
            json_t *rj = json_pack("{s:s, s:s, s:s, s:O}", "family", "inet", "table", t, "chain",
                                   "flowspec", "expr", expr);
            if (r->comment)
                json_object_set_new(rj, "comment", json_string(r->comment));
            json_array_append_new(cmds, obj("add", "rule", rj));
        }
        json_decref(list);
        ok++;
    }
    int rc = run(n, cmds, err, errlen);
    if (installed)
        *installed = rc == 0 ? ok : 0;
    return rc;
}

json_t *bgpd_nft_counters(bgpd_nft *n)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "list counters table inet %s", n->table);
    /* A text command: with JSON output the answer comes back as JSON. */
    if (nft_run_cmd_from_buffer(n->ctx, cmd) != 0)
        return json_array();
    json_error_t je;
    json_t *root = json_loads(nft_ctx_get_output_buffer(n->ctx), 0, &je);
    json_t *res = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(root, "nftables"), i, item) {
        json_t *c = json_object_get(item, "counter");
        if (c)
            json_array_append_new(res, json_pack("{s:O, s:O, s:O}", "name", json_object_get(c, "name"),
                                                 "packets", json_object_get(c, "packets"), "bytes",
                                                 json_object_get(c, "bytes")));
    }
    json_decref(root);
    return res;
}

void bgpd_nft_free(bgpd_nft *n)
{
    if (!n)
        return;
    char err[256];
    json_t *cmds = json_array();
    json_array_append_new(cmds, obj("add", "table", json_pack("{s:s, s:s}", "family", "inet", "name", n->table)));
    json_array_append_new(cmds, obj("delete", "table", json_pack("{s:s, s:s}", "family", "inet", "name", n->table)));
    run(n, cmds, err, sizeof(err));
    nft_ctx_free(n->ctx);
    free(n);
}
