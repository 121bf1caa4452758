/*
 * mamori audit - find IP Authentication Header use (`ah`), probe the
 * suite's zero-trust posture (`zt`), verify the audit log (`verify-log`).
 *
 * Exit status (all verbs): 0 nothing found / all checks pass, 1 found /
 * a check failed, 2 usage error or something could not be audited.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"

/* verify-log lives in the core (hardening issue); absent in builds without it. */
int mm_audit_verify_cli(int argc, char **argv) __attribute__((weak));
/* `mamori audit zt` (src/audit/zt.c) when built. */
int mm_zt_cli(int argc, char **argv) __attribute__((weak));

#define NOUN "audit"

static volatile int stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void help(void)
{
    printf("usage: mamori audit VERB [options]\n\n"
           "verbs:\n"
           "  ah          find IP Authentication Header (AH, IP protocol 51) use\n"
           "  zt          probe a running mamori installation for ZT-01..ZT-12\n"
           "  verify-log  check the hash chain of an audit log\n\n"
           "mamori audit ah [--pcap FILE]... [--live IFACE [--duration SEC] [--count N]]\n"
           "                [--xfrm] [--netns NAME]... [--all-netns] [--config FILE]...\n"
           "                [--swanctl FILE]... [--ipsec-conf FILE]... [--progress] [--json]\n"
           "  --pcap FILE        read a pcap or pcapng capture (streaming; progress line on\n"
           "                     stderr for files of 256 MiB and more, or with --progress)\n"
           "  --live IFACE       capture on IFACE with a BPF prefilter for AH and tunnels\n"
           "  --duration SEC     stop live capture after SEC seconds (default: Ctrl-C)\n"
           "  --count N          stop live capture after N frames with AH\n"
           "  --xfrm             kernel XFRM SAs and policies in this network namespace\n"
           "  --netns NAME       the same in /var/run/netns/NAME (repeatable)\n"
           "  --all-netns        the same in every namespace under /var/run/netns\n"
           "  --config FILE      strongSwan swanctl.conf or ipsec.conf, libreswan ipsec.conf\n"
           "                     (kind detected from the syntax)\n"
           "  --swanctl FILE, --ipsec-conf FILE  the same with the kind given\n\n"
           "Each finding names where AH is, the SPI and peers, and the recommendation of\n"
           "draft-herbert-deprecate-auth-header: ESP with AEAD, or ESP-NULL with integrity.\n"
           "Exit status: 0 no AH, 1 AH found, 2 error (something could not be audited).\n\n"
           "mamori audit zt help       options of the zero-trust probe\n"
           "mamori audit verify-log    see `mamori audit verify-log --help`\n");
}

struct src {
    enum { SRC_PCAP, SRC_LIVE, SRC_XFRM, SRC_CONF } kind;
    const char *arg;
    enum mm_ah_conf_kind conf;
};

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || s[0] == '-')
        return MM_EINVAL;
    *out = v;
    return 0;
}

/* Every named namespace (ip netns add): /var/run/netns/NAME. */
static void scan_all_netns(mm_ah_report *r)
{
    DIR *d = opendir("/var/run/netns");
    if (!d) {
        mm_ah_report_note(r, "no named network namespaces (/var/run/netns)");
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            (void)mm_ah_xfrm_scan(e->d_name, r);
    closedir(d);
}

static int cmd_ah(int argc, char **argv)
{
    struct src *srcs = calloc((size_t)argc + 1, sizeof(*srcs));
    if (!srcs)
        return mm_cli_fail(NOUN, "out of memory");
    size_t n = 0;
    bool json = false, xfrm_here = false, all_netns = false;
    mm_ah_capture_opts o = {.progress_min = 256ull << 20, .stop = &stop_flag};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (mm_cli_is_help(a)) {
            free(srcs);
            help();
            return MM_CLI_EXIT_OK;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--progress")) {
            o.progress = true;
        } else if (!strcmp(a, "--xfrm")) {
            xfrm_here = true;
        } else if (!strcmp(a, "--all-netns")) {
            all_netns = true;
        } else if (has_val && (!strcmp(a, "--pcap") || !strcmp(a, "--live") ||
                               !strcmp(a, "--netns") || !strcmp(a, "--config") ||
                               !strcmp(a, "--swanctl") || !strcmp(a, "--ipsec-conf"))) {
            struct src *s = &srcs[n++];
            s->arg = argv[++i];
            s->kind = a[2] == 'p' ? SRC_PCAP : a[2] == 'l' ? SRC_LIVE : a[2] == 'n' ? SRC_XFRM
                                                                                  : SRC_CONF;
            s->conf = !strcmp(a, "--swanctl")      ? MM_AH_CONF_SWANCTL
                      : !strcmp(a, "--ipsec-conf") ? MM_AH_CONF_IPSEC
                                                   : MM_AH_CONF_AUTO;
        } else if (has_val && !strcmp(a, "--duration")) {
            uint64_t v;
            if (parse_u64(argv[++i], &v) || v > 86400 * 365) {
                free(srcs);
                return mm_cli_usage_error(NOUN, "--duration wants seconds, got '%s'", argv[i]);
            }
            o.duration_s = (int)v;
        } else if (has_val && !strcmp(a, "--count")) {
            if (parse_u64(argv[++i], &o.count)) {
                free(srcs);
                return mm_cli_usage_error(NOUN, "--count wants a number, got '%s'", argv[i]);
            }
        } else {
            free(srcs);
            return mm_cli_usage_error(NOUN, "ah: unknown option or missing value '%s'", a);
        }
    }
    bool any_xfrm = xfrm_here || all_netns;
    for (size_t i = 0; i < n; i++)
        any_xfrm |= srcs[i].kind == SRC_XFRM;
    if (xfrm_here)
        srcs[n++] = (struct src){.kind = SRC_XFRM, .arg = NULL};
    if (!n && !all_netns) {
        free(srcs);
        return mm_cli_usage_error(NOUN, "ah: nothing to audit (give --pcap, --live, --xfrm, "
                                        "--netns or --config)");
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    mm_ah_report r;
    mm_ah_report_init(&r);
    for (size_t i = 0; i < n && !stop_flag; i++) {
        switch (srcs[i].kind) {
        case SRC_PCAP:
            (void)mm_ah_capture_file(srcs[i].arg, &o, &r);
            break;
        case SRC_LIVE:
            (void)mm_ah_capture_live(srcs[i].arg, &o, &r);
            break;
        case SRC_XFRM:
            (void)mm_ah_xfrm_scan(srcs[i].arg, &r);
            break;
        case SRC_CONF:
            (void)mm_ah_conf_scan_file(srcs[i].arg, srcs[i].conf, &r);
            break;
        }
    }
    free(srcs);
    if (all_netns && !stop_flag)
        scan_all_netns(&r);
    if (any_xfrm)
        mm_ah_kernel_note(&r);
    int status = mm_ah_report_status(&r);
    if (json)
        mm_cli_json_print(mm_ah_report_json(&r));
    else
        mm_ah_report_print(&r, stdout);
    mm_ah_report_free(&r);
    return status;
}

int mm_cli_audit(int argc, char **argv)
{
    if (argc < 2 || mm_cli_is_help(argv[1])) {
        help();
        return argc < 2 ? MM_CLI_EXIT_USAGE : MM_CLI_EXIT_OK;
    }
    const char *verb = argv[1];
    if (!strcmp(verb, "ah"))
        return cmd_ah(argc - 1, argv + 1);
    if (!strcmp(verb, "zt")) {
        if (!mm_zt_cli) {
            fprintf(stderr, "mamori audit zt: not available in this build\n");
            return MM_CLI_EXIT_USAGE;
        }
        return mm_zt_cli(argc - 1, argv + 1);
    }
    if (!strcmp(verb, "verify-log")) {
        if (!mm_audit_verify_cli) {
            fprintf(stderr, "mamori audit verify-log: not available in this build\n");
            return MM_CLI_EXIT_USAGE;
        }
        return mm_audit_verify_cli(argc - 1, argv + 1);
    }
    return mm_cli_usage_error(NOUN, "unknown verb '%s'", verb);
}
