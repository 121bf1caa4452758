/*
 * bmp_stats.c - the BMP statistics registry (RFC 7854 §4.8, RFC 8671 §5,
 * RFC 9972 §3, IANA "BMP Statistics Types") as one table, and the codec of
 * one statistic record {type u16, len u16, value}.
 *
 * The draft "BMP Statistics Types Extension" could not be identified (see
 * the spec bmp-stats.md §0): new codes are rows, and mm_bmp_stat_type_add()
 * adds rows at run time. Unknown types are kept as bytes, never dropped.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_bmp.h"
#include "mamori/mm_core.h"

#define C32 MM_BMP_STAT_COUNTER32
#define G64 MM_BMP_STAT_GAUGE64
#define AFG MM_BMP_STAT_AFISAFI_GAUGE64
#define R7854 "RFC 7854"
#define R8671 "RFC 8671"
#define R9972 "RFC 9972"

/* clang-format off: one row per line */
static const mm_bmp_stat_type stat_table[] = {
    {0, C32, "rejected_prefixes", "Number of prefixes rejected by inbound policy", R7854},
    {1, C32, "duplicate_prefix_advertisements", "Number of (known) duplicate prefix advertisements",
     R7854},
    {2, C32, "duplicate_withdraws", "Number of (known) duplicate withdraws", R7854},
    {3, C32, "invalidated_cluster_list_loop",
     "Number of updates invalidated due to CLUSTER_LIST loop", R7854},
    {4, C32, "invalidated_as_path_loop", "Number of updates invalidated due to AS_PATH loop",
     R7854},
    {5, C32, "invalidated_originator_id", "Number of updates invalidated due to ORIGINATOR_ID",
     R7854},
    {6, C32, "invalidated_as_confed_loop",
     "Number of updates invalidated due to a loop found in AS_CONFED_SEQUENCE or AS_CONFED_SET",
     R7854},
    {7, G64, "adj_rib_in_routes", "Number of routes in Adj-RIBs-In", R7854},
    {8, G64, "loc_rib_routes", "Number of routes in Loc-RIB", R7854},
    {9, AFG, "adj_rib_in_routes_afi_safi", "Number of routes in per-AFI/SAFI Adj-RIB-In", R7854},
    {10, AFG, "loc_rib_routes_afi_safi", "Number of routes in per-AFI/SAFI Loc-RIB", R7854},
    {11, C32, "treat_as_withdraw_updates", "Number of updates subjected to treat-as-withdraw",
     R7854},
    {12, C32, "treat_as_withdraw_prefixes", "Number of prefixes subjected to treat-as-withdraw",
     R7854},
    {13, C32, "duplicate_update_messages", "Number of duplicate update messages received", R7854},
    {14, G64, "adj_rib_out_pre_routes", "Number of routes in pre-policy Adj-RIB-Out", R8671},
    {15, G64, "adj_rib_out_post_routes", "Number of routes in post-policy Adj-RIB-Out", R8671},
    {16, AFG, "adj_rib_out_pre_routes_afi_safi",
     "Number of routes in per-AFI/SAFI pre-policy Adj-RIB-Out", R8671},
    {17, AFG, "adj_rib_out_post_routes_afi_safi",
     "Number of routes in per-AFI/SAFI post-policy Adj-RIB-Out", R8671},
    {18, G64, "adj_rib_in_pre_routes", "Number of routes currently in pre-policy Adj-RIB-In",
     R9972},
    {19, AFG, "adj_rib_in_pre_routes_afi_safi",
     "Number of routes currently in per-AFI/SAFI pre-policy Adj-RIB-In", R9972},
    {20, G64, "adj_rib_in_post_routes", "Number of routes currently in post-policy Adj-RIB-In",
     R9972},
    {21, AFG, "adj_rib_in_post_routes_afi_safi",
     "Number of routes currently in per-AFI/SAFI post-policy Adj-RIB-In", R9972},
    {22, AFG, "adj_rib_in_pre_rejected_afi_safi",
     "Number of routes in per-AFI/SAFI pre-policy Adj-RIB-In rejected by inbound policy", R9972},
    {23, AFG, "adj_rib_in_post_accepted_afi_safi",
     "Number of routes in per-AFI/SAFI post-policy Adj-RIB-In accepted by inbound policy", R9972},
    {24, AFG, "primary_routes_afi_safi",
     "Number of routes per-AFI/SAFI selected as primary (best) route", R9972},
    {25, AFG, "backup_routes_afi_safi", "Number of routes per-AFI/SAFI selected as backup route",
     R9972},
    {26, AFG, "damped_routes_afi_safi", "Number of routes per-AFI/SAFI suppressed by route damping",
     R9972},
    {27, AFG, "gr_stale_routes_afi_safi",
     "Number of routes per-AFI/SAFI marked stale by Graceful Restart", R9972},
    {28, AFG, "llgr_stale_routes_afi_safi",
     "Number of routes per-AFI/SAFI marked stale by Long-Lived Graceful Restart", R9972},
    {29, G64, "routes_left_before_max_prefix",
     "Number of routes left until the received-route (max-prefix) threshold", R9972},
    {30, AFG, "routes_left_before_max_prefix_afi_safi",
     "Number of routes per-AFI/SAFI left until the received-route (max-prefix) threshold", R9972},
    {31, G64, "routes_left_before_license_limit",
     "Number of routes left until the license route threshold", R9972},
    {32, AFG, "routes_left_before_license_limit_afi_safi",
     "Number of routes per-AFI/SAFI left until the license route threshold", R9972},
    {33, G64, "rejected_max_as_path_len",
     "Number of routes in pre-policy Adj-RIB-In rejected for exceeding the maximum AS_PATH length",
     R9972},
    {34, AFG, "rejected_max_as_path_len_afi_safi",
     "Number of routes per-AFI/SAFI in pre-policy Adj-RIB-In rejected for exceeding the maximum "
     "AS_PATH length",
     R9972},
    {35, AFG, "rov_invalid_in_afi_safi",
     "Number of routes per-AFI/SAFI in post-policy Adj-RIB-In with ROV state Invalid", R9972},
    {36, AFG, "rov_valid_in_afi_safi",
     "Number of routes per-AFI/SAFI in post-policy Adj-RIB-In with ROV state Valid", R9972},
    {37, AFG, "rov_notfound_in_afi_safi",
     "Number of routes per-AFI/SAFI in post-policy Adj-RIB-In with ROV state NotFound", R9972},
    {38, AFG, "adj_rib_out_pre_rejected_afi_safi",
     "Number of routes per-AFI/SAFI in pre-policy Adj-RIB-Out rejected by outbound policy", R9972},
    {39, G64, "adj_rib_out_rejected_max_as_path_len",
     "Number of routes in pre-policy Adj-RIB-Out filtered for exceeding the maximum AS_PATH length",
     R9972},
    {40, AFG, "adj_rib_out_rejected_max_as_path_len_afi_safi",
     "Number of routes per-AFI/SAFI in pre-policy Adj-RIB-Out filtered for exceeding the maximum "
     "AS_PATH length",
     R9972},
    {41, AFG, "rov_invalid_out_afi_safi",
     "Number of routes per-AFI/SAFI in post-policy Adj-RIB-Out with ROV state Invalid", R9972},
    {42, AFG, "rov_valid_out_afi_safi",
     "Number of routes per-AFI/SAFI in post-policy Adj-RIB-Out with ROV state Valid", R9972},
    {43, AFG, "rov_notfound_out_afi_safi",
     "Number of routes per-AFI/SAFI in post-policy Adj-RIB-Out with ROV state NotFound", R9972},
    /* Experimental range 65531-65534 (RFC 9515): FRR's use, seen on the wire. */
    {65531, C32, "frr_invalid_nexthop_prefixes",
     "Number of prefixes rejected due to invalid next-hop (FRR)", "FRR (experimental)"},
};
/* clang-format on */

#define STAT_RUNTIME_MAX 64
static mm_bmp_stat_type stat_runtime[STAT_RUNTIME_MAX];
static size_t stat_runtime_n;

const mm_bmp_stat_type *mm_bmp_stat_types(size_t *n)
{
    *n = sizeof(stat_table) / sizeof(stat_table[0]);
    return stat_table;
}

const mm_bmp_stat_type *mm_bmp_stat_type_find(uint16_t type)
{
    /* Runtime rows win so that configuration can override a built-in kind. */
    for (size_t i = 0; i < stat_runtime_n; i++)
        if (stat_runtime[i].type == type)
            return &stat_runtime[i];
    /* Codes 0..43 are their own index; the rest are few. */
    size_t n = sizeof(stat_table) / sizeof(stat_table[0]);
    if (type < n && stat_table[type].type == type)
        return &stat_table[type];
    for (size_t i = 0; i < n; i++)
        if (stat_table[i].type == type)
            return &stat_table[i];
    return NULL;
}

int mm_bmp_stat_type_add(uint16_t type, enum mm_bmp_stat_kind kind, const char *name,
                         const char *descr)
{
    if (!name || kind > MM_BMP_STAT_OPAQUE)
        return MM_EINVAL;
    mm_bmp_stat_type *row = NULL;
    for (size_t i = 0; i < stat_runtime_n; i++)
        if (stat_runtime[i].type == type)
            row = &stat_runtime[i];
    if (!row) {
        if (stat_runtime_n == STAT_RUNTIME_MAX)
            return MM_ELIMIT;
        row = &stat_runtime[stat_runtime_n];
    } else {
        free((char *)row->name);
        free((char *)row->descr);
    }
    char *n = strdup(name), *d = strdup(descr ? descr : name);
    if (!n || !d) {
        free(n);
        free(d);
        return MM_ENOMEM;
    }
    *row = (mm_bmp_stat_type){type, kind, n, d, "configuration"};
    if (row == &stat_runtime[stat_runtime_n])
        stat_runtime_n++;
    return 0;
}

size_t mm_bmp_stat_kind_len(enum mm_bmp_stat_kind kind)
{
    switch (kind) {
    case MM_BMP_STAT_COUNTER32:
        return 4;
    case MM_BMP_STAT_GAUGE64:
        return 8;
    case MM_BMP_STAT_AFISAFI_GAUGE64:
        return 11;
    default:
        return 0;
    }
}

const char *mm_bmp_stat_kind_name(enum mm_bmp_stat_kind kind)
{
    switch (kind) {
    case MM_BMP_STAT_COUNTER32:
        return "counter32";
    case MM_BMP_STAT_GAUGE64:
        return "gauge64";
    case MM_BMP_STAT_AFISAFI_GAUGE64:
        return "afi-safi-gauge64";
    default:
        return "opaque";
    }
}

int mm_bmp_stat_next(mm_cursor *c, mm_bmp_stat *s)
{
    if (mm_cursor_error(c))
        return MM_ETRUNC;
    if (mm_cursor_remaining(c) == 0)
        return 0;
    memset(s, 0, sizeof(*s));
    s->type = mm_cursor_read_u16(c);
    s->len = mm_cursor_read_u16(c);
    mm_cursor v;
    mm_cursor_sub(c, s->len, &v);
    if (mm_cursor_error(c))
        return MM_ETRUNC;
    s->val = v.base;
    s->def = mm_bmp_stat_type_find(s->type);
    s->kind = MM_BMP_STAT_OPAQUE;
    if (!s->def) {
        s->reason = "unknown statistics type";
        return 1;
    }
    if (s->def->kind == MM_BMP_STAT_OPAQUE)
        return 1;
    if (s->len != mm_bmp_stat_kind_len(s->def->kind)) {
        s->reason = "length does not match the type's encoding";
        return 1;
    }
    s->kind = s->def->kind;
    switch (s->kind) {
    case MM_BMP_STAT_COUNTER32:
        s->value = mm_cursor_read_u32(&v);
        break;
    case MM_BMP_STAT_GAUGE64:
        s->value = mm_cursor_read_u64(&v);
        break;
    default:
        s->afi = mm_cursor_read_u16(&v);
        s->safi = mm_cursor_read_u8(&v);
        s->value = mm_cursor_read_u64(&v);
        break;
    }
    return 1;
}

int mm_bmp_stat_encode(mm_cursor *w, uint16_t type, uint64_t value, uint16_t afi, uint8_t safi)
{
    const mm_bmp_stat_type *def = mm_bmp_stat_type_find(type);
    if (!def || def->kind == MM_BMP_STAT_OPAQUE)
        return MM_ENOENT;
    mm_cursor_write_u16(w, type);
    mm_cursor_write_u16(w, (uint16_t)mm_bmp_stat_kind_len(def->kind));
    switch (def->kind) {
    case MM_BMP_STAT_COUNTER32:
        if (value > UINT32_MAX)
            return MM_EINVAL;
        mm_cursor_write_u32(w, (uint32_t)value);
        break;
    case MM_BMP_STAT_GAUGE64:
        mm_cursor_write_u64(w, value);
        break;
    default:
        mm_cursor_write_u16(w, afi);
        mm_cursor_write_u8(w, safi);
        mm_cursor_write_u64(w, value);
        break;
    }
    return mm_cursor_error(w);
}
