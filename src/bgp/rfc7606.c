/*
 * rfc7606.c - revised UPDATE error handling (RFC 7606): which action a
 * malformed attribute gets, one row per attribute code, and the verdict
 * on a whole UPDATE (the strongest action found wins: session reset >
 * AFI/SAFI disable > treat-as-withdraw > attribute discard).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "mamori/mm_bgp_speaker.h"
#include "mamori/mm_core.h"

/* RFC 7606 §7 (and RFC 6793 §6, RFC 8092 §6, RFC 9234 §5 for the later attributes). */
static const struct {
    uint8_t code;
    enum mm_bgp_err_action action;
} action_table[] = {
    {MM_BGP_ATTR_ORIGIN, MM_BGP_ERR_WITHDRAW},            /* §7.1 */
    {MM_BGP_ATTR_AS_PATH, MM_BGP_ERR_WITHDRAW},           /* §7.2 */
    {MM_BGP_ATTR_NEXT_HOP, MM_BGP_ERR_WITHDRAW},          /* §7.3 */
    {MM_BGP_ATTR_MED, MM_BGP_ERR_WITHDRAW},               /* §7.4 */
    {MM_BGP_ATTR_LOCAL_PREF, MM_BGP_ERR_WITHDRAW},        /* §7.5 (eBGP: discard, below) */
    {MM_BGP_ATTR_ATOMIC_AGGREGATE, MM_BGP_ERR_DISCARD},   /* §7.6 */
    {MM_BGP_ATTR_AGGREGATOR, MM_BGP_ERR_DISCARD},         /* §7.7 */
    {MM_BGP_ATTR_COMMUNITIES, MM_BGP_ERR_WITHDRAW},       /* §7.8 */
    {MM_BGP_ATTR_ORIGINATOR_ID, MM_BGP_ERR_WITHDRAW},     /* §7.9 */
    {MM_BGP_ATTR_CLUSTER_LIST, MM_BGP_ERR_WITHDRAW},      /* §7.10 */
    {MM_BGP_ATTR_MP_REACH, MM_BGP_ERR_RESET},             /* §7.11, §5.3 */
    {MM_BGP_ATTR_MP_UNREACH, MM_BGP_ERR_RESET},           /* §7.12 */
    {MM_BGP_ATTR_EXT_COMMUNITIES, MM_BGP_ERR_WITHDRAW},   /* §7.14 */
    {MM_BGP_ATTR_AS4_PATH, MM_BGP_ERR_DISCARD},           /* RFC 6793 §6 */
    {MM_BGP_ATTR_AS4_AGGREGATOR, MM_BGP_ERR_DISCARD},     /* RFC 6793 §6 */
    {MM_BGP_ATTR_LARGE_COMMUNITIES, MM_BGP_ERR_WITHDRAW}, /* RFC 8092 §6 */
    {35, MM_BGP_ERR_WITHDRAW},                            /* OTC, RFC 9234 §5 */
};

const char *mm_bgp_err_action_name(enum mm_bgp_err_action a)
{
    static const char *const names[] = {"none", "attribute-discard", "treat-as-withdraw",
                                        "afi-safi-disable", "session-reset"};
    return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "unknown";
}

enum mm_bgp_err_action mm_bgp_rfc7606_action(uint8_t code)
{
    for (size_t i = 0; i < sizeof(action_table) / sizeof(action_table[0]); i++)
        if (action_table[i].code == code)
            return action_table[i].action;
    return MM_BGP_ERR_NONE; /* unknown optional attributes are passed on, not judged */
}

static void raise(mm_bgp_update_verdict *v, enum mm_bgp_err_action a, uint8_t attr, const char *why,
                  uint8_t sub)
{
    if (a == MM_BGP_ERR_DISCARD)
        v->discard_mask[attr / 64] |= 1ull << (attr % 64);
    if (a <= v->action)
        return;
    v->action = a;
    v->attr = attr;
    v->why = why;
    v->notif_code = 3; /* UPDATE Message Error */
    v->notif_subcode = sub;
}

/* The problem with one attribute, or NULL (RFC 4271 §6.3 checks, by table row). */
static const char *attr_problem(const mm_bgp_attr *a, bool as4, uint8_t *sub)
{
    const mm_bgp_attr_desc *d = mm_bgp_attr_desc_find(a->code);
    if (!d)
        return NULL;
    if ((a->flags & (MM_BGP_ATTR_F_OPTIONAL | MM_BGP_ATTR_F_TRANSITIVE)) != d->flags)
        return *sub = 4, "attribute flags conflict with the attribute type";
    if (a->len < d->min_len || (d->max_len != 0xffff && a->len > d->max_len) ||
        (d->multiple && a->len % d->multiple))
        return *sub = 5, "attribute length is wrong for its type";
    switch (a->code) {
    case MM_BGP_ATTR_ORIGIN:
        if (a->val[0] > 2)
            return *sub = 6, "invalid ORIGIN value";
        break;
    case MM_BGP_ATTR_AS_PATH:
        if (mm_bgp_aspath_format(a->val, a->len, as4, NULL) < 0)
            return *sub = 11, "malformed AS_PATH";
        break;
    case MM_BGP_ATTR_AS4_PATH:
        if (mm_bgp_aspath_format(a->val, a->len, true, NULL) < 0)
            return *sub = 11, "malformed AS4_PATH";
        break;
    case MM_BGP_ATTR_AGGREGATOR:
        if (a->len != (as4 ? 8 : 6))
            return *sub = 5, "AGGREGATOR length does not match the AS size";
        break;
    case MM_BGP_ATTR_NEXT_HOP: {
        /* RFC 4271 §6.3: 0.0.0.0 and multicast next hops are invalid (RFC 7606 §7.3). */
        if ((a->val[0] == 0 && a->val[1] == 0 && a->val[2] == 0 && a->val[3] == 0) ||
            (a->val[0] >= 224 && a->val[0] < 240))
            return *sub = 8, "invalid NEXT_HOP";
        break;
    }
    default:
        break;
    }
    return NULL;
}

void mm_bgp_update_judge(mm_cursor *body, bool as4, bool ibgp, mm_bgp_update *u,
                         mm_bgp_update_verdict *v)
{
    memset(v, 0, sizeof(*v));
    int rc = mm_bgp_update_decode(body, as4, false, u);
    if (rc < 0) {
        /*
         * Lengths that do not add up, an MP attribute that cannot be
         * parsed, a duplicated MP attribute or NLRI that cannot be
         * delimited: the UPDATE cannot be split into routes (RFC 7606
         * §4, §5.3, §3(g)); reset with Malformed Attribute List, or
         * Invalid Network Field for the NLRI.
         */
        uint8_t sub = (u->error && strstr(u->error, "NLRI") && !strstr(u->error, "MP_")) ||
                              (u->error && strstr(u->error, "withdrawn routes"))
                          ? 10
                          : 1;
        raise(v, MM_BGP_ERR_RESET, u->error_attr, u->error ? u->error : "malformed UPDATE", sub);
        return;
    }
    for (size_t i = 0; i < u->n_attrs; i++) {
        const mm_bgp_attr *a = &u->attrs[i];
        uint8_t sub = 1;
        if (!mm_bgp_attr_desc_find(a->code) && !(a->flags & MM_BGP_ATTR_F_OPTIONAL)) {
            /* RFC 4271 §6.3: an unrecognized well-known attribute. */
            raise(v, MM_BGP_ERR_RESET, a->code, "unrecognized well-known attribute", 2);
            continue;
        }
        const char *why = attr_problem(a, as4, &sub);
        if (!why)
            continue;
        enum mm_bgp_err_action act = mm_bgp_rfc7606_action(a->code);
        if (a->code == MM_BGP_ATTR_LOCAL_PREF && !ibgp)
            act = MM_BGP_ERR_DISCARD; /* §7.5: from an external peer it is discarded */
        raise(v, act, a->code, why, sub);
    }
    /* §3(g): a repeated attribute (other than MP_*) is discarded; the codec kept the first. */
    if (u->error && strcmp(u->error, "duplicate path attribute") == 0)
        raise(v, MM_BGP_ERR_DISCARD, u->error_attr, u->error, 1);

    /* §3(d): mandatory well-known attributes missing while there are routes. */
    bool reach = u->nlri_len > 0 || (u->mp_reach.present && u->mp_reach.nlri_len > 0);
    if (reach && (!mm_bgp_update_attr(u, MM_BGP_ATTR_ORIGIN) || !mm_bgp_update_attr(u, MM_BGP_ATTR_AS_PATH)))
        raise(v, MM_BGP_ERR_WITHDRAW, 0, "missing well-known mandatory attribute", 3);
    if (u->nlri_len > 0 && !mm_bgp_update_attr(u, MM_BGP_ATTR_NEXT_HOP))
        raise(v, MM_BGP_ERR_WITHDRAW, MM_BGP_ATTR_NEXT_HOP, "missing NEXT_HOP", 3);

    /* RFC 8955 §10 / RFC 7606 §5.4: a delimited but malformed FlowSpec rule. */
    const mm_bgp_mp *mps[2] = {&u->mp_reach, &u->mp_unreach};
    for (int m = 0; m < 2; m++) {
        const mm_bgp_mp *mp = mps[m];
        if (!mp->present || mp->safi != MM_BGP_SAFI_FLOWSPEC)
            continue;
        if (mp->afi != MM_BGP_AFI_IPV4 && mp->afi != MM_BGP_AFI_IPV6) {
            raise(v, MM_BGP_ERR_RESET, m ? MM_BGP_ATTR_MP_UNREACH : MM_BGP_ATTR_MP_REACH,
                  "FlowSpec for an unknown AFI", 1);
            continue;
        }
        mm_cursor c;
        mm_cursor_init_read(&c, mp->nlri, mp->nlri_len);
        const uint8_t *r;
        size_t rl;
        mm_bgp_fs_rule rule;
        while (mm_bgp_flowspec_next(&c, &r, &rl) > 0) {
            const char *why = NULL;
            if (mm_bgp_fs_decode(mp->afi, r, rl, &rule, &why) < 0) {
                raise(v, MM_BGP_ERR_WITHDRAW, m ? MM_BGP_ATTR_MP_UNREACH : MM_BGP_ATTR_MP_REACH, why,
                      10);
                break;
            }
        }
    }
}
