/*
 * The SQLite store: persistence across reopen, the DNS push queue that each
 * change fills in the same transaction, TXT limits.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

static void test_queue(void **state)
{
    (void)state;
    char dir[] = "/tmp/mm-ddns-store.XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ddns.db", dir);
    mm_ddns_store *s;
    assert_int_equal(mm_ddns_store_open(path, &s), 0);
    mm_ddns_zone z = {.name = "dyn.example", .server = "127.0.0.1", .port = 5353,
                      .key_name = "k", .key_alg = "hmac-sha256", .key_secret = "c2VjcmV0"};
    assert_int_equal(mm_ddns_store_zone_add(s, &z), 0);
    assert_int_equal(mm_ddns_store_host_add(s, "h.dyn.example", 1), 0);
    assert_int_equal(mm_ddns_store_host_add(s, "h.dyn.example", 1), MM_EEXIST);
    assert_int_equal(mm_ddns_store_host_add(s, "nozone.example", 1), 0);
    mm_ddns_update_req r = {.hostname = "h.dyn.example", .v4 = MM_DDNS_SET};
    mm_ddns_addr_parse("9.9.9.9", 7, &r.a4);
    mm_ddns_host b, a;
    bool changed;
    assert_int_equal(mm_ddns_store_host_update(s, &r, 5, &b, &a, &changed), 0);
    assert_true(changed);
    assert_string_equal(a.zone, "dyn.example");
    assert_int_equal(mm_ddns_store_push_pending(s), 1);
    /* same again: no change, nothing queued */
    assert_int_equal(mm_ddns_store_host_update(s, &r, 6, &b, &a, &changed), 0);
    assert_false(changed);
    assert_int_equal(mm_ddns_store_push_pending(s), 1);
    /* delete: queued after the set */
    mm_ddns_update_req d = {.hostname = "h.dyn.example", .v4 = MM_DDNS_NULL};
    assert_int_equal(mm_ddns_store_host_update(s, &d, 7, &b, &a, &changed), 0);
    assert_int_equal(mm_ddns_store_push_pending(s), 2);
    /* a name without a zone queues nothing */
    mm_ddns_update_req n = {.hostname = "nozone.example", .v4 = MM_DDNS_SET};
    mm_ddns_addr_parse("9.9.9.9", 7, &n.a4);
    assert_int_equal(mm_ddns_store_host_update(s, &n, 8, &b, &a, &changed), 0);
    assert_int_equal(mm_ddns_store_push_pending(s), 2);
    mm_ddns_store_close(s);
    /* reopen: everything is still there, in order */
    assert_int_equal(mm_ddns_store_open(path, &s), 0);
    mm_ddns_push_item it;
    assert_int_equal(mm_ddns_store_push_next(s, 100, &it), 0);
    assert_int_equal(it.op, MM_DDNS_PUSH_SET);
    assert_int_equal(it.rtype, 1);
    assert_string_equal(it.data, "9.9.9.9");
    assert_int_equal(mm_ddns_store_push_retry(s, it.id, 1000), 0);
    assert_int_equal(mm_ddns_store_push_next(s, 100, &it), MM_ENOENT); /* head not due: wait */
    assert_int_equal(mm_ddns_store_push_next(s, 1000, &it), 0);
    assert_int_equal(it.attempts, 1);
    assert_int_equal(mm_ddns_store_push_done(s, it.id), 0);
    assert_int_equal(mm_ddns_store_push_next(s, 1000, &it), 0);
    assert_int_equal(it.op, MM_DDNS_PUSH_DELETE_RRSET);
    assert_int_equal(mm_ddns_store_host_get(s, "nozone.example", &a), 0);
    assert_string_equal(a.ipv4, "9.9.9.9");
    /* TXT */
    size_t cnt, rem, rm;
    for (int i = 0; i < 5; i++) {
        char v[8];
        snprintf(v, sizeof(v), "v%d", i);
        assert_int_equal(mm_ddns_store_txt_add(s, "_acme-challenge.h.dyn.example", "dyn.example", v, 60, 1, &cnt), 0);
    }
    assert_int_equal(mm_ddns_store_txt_add(s, "_acme-challenge.h.dyn.example", "dyn.example", "v9", 60, 1, &cnt), MM_ELIMIT);
    assert_int_equal(mm_ddns_store_txt_delete(s, "_acme-challenge.h.dyn.example", "dyn.example", "v0", &rm, &rem), 0);
    assert_int_equal(rm, 1);
    assert_int_equal(rem, 4);
    assert_int_equal(mm_ddns_store_txt_delete(s, "_acme-challenge.h.dyn.example", "dyn.example", "zz", &rm, &rem), 0);
    assert_int_equal(rm, 0);
    mm_ddns_store_close(s);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_queue)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
