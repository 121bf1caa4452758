/*
 * mm_supervisor.h - the suite supervisor behind `mamori up`.
 *
 * Starts every enabled daemon, restarts a crashed one with exponential
 * backoff (logged), and on SIGINT/SIGTERM stops them all (SIGTERM, then
 * SIGKILL after a grace period) before returning.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_SUPERVISOR_H
#define MAMORI_MM_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mamori/mm_config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MM_SUPERVISOR_MAX_DAEMONS 32
#define MM_SUPERVISOR_MAX_ARGS 64
#define MM_SUPERVISOR_STOP_GRACE_MS 5000

typedef struct mm_daemon_spec {
    char name[33];
    bool enabled;
    char program[1024];
    char *argv[MM_SUPERVISOR_MAX_ARGS + 2]; /* argv[0] = program; NULL-terminated; owned */
    char listen[256];
    char hint[512];
} mm_daemon_spec;

typedef struct mm_suite_config {
    char state_dir[1024];
    char pki_dir[1024];
    char log_level[8];
    /* suite/scloudplus as "key=value;...", exported to daemons as
     * MM_SCLOUDPLUS_OPTIONS (read by src/tls); empty if none */
    char scloudplus_options[512];
    uint32_t initial_backoff_ms, max_backoff_ms, stable_after_s;
    size_t n_daemons;
    mm_daemon_spec daemons[MM_SUPERVISOR_MAX_DAEMONS];
} mm_suite_config;

/*
 * The configuration used when `mamori up` is given none (JSON, module
 * mamori-suite), malloc'd: every daemon of the suite whose program is
 * installed (or built), on loopback, with state under the default state
 * directory. Returns NULL only when out of memory.
 */
char *mm_suite_default_config(void);

/*
 * Where a daemon's program is: a path is used as is; a bare name is looked
 * up beside the running binary, then in the build tree's daemon folders,
 * then left to PATH. out receives the result.
 */
void mm_suite_resolve_program(const char *program, char *out, size_t len);

/*
 * Fill out from a validated mamori-suite tree: defaults applied, the state
 * directory resolved (./var, or $XDG_STATE_HOME/mamori), {state-dir} and
 * {pki-dir} substituted in arguments and connect hints.
 */
int mm_suite_config_from_tree(const mm_config *cfg, mm_suite_config *out);
void mm_suite_config_clear(mm_suite_config *c);

/*
 * Run until SIGINT/SIGTERM: create the state directory and PKI if missing,
 * print what runs where to `banner` (may be NULL), start the daemons and
 * keep them running. Returns 0 after a clean stop.
 */
int mm_supervisor_run(const mm_suite_config *cfg, FILE *banner);

#ifdef __cplusplus
}
#endif
#endif
