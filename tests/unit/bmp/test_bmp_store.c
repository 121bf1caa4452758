/*
 * test_bmp_store.c - the SQLite store: one row per Statistics Report, read
 * back one row per statistic through the "stats" view with the registry's
 * names (stat_types), unknown statistics kept as hex with their reason, a
 * 64-bit gauge above 2^63 kept bit for bit, the peer-id cache of reports
 * (a changed AS is upserted), and a store of the earlier per-statistic
 * schema migrated (its rows stay visible through the view).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "bmp_gen.h"
#include "mamori/mm_bmp.h"
#include "mamori/mm_core.h"

static uint8_t wbuf[1 << 16];
static char dir[] = "/tmp/mm-bmp-store.XXXXXX";
static char path[sizeof(dir) + 16];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/mm-bmp-store.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/bmp.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[sizeof(dir) + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* First column of the first row of sql as text ("" if none), into out. */
static void q1(const char *sql, char *out, size_t len)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    out[0] = 0;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(h);
}

static void assert_q(const char *sql, const char *want)
{
    char got[512];
    q1(sql, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("%s: got '%s', want '%s'", sql, got, want);
}

static void store_bytes(mm_bmp_store *s, int64_t rid, size_t len, int64_t ts)
{
    mm_bmp_msg m;
    assert_int_equal(mm_bmp_msg_decode(wbuf, len, &m), 0);
    assert_int_equal(mm_bmp_store_msg(s, rid, &m, ts), 0);
}

/* A report with an unknown type (3 bytes), a gauge of 2^64-1 and an AFI/SAFI gauge. */
static size_t odd_report(const mm_bmp_peer_hdr *p)
{
    mm_cursor w;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    size_t off = mm_bmp_msg_begin(&w, MM_BMP_STATS_REPORT);
    mm_bmp_peer_hdr_encode(&w, p);
    mm_cursor_write_u32(&w, 3);
    mm_cursor_write_u16(&w, 60000);
    mm_cursor_write_u16(&w, 3);
    mm_cursor_write_bytes(&w, (const uint8_t *)"\x01\xab\xff", 3);
    assert_int_equal(mm_bmp_stat_encode(&w, 7, UINT64_MAX, 0, 0), 0);
    assert_int_equal(mm_bmp_stat_encode(&w, 9, 42, 2, 1), 0);
    assert_int_equal(mm_bmp_msg_finish(&w, off), 0);
    return mm_cursor_offset(&w);
}

static void test_reports_through_the_view(void **state)
{
    (void)state;
    mm_bmp_store *s;
    assert_int_equal(mm_bmp_store_open(path, &s), 0);
    int64_t rid;
    assert_int_equal(mm_bmp_store_begin(s), 0);
    assert_int_equal(mm_bmp_store_router_up(s, "192.0.2.254", 1000, &rid), 0);
    mm_bmp_peer_hdr p;
    bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, 0, 1);
    mm_cursor w;
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_peer_up(&w, &p, NULL), 0);
    store_bytes(s, rid, mm_cursor_offset(&w), 2000);
    store_bytes(s, rid, odd_report(&p), 3000);
    mm_cursor_init_write(&w, wbuf, sizeof(wbuf));
    assert_int_equal(bmp_gen_stats_all(&w, &p, 500), 0);
    store_bytes(s, rid, mm_cursor_offset(&w), 4000);
    /* Same peer address, new AS (a re-peering): the report's peer row follows. */
    p.as = 64999;
    store_bytes(s, rid, odd_report(&p), 5000);
    assert_int_equal(mm_bmp_store_commit(s), 0);
    mm_bmp_store_close(s);

    size_t n;
    mm_bmp_stat_types(&n);
    char want[32];
    snprintf(want, sizeof(want), "%zu", 3 + n + 3);
    assert_q("SELECT count(*) FROM stats", want);
    assert_q("SELECT count(*) FROM stat_reports", "3");
    assert_q("SELECT raw_hex || '/' || reason || '/' || ifnull(name, 'none') || '/' || "
             "ifnull(value, 'null') FROM stats WHERE type = 60000 AND ts_us = 3000",
             "01ABFF/unknown statistics type/none/null");
    /* 2^64-1 as SQLite's signed 64 bits. */
    assert_q("SELECT value FROM stats WHERE type = 7 AND ts_us = 3000", "-1");
    assert_q("SELECT name || ' ' || afi || ' ' || safi || ' ' || value FROM stats"
             " WHERE type = 9 AND ts_us = 3000",
             "adj_rib_in_routes_afi_safi 2 1 42");
    assert_q("SELECT value FROM stats WHERE type = 43 AND ts_us = 4000", "543");
    assert_q("SELECT group_concat(p.peer_asn) FROM stat_reports r JOIN peers p ON p.id = r.peer_id"
             " WHERE r.ts_us = 5000",
             "64999");
    assert_q("SELECT name FROM stat_types WHERE type = 65531", mm_bmp_stat_type_find(65531)->name);
}

static void test_old_schema_migrated(void **state)
{
    (void)state;
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(h,
                     "CREATE TABLE stats(peer_id INTEGER NOT NULL, ts_us INTEGER NOT NULL,"
                     " type INTEGER NOT NULL, name TEXT, afi INTEGER, safi INTEGER, value INTEGER,"
                     " raw_hex TEXT, reason TEXT);"
                     "INSERT INTO stats VALUES(1, 10, 7, 'adj_rib_in_routes', NULL, NULL, 77,"
                     " NULL, NULL);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(h);
    mm_bmp_store *s;
    assert_int_equal(mm_bmp_store_open(path, &s), 0);
    int64_t rid;
    assert_int_equal(mm_bmp_store_router_up(s, "192.0.2.254", 1000, &rid), 0);
    mm_bmp_peer_hdr p;
    bmp_gen_peer(&p, MM_BMP_PEER_GLOBAL, 0, 1);
    store_bytes(s, rid, odd_report(&p), 3000);
    mm_bmp_store_close(s);
    /* Reopening a migrated store changes nothing. */
    assert_int_equal(mm_bmp_store_open(path, &s), 0);
    mm_bmp_store_close(s);
    assert_q("SELECT count(*) FROM stats", "4");
    assert_q("SELECT value FROM stats WHERE ts_us = 10", "77");
    assert_q("SELECT type FROM sqlite_master WHERE name = 'stats'", "view");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reports_through_the_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_schema_migrated, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
