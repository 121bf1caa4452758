/*
 * strongSwan / libreswan config scanners on the test configs in conf/.
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

#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"

static char path[512];

static const char *conf(const char *name)
{
    const char *root = getenv("MM_SOURCE_ROOT");
    assert_non_null(root);
    snprintf(path, sizeof(path), "%s/tests/unit/audit/conf/%s", root, name);
    return path;
}

static const mm_ah_finding *find(const mm_ah_report *r, const char *where_part)
{
    for (size_t i = 0; i < r->n; i++)
        if (strstr(r->f[i].where, where_part))
            return &r->f[i];
    return NULL;
}

static void test_swanctl(void **state)
{
    mm_ah_report r;
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_conf_scan_file(conf("swanctl-ah.conf"), MM_AH_CONF_AUTO, &r), 0);
    for (size_t i = 0; i < r.nnotes; i++)
        print_message("note: %s\n", r.notes[i]);
    assert_int_equal(r.nerrors, 0);
    assert_int_equal(r.nnotes, 0);
    assert_int_equal(r.n, 3);
    const mm_ah_finding *f = find(&r, "connections.gw-gw.children.net-net.");
    assert_non_null(f);
    assert_int_equal(f->verdict, MM_AH_CONFIGURED);
    assert_int_equal(f->source, MM_AH_SRC_CONFIG);
    assert_non_null(strstr(f->where, "swanctl-ah.conf:15 "));
    assert_non_null(strstr(f->detail, "ah_proposals = sha256-modp3072"));
    assert_string_equal(f->src, "192.0.2.1");
    assert_string_equal(f->dst, "198.51.100.7");
    f = find(&r, "connections.roadwarrior.children.rw.");
    assert_non_null(f);
    assert_non_null(strstr(f->detail, "= sha384"));
    assert_string_equal(f->dst, "%any");
    /* Followed include. */
    f = find(&r, "conf.d/extra.conf:7 connections.branch.children.branch-lan.");
    assert_non_null(f);
    assert_string_equal(f->dst, "2001:db8::99");
    assert_int_equal(mm_ah_report_status(&r), 1);
    mm_ah_report_free(&r);

    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_conf_scan_file(conf("swanctl-esp.conf"), MM_AH_CONF_SWANCTL, &r), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.nnotes, 0);
    assert_int_equal(mm_ah_report_status(&r), 0);
    mm_ah_report_free(&r);
}

static void test_ipsec_conf(void **state)
{
    mm_ah_report r;
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_conf_scan_file(conf("ipsec-strongswan.conf"), MM_AH_CONF_AUTO, &r), 0);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.f[0].where, "ipsec-strongswan.conf:9 conn office"));
    assert_non_null(strstr(r.f[0].detail, "ah=sha256-modp2048"));
    assert_string_equal(r.f[0].src, "192.0.2.10");
    assert_string_equal(r.f[0].dst, "198.51.100.20");
    mm_ah_report_free(&r);

    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_conf_scan_file(conf("ipsec-libreswan.conf"), MM_AH_CONF_IPSEC, &r), 0);
    /* base-ah (template, auto=ignore), site-a (inherits phase2=ah), legacy (auth=ah). */
    assert_int_equal(r.n, 3);
    const mm_ah_finding *f = find(&r, "conn base-ah");
    assert_non_null(f);
    assert_non_null(strstr(f->detail, "phase2=ah"));
    assert_non_null(strstr(f->detail, "auto=ignore"));
    f = find(&r, "conn site-a");
    assert_non_null(f);
    assert_non_null(strstr(f->detail, "ah=sha2_256"));
    assert_null(strstr(f->detail, "auto=ignore"));
    assert_string_equal(f->dst, "198.51.100.60");
    assert_null(find(&r, "conn site-b"));
    assert_non_null(find(&r, "conn legacy"));
    /* site-b: ah= without effect is a note; the include matches nothing: a note. */
    assert_int_equal(r.nnotes, 2);
    mm_ah_report_free(&r);
}

static void test_bad_input(void **state)
{
    mm_ah_report r;
    mm_ah_report_init(&r);
    assert_true(mm_ah_conf_scan_file("/nonexistent/ipsec.conf", MM_AH_CONF_AUTO, &r) < 0);
    assert_int_equal(r.nerrors, 1);
    assert_non_null(strstr(r.errors[0], "No such file"));
    assert_int_equal(mm_ah_report_status(&r), 2);
    mm_ah_report_free(&r);
    /* A directory is not a config. */
    mm_ah_report_init(&r);
    assert_true(mm_ah_conf_scan_file(conf("conf.d"), MM_AH_CONF_AUTO, &r) < 0);
    assert_int_equal(r.nerrors, 1);
    mm_ah_report_free(&r);
    /* Unbalanced braces, deep nesting, NUL bytes, a 10 kB line: notes, no crash. */
    static char text[20000];
    size_t n = 0;
    static const char head[] = "}\n{\na\0b { c {\n";
    memcpy(text, head, sizeof(head) - 1);
    n = sizeof(head) - 1;
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "s%d {\n", i);
    memset(text + n, 'x', 10000);
    n += 10000;
    text[n++] = '\n';
    n += (size_t)snprintf(text + n, sizeof(text) - n, "ah_proposals = sha1\n");
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_conf_scan_buf(text, n, "fuzzy", MM_AH_CONF_SWANCTL, &r), 0);
    assert_true(r.nnotes >= 3);
    assert_true(r.nerrors >= 1); /* nesting deeper than 16 */
    mm_ah_report_free(&r);
    /* The same text as ipsec.conf. */
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_conf_scan_buf(text, n, "fuzzy", MM_AH_CONF_IPSEC, &r), 0);
    assert_int_equal(r.n, 0);
    mm_ah_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swanctl),
        cmocka_unit_test(test_ipsec_conf),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
