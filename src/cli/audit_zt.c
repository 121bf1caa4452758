/*
 * mamori audit zt - probe a running mamori installation against ZT-01..ZT-12.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../audit/zt.h"
#include "cli.h"
#include "mamori/mm_core.h"

int mm_zt_cli(int argc, char **argv);

static const char *const status_names[] = {"pass", "fail", "not-applicable"};

static void help(void)
{
    printf("usage: mamori audit zt [--pid PID]... [--endpoint HOST:PORT]... [--no-discover]\n"
           "                       [--pki-dir D] [--state-dir D] [--expiry-days N]\n"
           "                       [--timeout-ms N] [--json]\n\n"
           "Probe the running mamori daemons (processes named mamori-*d; --pid limits to\n"
           "some) and their listeners against the zero-trust checklist ZT-01..ZT-12:\n"
           "TLS probes without a client certificate, with a stranger's certificate, with\n"
           "TLS 1.2, for plaintext and for the hybrid group; daemons not root; key and\n"
           "state file modes; bind addresses; CRL freshness; certificate expiry horizon\n"
           "(default 30 days); audit log present and its hash chain intact; certificate\n"
           "algorithms and AH in the kernel's IPsec state.\n"
           "  --endpoint HOST:PORT  also probe this TCP listener\n"
           "  --no-discover         probe only what is given (no process scan)\n"
           "  --pki-dir D, --state-dir D  also check these directories\n\n"
           "Each check prints pass / fail / not-applicable with its evidence and fix.\n"
           "Exit status: 0 no check failed, 1 a check failed, 2 error.\n");
}

int mm_zt_cli(int argc, char **argv)
{
    static mm_zt_target t;
    memset(&t, 0, sizeof(t));
    t.expiry_days = 30;
    t.timeout_ms = 3000;
    pid_t pids[MM_ZT_MAX_DAEMONS] = {0};
    size_t npids = 0;
    bool json = false, discover = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool v = i + 1 < argc;
        char *end = NULL;
        if (mm_cli_is_help(a)) {
            help();
            return MM_CLI_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--no-discover")) {
            discover = false;
        } else if (v && !strcmp(a, "--pid")) {
            long p = strtol(argv[++i], &end, 10);
            if (*end || p <= 0 || npids == MM_ZT_MAX_DAEMONS)
                return mm_cli_usage_error("audit", "zt: bad --pid '%s'", argv[i]);
            pids[npids++] = (pid_t)p;
        } else if (v && !strcmp(a, "--endpoint")) {
            if (mm_zt_add_endpoint(&t, argv[++i]) < 0)
                return mm_cli_usage_error("audit", "zt: bad --endpoint '%s' (HOST:PORT)", argv[i]);
        } else if (v && !strcmp(a, "--pki-dir")) {
            snprintf(t.pki_dir, sizeof(t.pki_dir), "%s", argv[++i]);
        } else if (v && !strcmp(a, "--state-dir")) {
            snprintf(t.state_dir, sizeof(t.state_dir), "%s", argv[++i]);
        } else if (v && (!strcmp(a, "--expiry-days") || !strcmp(a, "--timeout-ms"))) {
            unsigned long n = strtoul(argv[++i], &end, 10);
            if (*end || !*argv[i] || n > 100000)
                return mm_cli_usage_error("audit", "zt: bad %s '%s'", a, argv[i]);
            if (a[2] == 'e')
                t.expiry_days = (unsigned)n;
            else
                t.timeout_ms = (int)n;
        } else {
            return mm_cli_usage_error("audit", "zt: unknown option or missing value '%s'", a);
        }
    }
    if (discover && mm_zt_discover(&t, pids, npids) < 0)
        return mm_cli_fail("audit", "zt: cannot read /proc");
    if (discover && npids && t.ndaemons < npids) {
        fprintf(stderr, "mamori audit zt: %zu of %zu --pid are not running mamori daemons\n",
                npids - t.ndaemons, npids);
        return MM_CLI_EXIT_USAGE;
    }
    if (!t.ndaemons && !t.nendpoints && !t.pki_dir[0] && !t.state_dir[0]) {
        fprintf(stderr, "mamori audit zt: no running mamori daemon found (and nothing given)\n");
        return MM_CLI_EXIT_USAGE;
    }
    size_t max = mm_zt_check_count();
    mm_zt_result *res = calloc(max, sizeof(*res));
    if (!res)
        return mm_cli_fail("audit", "zt: out of memory");
    size_t n = mm_zt_run(&t, res, max);
    int failed = 0;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        failed += res[i].status == MM_ZT_FAIL;
        if (json) {
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", res[i].id,
                                                 "name", res[i].name, "status",
                                                 status_names[res[i].status], "evidence",
                                                 res[i].evidence, "fix", res[i].fix));
            continue;
        }
        printf("%-6s %-14s %s\n", res[i].id, status_names[res[i].status], res[i].name);
        printf("       evidence: %s\n", res[i].evidence);
        if (res[i].status == MM_ZT_FAIL)
            printf("       fix: %s\n", res[i].fix);
    }
    if (json) {
        json_t *daemons = json_array();
        for (size_t i = 0; i < t.ndaemons; i++)
            json_array_append_new(daemons, json_pack("{s:s, s:i, s:i}", "name", t.daemons[i].name,
                                                     "pid", (int)t.daemons[i].pid, "uid",
                                                     (int)t.daemons[i].euid));
        mm_cli_json_print(json_pack("{s:o, s:o, s:i, s:s}", "daemons", daemons, "checks", arr,
                                    "failed", failed, "verdict", failed ? "fail" : "pass"));
    } else {
        json_decref(arr);
        printf("%d of %zu checks failed (%zu daemons, %zu listeners)\n", failed, n, t.ndaemons,
               t.nendpoints);
    }
    free(res);
    return failed ? 1 : 0;
}
