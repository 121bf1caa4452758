/*
 * test_bgp_codec.c - BGP message codec: header checks, OPEN capabilities,
 * NOTIFICATION/KEEPALIVE, UPDATE attributes through the table (round trip
 * and each error class), NLRI, FlowSpec components, community renderings.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mamori/mm_bgp.h"
#include "mamori/mm_core.h"

static uint8_t buf[8192];

static int decode_update(const uint8_t *p, size_t len, bool as4, mm_bgp_update *u)
{
    mm_cursor c, body;
    mm_bgp_hdr h;
    mm_cursor_init_read(&c, p, len);
    MM_GUARD(mm_bgp_hdr_decode(&c, MM_BGP_MAX_LEN, &h, &body));
    assert_int_equal(h.type, MM_BGP_UPDATE);
    return mm_bgp_update_decode(&body, as4, false, u);
}

static void test_header(void **state)
{
    (void)state;
    mm_cursor w, c, body;
    mm_bgp_hdr h;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    assert_int_equal(mm_bgp_keepalive_encode(&w), 0);
    assert_int_equal(mm_cursor_offset(&w), 19);
    mm_cursor_init_read(&c, buf, 19);
    assert_int_equal(mm_bgp_hdr_decode(&c, MM_BGP_MAX_LEN, &h, &body), 0);
    assert_int_equal(h.type, MM_BGP_KEEPALIVE);
    assert_int_equal(h.len, 19);
    buf[3] = 0xfe; /* marker */
    mm_cursor_init_read(&c, buf, 19);
    assert_int_equal(mm_bgp_hdr_decode(&c, MM_BGP_MAX_LEN, &h, &body), MM_EMALFORMED);
    buf[3] = 0xff;
    buf[17] = 18; /* length below the header */
    mm_cursor_init_read(&c, buf, 19);
    assert_int_equal(mm_bgp_hdr_decode(&c, MM_BGP_MAX_LEN, &h, &body), MM_EMALFORMED);
    buf[16] = 0x10, buf[17] = 1; /* 4097 > 4096 */
    mm_cursor_init_read(&c, buf, 19);
    assert_int_equal(mm_bgp_hdr_decode(&c, MM_BGP_MAX_LEN, &h, &body), MM_EMALFORMED);
    buf[16] = 0, buf[17] = 30; /* longer than the bytes */
    mm_cursor_init_read(&c, buf, 19);
    assert_int_equal(mm_bgp_hdr_decode(&c, MM_BGP_MAX_LEN, &h, &body), MM_ETRUNC);
}

static void test_open_caps(void **state)
{
    (void)state;
    static const uint8_t mp[] = {0, 2, 0, 133}, as4[] = {0xfa, 0x56, 0xea, 0x00},
                         ap[] = {0, 1, 1, 3};
    mm_bgp_open o = {.version = 4, .my_as = 23456, .hold_time = 180, .bgp_id = 0x01020304};
    o.caps[0] = (mm_bgp_cap){MM_BGP_CAP_MP, 4, mp};
    o.caps[1] = (mm_bgp_cap){MM_BGP_CAP_AS4, 4, as4};
    o.caps[2] = (mm_bgp_cap){MM_BGP_CAP_ADDPATH, 4, ap};
    o.caps[3] = (mm_bgp_cap){MM_BGP_CAP_EXT_MSG, 0, NULL};
    o.caps[4] = (mm_bgp_cap){200, 2, (const uint8_t *)"xy"};
    o.n_caps = 5;
    mm_cursor w, c, body;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    assert_int_equal(mm_bgp_open_encode(&w, &o), 0);
    mm_bgp_hdr h;
    mm_cursor_init_read(&c, buf, mm_cursor_offset(&w));
    assert_int_equal(mm_bgp_hdr_decode(&c, MM_BGP_MAX_LEN, &h, &body), 0);
    assert_int_equal(h.type, MM_BGP_OPEN);
    mm_bgp_open d;
    assert_int_equal(mm_bgp_open_decode(&body, &d), 0);
    assert_int_equal(d.hold_time, 180);
    assert_int_equal(d.bgp_id, 0x01020304);
    assert_true(d.has_as4);
    assert_int_equal(d.as4, 4200000000u);
    assert_int_equal(d.n_mp, 1);
    assert_int_equal(d.mp[0].afi, 2);
    assert_int_equal(d.mp[0].safi, 133);
    assert_true(d.addpath_any);
    assert_true(d.ext_msg);
    assert_int_equal(d.n_caps, 5);
    assert_int_equal(d.caps[4].code, 200);
    assert_memory_equal(d.caps[4].val, "xy", 2);
    assert_string_equal(mm_bgp_cap_name(65), "4-octet-as");
    /* A capability running past its parameter is malformed. */
    buf[MM_BGP_HDR_LEN + 10 + 2 + 1] = 40; /* first capability's length */
    mm_cursor_init_read(&c, buf, mm_cursor_offset(&w));
    assert_int_equal(mm_bgp_hdr_decode(&c, MM_BGP_MAX_LEN, &h, &body), 0);
    assert_int_equal(mm_bgp_open_decode(&body, &d), MM_EMALFORMED);
}

static void test_notification(void **state)
{
    (void)state;
    mm_bgp_notification n = {6, 4,
                             (const uint8_t *)"\x03"
                                              "bye",
                             4},
                        d;
    mm_cursor w, c, body;
    mm_bgp_hdr h;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    assert_int_equal(mm_bgp_notification_encode(&w, &n), 0);
    mm_cursor_init_read(&c, buf, mm_cursor_offset(&w));
    assert_int_equal(mm_bgp_hdr_decode(&c, MM_BGP_MAX_LEN, &h, &body), 0);
    assert_int_equal(mm_bgp_notification_decode(&body, &d), 0);
    assert_int_equal(d.code, 6);
    assert_int_equal(d.subcode, 4);
    assert_int_equal(d.data_len, 4);
    assert_string_equal(mm_bgp_notification_code_name(6), "Cease");
}

/* Build an UPDATE from (flags, code, value) triples and IPv4 NLRI. */
static size_t make_update(const mm_bgp_attr *attrs, size_t n, const char *prefix)
{
    mm_bgp_update u;
    memset(&u, 0, sizeof(u));
    memcpy(u.attrs, attrs, n * sizeof(*attrs));
    u.n_attrs = n;
    uint8_t nlri[8];
    if (prefix) {
        mm_bgp_prefix p;
        assert_int_equal(mm_bgp_prefix_parse(prefix, &p), 0);
        mm_cursor nw;
        mm_cursor_init_write(&nw, nlri, sizeof(nlri));
        assert_int_equal(mm_bgp_nlri_encode(&nw, &p, false), 0);
        u.nlri = nlri;
        u.nlri_len = mm_cursor_offset(&nw);
    }
    mm_cursor w;
    mm_cursor_init_write(&w, buf, sizeof(buf));
    assert_int_equal(mm_bgp_update_encode(&w, &u), 0);
    return mm_cursor_offset(&w);
}

static const uint8_t origin_i[] = {0};
static const uint8_t nh[] = {10, 0, 0, 1};
static const uint8_t path2[] = {2, 2, 0xfd, 0xe9, 0xfd, 0xea}; /* 2-octet: 65001 65002 */
static const uint8_t path4[] = {2, 1, 0xfa, 0x56, 0xea, 0x00}; /* 4-octet: 4200000000 */

static void test_update_round_trip(void **state)
{
    (void)state;
    uint8_t big[300];
    memset(big, 0, sizeof(big));
    for (size_t i = 0; i < sizeof(big); i += 4)
        big[i + 1] = 1, big[i + 3] = (uint8_t)i; /* 75 communities: needs the extended length */
    mm_bgp_attr a[] = {
        {0x40, 1, 1, origin_i},      {0x40, 2, sizeof(path4), path4},       {0x40, 3, 4, nh},
        {0xc0, 8, sizeof(big), big}, {0xc0, 99, 3, (const uint8_t *)"abc"}, /* unknown: kept as
                                                                               bytes */
    };
    size_t len = make_update(a, 5, "198.51.100.0/24");
    mm_bgp_update u;
    assert_int_equal(decode_update(buf, len, true, &u), 0);
    assert_null(u.error);
    assert_int_equal(u.n_attrs, 5);
    assert_true(u.attrs[3].flags & MM_BGP_ATTR_F_EXTLEN);
    assert_int_equal(u.attrs[3].len, 300);
    assert_memory_equal(u.attrs[4].val, "abc", 3);
    mm_buf t;
    mm_buf_init(&t, 4096);
    assert_int_equal(mm_bgp_aspath_format(u.attrs[1].val, u.attrs[1].len, true, &t), 0);
    assert_string_equal(mm_buf_cstr(&t), "4200000000");
    mm_cursor c;
    mm_cursor_init_read(&c, u.nlri, u.nlri_len);
    mm_bgp_prefix p;
    assert_int_equal(mm_bgp_nlri_next(&c, 1, false, &p), 1);
    char s[64];
    mm_bgp_prefix_format(&p, s, sizeof(s));
    assert_string_equal(s, "198.51.100.0/24");
    assert_int_equal(mm_bgp_nlri_next(&c, 1, false, &p), 0);
    /* The same bytes decoded in a 2-octet context (BMP A flag): 65001 65002. */
    a[1] = (mm_bgp_attr){0x40, 2, sizeof(path2), path2};
    len = make_update(a, 3, "198.51.100.0/24");
    assert_int_equal(decode_update(buf, len, false, &u), 0);
    assert_null(u.error);
    mm_buf_reset(&t);
    assert_int_equal(mm_bgp_aspath_format(u.attrs[1].val, u.attrs[1].len, false, &t), 0);
    assert_string_equal(mm_buf_cstr(&t), "65001 65002");
    mm_buf_free(&t);
}

static void test_update_attribute_errors(void **state)
{
    (void)state;
    mm_bgp_update u;
    static const uint8_t bad_origin[] = {7};
    mm_bgp_attr a[] = {{0x40, 1, 1, bad_origin}, {0x40, 2, sizeof(path4), path4}, {0x40, 3, 4, nh}};
    assert_int_equal(decode_update(buf, make_update(a, 3, "10.0.0.0/8"), true, &u), 0);
    assert_string_equal(u.error, "invalid ORIGIN value");
    assert_int_equal(u.error_attr, 1);
    /* Flags: ORIGIN marked optional. */
    a[0] = (mm_bgp_attr){0xc0, 1, 1, origin_i};
    assert_int_equal(decode_update(buf, make_update(a, 3, "10.0.0.0/8"), true, &u), 0);
    assert_string_equal(u.error, "attribute flags conflict with the attribute type");
    /* Length: NEXT_HOP of 3 bytes. */
    a[0] = (mm_bgp_attr){0x40, 1, 1, origin_i};
    a[2] = (mm_bgp_attr){0x40, 3, 3, nh};
    assert_int_equal(decode_update(buf, make_update(a, 3, "10.0.0.0/8"), true, &u), 0);
    assert_string_equal(u.error, "attribute length is wrong for its type");
    /* AS_PATH segment running past the attribute (4-octet path read as such, count 2). */
    static const uint8_t short_path[] = {2, 2, 0, 0, 0, 1};
    a[2] = (mm_bgp_attr){0x40, 3, 4, nh};
    a[1] = (mm_bgp_attr){0x40, 2, sizeof(short_path), short_path};
    assert_int_equal(decode_update(buf, make_update(a, 3, "10.0.0.0/8"), true, &u), 0);
    assert_string_equal(u.error, "malformed AS_PATH");
    /* Missing NEXT_HOP with NLRI. */
    a[1] = (mm_bgp_attr){0x40, 2, sizeof(path4), path4};
    assert_int_equal(decode_update(buf, make_update(a, 2, "10.0.0.0/8"), true, &u), 0);
    assert_string_equal(u.error, "missing well-known mandatory attribute");
    /* Communities not a multiple of 4. */
    a[2] = (mm_bgp_attr){0xc0, 8, 3, nh};
    assert_int_equal(decode_update(buf, make_update(a, 3, NULL), true, &u), 0);
    assert_string_equal(u.error, "attribute length is wrong for its type");
    /* Duplicate attribute: discarded, first kept. */
    a[2] = (mm_bgp_attr){0x40, 1, 1, origin_i};
    assert_int_equal(decode_update(buf, make_update(a, 3, NULL), true, &u), 0);
    assert_string_equal(u.error, "duplicate path attribute");
    assert_int_equal(u.n_attrs, 2);
    /* Structural: attribute length past the section. */
    size_t len = make_update(a, 1, NULL);
    buf[MM_BGP_HDR_LEN + 2 + 2 + 2] = 9; /* ORIGIN length 9 */
    assert_int_equal(decode_update(buf, len, true, &u), MM_EMALFORMED);
    assert_string_equal(u.error, "path attribute overruns the attribute section");
    /* Structural: prefix length 33 in the NLRI. */
    a[1] = (mm_bgp_attr){0x40, 2, sizeof(path4), path4};
    a[2] = (mm_bgp_attr){0x40, 3, 4, nh};
    len = make_update(a, 3, "10.0.0.0/8");
    buf[len - 2] = 33;
    assert_int_equal(decode_update(buf, len, true, &u), MM_EMALFORMED);
    assert_string_equal(u.error, "malformed NLRI");
}

static void test_mp_v6_and_eor(void **state)
{
    (void)state;
    uint8_t mp[64];
    mm_cursor m;
    mm_cursor_init_write(&m, mp, sizeof(mp));
    mm_cursor_write_u16(&m, 2);
    mm_cursor_write_u8(&m, 1);
    mm_cursor_write_u8(&m, 16);
    mm_cursor_write_zeros(&m, 16);
    mm_cursor_write_u8(&m, 0);
    mm_bgp_prefix p;
    assert_int_equal(mm_bgp_prefix_parse("2001:db8:1::/48", &p), 0);
    mm_bgp_nlri_encode(&m, &p, false);
    assert_int_equal(mm_bgp_prefix_parse("2001:db8::/129", &p), MM_EINVAL);
    mm_bgp_attr a[] = {{0x40, 1, 1, origin_i},
                       {0x40, 2, sizeof(path4), path4},
                       {0x80, 14, (uint16_t)mm_cursor_offset(&m), mp}};
    mm_bgp_update u;
    assert_int_equal(decode_update(buf, make_update(a, 3, NULL), true, &u), 0);
    assert_null(u.error);
    assert_true(u.mp_reach.present);
    assert_int_equal(u.mp_reach.afi, 2);
    assert_int_equal(u.mp_reach.nh_len, 16);
    mm_cursor c;
    mm_cursor_init_read(&c, u.mp_reach.nlri, u.mp_reach.nlri_len);
    assert_int_equal(mm_bgp_nlri_next(&c, 2, false, &p), 1);
    assert_int_equal(p.len, 48);
    assert_false(mm_bgp_update_is_eor(&u));
    /* End-of-RIB for IPv6: MP_UNREACH with no NLRI. */
    static const uint8_t eor6[] = {0, 2, 1};
    mm_bgp_attr e[] = {{0x80, 15, 3, eor6}};
    assert_int_equal(decode_update(buf, make_update(e, 1, NULL), true, &u), 0);
    assert_true(mm_bgp_update_is_eor(&u));
    assert_int_equal(decode_update(buf, make_update(e, 0, NULL), true, &u), 0);
    assert_true(mm_bgp_update_is_eor(&u));
}

static void test_flowspec(void **state)
{
    (void)state;
    /* RFC 8955 rule: dst 10.7.0.0/24, proto =17, dport >=1000 & <=2000, tcp-flags match 0x02. */
    static const uint8_t rule[] = {0x0f, 0x01, 24,   10,   7,    0,    0x03, 0x81, 17,  0x05,
                                   0x13, 0x03, 0xe8, 0xd5, 0x07, 0xd0, 0x09, 0x81, 0x02};
    mm_cursor c;
    mm_cursor_init_read(&c, rule, sizeof(rule) - 3); /* the length byte says 15 */
    const uint8_t *r;
    size_t rl;
    assert_int_equal(mm_bgp_flowspec_next(&c, &r, &rl), 1);
    assert_int_equal(rl, 15);
    mm_buf t;
    mm_buf_init(&t, 4096);
    assert_int_equal(mm_bgp_flowspec_format(1, r, rl, &t), 0);
    assert_string_equal(mm_buf_cstr(&t), "dst 10.7.0.0/24 proto =17 dport >=1000&<=2000");
    mm_buf_reset(&t);
    assert_int_equal(mm_bgp_flowspec_format(1, rule + 1, sizeof(rule) - 1, &t), 0);
    assert_string_equal(mm_buf_cstr(&t),
                        "dst 10.7.0.0/24 proto =17 dport >=1000&<=2000 tcp-flags =0x2");
    /* A rule whose length runs past the NLRI. */
    mm_cursor_init_read(&c, rule, 10);
    assert_int_equal(mm_bgp_flowspec_next(&c, &r, &rl), MM_EMALFORMED);
    /* IPv6 prefix with an offset (RFC 8956): /64 offset 32, pattern 2 bytes of bits 32..63. */
    static const uint8_t r6[] = {0x01, 64, 32, 0xab, 0xcd, 0x00, 0x01};
    mm_buf_reset(&t);
    assert_int_equal(mm_bgp_flowspec_format(2, r6, sizeof(r6), &t), 0);
    assert_string_equal(mm_buf_cstr(&t), "dst 0:0:abcd:1::/64 offset 32");
    /* Unknown component type. */
    mm_buf_reset(&t);
    assert_int_equal(mm_bgp_flowspec_format(1, (const uint8_t *)"\x20\x81\x01", 3, &t),
                     MM_EUNSUPPORTED);
    mm_buf_free(&t);
}

static void test_community_formats(void **state)
{
    (void)state;
    mm_buf t;
    mm_buf_init(&t, 4096);
    static const uint8_t ec[] = {0x80, 0x06, 0x00, 0x00, 0x44, 0x7a, 0x00, 0x00,  /* rate 1000 */
                                 0x80, 0x08, 0xfd, 0xe8, 0x00, 0x00, 0x00, 0x64,  /* redirect */
                                 0x80, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,  /* mark 10 */
                                 0x02, 0x02, 0xfa, 0x56, 0xea, 0x00, 0x00, 0x07}; /* rt 4-oct */
    assert_int_equal(mm_bgp_ext_communities_format(ec, sizeof(ec), &t), 0);
    assert_string_equal(mm_buf_cstr(&t),
                        "rate-limit:1000 redirect:65000:100 mark:10 RT:4200000000:7");
    mm_buf_reset(&t);
    assert_int_equal(mm_bgp_ext_communities_format(ec, 7, &t), MM_EMALFORMED);
    static const uint8_t lc[] = {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
    assert_int_equal(mm_bgp_large_communities_format(lc, 12, &t), 0);
    assert_string_equal(mm_buf_cstr(&t), "1:2:3");
    mm_buf_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_open_caps),
        cmocka_unit_test(test_notification),
        cmocka_unit_test(test_update_round_trip),
        cmocka_unit_test(test_update_attribute_errors),
        cmocka_unit_test(test_mp_v6_and_eor),
        cmocka_unit_test(test_flowspec),
        cmocka_unit_test(test_community_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
