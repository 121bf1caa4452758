/*
 * The milter's per-message logic without libmilter (filter.c): configuration
 * from the YANG-validated JSON, signing for internal clients, verification with
 * Authentication-Results for others, the intermediary's refusal to edit what it
 * cannot chain, key-file mode checks, audit records.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <sys/stat.h>

#include <openssl/pem.h>

#include "dkim_test.h"

static char dir[64];
static EVP_PKEY *ed;

static void write_file(const char *name, const char *text, mode_t mode)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(p, mode);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/mm-dkim-filter-XXXXXX");
    assert_non_null(mkdtemp(dir));
    mm_buf rec;
    mm_buf_init(&rec, 4096);
    ed = t_key(MM_DKIM_ALG_ED25519_SHA256, 0, "f1", &rec);
    write_file("keys.txt", mm_buf_cstr(&rec), 0600);
    mm_buf_free(&rec);
    char p[256];
    snprintf(p, sizeof(p), "%s/ed.pem", dir);
    FILE *f = fopen(p, "w");
    PEM_write_PrivateKey(f, ed, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    chmod(p, 0600);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(ed);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static mm_dkim_filter *load(const char *extra, const char *keyfile, int want_rc)
{
    char json[2048], p[256], err[1024] = "";
    snprintf(json, sizeof(json),
             "{\"mamori-dkim:dkim\": {\"audit-log\": \"%s/audit.log\", \"authserv-id\": \"mx.test\","
             " \"keys\": {\"key-file\": \"%s/keys.txt\"}, \"internal-client\": [\"10.0.0.1\"],%s"
             " \"signing-key\": [{\"domain\": \"example.test\", \"selector\": \"f1\","
             " \"key-file\": \"%s/%s\"}]}}",
             dir, dir, extra, dir, keyfile);
    write_file("conf.json", json, 0600);
    snprintf(p, sizeof(p), "%s/conf.json", dir);
    mm_dkim_filter *f = NULL;
    int rc = mm_dkim_filter_load(p, &f, err, sizeof(err));
    if (rc != want_rc)
        print_message("load: %d %s\n", rc, err);
    assert_int_equal(rc, want_rc);
    return f;
}

/* One transaction; returns the outcome, *signed_msg gets the message as the MTA writes it. */
static void run(mm_dkim_filter *f, const char *ip, const char *subject, mm_dkim_fout *out,
                const char *extra_field)
{
    mm_dkim_fsess *s = mm_dkim_fsess_new(f, ip);
    assert_non_null(s);
    assert_int_equal(mm_dkim_fsess_envfrom(s, "<alice@example.test>"), 0);
    assert_int_equal(mm_dkim_fsess_rcpt(s, "<bob@example.net>"), 0);
    mm_dkim_fsess_queue_id(s, "Q1");
    if (extra_field) {
        const char *colon = strchr(extra_field, ':');
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(colon - extra_field), extra_field);
        assert_int_equal(mm_dkim_fsess_header(s, name, colon + 2), 0);
    }
    assert_int_equal(mm_dkim_fsess_header(s, "From", "Alice <alice@example.test>"), 0);
    assert_int_equal(mm_dkim_fsess_header(s, "To", "bob@example.net"), 0);
    assert_int_equal(mm_dkim_fsess_header(s, "Subject", subject), 0);
    assert_int_equal(mm_dkim_fsess_eoh(s), 0);
    const char *body = "line one\r\nline two\r\n";
    assert_int_equal(mm_dkim_fsess_body(s, (const uint8_t *)body, strlen(body)), 0);
    assert_int_equal(mm_dkim_fsess_eom(s, out), 0);
    mm_dkim_fsess_free(s);
}

static void test_sign_then_verify(void **state)
{
    (void)state;
    mm_dkim_filter *f = load("", "ed.pem", 0);
    mm_dkim_fout out;
    run(f, "10.0.0.1", "hello", &out, NULL); /* internal: signed */
    assert_int_equal(out.action, MM_DKIM_ACCEPT);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.name[0], "DKIM-Signature");
    /* the signature as a header line for the next hop (milter form: value, LF folds) */
    char field[4096];
    snprintf(field, sizeof(field), "DKIM-Signature: %s", out.value[0]);
    mm_dkim_fout_free(&out);
    run(f, "192.0.2.9", "hello", &out, field); /* external: verified */
    assert_int_equal(out.action, MM_DKIM_ACCEPT);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.name[0], "Authentication-Results");
    assert_non_null(strstr(out.value[0], "mx.test;"));
    assert_non_null(strstr(out.value[0], "dkim=pass"));
    assert_non_null(strstr(out.value[0], "x-acdc=pass")); /* envelope of this transaction */
    mm_dkim_fout_free(&out);
    run(f, "192.0.2.9", "changed", &out, field);
    assert_non_null(strstr(out.value[0], "dkim=fail"));
    mm_dkim_fout_free(&out);
    mm_dkim_filter_free(f);
    /* every decision audited, chain intact */
    char p[256];
    size_t count = 0, bad = 0;
    snprintf(p, sizeof(p), "%s/audit.log", dir);
    assert_int_equal(mm_audit_verify(p, &count, &bad), 0);
    assert_true(count >= 5); /* sign, verify x2 (+ acdc x2) */
}

static void test_intermediary_refuses_unchained(void **state)
{
    (void)state;
    mm_dkim_filter *f = load(" \"intermediary\": {\"domain\": \"example.test\", \"subject-tag\": \"[gw]\"},",
                             "ed.pem", 0);
    mm_dkim_fout out;
    run(f, "10.0.0.1", "hello", &out, NULL);
    char field[4096];
    snprintf(field, sizeof(field), "DKIM-Signature: %s", out.value[0]);
    mm_dkim_fout_free(&out);
    /* bob@example.net is in instance 1: edited and chained */
    run(f, "192.0.2.9", "hello", &out, field);
    assert_non_null(out.new_subject);
    assert_string_equal(out.new_subject, "[gw] hello");
    mm_dkim_fout_free(&out);
    mm_dkim_filter_free(f);
    /* the same message in a transaction for someone instance 1 never listed: not edited */
    f = load(" \"intermediary\": {\"domain\": \"example.test\", \"subject-tag\": \"[gw]\"},", "ed.pem", 0);
    mm_dkim_fsess *s = mm_dkim_fsess_new(f, "192.0.2.9");
    assert_int_equal(mm_dkim_fsess_envfrom(s, "<alice@example.test>"), 0);
    assert_int_equal(mm_dkim_fsess_rcpt(s, "<eve@evil.test>"), 0);
    const char *colon = strchr(field, ':');
    assert_int_equal(mm_dkim_fsess_header(s, "DKIM-Signature", colon + 2), 0);
    assert_int_equal(mm_dkim_fsess_header(s, "From", "Alice <alice@example.test>"), 0);
    assert_int_equal(mm_dkim_fsess_header(s, "To", "bob@example.net"), 0);
    assert_int_equal(mm_dkim_fsess_header(s, "Subject", "hello"), 0);
    assert_int_equal(mm_dkim_fsess_eoh(s), 0);
    assert_int_equal(mm_dkim_fsess_body(s, (const uint8_t *)"line one\r\nline two\r\n", 20), 0);
    assert_int_equal(mm_dkim_fsess_eom(s, &out), 0);
    assert_null(out.new_subject);
    assert_null(out.new_body);
    assert_non_null(strstr(out.value[0], "acdc-envelope-rcpt-not-authorized"));
    mm_dkim_fout_free(&out);
    mm_dkim_fsess_free(s);
    mm_dkim_filter_free(f);
}

static void test_config_refusals(void **state)
{
    (void)state;
    char p[256];
    snprintf(p, sizeof(p), "%s/ed.pem", dir);
    chmod(p, 0640);
    load("", "ed.pem", MM_EPERM); /* group-readable key */
    chmod(p, 0600);
    load(" \"intermediary\": {\"domain\": \"other.test\"},", "ed.pem", MM_ECONFIG); /* no key */
    load(" \"dns-failure\": \"maybe\",", "ed.pem", MM_ECONFIG);                      /* YANG */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_then_verify),
        cmocka_unit_test(test_intermediary_refuses_unchained),
        cmocka_unit_test(test_config_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
