/*
 * Config loading: valid files load with defaults; every kind of bad file is
 * rejected with "file:line: yang-path: message". SPDX-License-Identifier: Apache-2.0
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

#include "mamori/mm_config.h"
#include "mamori/mm_core.h"
#include "mamori/mm_supervisor.h"

static const char *const modules[] = {"mamori-suite", NULL};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Load text from a temporary file; return rc and leave the error in err. */
static int load_text(const char *text, char *path, size_t plen, char *err, size_t errlen,
                     mm_config **cfg)
{
    snprintf(path, plen, "/tmp/mm-test-config-%ld.json", (long)getpid());
    write_file(path, text);
    int rc = mm_config_load_file(path, modules, cfg, err, errlen);
    unlink(path);
    return rc;
}

static void expect_error(const char *text, int line, const char *yang_path, const char *msg_part)
{
    char path[256], err[2048], want[512];
    mm_config *cfg = (mm_config *)0x1;
    assert_int_equal(load_text(text, path, sizeof(path), err, sizeof(err), &cfg), MM_ECONFIG);
    assert_null(cfg);
    snprintf(want, sizeof(want), "%s:%d: %s: ", path, line, yang_path);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, want);
    if (!strstr(err, msg_part))
        fail_msg("error \"%s\" lacks \"%s\"", err, msg_part);
}

static void test_valid_with_defaults(void **state)
{
    (void)state;
    char path[256], err[2048];
    mm_config *cfg = NULL;
    const char *text = "{\n \"mamori-suite:suite\": {\n  \"state-dir\": \"/tmp/x\",\n"
                       "  \"daemon\": [{\"name\": \"sleeper\", \"program\": \"sleep\",\n"
                       "    \"argument\": [\"{state-dir}/a\", \"100\"]}]\n }\n}\n";
    assert_int_equal(load_text(text, path, sizeof(path), err, sizeof(err), &cfg), 0);
    assert_non_null(cfg);
    /* Defaults from the YANG module are present. */
    assert_int_equal(mm_config_u32(cfg, "/mamori-suite:suite/restart/initial-backoff-ms", 0),
                     500);
    assert_string_equal(mm_config_str(cfg, "/mamori-suite:suite/log-level", NULL), "info");
    mm_suite_config sc;
    assert_int_equal(mm_suite_config_from_tree(cfg, &sc), 0);
    assert_int_equal(sc.n_daemons, 1);
    assert_string_equal(sc.pki_dir, "/tmp/x/pki");
    assert_true(sc.daemons[0].enabled);
    assert_string_equal(sc.daemons[0].argv[0], "sleep");
    assert_string_equal(sc.daemons[0].argv[1], "/tmp/x/a");
    assert_string_equal(sc.daemons[0].argv[2], "100");
    assert_null(sc.daemons[0].argv[3]);
    mm_suite_config_clear(&sc);
    mm_config_free(cfg);
}

static void test_embedded_default(void **state)
{
    (void)state;
    char err[1024];
    mm_config *cfg = NULL;
    unsetenv("XDG_STATE_HOME");
    char *dflt = mm_suite_default_config();
    assert_non_null(dflt);
    assert_int_equal(mm_config_load_string("<default>", dflt, modules, &cfg, err, sizeof(err)), 0);
    free(dflt);
    mm_suite_config sc;
    assert_int_equal(mm_suite_config_from_tree(cfg, &sc), 0);
    assert_string_equal(sc.state_dir, "./var");
    /* Every listed daemon that exists is in; each gets the loopback defaults. */
    for (size_t i = 0; i < sc.n_daemons; i++) {
        assert_true(sc.daemons[i].enabled);
        /* ... and says so: every listener it names is on loopback. */
        const char *l = sc.daemons[i].listen;
        assert_true(strstr(l, "[::1]") || strstr(l, "127.0.0.1"));
        assert_null(strstr(l, "0.0.0.0"));
        assert_null(strstr(l, "[::]"));
    }
    mm_suite_config_clear(&sc);
    setenv("XDG_STATE_HOME", "/tmp/xdg", 1);
    assert_int_equal(mm_suite_config_from_tree(cfg, &sc), 0);
    assert_string_equal(sc.state_dir, "/tmp/xdg/mamori");
    mm_suite_config_clear(&sc);
    unsetenv("XDG_STATE_HOME");
    mm_config_free(cfg);
}

static void test_out_of_range(void **state)
{
    (void)state;
    expect_error("{\n \"mamori-suite:suite\": {\n  \"restart\": {\n"
                 "   \"initial-backoff-ms\": 5\n  }\n }\n}\n",
                 4, "/mamori-suite:suite/restart/initial-backoff-ms", "range");
}

static void test_unknown_node(void **state)
{
    (void)state;
    expect_error("{\n \"mamori-suite:suite\": {\n\n  \"bogus\": true\n }\n}\n", 4,
                 "/mamori-suite:suite", "bogus");
}

static void test_unknown_node_after_parent_line(void **state)
{
    (void)state;
    expect_error("{\n \"mamori-suite:suite\": {\n  \"bogus\": 1\n }\n}\n", 3,
                 "/mamori-suite:suite", "bogus");
}

static void test_bad_type(void **state)
{
    (void)state;
    expect_error("{\n \"mamori-suite:suite\": {\n  \"restart\": {\"max-backoff-ms\": \"soon\"}\n"
                 " }\n}\n",
                 3, "/mamori-suite:suite/restart/max-backoff-ms", "soon");
}

static void test_bad_enum(void **state)
{
    (void)state;
    expect_error("{\n \"mamori-suite:suite\": {\n  \"log-level\": \"loud\"\n }\n}\n", 3,
                 "/mamori-suite:suite/log-level", "loud");
}

static void test_syntax_error(void **state)
{
    (void)state;
    expect_error("{\n \"mamori-suite:suite\": {\n  \"log-level\": \n}", 4, "/mamori-suite:suite",
                 "JSON");
}

static void test_missing_mandatory(void **state)
{
    (void)state;
    /* No line from libyang here; we point at the enclosing list entry. */
    expect_error("{\n \"mamori-suite:suite\": {\n  \"daemon\": [\n   {\"name\": \"x\"}\n  ]\n }\n}\n",
                 3, "/mamori-suite:suite/daemon/program", "Mandatory");
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[512];
    mm_config *cfg = NULL;
    assert_int_equal(mm_config_load_file("/nonexistent/mamori.json", modules, &cfg, err,
                                         sizeof(err)),
                     MM_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/mamori.json: cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_with_defaults), cmocka_unit_test(test_embedded_default),
        cmocka_unit_test(test_out_of_range),        cmocka_unit_test(test_unknown_node),
        cmocka_unit_test(test_bad_enum),            cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_missing_mandatory),   cmocka_unit_test(test_bad_type),
        cmocka_unit_test(test_unknown_node_after_parent_line),   cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
