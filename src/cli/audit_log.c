/*
 * `mamori audit verify-log FILE [--key KEYFILE] [--json]`: check an audit
 * log's MAC chain and its head (edits, removals, reordering, truncation).
 * Exit 0 intact, 1 damaged, 2 usage or unreadable input.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mamori/mm_audit.h"
#include "mamori/mm_core.h"

static void verify_log_help(void)
{
    printf("usage: mamori audit verify-log FILE [--key KEYFILE] [--json]\n\n"
           "Checks every record of a mamori audit log: its HMAC-SHA256 under the log's key,\n"
           "its link to the record before it, and the head file (FILE.head) that says how\n"
           "many records there must be, so edited, removed, reordered and cut-off records\n"
           "are all found. The key defaults to FILE.key (keep a copy off the host).\n\n"
           "exit status: 0 intact, 1 damaged, 2 usage error or unreadable log/key\n");
}

int mm_audit_verify_cli(int argc, char **argv)
{
    const char *file = NULL, *key = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (mm_cli_is_help(argv[i])) {
            verify_log_help();
            return MM_CLI_EXIT_OK;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
            key = argv[++i];
        } else if (argv[i][0] == '-' || file) {
            return mm_cli_usage_error("audit", "verify-log: unexpected '%s'", argv[i]);
        } else {
            file = argv[i];
        }
    }
    if (!file)
        return mm_cli_usage_error("audit", "verify-log: which log? (FILE)");
    mm_audit_verify_result r;
    int rc = mm_audit_verify_ex(file, key, &r);
    bool damaged = rc == MM_EVERIFY;
    if (json) {
        json_t *o = json_pack("{s:s, s:b, s:I, s:b, s:I}", "file", file, "intact", rc == 0,
                              "records", (json_int_t)r.count, "head", r.head_present,
                              "head_records", (json_int_t)r.head_count);
        if (rc < 0)
            json_object_set_new(o, "error", json_string(r.why[0] ? r.why : mm_strerror(rc)));
        if (r.bad_line)
            json_object_set_new(o, "first_bad_line", json_integer((json_int_t)r.bad_line));
        if (damaged)
            json_object_set_new(o, "truncated", json_boolean(r.truncated));
        mm_cli_json_print(o);
    } else if (rc == 0) {
        printf("%s: intact, %zu records (head vouches for %llu)\n", file, r.count, r.head_count);
    } else {
        fprintf(stderr, "mamori audit: verify-log: %s: %s\n", file,
                r.why[0] ? r.why : mm_strerror(rc));
        if (damaged)
            printf("%s: DAMAGED after %zu good records\n", file, r.count);
    }
    return rc == 0 ? MM_CLI_EXIT_OK : damaged ? MM_CLI_EXIT_FAIL : MM_CLI_EXIT_USAGE;
}
