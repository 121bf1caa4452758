/*
 * test_bmp_codec.c - BMP codec: every message type and every statistics
 * registry row round-trips through the encoder and decoder; unknown and
 * malformed statistics are kept with a reason; bad framing is refused with
 * a precise reason; the JSON rendering carries the decoded values.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bmp_gen.h"
#include "mamori/mm_bmp.h"
#include "mamori/mm_core.h"

static uint8_t wbuf[1 << 16];

static size_t build(int (*fn)(mm_cursor *, void *), void *arg)
{
    mm_cursor w;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(fn(&w, arg), 0);
    return mm_cursor_offset(&w);
}

/* Render m to JSON Lines and return line idx parsed (caller frees). */
static json_t *render_line(const mm_bmp_msg *m, int idx, int *nlines)
{
    mm_buf b;
    mm_buf_init(&b, 1 << 20);
    mm_bmp_json_ctx ctx = {
        .router = "192.0.2.254", .router_port = 4711, .arrival_us = 1764763200000000};
    int n = mm_bmp_json_render(&ctx, m, &b);
    assert_true(n > 0);
    if (nlines)
        *nlines = n;
    const char *s = mm_buf_cstr(&b);
    for (int i = 0; i < idx; i++) {
        s = strchr(s, '\n');
        assert_non_null(s);
        s++;
    }
    json_error_t err;
    json_t *j = json_loadb(s, strcspn(s, "\n"), 0, &err);
    if (!j)
        fail_msg("bad JSON: %s: %s", err.text, s);
    mm_buf_free(&b);
    return j;
}

static void assert_jstr(json_t *j, const char *k, const char *want)
{
    json_t *v = json_object_get(j, k);
    if (!json_is_string(v))
        fail_msg("field %s missing or not a string", k);
    assert_string_equal(json_string_value(v), want);
}

static void assert_jint(json_t *j, const char *k, json_int_t want)
{
    json_t *v = json_object_get(j, k);
    if (!json_is_integer(v))
        fail_msg("field %s missing or not an integer", k);
    assert_int_equal(json_integer_value(v), want);
}

/* ---------------------------------------------------------------- registry round trip */

static int gen_stats(mm_cursor *w, void *arg)
{
    return bmp_gen_stats_all(w, arg, 1000);
}

static void test_registry_every_type_round_trips(void **state)
{
    (void)state;
    mm_bmp_peer_hdr p;
    bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, MM_BMP_PEER_F_L, 3);
    size_t len = build(gen_stats, &p);
    mm_bmp_msg m;
    assert_int_equal(mm_bmp_msg_decode(wbuf, len, &m), 0);
    size_t nrows;
    const mm_bmp_stat_type *rows = mm_bmp_stat_types(&nrows);
    assert_true(nrows >= 45); /* 0..43 plus FRR's experimental 65531 */
    for (uint16_t t = 0; t <= 43; t++) {
        const mm_bmp_stat_type *d = mm_bmp_stat_type_find(t);
        assert_non_null(d);
        assert_int_equal(d->type, t);
    }
    assert_int_equal(m.stats_count, nrows);
    mm_cursor c = m.stats;
    mm_bmp_stat s;
    for (size_t i = 0; i < nrows; i++) {
        assert_int_equal(mm_bmp_stat_next(&c, &s), 1);
        assert_int_equal(s.type, rows[i].type);
        assert_ptr_equal(s.def, &rows[i]);
        assert_null(s.reason);
        assert_int_equal(s.kind, rows[i].kind);
        assert_int_equal(s.len, mm_bmp_stat_kind_len(rows[i].kind));
        assert_int_equal(s.value, 1000 + rows[i].type);
        if (s.kind == MM_BMP_STAT_AFISAFI_GAUGE64) {
            assert_int_equal(s.afi, 2);
            assert_int_equal(s.safi, 1);
        }
    }
    assert_int_equal(mm_bmp_stat_next(&c, &s), 0);
    /* Every type appears by name in the JSON, with its value. */
    int n;
    json_t *j = render_line(&m, 0, &n);
    assert_int_equal(n, (int)nrows);
    json_decref(j);
    for (size_t i = 0; i < nrows; i++) {
        j = render_line(&m, (int)i, NULL);
        assert_jstr(j, "bmp_msg_type", "stats");
        assert_jint(j, "counter_type", rows[i].type);
        assert_jstr(j, "counter_type_str", rows[i].descr);
        assert_jstr(j, "counter_name", rows[i].name);
        assert_jint(j, "counter_value", 1000 + rows[i].type);
        assert_jint(j, "is_post", 1);
        json_decref(j);
    }
}

static void test_registry_kinds_match_spec(void **state)
{
    (void)state;
    /* Spot checks of the spec's table (bmp-stats.md §5). */
    assert_int_equal(mm_bmp_stat_type_find(0)->kind, MM_BMP_STAT_COUNTER32);
    assert_int_equal(mm_bmp_stat_type_find(7)->kind, MM_BMP_STAT_GAUGE64);
    assert_int_equal(mm_bmp_stat_type_find(9)->kind, MM_BMP_STAT_AFISAFI_GAUGE64);
    assert_int_equal(mm_bmp_stat_type_find(13)->kind, MM_BMP_STAT_COUNTER32);
    assert_int_equal(mm_bmp_stat_type_find(15)->kind, MM_BMP_STAT_GAUGE64);
    assert_int_equal(mm_bmp_stat_type_find(17)->kind, MM_BMP_STAT_AFISAFI_GAUGE64);
    assert_int_equal(mm_bmp_stat_type_find(29)->kind, MM_BMP_STAT_GAUGE64);
    assert_int_equal(mm_bmp_stat_type_find(33)->kind, MM_BMP_STAT_GAUGE64);
    assert_int_equal(mm_bmp_stat_type_find(39)->kind, MM_BMP_STAT_GAUGE64);
    assert_int_equal(mm_bmp_stat_type_find(43)->kind, MM_BMP_STAT_AFISAFI_GAUGE64);
    assert_int_equal(mm_bmp_stat_type_find(65531)->kind, MM_BMP_STAT_COUNTER32);
    assert_null(mm_bmp_stat_type_find(44));
    /* Names are unique (they become metric labels). */
    size_t n;
    const mm_bmp_stat_type *rows = mm_bmp_stat_types(&n);
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal(rows[i].name, rows[k].name);
}

static void test_registry_runtime_row(void **state)
{
    (void)state;
    mm_cursor w;
    uint8_t buf[64];
    mm_cursor_init_write(&w, buf, sizeof(buf));
    assert_int_equal(mm_bmp_stat_encode(&w, 50000, 1, 0, 0), MM_ENOENT);
    assert_int_equal(mm_bmp_stat_type_add(50000, MM_BMP_STAT_GAUGE64, "draft_x", "Draft X"), 0);
    assert_int_equal(mm_bmp_stat_encode(&w, 50000, 77, 0, 0), 0);
    mm_cursor r;
    mm_cursor_init_read(&r, buf, mm_cursor_offset(&w));
    mm_bmp_stat s;
    assert_int_equal(mm_bmp_stat_next(&r, &s), 1);
    assert_int_equal(s.kind, MM_BMP_STAT_GAUGE64);
    assert_int_equal(s.value, 77);
    assert_string_equal(s.def->name, "draft_x");
}

/* Unknown types and known types with a wrong length: kept as bytes with a reason, next ones still
 * decode. */
static void test_stats_unknown_and_malformed_kept(void **state)
{
    (void)state;
    mm_bmp_peer_hdr p;
    bmp_gen_peer(&p, 0, 0, 1);
    mm_cursor w;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    size_t off = mm_bmp_msg_begin(&w, MM_BMP_STATS_REPORT);
    mm_bmp_peer_hdr_encode(&w, &p);
    mm_cursor_write_u32(&w, 4);
    mm_cursor_write_u16(&w, 60000); /* unknown type */
    mm_cursor_write_u16(&w, 3);
    mm_cursor_write_bytes(&w, (const uint8_t *)"\xde\xad\xbe", 3);
    mm_cursor_write_u16(&w, 7); /* gauge64 sent with 4 bytes */
    mm_cursor_write_u16(&w, 4);
    mm_cursor_write_u32(&w, 5);
    mm_cursor_write_u16(&w, 0); /* a good counter follows */
    mm_cursor_write_u16(&w, 4);
    mm_cursor_write_u32(&w, 42);
    mm_cursor_write_u16(&w, 65531); /* FRR experimental */
    mm_cursor_write_u16(&w, 4);
    mm_cursor_write_u32(&w, 9);
    assert_int_equal(mm_bmp_msg_finish(&w, off), 0);
    mm_bmp_msg m;
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), 0);
    mm_cursor c = m.stats;
    mm_bmp_stat s;
    assert_int_equal(mm_bmp_stat_next(&c, &s), 1);
    assert_int_equal(s.kind, MM_BMP_STAT_OPAQUE);
    assert_null(s.def);
    assert_string_equal(s.reason, "unknown statistics type");
    assert_int_equal(mm_bmp_stat_next(&c, &s), 1);
    assert_int_equal(s.kind, MM_BMP_STAT_OPAQUE);
    assert_non_null(s.def);
    assert_string_equal(s.reason, "length does not match the type's encoding");
    assert_int_equal(mm_bmp_stat_next(&c, &s), 1);
    assert_int_equal(s.value, 42);
    assert_int_equal(mm_bmp_stat_next(&c, &s), 1);
    assert_int_equal(s.value, 9);
    json_t *j = render_line(&m, 0, NULL);
    assert_jstr(j, "counter_type_str", "Unknown");
    assert_jstr(j, "counter_value", "de-ad-be");
    assert_jstr(j, "counter_reason", "unknown statistics type");
    json_decref(j);
    j = render_line(&m, 3, NULL);
    assert_jstr(j, "counter_name", "frr_invalid_nexthop_prefixes");
    assert_jint(j, "counter_value", 9);
    json_decref(j);
}

/* ---------------------------------------------------------------- every message type */

static int gen_init(mm_cursor *w, void *arg)
{
    (void)arg;
    return bmp_gen_initiation(w, "lab\"r1", "mamori synthetic 1.0");
}

static void test_initiation_termination(void **state)
{
    (void)state;
    size_t len = build(gen_init, NULL);
    mm_bmp_msg m;
    assert_int_equal(mm_bmp_msg_decode(wbuf, len, &m), 0);
    assert_int_equal(m.type, MM_BMP_INITIATION);
    assert_false(m.has_peer);
    json_t *j = render_line(&m, 0, NULL);
    assert_jstr(j, "bmp_msg_type", "init");
    assert_jstr(j, "bmp_init_info_sysname", "lab\"r1");
    assert_jstr(j, "bmp_init_info_sysdescr", "mamori synthetic 1.0");
    assert_jstr(j, "bmp_init_info_string", "synthetic");
    json_decref(j);

    mm_cursor w;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_termination(&w, 2), 0);
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), 0);
    j = render_line(&m, 0, NULL);
    assert_jstr(j, "bmp_msg_type", "term");
    assert_jint(j, "bmp_term_info_reason", 2);
    assert_jstr(j, "bmp_term_info_string", "bye");
    json_decref(j);
}

static void test_peer_up_global_and_loc_rib(void **state)
{
    (void)state;
    mm_bmp_peer_hdr p;
    bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, 0, 7);
    mm_cursor w;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_peer_up(&w, &p, NULL), 0);
    mm_bmp_msg m;
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), 0);
    assert_int_equal(m.local_port, 179);
    assert_int_equal(m.remote_port, 40000);
    assert_int_equal(m.peer.as, 65007);
    json_t *j = render_line(&m, 0, NULL);
    assert_jstr(j, "bmp_msg_type", "peer_up");
    assert_jstr(j, "peer_ip", "192.0.2.7");
    assert_jint(j, "peer_asn", 65007);
    assert_jstr(j, "bgp_id", "10.0.0.7");
    assert_jstr(j, "local_ip", "192.0.2.1");
    assert_jint(j, "open_recv_asn", 65007);
    assert_jstr(j, "open_recv_caps",
                "multiprotocol multiprotocol 4-octet-as route-refresh ipv4-unicast ipv6-unicast");
    assert_jint(j, "is_in", 1);
    json_decref(j);

    /* RFC 9069: peer type 3 with the VRF/table name TLV and the F flag. */
    bmp_gen_peer(&p, MM_BMP_PEER_LOC_RIB, MM_BMP_PEER_F_LOCRIB_F, 0);
    p.as = 65002;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_peer_up(&w, &p, "global"), 0);
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), 0);
    assert_false(mm_bmp_peer_is_v6(&m.peer)); /* 0x80 is F here, not V */
    j = render_line(&m, 0, NULL);
    assert_jint(j, "peer_type", 3);
    assert_jstr(j, "peer_type_str", "Loc-RIB Instance Peer");
    assert_jint(j, "is_loc", 1);
    assert_jint(j, "is_filtered", 1);
    assert_jstr(j, "bmp_peer_up_info_table_name", "global");
    assert_jstr(j, "peer_ip", "0.0.0.0");
    json_decref(j);
}

static void test_peer_down_reasons(void **state)
{
    (void)state;
    for (uint8_t reason = 1; reason <= 6; reason++) {
        mm_bmp_peer_hdr p;
        bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, 0, reason);
        mm_cursor w;
        mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
        assert_int_equal(bmp_gen_peer_down(&w, &p, reason), 0);
        mm_bmp_msg m;
        assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), 0);
        assert_int_equal(m.down_reason, reason);
        json_t *j = render_line(&m, 0, NULL);
        assert_jstr(j, "bmp_msg_type", "peer_down");
        assert_jint(j, "reason_type", reason);
        assert_jstr(j, "reason_str", mm_bmp_peer_down_reason_name(reason));
        if (reason == 1 || reason == 3) {
            assert_jint(j, "notification_code", 6);
            assert_jint(j, "notification_subcode", 2);
        }
        if (reason == 2)
            assert_jint(j, "reason_loc_code", 7);
        if (reason == 6)
            assert_jstr(j, "bmp_peer_down_info_table_name", "global");
        json_decref(j);
    }
}

static void test_route_monitoring_v4_v6_and_o_flag(void **state)
{
    (void)state;
    mm_bmp_peer_hdr p;
    /* RFC 8671: O|L = post-policy Adj-RIB-Out. */
    bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, MM_BMP_PEER_F_O | MM_BMP_PEER_F_L, 5);
    mm_cursor w;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_route_monitoring_v4(&w, &p, 9), 0);
    mm_bmp_msg m;
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), 0);
    assert_true(mm_bmp_peer_is_out(&m.peer));
    json_t *j = render_line(&m, 0, NULL);
    assert_jstr(j, "bmp_msg_type", "route_monitor");
    assert_jstr(j, "log_type", "update");
    assert_jstr(j, "ip_prefix", "10.9.0.0/16");
    assert_jstr(j, "bgp_nexthop", "10.0.0.1");
    assert_jstr(j, "as_path", "65005 4200000000 {64512,64513}");
    assert_jstr(j, "comms", "65001:1 65001:2");
    assert_jstr(j, "ecomms", "RT:65000:100 0x81aa00011234560f");
    assert_jstr(j, "lcomms", "4200000000:1:2");
    assert_jstr(j, "origin", "i");
    assert_jint(j, "med", 100);
    assert_jint(j, "is_out", 1);
    assert_jint(j, "is_post", 1);
    assert_null(json_object_get(j, "is_in"));
    json_decref(j);

    bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, MM_BMP_PEER_F_V, 6);
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_route_monitoring_v6(&w, &p, 0x42), 0);
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), 0);
    j = render_line(&m, 0, NULL);
    assert_jstr(j, "peer_ip", "2001:db8::6");
    assert_jint(j, "afi", 2);
    assert_jint(j, "safi", 1);
    assert_jstr(j, "ip_prefix", "2001:db8:42::/48");
    assert_jstr(j, "bgp_nexthop", "2001:db8::1");
    json_decref(j);
}

static void test_route_mirroring(void **state)
{
    (void)state;
    mm_bmp_peer_hdr p;
    bmp_gen_peer(&p, MM_BMP_PEER_RD, 0, 4);
    mm_cursor w;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_route_mirroring(&w, &p), 0);
    mm_bmp_msg m;
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), 0);
    int n;
    json_t *j = render_line(&m, 0, &n);
    assert_int_equal(n, 2);
    assert_jstr(j, "bmp_msg_type", "route_mirror");
    assert_jstr(j, "bgp_msg_type", "keepalive");
    assert_jstr(j, "rd", "0000000000000004");
    json_decref(j);
    j = render_line(&m, 1, NULL);
    assert_jint(j, "mirror_info_code", 1);
    json_decref(j);
}

/* A real GoBGP Route Monitoring (bgp-bmp-lab/sample-gobgp-bmp-decoded.jsonl): FlowSpec with ECs. */
static void test_gobgp_flowspec_vector(void **state)
{
    (void)state;
    static const char bgp_hex[] =
        "ffffffffffffffffffffffffffffffff005802000000414001010040020602010000fdebc010188006000046"
        "160000800600000000000081aa00011234560f800e1600018500001001180a020002180a0100038106058150";
    uint8_t bgp[128];
    size_t blen = strlen(bgp_hex) / 2;
    assert_int_equal(mm_hex_decode(bgp_hex, strlen(bgp_hex), bgp, blen), 0);
    mm_bmp_peer_hdr p;
    bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, 0, 3);
    mm_cursor w;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    size_t off = mm_bmp_msg_begin(&w, MM_BMP_ROUTE_MONITORING);
    mm_bmp_peer_hdr_encode(&w, &p);
    mm_cursor_write_bytes(&w, bgp, blen);
    assert_int_equal(mm_bmp_msg_finish(&w, off), 0);
    assert_int_equal(mm_cursor_offset(&w), 136); /* the capture's BMP length */
    mm_bmp_msg m;
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), 0);
    json_t *j = render_line(&m, 0, NULL);
    assert_jint(j, "afi", 1);
    assert_jint(j, "safi", 133);
    assert_jstr(j, "flowspec", "dst 10.2.0.0/24 src 10.1.0.0/24 proto =6 dport =80");
    assert_jstr(j, "as_path", "65003");
    assert_jstr(j, "ecomms", "rate-limit:9600 rate-limit:0 0x81aa00011234560f");
    json_decref(j);
    /* The same UPDATE mirrored (RFC 7854 §4.7, as FRR's `bmp mirror` sends FlowSpec). */
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    off = mm_bmp_msg_begin(&w, MM_BMP_ROUTE_MIRRORING);
    mm_bmp_peer_hdr_encode(&w, &p);
    mm_bmp_tlv_encode(&w, MM_BMP_MIRROR_BGP_MSG, bgp, blen);
    assert_int_equal(mm_bmp_msg_finish(&w, off), 0);
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), 0);
    int n;
    j = render_line(&m, 1, &n);
    assert_int_equal(n, 2); /* the message line, then its one rule */
    assert_jstr(j, "bmp_msg_type", "route_mirror");
    assert_jstr(j, "log_type", "update");
    assert_jstr(j, "flowspec", "dst 10.2.0.0/24 src 10.1.0.0/24 proto =6 dport =80");
    json_decref(j);
}

/* ---------------------------------------------------------------- bad input */

static void test_bad_common_header(void **state)
{
    (void)state;
    uint32_t len;
    uint8_t type;
    uint8_t h[6] = {3, 0, 0, 0, 6, 4};
    assert_int_equal(mm_bmp_hdr_peek(h, 5, 1 << 20, &len, &type), MM_EAGAIN);
    assert_int_equal(mm_bmp_hdr_peek(h, 6, 1 << 20, &len, &type), 0);
    h[0] = 4;
    assert_int_equal(mm_bmp_hdr_peek(h, 6, 1 << 20, &len, &type), MM_EUNSUPPORTED);
    h[0] = 3;
    h[4] = 5;
    assert_int_equal(mm_bmp_hdr_peek(h, 6, 1 << 20, &len, &type), MM_EMALFORMED);
    h[2] = 0x10; /* 1 MiB + 5 */
    assert_int_equal(mm_bmp_hdr_peek(h, 6, 1 << 20, &len, &type), MM_ELIMIT);
    h[2] = 0;
    h[4] = 6;
    h[5] = 9;
    mm_bmp_msg m;
    assert_int_equal(mm_bmp_msg_decode(h, 6, &m), MM_EUNSUPPORTED);
    assert_string_equal(m.error, "unknown BMP message type");
}

static void test_truncated_and_overrunning(void **state)
{
    (void)state;
    mm_bmp_peer_hdr p;
    bmp_gen_peer(&p, 0, 0, 1);
    mm_bmp_msg m;
    /* Per-peer header cut short: a Stats Report of 6 + 20 bytes. */
    mm_cursor w;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    size_t off = mm_bmp_msg_begin(&w, MM_BMP_STATS_REPORT);
    mm_cursor_write_zeros(&w, 20);
    mm_bmp_msg_finish(&w, off);
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), MM_ETRUNC);
    assert_string_equal(m.error, "truncated per-peer header");
    /* Stats count says 3, one record present. */
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    off = mm_bmp_msg_begin(&w, MM_BMP_STATS_REPORT);
    mm_bmp_peer_hdr_encode(&w, &p);
    mm_cursor_write_u32(&w, 3);
    mm_bmp_stat_encode(&w, 0, 1, 0, 0);
    mm_bmp_msg_finish(&w, off);
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), MM_ETRUNC);
    assert_string_equal(m.error, "stats count larger than the records in the message");
    /* One record whose length runs past the message. */
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    off = mm_bmp_msg_begin(&w, MM_BMP_STATS_REPORT);
    mm_bmp_peer_hdr_encode(&w, &p);
    mm_cursor_write_u32(&w, 1);
    mm_cursor_write_u16(&w, 0);
    mm_cursor_write_u16(&w, 400);
    mm_cursor_write_u32(&w, 1);
    mm_bmp_msg_finish(&w, off);
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), MM_ETRUNC);
    assert_string_equal(m.error, "statistic record overruns the message");
    /* An Initiation TLV that overruns. */
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    off = mm_bmp_msg_begin(&w, MM_BMP_INITIATION);
    mm_cursor_write_u16(&w, 2);
    mm_cursor_write_u16(&w, 50);
    mm_cursor_write_bytes(&w, (const uint8_t *)"r1", 2);
    mm_bmp_msg_finish(&w, off);
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), MM_ETRUNC);
    assert_string_equal(m.error, "initiation TLV overruns the message");
    /* Route Monitoring whose UPDATE is garbage. */
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    off = mm_bmp_msg_begin(&w, MM_BMP_ROUTE_MONITORING);
    mm_bmp_peer_hdr_encode(&w, &p);
    mm_cursor_write_bytes(&w, (const uint8_t *)"garbage-garbage-garbage", 23);
    mm_bmp_msg_finish(&w, off);
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), MM_EMALFORMED);
    assert_string_equal(m.error, "route monitoring does not carry one well-formed BGP UPDATE");
    /* A framed BGP UPDATE whose NLRI is malformed (prefix length 33). */
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    off = mm_bmp_msg_begin(&w, MM_BMP_ROUTE_MONITORING);
    mm_bmp_peer_hdr_encode(&w, &p);
    size_t hoff = mm_bgp_hdr_begin(&w, MM_BGP_UPDATE);
    mm_cursor_write_u16(&w, 0);
    mm_cursor_write_u16(&w, 0);
    mm_cursor_write_u8(&w, 33);
    mm_cursor_write_u32(&w, 0x0a000000);
    mm_cursor_write_u8(&w, 0);
    mm_bgp_hdr_finish(&w, hoff);
    mm_bmp_msg_finish(&w, off);
    assert_int_equal(mm_bmp_msg_decode(wbuf, mm_cursor_offset(&w), &m), MM_EMALFORMED);
    assert_string_equal(m.error, "malformed NLRI");
    /* Peer Up whose received OPEN is cut. */
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_peer_up(&w, &p, NULL), 0);
    size_t full = mm_cursor_offset(&w);
    wbuf[4] = (uint8_t)(full - 10); /* shrink the BMP length: the second OPEN no longer fits */
    assert_int_equal(mm_bmp_msg_decode(wbuf, full - 10, &m), MM_EMALFORMED);
    assert_string_equal(m.error, "peer up received OPEN is not a well-formed BGP OPEN");
}

/* ---------------------------------------------------------------- Add-Path (RFC 7911) */

/* Decode one message built by the caller with ap; return the decoder's result. */
static int ap_decode(mm_cursor *w, const mm_bmp_addpath *ap, mm_bmp_msg *m)
{
    return mm_bmp_msg_decode_ap(wbuf, mm_cursor_offset(w), ap, m);
}

static void ap_learn_peer_up(mm_bmp_addpath *ap, const mm_bmp_peer_hdr *p, uint8_t sent_sr,
                             uint8_t recv_sr)
{
    mm_cursor w;
    mm_bmp_msg m;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_peer_up_addpath(&w, p, NULL, sent_sr, recv_sr), 0);
    assert_int_equal(ap_decode(&w, ap, &m), 0);
    assert_int_equal(mm_bmp_addpath_learn(ap, &m), 0);
}

static void test_addpath_directions(void **state)
{
    (void)state;
    mm_bmp_addpath *ap = mm_bmp_addpath_new(0);
    assert_non_null(ap);
    mm_bmp_peer_hdr in, out, other;
    bmp_gen_peer(&in, MM_BMP_PEER_GLOBAL, 0, 1);
    bmp_gen_peer(&out, MM_BMP_PEER_GLOBAL, MM_BMP_PEER_F_O, 1);
    bmp_gen_peer(&other, MM_BMP_PEER_GLOBAL, 0, 2);
    /* Router receives, peer sends: Adj-RIB-In IPv4 unicast only. */
    ap_learn_peer_up(ap, &in, 1, 2);
    assert_true(mm_bmp_addpath_get(ap, &in, MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST));
    assert_false(mm_bmp_addpath_get(ap, &out, MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST));
    assert_false(mm_bmp_addpath_get(ap, &in, MM_BGP_AFI_IPV6, MM_BGP_SAFI_UNICAST));
    assert_false(mm_bmp_addpath_get(ap, &other, MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST));
    /* The reverse (router sends, peer receives): Adj-RIB-Out only. */
    ap_learn_peer_up(ap, &other, 2, 1);
    mm_bmp_peer_hdr other_out = other;
    other_out.flags |= MM_BMP_PEER_F_O;
    assert_false(mm_bmp_addpath_get(ap, &other, MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST));
    assert_true(mm_bmp_addpath_get(ap, &other_out, MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST));
    /* Only one side announcing is not a negotiation (RFC 7911 §5). */
    mm_bmp_peer_hdr half;
    bmp_gen_peer(&half, MM_BMP_PEER_GLOBAL, 0, 3);
    ap_learn_peer_up(ap, &half, 0, 3);
    assert_false(mm_bmp_addpath_get(ap, &half, MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST));
    assert_int_equal(mm_bmp_addpath_count(ap), 2);
    /* Loc-RIB: the fabricated OPENs announce it. */
    mm_bmp_peer_hdr loc;
    bmp_gen_peer(&loc, MM_BMP_PEER_LOC_RIB, 0, 0);
    ap_learn_peer_up(ap, &loc, 3, 3);
    assert_true(mm_bmp_addpath_get(ap, &loc, MM_BGP_AFI_IPV4, MM_BGP_SAFI_UNICAST));
    mm_bmp_addpath_free(ap);
}

static void test_addpath_route_monitoring(void **state)
{
    (void)state;
    mm_bmp_addpath *ap = mm_bmp_addpath_new(0);
    mm_bmp_peer_hdr in;
    bmp_gen_peer(&in, MM_BMP_PEER_GLOBAL, 0, 1);
    ap_learn_peer_up(ap, &in, 1, 2);
    static const uint32_t ids[] = {7, 4000000000u};
    mm_cursor w;
    mm_bmp_msg m;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_route_monitoring_v4_ap(&w, &in, 5, ids, 2), 0);
    assert_int_equal(ap_decode(&w, ap, &m), 0);
    assert_true(m.addpath);
    int n;
    json_t *j = render_line(&m, 1, &n);
    assert_int_equal(n, 2);
    assert_jstr(j, "ip_prefix", "10.5.0.0/16");
    assert_jint(j, "path_id", 4000000000LL);
    json_decref(j);
    j = render_line(&m, 0, NULL);
    assert_jint(j, "path_id", 7);
    json_decref(j);
    /* IPv6 of the same peer has no Add-Path: decoded without path ids. */
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_route_monitoring_v6(&w, &in, 5), 0);
    assert_int_equal(ap_decode(&w, ap, &m), 0);
    assert_false(m.addpath);
    j = render_line(&m, 0, NULL);
    assert_jstr(j, "ip_prefix", "2001:db8:5::/48");
    assert_null(json_object_get(j, "path_id"));
    json_decref(j);
    /* IPv4 NLRI of that peer without path ids while Add-Path was negotiated: refused. */
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_route_monitoring_v4(&w, &in, 5), 0);
    assert_int_equal(ap_decode(&w, ap, &m), MM_EMALFORMED);
    assert_string_equal(m.error,
                        "NLRI do not carry the Add-Path path identifiers the Peer Up negotiated");
    /* Peer Down forgets: the same UPDATE then decodes without path ids. */
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_peer_down(&w, &in, 4), 0);
    assert_int_equal(ap_decode(&w, ap, &m), 0);
    assert_int_equal(mm_bmp_addpath_learn(ap, &m), 0);
    assert_int_equal(mm_bmp_addpath_count(ap), 0);
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_route_monitoring_v4(&w, &in, 5), 0);
    assert_int_equal(ap_decode(&w, ap, &m), 0);
    assert_false(m.addpath);
    mm_bmp_addpath_free(ap);
}

static void test_addpath_table_bounded(void **state)
{
    (void)state;
    mm_bmp_addpath *ap = mm_bmp_addpath_new(2);
    mm_bmp_peer_hdr p;
    for (unsigned i = 1; i <= 2; i++) {
        bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, 0, i);
        ap_learn_peer_up(ap, &p, 1, 2);
    }
    bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, 0, 3);
    mm_cursor w;
    mm_bmp_msg m;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_peer_up_addpath(&w, &p, NULL, 1, 2), 0);
    assert_int_equal(ap_decode(&w, ap, &m), 0);
    assert_int_equal(mm_bmp_addpath_learn(ap, &m), MM_ELIMIT);
    assert_int_equal(mm_bmp_addpath_count(ap), 2);
    /* A repeated Peer Up of a known peer replaces its entry (no growth). */
    bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, 0, 1);
    ap_learn_peer_up(ap, &p, 1, 2);
    assert_int_equal(mm_bmp_addpath_count(ap), 2);
    mm_bmp_addpath_free(ap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_every_type_round_trips),
        cmocka_unit_test(test_registry_kinds_match_spec),
        cmocka_unit_test(test_registry_runtime_row),
        cmocka_unit_test(test_stats_unknown_and_malformed_kept),
        cmocka_unit_test(test_initiation_termination),
        cmocka_unit_test(test_peer_up_global_and_loc_rib),
        cmocka_unit_test(test_peer_down_reasons),
        cmocka_unit_test(test_route_monitoring_v4_v6_and_o_flag),
        cmocka_unit_test(test_route_mirroring),
        cmocka_unit_test(test_gobgp_flowspec_vector),
        cmocka_unit_test(test_bad_common_header),
        cmocka_unit_test(test_truncated_and_overrunning),
        cmocka_unit_test(test_addpath_directions),
        cmocka_unit_test(test_addpath_route_monitoring),
        cmocka_unit_test(test_addpath_table_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
