/*
 * cli.h - shared helpers of the `mamori` command. One file per noun;
 * each noun is `int mm_cli_<noun>(int argc, char **argv)` with argv[0] the
 * noun, returning the process exit status.
 *
 * Conventions every noun follows:
 *  - `mamori NOUN help` / `-h` / `--help` prints the noun's help to stdout, exit 0;
 *  - usage errors print one line to stderr, then "try: mamori NOUN help", exit 2;
 *  - other failures print "mamori NOUN: <what>: <why>" to stderr, exit 1;
 *  - `--json` makes the command print exactly one JSON object on stdout.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_CLI_H
#define MAMORI_CLI_H

#include <stdbool.h>

#include <jansson.h>

#define MM_CLI_EXIT_OK 0
#define MM_CLI_EXIT_FAIL 1
#define MM_CLI_EXIT_USAGE 2

/* True if s is one of the help spellings. */
bool mm_cli_is_help(const char *s);
/* Print "mamori NOUN: msg" and a hint to stderr; returns MM_CLI_EXIT_USAGE. */
int mm_cli_usage_error(const char *noun, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "mamori NOUN: msg" to stderr; returns MM_CLI_EXIT_FAIL. */
int mm_cli_fail(const char *noun, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print obj as one line of JSON on stdout and release it. */
void mm_cli_json_print(json_t *obj);

/* Nouns implemented in this directory. */
int mm_cli_pki(int argc, char **argv);
int mm_cli_up(int argc, char **argv);
int mm_cli_version(int argc, char **argv);

/* Nouns contributed by modules (weak: absent when the module is not built). */
int mm_cli_kem(int argc, char **argv) __attribute__((weak));
int mm_cli_tls(int argc, char **argv) __attribute__((weak));
int mm_cli_nc(int argc, char **argv) __attribute__((weak));
int mm_cli_ddns(int argc, char **argv) __attribute__((weak));
int mm_cli_bmp(int argc, char **argv) __attribute__((weak));
int mm_cli_bgp(int argc, char **argv) __attribute__((weak));
int mm_cli_dkim(int argc, char **argv) __attribute__((weak));
int mm_cli_audit(int argc, char **argv) __attribute__((weak));
/* `mamori audit verify-log` (src/cli/audit_log.c), a verb of the audit noun. */
int mm_audit_verify_cli(int argc, char **argv);

#endif
