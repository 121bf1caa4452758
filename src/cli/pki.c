/*
 * mamori pki - the local certificate authority.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mamori/mm_core.h"
#include "mamori/mm_pki.h"

static int help(void)
{
    printf("usage: mamori pki init [--dir D] [--force] [--json]\n"
           "       mamori pki issue --client NAME [--dir D] [--force] [--json]\n\n"
           "init   create a local CA (ECDSA P-256), a server certificate for localhost,\n"
           "       127.0.0.1 and ::1, and a client certificate (CN \"%s\") in D.\n"
           "       Keys are written with mode 0600. An existing PKI is never\n"
           "       overwritten unless --force is given.\n"
           "issue  add a client certificate NAME (CN and SAN DNS NAME) signed by the CA\n"
           "       in D, as D/%s/NAME.crt and NAME.key.\n\n"
           "D defaults to $MM_PKI_DIR, else ./var/pki (the directory `mamori up` uses).\n",
           MM_PKI_DEFAULT_CLIENT, MM_PKI_CLIENTS_DIR);
    return MM_CLI_EXIT_OK;
}

struct opts {
    const char *dir, *client;
    bool force, json;
};

static int parse(int argc, char **argv, struct opts *o)
{
    const char *env = getenv("MM_PKI_DIR");
    o->dir = env && *env ? env : "./var/pki";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--force"))
            o->force = true;
        else if (!strcmp(a, "--json"))
            o->json = true;
        else if (!strcmp(a, "--dir") && i + 1 < argc)
            o->dir = argv[++i];
        else if (!strcmp(a, "--client") && i + 1 < argc)
            o->client = argv[++i];
        else
            return mm_cli_usage_error("pki", "unknown or incomplete option '%s'", a);
    }
    return 0;
}

static void report(const struct opts *o, const char *what, const char *cert, const char *key)
{
    char c[4096], k[4096];
    mm_pki_path(o->dir, cert, c, sizeof(c));
    mm_pki_path(o->dir, key, k, sizeof(k));
    if (o->json) {
        mm_cli_json_print(json_pack("{s:s, s:s, s:s, s:s}", "result", what, "dir", o->dir,
                                    "certificate", c, "key", k));
        return;
    }
    printf("%s\n  certificate: %s\n  key:         %s (mode 0600)\n", what, c, k);
}

static int do_init(const struct opts *o)
{
    int rc = mm_pki_init(o->dir, o->force);
    if (rc == MM_EEXIST)
        return mm_cli_fail("pki", "%s already holds a CA; use --force to replace it", o->dir);
    if (rc < 0)
        return mm_cli_fail("pki", "init %s: %s", o->dir, mm_strerror(rc));
    if (!o->json) {
        char ca[4096], srv[4096];
        mm_pki_path(o->dir, MM_PKI_CA_CERT, ca, sizeof(ca));
        mm_pki_path(o->dir, MM_PKI_SERVER_CERT, srv, sizeof(srv));
        printf("created a local PKI in %s\n  CA:          %s\n  server:      %s\n", o->dir, ca,
               srv);
    }
    report(o, o->json ? "created" : "client " MM_PKI_DEFAULT_CLIENT, MM_PKI_CLIENT_CERT,
           MM_PKI_CLIENT_KEY);
    return MM_CLI_EXIT_OK;
}

static int do_issue(const struct opts *o)
{
    if (!o->client)
        return mm_cli_usage_error("pki", "issue needs --client NAME");
    int rc = mm_pki_issue_client(o->dir, o->client, o->force);
    if (rc == MM_EEXIST)
        return mm_cli_fail("pki", "client '%s' exists in %s; use --force to replace it",
                           o->client, o->dir);
    if (rc == MM_EINVAL)
        return mm_cli_fail("pki", "bad client name '%s' (use 1-64 of A-Z a-z 0-9 . _ -)",
                           o->client);
    if (rc == MM_ENOENT)
        return mm_cli_fail("pki", "no CA in %s; run `mamori pki init --dir %s` first", o->dir,
                           o->dir);
    if (rc < 0)
        return mm_cli_fail("pki", "issue %s: %s", o->client, mm_strerror(rc));
    char cert[256], key[256];
    snprintf(cert, sizeof(cert), "%s/%s.crt", MM_PKI_CLIENTS_DIR, o->client);
    snprintf(key, sizeof(key), "%s/%s.key", MM_PKI_CLIENTS_DIR, o->client);
    report(o, o->json ? "issued" : "issued client certificate", cert, key);
    return MM_CLI_EXIT_OK;
}

int mm_cli_pki(int argc, char **argv)
{
    if (argc < 2 || mm_cli_is_help(argv[1]))
        return argc < 2 ? (help(), MM_CLI_EXIT_USAGE) : help();
    struct opts o = {0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    mm_log_set_level(MM_LOG_WARN);
    if (!strcmp(argv[1], "init"))
        return do_init(&o);
    if (!strcmp(argv[1], "issue"))
        return do_issue(&o);
    return mm_cli_usage_error("pki", "unknown verb '%s'", argv[1]);
}
