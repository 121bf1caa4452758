/*
 * test_bgpd_config.c - mamori-bgpd's configuration checks: a full valid
 * config, loopback defaults, and one refusal per kind of mistake with the
 * member named in the error; the RIB underneath (add/replace/delete,
 * Loc-RIB choice, longest match, flush of a peer).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "bgpd.h"
#include "mamori/mm_core.h"

static int load(const char *text, bgpd_config *c, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(root);
    int rc = bgpd_config_from_json(root, c, err, errlen);
    json_decref(root);
    return rc;
}

static void config_valid(void **st)
{
    (void)st;
    static bgpd_config c;
    char err[256] = "";
    int rc = load("{\"local-as\": 4200000001, \"router-id\": \"10.0.0.1\", \"hold-time\": 30,"
                  " \"ifit-codepoints\": [{\"method\": \"ioam-dex\", \"type\": 128, \"sub-type\": 197}],"
                  " \"neighbors\": [{\"address\": \"127.0.0.2\", \"remote-as\": 65002, \"gtsm\": true,"
                  "   \"md5-password\": \"s3cret\", \"max-prefix\": {\"flow4\": 100},"
                  "   \"families\": [\"ipv4-flowspec\", \"ipv4-unicast\"]},"
                  "  {\"address\": \"::1\", \"remote-as\": 65003, \"passive\": true,"
                  "   \"tcp-ao\": {\"key\": \"ao-k\", \"send-id\": 3, \"recv-id\": 4,"
                  "              \"algorithm\": \"cmac(aes128)\"}}],"
                  " \"flowspec\": [{\"family\": \"flow6\", \"match\": \"dst 2001:db8::/32\","
                  "   \"then\": [\"discard\", \"ifit ioam-e2e namespace 1 e2e-type 0x8000\"]}]}",
                  &c, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_string_equal(c.listen_address, "127.0.0.1"); /* loopback by default */
    assert_int_equal(c.listen_port, 179);
    assert_int_equal(c.n_peers, 2);
    assert_int_equal(c.peers[0].hold_time, 30);
    assert_true(c.peers[0].gtsm);
    assert_int_equal(c.peers[0].max_prefix[BGPD_FLOW4], 100);
    assert_true(c.peers[0].fam[BGPD_V4U] && !c.peers[0].fam[BGPD_FLOW6]);
    assert_true(c.peers[1].fam[BGPD_FLOW4] && c.peers[1].fam[BGPD_FLOW6]); /* default families */
    assert_false(c.peers[0].ao);
    assert_true(c.peers[1].ao);
    assert_string_equal(c.peers[1].ao_key, "ao-k");
    assert_string_equal(c.peers[1].ao_alg, "cmac(aes128)");
    assert_int_equal(c.peers[1].ao_sndid, 3);
    assert_int_equal(c.peers[1].ao_rcvid, 4);
    assert_int_equal(c.peers[1].ao_maclen, 12); /* RFC 5926's 96-bit MACs by default */
    assert_int_equal(mm_bgp_ifit_desc_get(MM_BGP_IFIT_IOAM_DEX)->subtype, 197);
    bgpd_config_free(&c);
    mm_bgp_ifit_codepoints_reset();
}

static void config_refused(void **st)
{
    (void)st;
    static const struct { const char *json; const char *needle; } bad[] = {
        {"{\"router-id\": \"10.0.0.1\"}", "/local-as"},
        {"{\"local-as\": 1, \"router-id\": \"0.0.0.0\"}", "/router-id"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"hold-tme\": 3}", "hold-tme"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"hold-time\": 2}", "/hold-time"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"listen-address\": \"localhost\"}", "/listen-address"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"neighbors\": [{\"address\": \"10.0.0.300\", \"remote-as\": 2}]}", "/neighbors[0]/address"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"neighbors\": [{\"address\": \"10.0.0.3\"}]}", "remote-as"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"neighbors\": [{\"address\": \"10.0.0.3\", \"remote-as\": 2}, {\"address\": \"10.0.0.3\", \"remote-as\": 3}]}", "twice"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"neighbors\": [{\"address\": \"10.0.0.3\", \"remote-as\": 2, \"families\": [\"ipv4-mcast\"]}]}", "families[0]"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"neighbors\": [{\"address\": \"10.0.0.3\", \"remote-as\": 2, \"max-prefix\": {\"flow4\": 0}}]}", "max-prefix"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"neighbors\": [{\"address\": \"10.0.0.3\", \"remote-as\": 2, \"gtsm\": \"yes\"}]}", "gtsm"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"neighbors\": [{\"address\": \"10.0.0.3\", \"remote-as\": 2, \"md5-password\": \"x\", \"tcp-ao\": {\"key\": \"y\"}}]}", "mutually exclusive"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"neighbors\": [{\"address\": \"10.0.0.3\", \"remote-as\": 2, \"tcp-ao\": {\"key\": \"y\", \"algorithm\": \"md5\"}}]}", "/tcp-ao/algorithm"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"neighbors\": [{\"address\": \"10.0.0.3\", \"remote-as\": 2, \"tcp-ao\": {\"send-id\": 1}}]}", "/tcp-ao/key"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"neighbors\": [{\"address\": \"10.0.0.3\", \"remote-as\": 2, \"tcp-ao\": {\"key\": \"y\", \"send-id\": 256}}]}", "send-id"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"flowspec\": [{\"match\": \"dst 10.0.0.0/33\"}]}", "/flowspec[0]"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"flowspec\": [{\"match\": \"dst 10.0.0.0/8\", \"then\": [\"mark 99\"]}]}", "then[0]"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"ifit-codepoints\": [{\"method\": \"ioam-dex\", \"type\": 129, \"sub-type\": 170}]}", "another method"},
        {"{\"local-as\": 1, \"router-id\": \"10.0.0.1\", \"ifit-codepoints\": [{\"method\": \"ioam-dex\", \"type\": 64, \"sub-type\": 1}]}", "transitive"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        static bgpd_config c;
        char err[256] = "";
        int rc = load(bad[i].json, &c, err, sizeof(err));
        if (rc != MM_ECONFIG || !strstr(err, bad[i].needle))
            fail_msg("case %zu: rc %d err '%s' (want '%s')", i, rc, err, bad[i].needle);
        bgpd_config_free(&c);
    }
    mm_bgp_ifit_codepoints_reset();
}

/* The YANG encodings (JSON per RFC 7951 and XML) go through libyang first. */
static int load_file(const char *name, const char *text, bgpd_config *c, char *err, size_t errlen)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    int rc = bgpd_config_load(path, c, err, errlen);
    remove(path);
    return rc;
}

static void config_yang(void **st)
{
    (void)st;
    static bgpd_config c;
    char err[512] = "";
    char name[64];
    snprintf(name, sizeof(name), "mm-bgpd-%d.json", (int)getpid());
    int rc = load_file(name,
                       "{\"mamori-bgp:bgp\": {\"local-as\": 65001, \"router-id\": \"10.0.0.1\","
                       " \"neighbors\": [{\"address\": \"127.0.0.2\", \"remote-as\": 65002,"
                       "   \"families\": [\"ipv4-flowspec\"], \"max-prefix\": {\"ipv4-flowspec\": 7}}]}}",
                       &c, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(c.local_as, 65001);
    assert_int_equal(c.n_peers, 1);
    assert_int_equal(c.peers[0].max_prefix[BGPD_FLOW4], 7);
    assert_int_equal(c.listen_port, 179); /* config.c's defaults still apply */
    bgpd_config_free(&c);
    /* libyang's verdict, with the file, line and path: the range of hold-time. */
    rc = load_file(name, "{\"mamori-bgp:bgp\": {\"local-as\": 1, \"router-id\": \"10.0.0.1\",\n"
                         " \"hold-time\": 2}}", &c, err, sizeof(err));
    if (rc != MM_ECONFIG || !strstr(err, ":2: /mamori-bgp:bgp/hold-time"))
        fail_msg("rc %d err '%s'", rc, err);
    bgpd_config_free(&c);
    snprintf(name, sizeof(name), "mm-bgpd-%d.xml", (int)getpid());
    rc = load_file(name,
                   "<bgp xmlns=\"urn:mamori:params:xml:ns:yang:mamori-bgp\">\n"
                   " <local-as>65010</local-as><router-id>10.0.0.9</router-id>\n"
                   " <neighbors><address>::1</address><remote-as>65011</remote-as>\n"
                   "  <families>ipv6-flowspec</families>\n"
                   "  <tcp-ao><key>k1</key><send-id>1</send-id><recv-id>2</recv-id></tcp-ao>\n"
                   " </neighbors>\n</bgp>\n",
                   &c, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(c.local_as, 65010);
    assert_true(c.peers[0].ao && c.peers[0].ao_sndid == 1 && c.peers[0].ao_rcvid == 2);
    assert_true(c.peers[0].fam[BGPD_FLOW6] && !c.peers[0].fam[BGPD_FLOW4]);
    bgpd_config_free(&c);
    rc = load_file(name,
                   "<bgp xmlns=\"urn:mamori:params:xml:ns:yang:mamori-bgp\">\n"
                   " <local-as>65010</local-as><router-id>10.0.0.9</router-id><bogus/>\n</bgp>\n",
                   &c, err, sizeof(err));
    if (rc != MM_ECONFIG || !strstr(err, "bogus"))
        fail_msg("rc %d err '%s'", rc, err);
    bgpd_config_free(&c);
}

/* mm_bgp_rib_scan under mutation: the control socket streams the RIB a few
 * buckets at a time while UPDATEs change it. Routes present from start to
 * end are visited exactly once, withdrawn-before-visit ones never twice,
 * and the table doubling (twice) in the middle loses nothing. */
typedef struct { uint8_t seen[40000]; int dup; } scan_seen;

static uint32_t scan_index(const mm_bgp_route *r) { return ((uint32_t)r->nlri[2] << 8 | r->nlri[3]) + 256u * 256u * (r->nlri[1] - 10u); }

static void scan_cb(void *arg, const mm_bgp_route *r)
{
    scan_seen *s = arg;
    uint32_t i = scan_index(r);
    if (i < sizeof(s->seen)) {
        if (s->seen[i])
            s->dup++;
        s->seen[i] = 1;
    }
}

static void scan_add(mm_bgp_rib *rib, uint32_t i, bool del)
{
    mm_bgp_prefix p = {.afi = 1, .len = 24};
    p.addr[0] = (uint8_t)(10 + i / 65536), p.addr[1] = (uint8_t)(i >> 8), p.addr[2] = (uint8_t)i;
    uint8_t key[17];
    size_t kl = mm_bgp_rib_prefix_key(&p, key);
    if (del) {
        assert_int_equal(mm_bgp_rib_del(rib, 1, 1, 1, key, kl), 0);
        return;
    }
    mm_bgp_route r = {.peer = 1, .afi = 1, .safi = 1, .nlri = key, .nlri_len = (uint16_t)kl, .valid = true};
    assert_int_equal(mm_bgp_rib_add(rib, &r, NULL), 0);
}

static void rib_scan_mutation(void **st)
{
    (void)st;
    mm_bgp_rib *rib;
    assert_int_equal(mm_bgp_rib_new(10, &rib), 0);
    for (uint32_t i = 0; i < 10000; i++)
        scan_add(rib, i, false);
    scan_seen *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    uint64_t cur = 0;
    uint32_t next_new = 10000, next_del = 0, steps = 0;
    do {
        cur = mm_bgp_rib_scan(rib, cur, 7, UINT32_MAX, 1, 1, scan_cb, s);
        /* Between steps: 200 new routes (the table doubles, twice) and
         * 20 withdrawals of the first routes. */
        for (int k = 0; k < 200 && next_new < 40000; k++)
            scan_add(rib, next_new++, false);
        for (int k = 0; k < 20 && next_del < 2000; k++)
            scan_add(rib, next_del++, true);
        steps++;
    } while (cur);
    assert_true(steps > 100);
    assert_int_equal(s->dup, 0);
    /* 2000..9999 were there throughout: each seen. */
    for (uint32_t i = 2000; i < 10000; i++)
        assert_true(s->seen[i]);
    /* A full scan with no change sees exactly the table. */
    memset(s, 0, sizeof(*s));
    cur = 0;
    do
        cur = mm_bgp_rib_scan(rib, cur, 1000, UINT32_MAX, 1, 1, scan_cb, s);
    while (cur);
    size_t n = 0;
    for (size_t i = 0; i < sizeof(s->seen); i++)
        n += s->seen[i];
    assert_int_equal(n, mm_bgp_rib_size(rib));
    assert_int_equal(s->dup, 0);
    free(s);
    mm_bgp_rib_free(rib);
}

static void rib_basics(void **st)
{
    (void)st;
    mm_bgp_rib *rib;
    assert_int_equal(mm_bgp_rib_new(4, &rib), 0);
    uint8_t ec[8] = {0x80, 6, 0, 0, 0, 0, 0, 0};
    /* Many routes: the table grows past its initial 16 buckets. */
    for (uint32_t i = 0; i < 5000; i++) {
        mm_bgp_prefix p = {.afi = 1, .len = 24};
        p.addr[0] = 10, p.addr[1] = (uint8_t)(i >> 8), p.addr[2] = (uint8_t)i;
        uint8_t key[17];
        size_t kl = mm_bgp_rib_prefix_key(&p, key);
        mm_bgp_route r = {.peer = 1 + (i % 2), .afi = 1, .safi = 1, .nlri = key,
                          .nlri_len = (uint16_t)kl, .valid = true};
        bool rep;
        assert_int_equal(mm_bgp_rib_add(rib, &r, &rep), 0);
        assert_false(rep);
    }
    assert_int_equal(mm_bgp_rib_size(rib), 5000);
    /* Longest match: 10.0.5.7/32 is covered by 10.0.5.0/24. */
    mm_bgp_prefix q = {.afi = 1, .len = 32, .addr = {10, 0, 5, 7}};
    const mm_bgp_route *best = mm_bgp_rib_lookup(rib, &q);
    assert_non_null(best);
    assert_int_equal(best->nlri[0], 24);
    assert_int_equal(best->nlri[3], 5);
    q.addr[0] = 11;
    assert_null(mm_bgp_rib_lookup(rib, &q));
    /* Same NLRI from peer 0 (local) and 3: local is best; replace keeps one copy. */
    uint8_t rule[] = {1, 24, 10, 2, 0};
    mm_bgp_route r0 = {.peer = 3, .afi = 1, .safi = 133, .nlri = rule, .nlri_len = 5, .ecomm = ec,
                       .ecomm_len = 8, .valid = true};
    bool rep;
    assert_int_equal(mm_bgp_rib_add(rib, &r0, &rep), 0);
    r0.peer = 0;
    assert_int_equal(mm_bgp_rib_add(rib, &r0, &rep), 0);
    assert_int_equal(mm_bgp_rib_add(rib, &r0, &rep), 0);
    assert_true(rep);
    assert_true(mm_bgp_rib_is_best(rib, mm_bgp_rib_get(rib, 0, 1, 133, rule, 5)));
    assert_false(mm_bgp_rib_is_best(rib, mm_bgp_rib_get(rib, 3, 1, 133, rule, 5)));
    assert_int_equal(mm_bgp_rib_count(rib, 3, 1, 133), 1);
    /* Flushing peer 1 releases its 2500 routes and nothing else. */
    assert_int_equal(mm_bgp_rib_flush_peer(rib, 1, NULL, NULL), 2500);
    assert_int_equal(mm_bgp_rib_size(rib), 2502);
    assert_int_equal(mm_bgp_rib_del(rib, 3, 1, 133, rule, 5), 0);
    assert_int_equal(mm_bgp_rib_del(rib, 3, 1, 133, rule, 5), MM_ENOENT);
    assert_true(mm_bgp_rib_is_best(rib, mm_bgp_rib_get(rib, 0, 1, 133, rule, 5)));
    /* Shared attribute sets: two routes, same ECs and AS_PATH; one goes, the other keeps them. */
    uint8_t ec2[16] = {0x80, 6, 0, 0, 0, 0, 0, 0, 0x81, 0xaa, 0, 1, 0x12, 0x34, 0x56, 0x0f};
    uint8_t r1[] = {1, 24, 10, 9, 1}, r2[] = {1, 24, 10, 9, 2};
    char ap[] = "65002 65003";
    mm_bgp_route x = {.peer = 5, .afi = 1, .safi = 133, .nlri = r1, .nlri_len = 5, .ecomm = ec2,
                      .ecomm_len = 16, .aspath = ap, .valid = true};
    assert_int_equal(mm_bgp_rib_add(rib, &x, NULL), 0);
    x.nlri = r2;
    assert_int_equal(mm_bgp_rib_add(rib, &x, NULL), 0);
    ap[0] = '7'; /* the RIB has its own copy */
    assert_int_equal(mm_bgp_rib_del(rib, 5, 1, 133, r1, 5), 0);
    const mm_bgp_route *y = mm_bgp_rib_get(rib, 5, 1, 133, r2, 5);
    assert_non_null(y);
    assert_int_equal(y->ecomm_len, 16);
    assert_memory_equal(y->ecomm, ec2, 16);
    assert_string_equal(y->aspath, "65002 65003");
    /* Replacing with other attributes switches sets; no ECs at all is fine too. */
    x.nlri = r2;
    x.ecomm = NULL;
    x.ecomm_len = 0;
    x.aspath = NULL;
    assert_int_equal(mm_bgp_rib_add(rib, &x, NULL), 0);
    y = mm_bgp_rib_get(rib, 5, 1, 133, r2, 5);
    assert_int_equal(y->ecomm_len, 0);
    assert_string_equal(y->aspath, "");
    mm_bgp_rib_free(rib);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_valid),
        cmocka_unit_test(config_refused),
        cmocka_unit_test(config_yang),
        cmocka_unit_test(rib_basics),
        cmocka_unit_test(rib_scan_mutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
