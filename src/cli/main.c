/*
 * mamori - the suite's command line: `mamori NOUN VERB [options]`.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "mamori/mm_core.h"

struct noun {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static int cli_help(int argc, char **argv);

/* The nouns; a module's noun is listed only when the module is built in. */
static const struct noun *nouns(size_t *n)
{
    static struct noun table[32];
    static size_t count;
    if (!count) {
        const struct noun all[] = {
            {"help", cli_help, "show this help, or `mamori help NOUN` for one noun"},
            {"version", mm_cli_version, "print the version of mamori and its libraries"},
            {"up", mm_cli_up, "run the suite: start every enabled daemon, stop on Ctrl-C"},
            {"pki", mm_cli_pki, "local certificate authority: init, issue client certificates"},
            {"kem", mm_cli_kem, "Scloud+ KEM: keygen, encaps, decaps, bench, kat"},
            {"tls", mm_cli_tls, "TLS 1.3 with hybrid post-quantum groups: probe a server"},
            {"nc", mm_cli_nc, "NETCONF client over TLS or QUIC"},
            {"ddns", mm_cli_ddns, "ApertoDNS dynamic DNS client and token administration"},
            {"bmp", mm_cli_bmp, "BMP: decode captures, show statistics and peers, replay"},
            {"bgp", mm_cli_bgp, "BGP FlowSpec/IFIT speaker control: neighbors, rib, announce"},
            {"dkim", mm_cli_dkim, "DKIM with ACDC: keygen, sign, verify, explain"},
            {"audit", mm_cli_audit, "find IP Authentication Header use, zero-trust posture, audit log"},
        };
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
            if (all[i].fn)
                table[count++] = all[i];
    }
    *n = count;
    return table;
}

static const struct noun *find_noun(const char *name)
{
    size_t n;
    const struct noun *t = nouns(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

static int cli_help(int argc, char **argv)
{
    if (argc > 1 && !mm_cli_is_help(argv[1])) {
        const struct noun *nn = find_noun(argv[1]);
        if (!nn)
            return mm_cli_usage_error("help", "unknown noun '%s'", argv[1]);
        char help[] = "help";
        char *sub[] = {argv[1], help, NULL};
        return nn->fn(2, sub);
    }
    size_t n;
    const struct noun *t = nouns(&n);
    printf("mamori %s - post-quantum, zero-trust network infrastructure\n\n"
           "usage: mamori NOUN [VERB] [options]\n\n"
           "nouns:\n",
           MM_VERSION);
    for (size_t i = 0; i < n; i++)
        printf("  %-8s %s\n", t[i].name, t[i].summary);
    printf("\nEvery noun has help: `mamori NOUN help`. Commands that report take --json.\n"
           "Documentation: docs/ in the source tree, README.md for a tour.\n");
    return MM_CLI_EXIT_OK;
}

int mm_cli_version(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (mm_cli_is_help(argv[i])) {
            printf("usage: mamori version [--json]\n\n"
                   "Print the version of mamori and of the OpenSSL library it runs with.\n");
            return MM_CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--json") != 0)
            return mm_cli_usage_error("version", "unknown option '%s'", argv[i]);
        json = true;
    }
    if (json) {
        mm_cli_json_print(json_pack("{s:s, s:s, s:s}", "name", "mamori", "version", MM_VERSION,
                                    "openssl", OpenSSL_version(OPENSSL_VERSION)));
        return MM_CLI_EXIT_OK;
    }
    printf("mamori %s (%s)\n", MM_VERSION, OpenSSL_version(OPENSSL_VERSION));
    return MM_CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        char *help[] = {argv[0], NULL};
        cli_help(1, help);
        return MM_CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (mm_cli_is_help(name))
        name = "help";
    if (!strcmp(name, "--version"))
        name = "version";
    const struct noun *nn = find_noun(name);
    if (!nn) {
        fprintf(stderr, "mamori: unknown noun '%s'\ntry: mamori help\n", argv[1]);
        return MM_CLI_EXIT_USAGE;
    }
    return nn->fn(argc - 1, argv + 1);
}
