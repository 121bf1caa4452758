/*
 * Audit log: records chain, survive reopen, and any edit, deletion or
 * reordering is detected. SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_audit.h"
#include "mamori/mm_core.h"

static char path[128];

static void write_n(int n, const char *subject)
{
    mm_audit *a = NULL;
    assert_int_equal(mm_audit_open(path, &a), 0);
    for (int i = 0; i < n; i++) {
        char obj[32];
        snprintf(obj, sizeof(obj), "/x:y[%d]", i);
        mm_audit_record r = {.module = "netconf", .subject = subject, .action = "write",
                             .object = obj, .permit = i % 2, .reason = "rule \"a\"\n",
                             .session = "7"};
        assert_int_equal(mm_audit_write(a, &r), 0);
    }
    mm_audit_close(a);
}

static void rewrite(const char *from, const char *to)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[16384];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *hit = strstr(buf, from);
    assert_non_null(hit);
    char out[16384];
    snprintf(out, sizeof(out), "%.*s%s%s", (int)(hit - buf), buf, to, hit + strlen(from));
    f = fopen(path, "w");
    fputs(out, f);
    fclose(f);
}

static void unlink_all(void)
{
    char p[160];
    unlink(path);
    snprintf(p, sizeof(p), "%s.key", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s.head", path);
    unlink(p);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof(path), "/tmp/mm-test-audit-%ld.log", (long)getpid());
    unlink_all();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink_all();
    return 0;
}

static void test_chain_and_reopen(void **state)
{
    (void)state;
    write_n(3, "alice");
    write_n(2, "bob"); /* a reopened log continues the chain */
    size_t count = 0, bad = 0;
    assert_int_equal(mm_audit_verify(path, &count, &bad), 0);
    assert_int_equal(count, 5);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* Escaping keeps one record per line. */
    FILE *f = fopen(path, "r");
    char line[4096];
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(strstr(line, "\"reason\":\"rule \\\"a\\\"\\u000a\""));
    assert_non_null(strstr(line, "\"decision\":\"deny\""));
    /* RFC 3339 UTC with microseconds: {"time":"YYYY-MM-DDTHH:MM:SS.ffffffZ" */
    static const char shape[] = "{\"time\":\"dddd-dd-ddTdd:dd:dd.ddddddZ\"";
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd')
            assert_true(line[i] >= '0' && line[i] <= '9');
        else
            assert_int_equal(line[i], shape[i]);
    }
}

static void test_tamper_detected(void **state)
{
    (void)state;
    write_n(4, "alice");
    rewrite("\"object\":\"/x:y[2]\"", "\"object\":\"/x:y[9]\"");
    size_t count = 0, bad = 0;
    assert_int_equal(mm_audit_verify(path, &count, &bad), MM_EVERIFY);
    assert_int_equal(bad, 3);
    assert_int_equal(count, 2);
}

static void test_flip_decision_detected(void **state)
{
    (void)state;
    write_n(2, "mallory");
    rewrite("\"decision\":\"deny\"", "\"decision\":\"permit\"");
    size_t count = 0, bad = 0;
    assert_int_equal(mm_audit_verify(path, &count, &bad), MM_EVERIFY);
    assert_int_equal(bad, 1);
}

static void test_deleted_record_detected(void **state)
{
    (void)state;
    write_n(3, "alice");
    FILE *f = fopen(path, "r");
    char l1[4096], l2[4096], l3[4096];
    assert_non_null(fgets(l1, sizeof(l1), f));
    assert_non_null(fgets(l2, sizeof(l2), f));
    assert_non_null(fgets(l3, sizeof(l3), f));
    fclose(f);
    f = fopen(path, "w");
    fputs(l1, f);
    fputs(l3, f); /* l2 removed */
    fclose(f);
    size_t count = 0, bad = 0;
    assert_int_equal(mm_audit_verify(path, &count, &bad), MM_EVERIFY);
    assert_int_equal(bad, 2);
}

static void test_torn_tail_dropped(void **state)
{
    (void)state;
    write_n(1, "alice");
    FILE *f = fopen(path, "a");
    fputs("{\"time\":\"partial", f);
    fclose(f);
    size_t count = 0, bad = 0;
    assert_int_equal(mm_audit_verify(path, &count, &bad), MM_EVERIFY);
    /* Reopening drops the unacknowledged torn record and continues the chain. */
    write_n(2, "bob");
    assert_int_equal(mm_audit_verify(path, &count, &bad), 0);
    assert_int_equal(count, 3);
}

static size_t lines_in(const char *file)
{
    FILE *f = fopen(file, "r");
    size_t n = 0;
    int ch;
    while (f && (ch = fgetc(f)) != EOF)
        n += ch == '\n';
    if (f)
        fclose(f);
    return n;
}

static void test_batch(void **state)
{
    (void)state;
    mm_audit *a = NULL;
    assert_int_equal(mm_audit_open(path, &a), 0);
    mm_audit_record read_ok = {.module = "netconf", .subject = "u", .action = "read",
                               .object = "/a", .permit = true, .reason = "r"};
    mm_audit_record write_ok = read_ok;
    write_ok.action = "update";
    mm_audit_batch_begin(a);
    mm_audit_batch_begin(a); /* nested */
    assert_int_equal(mm_audit_write(a, &read_ok), 0);
    assert_int_equal(mm_audit_write(a, &read_ok), 0);
    assert_int_equal(lines_in(path), 0); /* held in the batch */
    assert_int_equal(mm_audit_flush_critical(a), 0);
    assert_int_equal(lines_in(path), 0); /* nothing critical yet */
    assert_int_equal(mm_audit_write(a, &write_ok), 0);
    assert_int_equal(mm_audit_flush_critical(a), 0);
    assert_int_equal(lines_in(path), 3); /* a change is written before its reply */
    assert_int_equal(mm_audit_write(a, &read_ok), 0);
    assert_int_equal(mm_audit_batch_end(a), 0);
    assert_int_equal(lines_in(path), 3); /* inner end: still batched */
    assert_int_equal(mm_audit_batch_end(a), 0);
    assert_int_equal(lines_in(path), 4);
    mm_audit_close(a);
    size_t count = 0, bad = 0;
    assert_int_equal(mm_audit_verify(path, &count, &bad), 0);
    assert_int_equal(count, 4);
}

/* Keep the first n lines of the log (what a tail-cutting intruder does). */
static void keep_lines(size_t n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), f), end = 0;
    fclose(f);
    for (size_t seen = 0; end < len && seen < n; end++)
        seen += buf[end] == '\n';
    assert_int_equal(truncate(path, (off_t)end), 0);
}

static void test_truncation_detected(void **state)
{
    (void)state;
    write_n(5, "alice");
    keep_lines(3);
    mm_audit_verify_result r;
    assert_int_equal(mm_audit_verify_ex(path, NULL, &r), MM_EVERIFY);
    assert_true(r.truncated);
    assert_int_equal(r.count, 3);
    assert_int_equal(r.head_count, 5);
    /* Removing the head as well is reported, not accepted. */
    char hp[160];
    snprintf(hp, sizeof(hp), "%s.head", path);
    assert_int_equal(unlink(hp), 0);
    assert_int_equal(mm_audit_verify_ex(path, NULL, &r), MM_EVERIFY);
    assert_false(r.head_present);
    assert_non_null(strstr(r.why, "truncation"));
}

/* Rewriting the log and re-chaining it without the key is detected. */
static void test_rechain_without_key_detected(void **state)
{
    (void)state;
    write_n(3, "alice");
    char kp[160], saved[160];
    snprintf(kp, sizeof(kp), "%s.key", path);
    snprintf(saved, sizeof(saved), "%s.saved", path);
    assert_int_equal(rename(kp, saved), 0);
    char hp[160], hsaved[160];
    snprintf(hp, sizeof(hp), "%s.head", path);
    snprintf(hsaved, sizeof(hsaved), "%s.hsaved", path);
    assert_int_equal(rename(hp, hsaved), 0);
    unlink(path);
    write_n(3, "mallory"); /* a consistent chain under the intruder's own key */
    size_t count = 0, bad = 0;
    assert_int_equal(mm_audit_verify(path, &count, &bad), 0);
    assert_int_equal(rename(saved, kp), 0); /* the verifier holds the real key */
    assert_int_equal(rename(hsaved, hp), 0);
    assert_int_equal(mm_audit_verify(path, &count, &bad), MM_EVERIFY);
    assert_int_equal(bad, 1);
}

/* A record of any size is written (fields shortened, never dropped). */
static void test_huge_record_kept(void **state)
{
    (void)state;
    mm_audit *a = NULL;
    assert_int_equal(mm_audit_open(path, &a), 0);
    size_t big = 200000;
    char *obj = malloc(big + 1);
    assert_non_null(obj);
    for (size_t i = 0; i < big; i++)
        obj[i] = i % 7 ? 'k' : '"'; /* escapes too */
    obj[big] = '\0';
    mm_audit_record r = {.module = "netconf", .subject = "u", .action = "create",
                         .object = obj, .permit = true, .reason = obj};
    assert_int_equal(mm_audit_write(a, &r), 0);
    free(obj);
    mm_audit_close(a);
    assert_int_equal(lines_in(path), 1);
    size_t count = 0, bad = 0;
    assert_int_equal(mm_audit_verify(path, &count, &bad), 0);
    assert_int_equal(count, 1);
    FILE *f = fopen(path, "r");
    static char line[65536];
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_non_null(strstr(line, "\"cut\":true"));
    assert_non_null(strstr(line, "bytes]"));
    assert_true(strlen(line) < 20000);
}

/* A failed write keeps the records queued and the chain whole. */
static void test_write_failure_keeps_chain(void **state)
{
    (void)state;
    signal(SIGXFSZ, SIG_IGN);
    mm_audit *a = NULL;
    assert_int_equal(mm_audit_open(path, &a), 0);
    mm_audit_record r = {.module = "netconf", .subject = "u", .action = "create",
                         .object = "/a", .permit = true, .reason = "r"};
    assert_int_equal(mm_audit_write(a, &r), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)st.st_size + 100; /* room for part of one record */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    r.object = "/b";
    assert_int_equal(mm_audit_write(a, &r), MM_EIO); /* the operation must fail */
    r.object = "/c";
    assert_int_equal(mm_audit_write(a, &r), MM_EIO);
    assert_int_equal(lines_in(path), 1); /* no torn record left behind */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    r.object = "/d";
    assert_int_equal(mm_audit_write(a, &r), 0);
    mm_audit_close(a);
    size_t count = 0, bad = 0;
    assert_int_equal(mm_audit_verify(path, &count, &bad), 0);
    assert_int_equal(count, 4); /* /a, then the queued /b and /c, then /d */
    signal(SIGXFSZ, SIG_DFL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rechain_without_key_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_record_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure_keeps_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tamper_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flip_decision_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_record_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
