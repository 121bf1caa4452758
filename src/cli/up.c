/*
 * mamori up - run the suite.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mamori/mm_config.h"
#include "mamori/mm_core.h"
#include "mamori/mm_supervisor.h"

static const char *const suite_modules[] = {"mamori-suite", NULL};

static int help(void)
{
    printf("usage: mamori up [--config FILE] [--check]\n\n"
           "Start every enabled daemon of the suite and keep it running: a daemon that\n"
           "crashes is restarted with exponential backoff. Ctrl-C or SIGTERM stops all\n"
           "daemons cleanly (SIGTERM, then SIGKILL after %d s).\n\n"
           "  --config FILE  JSON configuration (YANG module mamori-suite); without it the\n"
           "                 embedded default is used: state in ./var (or\n"
           "                 $XDG_STATE_HOME/mamori), the PKI created there on first run,\n"
           "                 loopback listeners only.\n"
           "  --check        validate the configuration, print the plan, and exit.\n",
           MM_SUPERVISOR_STOP_GRACE_MS / 1000);
    return MM_CLI_EXIT_OK;
}

int mm_cli_up(int argc, char **argv)
{
    const char *path = NULL;
    bool check = false;
    for (int i = 1; i < argc; i++) {
        if (mm_cli_is_help(argv[i]))
            return help();
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "--check"))
            check = true;
        else
            return mm_cli_usage_error("up", "unknown or incomplete option '%s'", argv[i]);
    }
    char err[4096];
    mm_config *cfg = NULL;
    char *dflt = path ? NULL : mm_suite_default_config();
    if (!path && !dflt)
        return mm_cli_fail("up", "%s", mm_strerror(MM_ENOMEM));
    int rc = path ? mm_config_load_file(path, suite_modules, &cfg, err, sizeof(err))
                  : mm_config_load_string("<embedded default>", dflt, suite_modules, &cfg, err,
                                          sizeof(err));
    free(dflt);
    if (rc < 0) {
        fprintf(stderr, "%s\nmamori up: configuration rejected; nothing was started\n", err);
        return MM_CLI_EXIT_FAIL;
    }
    mm_suite_config *sc = calloc(1, sizeof(*sc));
    rc = sc ? mm_suite_config_from_tree(cfg, sc) : MM_ENOMEM;
    mm_config_free(cfg);
    if (rc < 0) {
        free(sc);
        return mm_cli_fail("up", "configuration: %s", mm_strerror(rc));
    }
    enum mm_log_level lvl = MM_LOG_INFO;
    mm_log_level_parse(sc->log_level, &lvl);
    mm_log_setup("mamori-up", MM_LOG_STDERR, lvl);
    if (check) {
        printf("configuration ok: %zu daemon(s), state %s, pki %s\n", sc->n_daemons,
               sc->state_dir, sc->pki_dir);
        mm_suite_config_clear(sc);
        free(sc);
        return MM_CLI_EXIT_OK;
    }
    rc = mm_supervisor_run(sc, stdout);
    mm_suite_config_clear(sc);
    free(sc);
    if (rc < 0)
        return mm_cli_fail("up", "%s", mm_strerror(rc));
    return MM_CLI_EXIT_OK;
}
