/*
 * test_bgp_speaker.c - FlowSpec structures (RFC 8955/8956), actions and
 * IFIT ECs, RFC 7606 verdicts per attribute, the FSM and two sessions
 * talking to each other, plus malformed messages per RFC 4271 §6.
 *
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

#include "mamori/mm_bgp_speaker.h"
#include "mamori/mm_core.h"

/* The lab vector of flowspec-ifit.md §7: dst 10.2.0.0/24 src 10.1.0.0/24 proto =6 dport =80. */
static const uint8_t lab_rule[] = {0x01, 0x18, 0x0a, 0x02, 0x00, 0x02, 0x18, 0x0a, 0x01, 0x00,
                                   0x03, 0x81, 0x06, 0x05, 0x81, 0x50};
static const uint8_t lab_ecs[] = {0x80, 0x06, 0, 0, 0x46, 0x16, 0, 0, 0x80, 0x06, 0, 0,
                                  0,    0,    0, 0, 0x81, 0xaa, 0, 1, 0x12, 0x34, 0x56, 0x0f};

static void fs_decode_lab(void **st)
{
    (void)st;
    mm_bgp_fs_rule r;
    const char *why = NULL;
    assert_int_equal(mm_bgp_fs_decode(1, lab_rule, sizeof(lab_rule), &r, &why), 0);
    assert_int_equal(r.n_comp, 4);
    assert_int_equal(r.comp[0].type, 1);
    assert_int_equal(r.comp[0].plen, 24);
    assert_int_equal(r.comp[0].addr[1], 2);
    assert_int_equal(r.comp[2].n_terms, 1);
    assert_int_equal(r.comp[2].terms[0].value, 6);
    assert_int_equal(r.comp[3].terms[0].value, 80);
    /* The text form parses back to the same bytes, whatever the order in the text. */
    uint8_t out[64];
    size_t n = 0;
    char err[128];
    assert_int_equal(mm_bgp_fs_parse(1, "dport =80 proto =6 src 10.1.0.0/24 dst 10.2.0.0/24", out,
                                     sizeof(out), &n, err, sizeof(err)),
                     0);
    assert_int_equal(n, sizeof(lab_rule));
    assert_memory_equal(out, lab_rule, n);
    /* Encoding the structure gives the wire bytes back. */
    uint8_t enc[64];
    mm_cursor w;
    mm_cursor_init_write(&w, enc, sizeof(enc));
    assert_int_equal(mm_bgp_fs_encode(&r, &w), 0);
    assert_int_equal(mm_cursor_offset(&w), sizeof(lab_rule));
    assert_memory_equal(enc, lab_rule, sizeof(lab_rule));
}

static void fs_text_roundtrip(void **st)
{
    (void)st;
    static const char *const rules4[] = {
        "dst 10.7.0.0/24 proto =17 dport >=1000&<=2000",
        "dst 192.0.2.1/32 icmp-type =8 icmp-code =0 length <=1500,>9000",
        "src 0.0.0.0/0 tcp-flags =0x2&!0x10 dscp =46 fragment 0x4",
        "port !=22 sport >65535",
    };
    for (size_t i = 0; i < sizeof(rules4) / sizeof(rules4[0]); i++) {
        uint8_t out[256];
        size_t n;
        char err[128];
        assert_int_equal(mm_bgp_fs_parse(1, rules4[i], out, sizeof(out), &n, err, sizeof(err)), 0);
        mm_bgp_fs_rule r;
        const char *why;
        assert_int_equal(mm_bgp_fs_decode(1, out, n, &r, &why), 0);
        mm_buf b;
        mm_buf_init(&b, 4096);
        assert_int_equal(mm_bgp_flowspec_format(1, out, n, &b), 0);
        assert_string_equal(mm_buf_cstr(&b), rules4[i]);
        mm_buf_free(&b);
    }
    /* 8-byte values take the 0x30 length code. */
    uint8_t out[64];
    size_t n;
    assert_int_equal(mm_bgp_fs_parse(1, "length =4294967296", out, sizeof(out), &n, NULL, 0), 0);
    assert_int_equal(out[1], 0x80 | 0x30 | 0x01);
    assert_int_equal(n, 10);
}

static void fs_v6(void **st)
{
    (void)st;
    uint8_t out[128];
    size_t n;
    char err[128];
    assert_int_equal(mm_bgp_fs_parse(2, "dst 2001:db8::/32 next-header =58 flow-label =12345", out,
                                     sizeof(out), &n, err, sizeof(err)),
                     0);
    /* type 1, length 32, offset 0, 4 pattern bytes */
    static const uint8_t head[] = {0x01, 0x20, 0x00, 0x20, 0x01, 0x0d, 0xb8};
    assert_memory_equal(out, head, sizeof(head));
    mm_bgp_fs_rule r;
    const char *why;
    assert_int_equal(mm_bgp_fs_decode(2, out, n, &r, &why), 0);
    assert_int_equal(r.comp[2].type, 13);
    assert_int_equal(r.comp[2].terms[0].value, 12345);
    /* An offset prefix: bits 64..127 of ::1:0:0:5/128 offset 64. */
    static const uint8_t off[] = {0x02, 0x80, 0x40, 0, 1, 0, 0, 0, 0, 0, 5};
    assert_int_equal(mm_bgp_fs_decode(2, off, sizeof(off), &r, &why), 0);
    assert_int_equal(r.comp[0].offset, 64);
    assert_int_equal(r.comp[0].addr[9], 1);
    assert_int_equal(r.comp[0].addr[15], 5);
    mm_cursor w;
    uint8_t enc[32];
    mm_cursor_init_write(&w, enc, sizeof(enc));
    assert_int_equal(mm_bgp_fs_encode(&r, &w), 0);
    assert_int_equal(mm_cursor_offset(&w), sizeof(off));
    assert_memory_equal(enc, off, sizeof(off));
    /* Flow label is IPv6-only. */
    assert_int_equal(mm_bgp_fs_parse(1, "flow-label =1", out, sizeof(out), &n, err, sizeof(err)),
                     MM_EINVAL);
}

static void fs_malformed(void **st)
{
    (void)st;
    mm_bgp_fs_rule r;
    const char *why;
    static const struct { uint16_t afi; uint8_t b[16]; size_t n; const char *what; } bad[] = {
        {1, {0x03, 0x81, 0x06, 0x01, 0x18, 10, 2, 0}, 8, "out of order"},
        {1, {0x03, 0x81, 0x06, 0x03, 0x81, 0x11}, 6, "repeated"},
        {1, {0x0e, 0x81, 0x06}, 3, "unknown type 14"},
        {1, {0x0d, 0x81, 0x06}, 3, "flow label in IPv4"},
        {1, {0x01, 0x21, 10, 0, 0, 0, 0}, 7, "prefix > 32"},
        {1, {0x01, 0x18, 10, 2}, 4, "prefix truncated"},
        {1, {0x03, 0x01, 0x06}, 3, "no end bit"},
        {1, {0x03, 0x89, 0x06}, 3, "numeric reserved bit"},
        {1, {0x09, 0x85, 0x02}, 3, "bitmask reserved bit"},
        {1, {0x09, 0xa1, 0, 0, 0, 2}, 6, "bitmask 4-byte value"},
        {1, {0x05, 0x91, 0x00}, 3, "value truncated"},
        {2, {0x01, 0x20, 0x21, 0x20}, 4, "v6 offset > length"},
        {2, {0x01, 0x81, 0x00}, 3, "v6 length > 128"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        int rc = mm_bgp_fs_decode(bad[i].afi, bad[i].b, bad[i].n, &r, &why);
        if (rc != MM_EMALFORMED)
            fail_msg("accepted: %s", bad[i].what);
        assert_non_null(why);
    }
    /* Framing: 0xf0 0x01 says 1 byte, but nothing follows. */
    static const uint8_t nlri[] = {0xf0, 0x05, 0x01};
    mm_cursor c;
    mm_cursor_init_read(&c, nlri, sizeof(nlri));
    const uint8_t *p;
    size_t pl;
    assert_int_equal(mm_bgp_flowspec_next(&c, &p, &pl), MM_EMALFORMED);
    /* Long rules take the 2-byte length (RFC 8955 §4.1). */
    uint8_t big[300], wb[310];
    memset(big, 0, sizeof(big));
    mm_cursor w;
    mm_cursor_init_write(&w, wb, sizeof(wb));
    assert_int_equal(mm_bgp_fs_nlri_encode(&w, big, sizeof(big)), 0);
    assert_int_equal(wb[0], 0xf1);
    assert_int_equal(wb[1], 300 - 256);
}

static int cmp_text(uint16_t afi, const char *a, const char *b)
{
    uint8_t x[256], y[256];
    size_t xn, yn;
    assert_int_equal(mm_bgp_fs_parse(afi, a, x, sizeof(x), &xn, NULL, 0), 0);
    assert_int_equal(mm_bgp_fs_parse(afi, b, y, sizeof(y), &yn, NULL, 0), 0);
    int r1 = mm_bgp_fs_cmp(afi, x, xn, y, yn), r2 = mm_bgp_fs_cmp(afi, y, yn, x, xn);
    assert_true((r1 < 0 && r2 > 0) || (r1 > 0 && r2 < 0) || (r1 == 0 && r2 == 0));
    return r1;
}

static void fs_order(void **st)
{
    (void)st;
    /* §5.1: the lower component type first (a rule with dst beats one starting at proto). */
    assert_true(cmp_text(1, "dst 10.0.0.0/8", "proto =6") < 0);
    /* Same prefix bits: the more specific (longer) prefix has precedence. */
    assert_true(cmp_text(1, "dst 10.1.0.0/16", "dst 10.0.0.0/8") < 0);
    /* Different prefixes: the lower value first. */
    assert_true(cmp_text(1, "dst 10.1.0.0/16", "dst 10.2.0.0/16") < 0);
    /* Non-prefix: memcmp of the bytes, then the longer string. */
    assert_true(cmp_text(1, "proto =6", "proto =17") < 0);
    assert_true(cmp_text(1, "dport =80,=443", "dport =80") > 0 ||
                cmp_text(1, "dport =80,=443", "dport =80") < 0);
    /* More components when all common ones are equal: more specific first. */
    assert_true(cmp_text(1, "dst 10.0.0.0/8 proto =6", "dst 10.0.0.0/8") < 0);
    assert_int_equal(cmp_text(1, "dst 10.0.0.0/8 proto =6", "proto =6 dst 10.0.0.0/8"), 0);
    /* IPv6: the lower offset first. */
    assert_true(cmp_text(2, "dst ::/0", "dst 2001:db8::/32") > 0);
}

static void fs_validation(void **st)
{
    (void)st;
    const char *why;
    mm_bgp_fs_validation_input in = {true, true, true, false, true, true};
    assert_int_equal(mm_bgp_fs_validate(&in, &why), 0);
    in.same_originator = false;
    assert_int_equal(mm_bgp_fs_validate(&in, &why), MM_EVERIFY);
    in.same_originator = true;
    in.unicast_found = false;
    assert_int_equal(mm_bgp_fs_validate(&in, &why), MM_EVERIFY);
    in.unicast_found = true;
    in.more_specific_other_peer = true;
    assert_int_equal(mm_bgp_fs_validate(&in, &why), MM_EVERIFY);
    in.more_specific_other_peer = false;
    in.aspath_ok = false;
    assert_int_equal(mm_bgp_fs_validate(&in, &why), MM_EVERIFY);
    in.ebgp = false; /* RFC 9117: iBGP skips the AS_PATH rule */
    assert_int_equal(mm_bgp_fs_validate(&in, &why), 0);
    in.has_dst = false;
    assert_int_equal(mm_bgp_fs_validate(&in, &why), MM_EVERIFY);
}

/* ---------------------------------------------------------------- actions and IFIT */

static void ec_lab(void **st)
{
    (void)st;
    mm_bgp_ifit_codepoints_reset();
    mm_bgp_fs_actions a;
    assert_int_equal(mm_bgp_fs_actions_decode(lab_ecs, sizeof(lab_ecs), &a), 0);
    assert_true(a.has_rate_bytes);
    assert_true(a.rate_bytes == 9600.0f);
    assert_int_equal(a.n_conflicts, 1); /* the second rate (0) loses, RFC 8955 §7.6 */
    assert_int_equal(a.n_ifit, 1);
    assert_int_equal(a.ifit[0].method, MM_BGP_IFIT_IOAM_PREALLOC);
    assert_int_equal(a.ifit[0].namespace_id, 1);
    assert_int_equal(a.ifit[0].trace_type, 0x123456);
    assert_int_equal(a.ifit[0].flags, 0x0f);
    mm_buf b;
    mm_buf_init(&b, 4096);
    assert_int_equal(mm_bgp_fs_actions_format(&a, &b), 0);
    assert_string_equal(mm_buf_cstr(&b), "rate-bytes 9600; ifit ioam-preallocated-trace namespace 1 "
                                         "trace-type 0x123456 flags 0x0f");
    mm_buf_free(&b);
    /* Length not a multiple of 8 (RFC 7606 §7.14). */
    assert_int_equal(mm_bgp_fs_actions_decode(lab_ecs, 7, &a), MM_EMALFORMED);
}

static void ec_parse(void **st)
{
    (void)st;
    mm_bgp_ifit_codepoints_reset();
    static const struct { const char *text; uint8_t ec[8]; } ok[] = {
        {"discard", {0x80, 0x06, 0, 0, 0, 0, 0, 0}},
        {"rate-bytes 9600", {0x80, 0x06, 0, 0, 0x46, 0x16, 0, 0}},
        {"rate-packets 1000", {0x80, 0x0c, 0, 0, 0x44, 0x7a, 0, 0}},
        {"action sample-terminal", {0x80, 0x07, 0, 0, 0, 0, 0, 3}},
        {"redirect 65000:100", {0x80, 0x08, 0xfd, 0xe8, 0, 0, 0, 100}},
        {"redirect 192.0.2.1:7", {0x81, 0x08, 192, 0, 2, 1, 0, 7}},
        {"redirect 4200000000:7", {0x82, 0x08, 0xfa, 0x56, 0xea, 0x00, 0, 7}},
        {"mark 46", {0x80, 0x09, 0, 0, 0, 0, 0, 46}},
        {"ec 0x81aa00011234560f", {0x81, 0xaa, 0, 1, 0x12, 0x34, 0x56, 0x0f}},
        {"ifit ioam-preallocated-trace namespace 1 trace-type 0x123456 flags 15",
         {0x81, 0xaa, 0, 1, 0x12, 0x34, 0x56, 0x0f}},
        {"ifit ioam-e2e namespace 0x8000 e2e-type 0xc000", {0x81, 0xad, 0x80, 0, 0xc0, 0, 0, 0}},
        {"ifit enhanced-alternate-marking flow-mon-id 0xabcde period 7 loss delay",
         {0x81, 0xae, 0xab, 0xcd, 0xe0, 0x7c, 0, 0}},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint8_t ec[8];
        char err[128];
        if (mm_bgp_fs_action_parse(ok[i].text, ec, err, sizeof(err)) != 0)
            fail_msg("%s: %s", ok[i].text, err);
        assert_memory_equal(ec, ok[i].ec, 8);
    }
    static const char *const bad[] = {"mark 64", "rate-bytes -1", "redirect 1", "ec 0x1234",
                                      "ifit nope", "ifit ioam-e2e namespace 70000", "frobnicate",
                                      "action maybe",
                                      "ifit enhanced-alternate-marking flow-mon-id 0x100000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t ec[8];
        if (mm_bgp_fs_action_parse(bad[i], ec, NULL, 0) != MM_EINVAL)
            fail_msg("accepted: %s", bad[i]);
    }
}

static void ifit_roundtrip_conflict_override(void **st)
{
    (void)st;
    mm_bgp_ifit_codepoints_reset();
    for (int m = 0; m < MM_BGP_IFIT_N_METHODS; m++) {
        mm_bgp_ifit f = {.method = (enum mm_bgp_ifit_method)m, .namespace_id = 0x8001,
                         .trace_type = 0xf00000, .flags = 1, .e2e_type = 0x8000,
                         .flow_mon_id = 0x12345, .period = 9, .loss = true};
        uint8_t ec[8];
        assert_int_equal(mm_bgp_ifit_encode(&f, ec), 0);
        mm_bgp_ifit g;
        assert_int_equal(mm_bgp_ifit_decode(ec, &g), 0);
        assert_int_equal(g.method, m);
        const mm_bgp_ifit_desc *d = mm_bgp_ifit_desc_get(f.method);
        if (d->layout == MM_BGP_IFIT_L_EAM) {
            assert_int_equal(g.flow_mon_id, 0x12345);
            assert_int_equal(g.period, 9);
            assert_true(g.loss && !g.delay);
        } else {
            assert_int_equal(g.namespace_id, 0x8001);
        }
    }
    /* Conflict rule: pre-allocated then incremental trace -> the second is ignored. */
    uint8_t two[16];
    assert_int_equal(mm_bgp_fs_action_parse("ifit ioam-preallocated-trace namespace 1", two, NULL, 0), 0);
    assert_int_equal(mm_bgp_fs_action_parse("ifit ioam-incremental-trace namespace 2", two + 8, NULL, 0), 0);
    mm_bgp_fs_actions a;
    assert_int_equal(mm_bgp_fs_actions_decode(two, 16, &a), 0);
    assert_int_equal(a.n_ifit, 2);
    assert_false(a.ifit[0].ignored);
    assert_true(a.ifit[1].ignored);
    assert_int_equal(a.n_conflicts, 1);
    /* Override from config: move DEX to 0x80/0xc5; clashes are refused. */
    assert_int_equal(mm_bgp_ifit_codepoint_set(MM_BGP_IFIT_IOAM_DEX, 0x80, 0xc5), 0);
    assert_int_equal(mm_bgp_ifit_codepoint_set(MM_BGP_IFIT_EAM, 0x80, 0xc5), MM_EEXIST);
    assert_int_equal(mm_bgp_ifit_codepoint_set(MM_BGP_IFIT_EAM, 0x40, 0x01), MM_EINVAL);
    static const uint8_t dex[8] = {0x80, 0xc5, 0, 7, 0x80, 0, 0, 1};
    mm_bgp_ifit g;
    assert_int_equal(mm_bgp_ifit_decode(dex, &g), 0);
    assert_int_equal(g.method, MM_BGP_IFIT_IOAM_DEX);
    assert_int_equal(g.namespace_id, 7);
    static const uint8_t old[8] = {0x81, 0xac, 0, 7, 0x80, 0, 0, 1};
    assert_int_equal(mm_bgp_ifit_decode(old, &g), MM_ENOENT);
    mm_bgp_ifit_codepoints_reset();
    /* An unknown EC is counted, not dropped (it stays in the attribute). */
    static const uint8_t unk[8] = {0x81, 0x99, 1, 2, 3, 4, 5, 6};
    assert_int_equal(mm_bgp_fs_actions_decode(unk, 8, &a), 0);
    assert_int_equal(a.n_unknown, 1);
}

/* ---------------------------------------------------------------- RFC 7606 */

/* Build an UPDATE body: attrs given raw, then optional IPv4 NLRI. */
static size_t body_build(uint8_t *out, const uint8_t *attrs, size_t alen, const uint8_t *nlri,
                         size_t nlen)
{
    out[0] = 0, out[1] = 0;
    out[2] = (uint8_t)(alen >> 8), out[3] = (uint8_t)alen;
    memcpy(out + 4, attrs, alen);
    if (nlen)
        memcpy(out + 4 + alen, nlri, nlen);
    return 4 + alen + nlen;
}

#define ORIGIN_OK 0x40, 0x01, 0x01, 0x00
#define ASPATH_OK 0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xeb
#define MP_FLOW 0x80, 0x0e, 0x0b, 0x00, 0x01, 0x85, 0x00, 0x00, 0x05, 0x01, 0x18, 0x0a, 0x02, 0x00

static void judge(const uint8_t *attrs, size_t alen, bool with_nlri, bool ibgp,
                  enum mm_bgp_err_action want, uint8_t want_attr, const char *what)
{
    uint8_t body[512];
    static const uint8_t nlri[] = {24, 192, 0, 2};
    size_t n = body_build(body, attrs, alen, nlri, with_nlri ? sizeof(nlri) : 0);
    mm_cursor c;
    mm_cursor_init_read(&c, body, n);
    mm_bgp_update *u = malloc(sizeof(*u));
    mm_bgp_update_verdict v;
    mm_bgp_update_judge(&c, true, ibgp, u, &v);
    free(u);
    if (v.action != want || (want != MM_BGP_ERR_NONE && v.attr != want_attr))
        fail_msg("%s: got %s attr %u (%s), want %s attr %u", what, mm_bgp_err_action_name(v.action),
                 v.attr, v.why ? v.why : "", mm_bgp_err_action_name(want), want_attr);
}

static void rfc7606_per_attribute(void **st)
{
    (void)st;
#define J(want, code, nlri, ibgp, ...)                                                  \
    do {                                                                                \
        static const uint8_t a_[] = {__VA_ARGS__};                                      \
        judge(a_, sizeof(a_), nlri, ibgp, MM_BGP_ERR_##want, code, #want " " #code " " #__VA_ARGS__); \
    } while (0)
    /* A well-formed FlowSpec UPDATE. */
    J(NONE, 0, false, false, ORIGIN_OK, ASPATH_OK, MP_FLOW);
    J(NONE, 0, true, false, ORIGIN_OK, ASPATH_OK, 0x40, 0x03, 0x04, 10, 0, 0, 1);
    /* §7.1 ORIGIN: bad value, bad length, bad flags -> treat-as-withdraw. */
    J(WITHDRAW, 1, false, false, 0x40, 0x01, 0x01, 0x05, ASPATH_OK, MP_FLOW);
    J(WITHDRAW, 1, false, false, 0x40, 0x01, 0x02, 0x00, 0x00, ASPATH_OK, MP_FLOW);
    J(WITHDRAW, 1, false, false, 0xc0, 0x01, 0x01, 0x00, ASPATH_OK, MP_FLOW);
    /* §7.2 AS_PATH: empty segment / overrun. */
    J(WITHDRAW, 2, false, false, ORIGIN_OK, 0x40, 0x02, 0x02, 0x02, 0x00, MP_FLOW);
    J(WITHDRAW, 2, false, false, ORIGIN_OK, 0x40, 0x02, 0x04, 0x02, 0x02, 0x00, 0x01, MP_FLOW);
    /* §7.3 NEXT_HOP: length, 0.0.0.0, missing with NLRI. */
    J(WITHDRAW, 3, true, false, ORIGIN_OK, ASPATH_OK, 0x40, 0x03, 0x03, 10, 0, 0);
    J(WITHDRAW, 3, true, false, ORIGIN_OK, ASPATH_OK, 0x40, 0x03, 0x04, 0, 0, 0, 0);
    J(WITHDRAW, 3, true, false, ORIGIN_OK, ASPATH_OK);
    /* §7.4 MED length. */
    J(WITHDRAW, 4, false, false, ORIGIN_OK, ASPATH_OK, 0x80, 0x04, 0x03, 0, 0, 1, MP_FLOW);
    /* §7.5 LOCAL_PREF: iBGP withdraw, eBGP discard. */
    J(WITHDRAW, 5, false, true, ORIGIN_OK, ASPATH_OK, 0x40, 0x05, 0x02, 0, 1, MP_FLOW);
    J(DISCARD, 5, false, false, ORIGIN_OK, ASPATH_OK, 0x40, 0x05, 0x02, 0, 1, MP_FLOW);
    /* §7.6 ATOMIC_AGGREGATE, §7.7 AGGREGATOR -> discard. */
    J(DISCARD, 6, false, false, ORIGIN_OK, ASPATH_OK, 0x40, 0x06, 0x01, 0, MP_FLOW);
    J(DISCARD, 7, false, false, ORIGIN_OK, ASPATH_OK, 0xc0, 0x07, 0x06, 0, 1, 10, 0, 0, 1, MP_FLOW);
    /* §7.8 COMMUNITIES, §7.9 ORIGINATOR_ID, §7.10 CLUSTER_LIST length. */
    J(WITHDRAW, 8, false, false, ORIGIN_OK, ASPATH_OK, 0xc0, 0x08, 0x03, 0, 1, 2, MP_FLOW);
    J(WITHDRAW, 9, false, false, ORIGIN_OK, ASPATH_OK, 0x80, 0x09, 0x03, 0, 1, 2, MP_FLOW);
    J(WITHDRAW, 10, false, false, ORIGIN_OK, ASPATH_OK, 0x80, 0x0a, 0x05, 0, 1, 2, 3, 4, MP_FLOW);
    /* §7.14 EXTENDED_COMMUNITIES not a multiple of 8. */
    J(WITHDRAW, 16, false, false, ORIGIN_OK, ASPATH_OK, MP_FLOW, 0xc0, 0x10, 0x07, 1, 2, 3, 4, 5, 6, 7);
    /* RFC 6793: AS4_PATH / AS4_AGGREGATOR -> discard. */
    J(DISCARD, 17, false, false, ORIGIN_OK, ASPATH_OK, 0xc0, 0x11, 0x02, 0x02, 0x00, MP_FLOW);
    J(DISCARD, 18, false, false, ORIGIN_OK, ASPATH_OK, 0xc0, 0x12, 0x04, 0, 0, 0, 1, MP_FLOW);
    /* RFC 8092 large communities length. */
    J(WITHDRAW, 32, false, false, ORIGIN_OK, ASPATH_OK, 0xc0, 0x20, 0x0b, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, MP_FLOW);
    /* §3(g): duplicate non-MP attribute -> discard; duplicate MP_REACH -> reset. */
    J(DISCARD, 8, false, false, ORIGIN_OK, ASPATH_OK, 0xc0, 0x08, 0x04, 0, 1, 0, 1, 0xc0, 0x08, 0x04, 0, 1, 0, 2, MP_FLOW);
    J(RESET, 14, false, false, ORIGIN_OK, ASPATH_OK, MP_FLOW, MP_FLOW);
    /* §3(d): missing ORIGIN with FlowSpec NLRI. */
    J(WITHDRAW, 0, false, false, ASPATH_OK, MP_FLOW);
    /* RFC 4271 §6.3: unrecognized well-known attribute -> reset 3/2. */
    J(RESET, 99, false, false, ORIGIN_OK, ASPATH_OK, 0x40, 0x63, 0x00, MP_FLOW);
    /* An unknown optional transitive attribute is fine. */
    J(NONE, 0, false, false, ORIGIN_OK, ASPATH_OK, 0xc0, 0x63, 0x01, 0x00, MP_FLOW);
    /* §4: attribute length overruns the section -> reset. */
    J(RESET, 0, false, false, ORIGIN_OK, 0x40, 0x02, 0x30, 0x02);
    /* MP_REACH too short to parse -> reset (§5.3). */
    J(RESET, 14, false, false, ORIGIN_OK, ASPATH_OK, 0x80, 0x0e, 0x03, 0x00, 0x01, 0x85);
    /* RFC 8955 §10: FlowSpec rule with components out of order -> treat-as-withdraw. */
    J(WITHDRAW, 14, false, false, ORIGIN_OK, ASPATH_OK, 0x80, 0x0e, 0x0c, 0x00, 0x01, 0x85, 0x00,
      0x00, 0x06, 0x03, 0x81, 0x06, 0x01, 0x08, 0x0a);
    /* ... bad operator (reserved bit) too. */
    J(WITHDRAW, 14, false, false, ORIGIN_OK, ASPATH_OK, 0x80, 0x0e, 0x09, 0x00, 0x01, 0x85, 0x00,
      0x00, 0x03, 0x03, 0x89, 0x06);
    /* FlowSpec length prefix that overruns -> cannot delimit -> reset. */
    J(RESET, 0, false, false, ORIGIN_OK, ASPATH_OK, 0x80, 0x0e, 0x07, 0x00, 0x01, 0x85, 0x00, 0x00,
      0x09, 0x01);
#undef J
    assert_int_equal(mm_bgp_rfc7606_action(MM_BGP_ATTR_MP_UNREACH), MM_BGP_ERR_RESET);
    assert_int_equal(mm_bgp_rfc7606_action(200), MM_BGP_ERR_NONE);
}

/* ---------------------------------------------------------------- FSM */

static void fsm_walk(void **st)
{
    (void)st;
    mm_bgp_fsm_step s = mm_bgp_fsm_next(MM_BGP_ST_IDLE, MM_BGP_EV_MANUAL_START, false);
    assert_int_equal(s.next, MM_BGP_ST_CONNECT);
    assert_true(s.actions & MM_BGP_DO_CONNECT);
    s = mm_bgp_fsm_next(MM_BGP_ST_IDLE, MM_BGP_EV_MANUAL_START, true);
    assert_int_equal(s.next, MM_BGP_ST_ACTIVE);
    assert_false(s.actions & MM_BGP_DO_CONNECT);
    s = mm_bgp_fsm_next(MM_BGP_ST_ACTIVE, MM_BGP_EV_TCP_CONFIRMED, true);
    assert_int_equal(s.next, MM_BGP_ST_OPENSENT);
    assert_true(s.actions & MM_BGP_DO_SEND_OPEN);
    assert_true(s.actions & MM_BGP_DO_START_HOLD_LARGE);
    s = mm_bgp_fsm_next(MM_BGP_ST_OPENSENT, MM_BGP_EV_KEEPALIVE, false);
    assert_int_equal(s.next, MM_BGP_ST_IDLE);
    assert_int_equal(s.notif_code, 5);
    assert_int_equal(s.notif_subcode, 1);
    s = mm_bgp_fsm_next(MM_BGP_ST_OPENCONFIRM, MM_BGP_EV_KEEPALIVE, false);
    assert_int_equal(s.next, MM_BGP_ST_ESTABLISHED);
    s = mm_bgp_fsm_next(MM_BGP_ST_ESTABLISHED, MM_BGP_EV_HOLD_EXPIRES, false);
    assert_int_equal(s.next, MM_BGP_ST_IDLE);
    assert_int_equal(s.notif_code, 4);
    assert_true(s.actions & MM_BGP_DO_RELEASE_ROUTES);
    s = mm_bgp_fsm_next(MM_BGP_ST_ESTABLISHED, MM_BGP_EV_OPEN, false);
    assert_int_equal(s.notif_code, 5);
    assert_int_equal(s.notif_subcode, 3);
    s = mm_bgp_fsm_next(MM_BGP_ST_ESTABLISHED, MM_BGP_EV_NOTIF, false);
    assert_false(s.actions & MM_BGP_DO_SEND_NOTIF);
    assert_true(s.actions & MM_BGP_DO_DROP_TCP);
    s = mm_bgp_fsm_next(MM_BGP_ST_IDLE, MM_BGP_EV_OPEN, false);
    assert_int_equal(s.next, MM_BGP_ST_IDLE);
    assert_int_equal(s.actions, 0);
}

/* ---------------------------------------------------------------- sessions */

typedef struct peer {
    mm_bgp_session *s;
    struct peer *other;
    uint8_t out[70000];
    size_t out_len;
    uint32_t timers[MM_BGP_N_TIMERS];
    int drops, connects, updates, withdraws_treated;
    uint8_t notif_sent_code, notif_sent_sub, notif_rcvd_code;
    enum mm_bgp_err_action last_action;
    size_t last_rules;
} peer;

static int p_send(void *arg, const uint8_t *p, size_t n)
{
    peer *x = arg;
    if (x->out_len + n > sizeof(x->out))
        return MM_ELIMIT;
    memcpy(x->out + x->out_len, p, n);
    x->out_len += n;
    return 0;
}
static void p_timer(void *arg, int which, uint32_t secs) { ((peer *)arg)->timers[which] = secs; }
static void p_drop(void *arg) { ((peer *)arg)->drops++; }
static void p_connect(void *arg) { ((peer *)arg)->connects++; }
static void p_notif(void *arg, bool sent, const mm_bgp_notification *n)
{
    peer *x = arg;
    if (sent)
        x->notif_sent_code = n->code, x->notif_sent_sub = n->subcode;
    else
        x->notif_rcvd_code = n->code;
}
static void p_update(void *arg, const mm_bgp_update *u, const mm_bgp_update_verdict *v)
{
    peer *x = arg;
    x->updates++;
    x->last_action = v->action;
    x->last_rules = 0;
    if (u->mp_reach.present && u->mp_reach.safi == MM_BGP_SAFI_FLOWSPEC) {
        mm_cursor c;
        mm_cursor_init_read(&c, u->mp_reach.nlri, u->mp_reach.nlri_len);
        const uint8_t *r;
        size_t rl;
        while (mm_bgp_flowspec_next(&c, &r, &rl) > 0)
            x->last_rules++;
    }
}

static const mm_bgp_session_ops p_ops = {p_send, NULL, p_update, p_notif, p_timer, p_drop, p_connect, NULL, NULL};

/* Move bytes from a to b until nothing is pending. */
static void pump(peer *a, peer *b)
{
    for (int i = 0; i < 16 && (a->out_len || b->out_len); i++) {
        uint8_t tmp[70000];
        size_t n = a->out_len;
        memcpy(tmp, a->out, n);
        a->out_len = 0;
        if (n)
            mm_bgp_session_input(b->s, tmp, n);
        n = b->out_len;
        memcpy(tmp, b->out, n);
        b->out_len = 0;
        if (n)
            mm_bgp_session_input(a->s, tmp, n);
    }
}

static void pair_up(peer *a, peer *b, uint16_t hold_a, uint16_t hold_b)
{
    memset(a, 0, sizeof(*a));
    memset(b, 0, sizeof(*b));
    mm_bgp_session_config ca = {.local_as = 65001, .peer_as = 4200000000u, .router_id = 0x0a000001,
                                .hold_time = hold_a, .fam_flow4 = true, .fam_flow6 = true,
                                .fam_v4_unicast = true, .ext_msg = true, .graceful_restart = true};
    mm_bgp_session_config cb = ca;
    cb.local_as = 4200000000u;
    cb.peer_as = 65001;
    cb.router_id = 0x0a000002;
    cb.hold_time = hold_b;
    cb.passive = true;
    cb.fam_flow6 = false;
    assert_int_equal(mm_bgp_session_new(&ca, &p_ops, a, &a->s), 0);
    assert_int_equal(mm_bgp_session_new(&cb, &p_ops, b, &b->s), 0);
    mm_bgp_session_event(a->s, MM_BGP_EV_MANUAL_START);
    mm_bgp_session_event(b->s, MM_BGP_EV_MANUAL_START);
    assert_int_equal(mm_bgp_session_state(a->s), MM_BGP_ST_CONNECT);
    assert_int_equal(mm_bgp_session_state(b->s), MM_BGP_ST_ACTIVE);
    assert_int_equal(a->connects, 1);
    assert_int_equal(b->connects, 0);
    mm_bgp_session_event(a->s, MM_BGP_EV_TCP_ACKNOWLEDGED);
    mm_bgp_session_event(b->s, MM_BGP_EV_TCP_CONFIRMED);
}

static void session_established(void **st)
{
    (void)st;
    static peer a, b;
    pair_up(&a, &b, 90, 30);
    assert_int_equal(a.timers[MM_BGP_TIMER_HOLD], MM_BGP_OPENSENT_HOLD);
    pump(&a, &b);
    assert_int_equal(mm_bgp_session_state(a.s), MM_BGP_ST_ESTABLISHED);
    assert_int_equal(mm_bgp_session_state(b.s), MM_BGP_ST_ESTABLISHED);
    const mm_bgp_session_info *ia = mm_bgp_session_get_info(a.s);
    assert_int_equal(ia->hold_time, 30);      /* the smaller */
    assert_int_equal(a.timers[MM_BGP_TIMER_KEEPALIVE], 10);
    assert_int_equal(ia->peer_as, 4200000000u); /* through capability 65 */
    assert_true(ia->as4 && ia->ext_msg && ia->route_refresh && ia->peer_gr);
    assert_true(ia->fam_flow4);
    assert_false(ia->fam_flow6);              /* b did not offer it */
    /* a announces a FlowSpec rule with IFIT; b gets one rule with no error. */
    uint8_t msg[1024];
    mm_cursor w;
    mm_cursor_init_write(&w, msg, sizeof(msg));
    assert_int_equal(mm_bgp_flowspec_update_build(&w, 1, false, lab_rule, sizeof(lab_rule), 65001,
                                                  true, false, lab_ecs, sizeof(lab_ecs)),
                     0);
    assert_int_equal(mm_bgp_session_send_update(a.s, msg, mm_cursor_offset(&w)), 0);
    pump(&a, &b);
    assert_int_equal(b.updates, 1);
    assert_int_equal(b.last_action, MM_BGP_ERR_NONE);
    assert_int_equal(b.last_rules, 1);
    /* Keepalive timer fires: a keepalive goes out, b restarts its hold timer. */
    b.timers[MM_BGP_TIMER_HOLD] = 0;
    mm_bgp_session_event(a.s, MM_BGP_EV_KEEPALIVE_EXPIRES);
    pump(&a, &b);
    assert_int_equal(b.timers[MM_BGP_TIMER_HOLD], 30);
    /* Hold timer expiry: NOTIFICATION 4/0, both go Idle. */
    mm_bgp_session_event(b.s, MM_BGP_EV_HOLD_EXPIRES);
    assert_int_equal(b.notif_sent_code, 4);
    assert_int_equal(mm_bgp_session_state(b.s), MM_BGP_ST_IDLE);
    pump(&a, &b);
    assert_int_equal(a.notif_rcvd_code, 4);
    assert_int_equal(mm_bgp_session_state(a.s), MM_BGP_ST_IDLE);
    assert_true(a.drops >= 1 && b.drops >= 1);
    /* Restart: the same objects come back to Established. */
    mm_bgp_session_event(a.s, MM_BGP_EV_MANUAL_START);
    mm_bgp_session_event(b.s, MM_BGP_EV_MANUAL_START);
    mm_bgp_session_event(a.s, MM_BGP_EV_TCP_ACKNOWLEDGED);
    mm_bgp_session_event(b.s, MM_BGP_EV_TCP_CONFIRMED);
    pump(&a, &b);
    assert_int_equal(mm_bgp_session_state(a.s), MM_BGP_ST_ESTABLISHED);
    /* Administrative shutdown with an RFC 9003 message. */
    mm_bgp_session_shutdown(a.s, 2, "maintenance");
    assert_int_equal(a.notif_sent_code, 6);
    assert_int_equal(a.notif_sent_sub, 2);
    pump(&a, &b);
    assert_int_equal(mm_bgp_session_state(b.s), MM_BGP_ST_IDLE);
    mm_bgp_session_free(a.s);
    mm_bgp_session_free(b.s);
}

/* Feed raw bytes to an established b and expect a NOTIFICATION code/subcode. */
static void expect_notif(const uint8_t *msg, size_t n, bool established, uint8_t code, uint8_t sub)
{
    static peer a, b;
    pair_up(&a, &b, 90, 90);
    if (established)
        pump(&a, &b);
    else
        a.out_len = 0; /* b is in OpenSent, has not seen a's OPEN */
    b.out_len = 0;
    int rc = mm_bgp_session_input(b.s, msg, n);
    assert_int_equal(rc, MM_ECLOSED);
    if (b.notif_sent_code != code || b.notif_sent_sub != sub)
        fail_msg("got NOTIFICATION %u/%u, want %u/%u", b.notif_sent_code, b.notif_sent_sub, code, sub);
    assert_int_equal(mm_bgp_session_state(b.s), MM_BGP_ST_IDLE);
    assert_true(b.out_len >= 21);
    assert_int_equal(b.out[18], MM_BGP_NOTIFICATION);
    mm_bgp_session_free(a.s);
    mm_bgp_session_free(b.s);
}

#define MARKER 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

static void session_malformed(void **st)
{
    (void)st;
    /* §6.1 header errors. */
    static const uint8_t bad_marker[19] = {0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 19, 4};
    expect_notif(bad_marker, 19, true, 1, 1);
    static const uint8_t short_len[] = {MARKER, 0, 18, 4};
    expect_notif(short_len, sizeof(short_len), true, 1, 2);
    static const uint8_t long_ka[] = {MARKER, 0, 20, 4, 0};
    expect_notif(long_ka, sizeof(long_ka), true, 1, 2);
    static const uint8_t over_4096[] = {MARKER, 0x10, 0x01, 2};
    expect_notif(over_4096, sizeof(over_4096), false, 1, 2); /* ext msg not yet negotiated */
    static const uint8_t bad_type[] = {MARKER, 0, 19, 9};
    expect_notif(bad_type, sizeof(bad_type), true, 1, 3);
    /* §6.2 OPEN errors (b in OpenSent). */
    static const uint8_t v3[] = {MARKER, 0, 29, 1, 3, 0xfd, 0xe9, 0, 90, 10, 0, 0, 1, 0};
    expect_notif(v3, sizeof(v3), false, 2, 1);
    static const uint8_t bad_as[] = {MARKER, 0, 29, 1, 4, 0xfd, 0xea, 0, 90, 10, 0, 0, 1, 0};
    expect_notif(bad_as, sizeof(bad_as), false, 2, 2);
    static const uint8_t hold1[] = {MARKER, 0, 29, 1, 4, 0xfd, 0xe9, 0, 1, 10, 0, 0, 1, 0};
    expect_notif(hold1, sizeof(hold1), false, 2, 6);
    static const uint8_t id0[] = {MARKER, 0, 29, 1, 4, 0xfd, 0xe9, 0, 90, 0, 0, 0, 0, 0};
    expect_notif(id0, sizeof(id0), false, 2, 3);
    static const uint8_t opt_overrun[] = {MARKER, 0, 29, 1, 4, 0xfd, 0xe9, 0, 90, 10, 0, 0, 1, 9};
    expect_notif(opt_overrun, sizeof(opt_overrun), false, 2, 0);
    /* RFC 6608: an UPDATE in OpenSent. */
    static const uint8_t upd[] = {MARKER, 0, 23, 2, 0, 0, 0, 0};
    expect_notif(upd, sizeof(upd), false, 5, 1);
    /* §6.3 / RFC 7606 reset cases in Established. */
    static const uint8_t attr_overrun[] = {MARKER, 0, 27, 2, 0, 0, 0, 4, 0x40, 0x01, 0x05, 0};
    expect_notif(attr_overrun, sizeof(attr_overrun), true, 3, 1);
    static const uint8_t wd_overrun[] = {MARKER, 0, 23, 2, 0, 9, 0, 0};
    expect_notif(wd_overrun, sizeof(wd_overrun), true, 3, 1);
    static const uint8_t bad_nlri[] = {MARKER, 0, 25, 2, 0, 0, 0, 0, 33, 1};
    expect_notif(bad_nlri, sizeof(bad_nlri), true, 3, 10);
    static const uint8_t unk_wk[] = {MARKER, 0, 26, 2, 0, 0, 0, 3, 0x40, 0x63, 0x00};
    expect_notif(unk_wk, sizeof(unk_wk), true, 3, 2);
    /* An OPEN in Established (RFC 6608 5/3). */
    static const uint8_t open2[] = {MARKER, 0, 29, 1, 4, 0xfd, 0xe9, 0, 90, 10, 0, 0, 1, 0};
    expect_notif(open2, sizeof(open2), true, 5, 3);
}

static void session_treat_as_withdraw(void **st)
{
    (void)st;
    static peer a, b;
    pair_up(&a, &b, 90, 90);
    pump(&a, &b);
    /* Bad ORIGIN value on a FlowSpec UPDATE: the session stays up, routes withdrawn. */
    static const uint8_t m[] = {MARKER, 0, 19 + 4 + 27, 2, 0, 0, 0, 27,
                                0x40, 0x01, 0x01, 0x07, ASPATH_OK, MP_FLOW};
    assert_int_equal(mm_bgp_session_input(b.s, m, sizeof(m)), 0);
    assert_int_equal(mm_bgp_session_state(b.s), MM_BGP_ST_ESTABLISHED);
    assert_int_equal(b.last_action, MM_BGP_ERR_WITHDRAW);
    assert_int_equal(mm_bgp_session_get_info(b.s)->withdraw_treated, 1);
    /* Byte-by-byte delivery of a valid UPDATE works (partial buffering). */
    static const uint8_t ok[] = {MARKER, 0, 19 + 4 + 27, 2, 0, 0, 0, 27, ORIGIN_OK, ASPATH_OK, MP_FLOW};
    for (size_t i = 0; i < sizeof(ok); i++)
        assert_int_equal(mm_bgp_session_input(b.s, ok + i, 1), 0);
    assert_int_equal(b.last_action, MM_BGP_ERR_NONE);
    assert_int_equal(b.last_rules, 1);
    assert_int_equal(b.updates, 2);
    mm_bgp_session_free(a.s);
    mm_bgp_session_free(b.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fs_decode_lab),
        cmocka_unit_test(fs_text_roundtrip),
        cmocka_unit_test(fs_v6),
        cmocka_unit_test(fs_malformed),
        cmocka_unit_test(fs_order),
        cmocka_unit_test(fs_validation),
        cmocka_unit_test(ec_lab),
        cmocka_unit_test(ec_parse),
        cmocka_unit_test(ifit_roundtrip_conflict_override),
        cmocka_unit_test(rfc7606_per_attribute),
        cmocka_unit_test(fsm_walk),
        cmocka_unit_test(session_established),
        cmocka_unit_test(session_malformed),
        cmocka_unit_test(session_treat_as_withdraw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
