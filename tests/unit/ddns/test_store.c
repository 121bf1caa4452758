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
#include "mamori/mm_ddns_push.h"

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

static void set4(mm_ddns_store *s, const char *host, const char *addr, int64_t now)
{
    mm_ddns_update_req r = {.v4 = MM_DDNS_SET};
    snprintf(r.hostname, sizeof(r.hostname), "%s", host);
    mm_ddns_addr_parse(addr, strlen(addr), &r.a4);
    mm_ddns_host b, a;
    bool changed;
    assert_int_equal(mm_ddns_store_host_update(s, &r, now, &b, &a, &changed), 0);
    assert_true(changed);
}

/* Batches for one coalesced UPDATE: one zone, queue order, due, bounded; removal exact. */
static void test_batch(void **state)
{
    (void)state;
    char dir[] = "/tmp/mm-ddns-store.XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ddns.db", dir);
    mm_ddns_store *s;
    assert_int_equal(mm_ddns_store_open(path, &s), 0);
    mm_ddns_zone z1 = {.name = "one.example", .server = "127.0.0.1", .port = 5353};
    mm_ddns_zone z2 = {.name = "two.example", .server = "127.0.0.1", .port = 5353};
    assert_int_equal(mm_ddns_store_zone_add(s, &z1), 0);
    assert_int_equal(mm_ddns_store_zone_add(s, &z2), 0);
    assert_int_equal(mm_ddns_store_host_add(s, "a.one.example", 1), 0);
    assert_int_equal(mm_ddns_store_host_add(s, "b.one.example", 1), 0);
    assert_int_equal(mm_ddns_store_host_add(s, "c.two.example", 1), 0);
    set4(s, "a.one.example", "9.9.9.1", 2);
    set4(s, "b.one.example", "9.9.9.2", 3);
    set4(s, "c.two.example", "9.9.9.3", 4);
    set4(s, "a.one.example", "9.9.9.4", 5);
    static mm_ddns_push_item items[64];
    size_t n = 0;
    /* the run stops at the first item of another zone */
    assert_int_equal(mm_ddns_store_push_batch(s, 100, items, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(items[0].name, "a.one.example");
    assert_string_equal(items[1].name, "b.one.example");
    assert_int_equal(mm_ddns_store_push_batch(s, 100, items, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(mm_ddns_push_fit(items, 1), 1);
    int64_t ids[2] = {items[0].id, 0};
    assert_int_equal(mm_ddns_store_push_batch(s, 100, items, 8, &n), 0);
    ids[1] = items[1].id;
    assert_int_equal(mm_ddns_store_push_done_many(s, ids, 2), 0);
    assert_int_equal(mm_ddns_store_push_pending(s), 2);
    assert_int_equal(mm_ddns_store_push_batch(s, 100, items, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].zone, "two.example");
    assert_int_equal(mm_ddns_store_push_done_many(s, &items[0].id, 1), 0);
    /* a head that is not due yet holds the queue */
    assert_int_equal(mm_ddns_store_push_batch(s, 100, items, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].data, "9.9.9.4");
    assert_int_equal(mm_ddns_store_push_retry(s, items[0].id, 1000), 0);
    assert_int_equal(mm_ddns_store_push_batch(s, 100, items, 8, &n), MM_ENOENT);
    assert_int_equal(n, 0);
    assert_int_equal(mm_ddns_store_push_batch(s, 1000, items, 8, &n), 0);
    assert_int_equal(items[0].attempts, 1);
    mm_ddns_store_close(s);
    /* the message bound: long items fit fewer per message, at least one always */
    for (size_t i = 0; i < 64; i++) {
        memset(items[i].name, 'x', MM_DDNS_HOSTNAME_MAX);
        items[i].name[MM_DDNS_HOSTNAME_MAX] = 0;
        memset(items[i].data, 'y', MM_DDNS_TXT_VALUE_MAX);
        items[i].data[MM_DDNS_TXT_VALUE_MAX] = 0;
    }
    size_t k = mm_ddns_push_fit(items, 64);
    assert_true(k >= 1 && k < 64); /* cut by size, not by count */
    assert_true(k * (2 * (MM_DDNS_HOSTNAME_MAX + 12) + MM_DDNS_TXT_VALUE_MAX + 16) <= MM_DDNS_PUSH_MSG_MAX);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_queue), cmocka_unit_test(test_batch)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
