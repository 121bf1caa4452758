/*
 * mamori nc - NETCONF client: NETCONF over TLS (RFC 7589) with the mamori
 * PKI, NETCONF over QUIC when the QUIC module is linked, and a loopback-only
 * plaintext "tcp-direct" transport for interop tests with yuma123 netconfd.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libyang/libyang.h>

#include "cli.h"
#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_netconf_quic.h"
#include "mamori/mm_quic.h"
#ifdef MM_NC_HAVE_SSH
#include "mamori/mm_netconf_ssh.h"
#endif

/* The QUIC client lives in the QUIC module; absent from builds without it. */
/*
 * The QUIC transport is optional. A weak reference alone would not pull it out
 * of its static library, so builds with QUIC (MM_HAVE_QUIC) reference it
 * strongly; others see the symbols as absent.
 */
#ifdef MM_HAVE_QUIC
#define QUIC_LINKED true
#else
#pragma weak mm_nc_quic_client_io
#pragma weak mm_nc_quic_client_io_free
#define QUIC_LINKED (mm_nc_quic_client_io != NULL && mm_nc_quic_client_io_free != NULL)
#endif

#define NOUN "nc"
#define NS_NOTIF "urn:ietf:params:xml:ns:netconf:notification:1.0"
#define FILE_MAX (16u << 20)
#define DEFAULT_TCP_DIRECT_PORT 2023

enum transport { TR_TLS, TR_QUIC, TR_TCP_DIRECT, TR_SSH };

typedef struct nc_opts {
    const char *verb;
    enum transport transport;
    const char *host, *server_name, *ca, *cert, *key, *user, *groups;
    const char *known_hosts, *host_key_fp; /* ssh */
    long call_home_listen;                 /* RFC 8071: wait for the server to dial us */
    const char *call_home_bind;
    char ca_buf[4096], cert_buf[4096], key_buf[4096];
    long port;
    int rpc_timeout_ms;
    bool json, verbose;
    /* verb parameters */
    const char *filter, *xpath, *source, *target, *config, *default_op, *test_option, *error_option,
        *with_defaults, *file, *stream, *start, *stop, *persist, *persist_id, *identifier,
        *version, *format, *datastore;
    const char *select[16]; /* partial-lock --select */
    int nselect;
    const char *ns[16]; /* prefix=uri for --xpath */
    int nns;
    bool confirmed;
    long confirm_timeout, count, duration, session_id, max_depth;
} nc_opts;

/* ---------------------------------------------------------------- help */

static const struct verb_help {
    const char *verb, *usage, *text;
} verbs[] = {
    {"hello", "", "connect, print the session-id and the server's capabilities"},
    {"get", "[--filter XML|--xpath X [--ns P=URI]...] [--with-defaults MODE]",
     "running configuration and state data; MODE (RFC 6243): report-all,\n"
     "               report-all-tagged, trim or explicit"},
    {"get-config",
     "[--source running|candidate|startup] [--filter XML|--xpath X] [--with-defaults MODE]",
     "configuration of a datastore (default running)"},
    {"get-data",
     "[--datastore running|candidate|startup|operational] [--filter XML|--xpath X]\n"
     "               [--max-depth N] [--with-defaults MODE]",
     "NMDA get-data (RFC 8526) from a datastore (default operational)"},
    {"get-schema", "--identifier MODULE [--version REV] [--format yang|yin]",
     "a module's source (RFC 6022), printed as text"},
    {"copy-config", "--target running|candidate|startup --source DS|--config FILE|-",
     "replace a datastore with another one or with FILE's configuration"},
    {"delete-config", "--target startup", "delete the startup datastore (RFC 6241 section 7.4)"},
    {"partial-lock", "--select XPATH [--select XPATH]... [--ns P=URI]...",
     "lock parts of running (RFC 5717); prints the lock-id and the locked nodes"},
    {"edit-config",
     "--target running|candidate --config FILE|- [--default-operation merge|replace|none]\n"
     "               [--test-option test-then-set|set|test-only] [--error-option E]",
     "apply FILE (the content of <config>, or a whole <config> element)"},
    {"lock", "--target running|candidate|startup", "lock a datastore"},
    {"unlock", "--target running|candidate|startup", "unlock a datastore"},
    {"commit", "[--confirmed [--timeout S] [--persist ID]] [--persist-id ID]",
     "commit the candidate (confirmed commit: RFC 6241 section 8.4)"},
    {"cancel-commit", "[--persist-id ID]", "cancel a pending confirmed commit"},
    {"discard-changes", "", "reset the candidate to running"},
    {"validate", "[--source running|candidate|startup]", "validate a datastore"},
    {"kill-session", "--session-id N", "end another session"},
    {"subscribe",
     "[--stream NETCONF] [--start T [--stop T]] [--filter XML] [--count N] [--duration S]",
     "create-subscription (RFC 5277) and print each notification"},
    {"rpc", "--file FILE|-", "send the raw operation XML in FILE (e.g. <get/>)"},
};

static int help(const char *verb)
{
    for (size_t i = 0; verb && i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(verbs[i].verb, verb) == 0) {
            printf("usage: mamori nc [CONNECTION] %s %s\n\n%s\n", verbs[i].verb, verbs[i].usage,
                   verbs[i].text);
            return MM_CLI_EXIT_OK;
        }
    }
    printf("usage: mamori nc [CONNECTION] VERB [OPTIONS] [--json]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        printf("  %-16s %s\n", verbs[i].verb, verbs[i].text);
    printf("\nconnection:\n"
           "  --transport tls|quic|ssh|tcp-direct   default tls (NETCONF over TLS, RFC 7589)\n"
           "  --host H          server name or address (default localhost)\n"
           "  --port P          default 6513 (tls), 831 (quic), 830 (ssh), 2023 (tcp-direct)\n"
           "  --server-name N   name the server certificate must match (default: H)\n"
           "  --groups LIST     key-exchange groups offered, first gets the key share\n"
           "                    (default: hybrids first; -v names the negotiated one)\n"
           "  --ca F --cert F --key F\n"
           "                    trust anchor and client certificate/key; defaults are\n"
           "                    ca.crt, client.crt, client.key in $MM_PKI_DIR or ./var/pki\n"
           "  --user U          ssh: the SSH (and NACM) user (default $USER);\n"
           "                    tcp-direct: the user netconfd runs the session as\n"
           "  ssh (RFC 6242): --key F is the OpenSSH private key (default ~/.ssh/id_ed25519);\n"
           "                    the host key is checked against --known-hosts F or\n"
           "                    --host-key-fingerprint SHA256:... (one is required)\n"
           "  --call-home-listen P  call home (RFC 8071, tls or ssh): listen on port P\n"
           "                    (address --call-home-bind, default 127.0.0.1), take the\n"
           "                    server's connection, then authenticate it as usual\n"
           "                    (--host is the name its certificate must match)\n"
           "  --rpc-timeout S   seconds to wait for the connection and each reply (30)\n"
           "  --json            print one JSON object\n\n"
           "tcp-direct is plaintext and unauthenticated. It exists only to test against\n"
           "yuma123 netconfd's --tcp-direct-port and is refused for non-loopback hosts.\n\n"
           "`mamori nc VERB help` shows one verb. Exit status: 0 on <ok/> or data,\n"
           "1 on <rpc-error> or failure, 2 on usage errors.\n");
    return MM_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- options */

static bool known_verb(const char *v)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(verbs[i].verb, v) == 0)
            return true;
    }
    return false;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return MM_EINVAL;
    *out = v;
    return 0;
}

/* Options that take a value: name and where it goes. */
static const char **str_option(nc_opts *o, const char *name)
{
    const struct {
        const char *name;
        const char **slot;
    } table[] = {
        {"--host", &o->host},
        {"--server-name", &o->server_name},
        {"--groups", &o->groups},
        {"--ca", &o->ca},
        {"--cert", &o->cert},
        {"--key", &o->key},
        {"--user", &o->user},
        {"--known-hosts", &o->known_hosts},
        {"--call-home-bind", &o->call_home_bind},
        {"--host-key-fingerprint", &o->host_key_fp},
        {"--filter", &o->filter},
        {"--xpath", &o->xpath},
        {"--source", &o->source},
        {"--target", &o->target},
        {"--config", &o->config},
        {"--default-operation", &o->default_op},
        {"--test-option", &o->test_option},
        {"--error-option", &o->error_option},
        {"--with-defaults", &o->with_defaults},
        {"--file", &o->file},
        {"--stream", &o->stream},
        {"--start", &o->start},
        {"--stop", &o->stop},
        {"--persist", &o->persist},
        {"--persist-id", &o->persist_id},
        {"--identifier", &o->identifier},
        {"--version", &o->version},
        {"--format", &o->format},
        {"--datastore", &o->datastore},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i].name, name) == 0)
            return table[i].slot;
    }
    return NULL;
}

static int num_option(nc_opts *o, const char *name, const char *v)
{
    long x;
    if (!strcmp(name, "--port")) {
        MM_GUARD(parse_long(v, 1, 65535, &x));
        o->port = x;
    } else if (!strcmp(name, "--call-home-listen")) {
        MM_GUARD(parse_long(v, 1, 65535, &x));
        o->call_home_listen = x;
    } else if (!strcmp(name, "--rpc-timeout")) {
        MM_GUARD(parse_long(v, 1, 86400, &x));
        o->rpc_timeout_ms = (int)x * 1000;
    } else if (!strcmp(name, "--timeout")) {
        MM_GUARD(parse_long(v, 1, 4294967295L, &o->confirm_timeout));
    } else if (!strcmp(name, "--count")) {
        MM_GUARD(parse_long(v, 1, 1L << 30, &o->count));
    } else if (!strcmp(name, "--duration")) {
        MM_GUARD(parse_long(v, 1, 1L << 30, &o->duration));
    } else if (!strcmp(name, "--max-depth")) {
        MM_GUARD(parse_long(v, 1, 65535, &o->max_depth));
    } else if (!strcmp(name, "--session-id")) {
        MM_GUARD(parse_long(v, 1, 4294967295L, &o->session_id));
    } else {
        return MM_ENOENT;
    }
    return 0;
}

static int parse_transport(const char *v, enum transport *t)
{
    if (!strcmp(v, "tls"))
        *t = TR_TLS;
    else if (!strcmp(v, "quic"))
        *t = TR_QUIC;
    else if (!strcmp(v, "tcp-direct"))
        *t = TR_TCP_DIRECT;
    else if (!strcmp(v, "ssh"))
        *t = TR_SSH;
    else
        return MM_EINVAL;
    return 0;
}

static int parse_one(nc_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--json"))
        return o->json = true, 0;
    if (!strcmp(a, "--confirmed"))
        return o->confirmed = true, 0;
    if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
        return o->verbose = true, 0;
    if (strncmp(a, "--", 2) != 0) {
        if (o->verb)
            return mm_cli_usage_error(NOUN, "unexpected argument '%s'", a);
        if (!known_verb(a))
            return mm_cli_usage_error(NOUN, "unknown verb '%s'", a);
        o->verb = a;
        return 0;
    }
    if (*i + 1 >= argc)
        return mm_cli_usage_error(NOUN, "option %s needs a value", a);
    const char *v = argv[++*i];
    const char **slot = str_option(o, a);
    if (slot) {
        *slot = v;
        return 0;
    }
    if (!strcmp(a, "--transport")) {
        if (parse_transport(v, &o->transport) < 0)
            return mm_cli_usage_error(NOUN, "--transport must be tls, quic, ssh or tcp-direct");
        return 0;
    }
    if (!strcmp(a, "--select")) {
        if (o->nselect >= (int)(sizeof(o->select) / sizeof(o->select[0])))
            return mm_cli_usage_error(NOUN, "at most 16 --select");
        o->select[o->nselect++] = v;
        return 0;
    }
    if (!strcmp(a, "--ns")) {
        if (o->nns >= (int)(sizeof(o->ns) / sizeof(o->ns[0])) || !strchr(v, '='))
            return mm_cli_usage_error(NOUN, "--ns takes PREFIX=URI (at most 16)");
        o->ns[o->nns++] = v;
        return 0;
    }
    int rc = num_option(o, a, v);
    if (rc == MM_ENOENT)
        return mm_cli_usage_error(NOUN, "unknown option '%s'", a);
    if (rc < 0)
        return mm_cli_usage_error(NOUN, "invalid value '%s' for %s", v, a);
    return 0;
}

static const char *pki_file(const char *given, const char *file, char *buf, size_t len)
{
    if (given)
        return given;
    const char *env = getenv("MM_PKI_DIR");
    const char *dir = env && *env ? env : "./var/pki";
    return mm_pki_path(dir, file, buf, len) == 0 ? buf : file;
}

static int parse(int argc, char **argv, nc_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->host = "localhost";
    o->rpc_timeout_ms = 30000;
    for (int i = 1; i < argc; i++) {
        if (mm_cli_is_help(argv[i]))
            return help(o->verb), -1;
        int rc = parse_one(o, argc, argv, &i);
        if (rc != 0)
            return rc;
    }
    if (!o->verb)
        return mm_cli_usage_error(NOUN, "missing verb");
    if (!o->port)
        o->port = o->transport == TR_QUIC         ? MM_NC_QUIC_PORT
                  : o->transport == TR_TCP_DIRECT ? DEFAULT_TCP_DIRECT_PORT
                  : o->transport == TR_SSH        ? 830
                                                  : MM_NC_TLS_PORT;
    if (o->transport == TR_SSH) {
        if (!o->known_hosts && !o->host_key_fp)
            return mm_cli_usage_error(NOUN, "--transport ssh needs --known-hosts FILE or "
                                            "--host-key-fingerprint SHA256:...");
        if (!o->key) {
            const char *home = getenv("HOME");
            snprintf(o->key_buf, sizeof(o->key_buf), "%s/.ssh/id_ed25519", home ? home : ".");
            o->key = o->key_buf;
        }
        return 0;
    }
    o->ca = pki_file(o->ca, MM_PKI_CA_CERT, o->ca_buf, sizeof(o->ca_buf));
    o->cert = pki_file(o->cert, MM_PKI_CLIENT_CERT, o->cert_buf, sizeof(o->cert_buf));
    o->key = pki_file(o->key, MM_PKI_CLIENT_KEY, o->key_buf, sizeof(o->key_buf));
    return 0;
}

/* ---------------------------------------------------------------- XML building */

static int xml_escape(mm_buf *b, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '<'    ? "&lt;"
                        : *s == '>'  ? "&gt;"
                        : *s == '&'  ? "&amp;"
                        : *s == '"'  ? "&quot;"
                        : *s == '\'' ? "&apos;"
                                     : NULL;
        MM_GUARD(e ? mm_buf_append_str(b, e) : mm_buf_append(b, s, 1));
    }
    return 0;
}

static int read_file(const char *path, char **out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return MM_ENOENT;
    mm_buf b;
    mm_buf_init(&b, FILE_MAX);
    int rc = mm_buf_read_stream(&b, f);
    if (f != stdin)
        fclose(f);
    if (rc == 0 && !(*out = strdup(mm_buf_cstr(&b))))
        rc = MM_ENOMEM;
    mm_buf_free(&b);
    return rc;
}

/* Skip white space and an XML declaration: an operation is embedded in <rpc>. */
static const char *skip_decl(const char *s)
{
    s += strspn(s, " \t\r\n");
    if (strncmp(s, "<?xml", 5) == 0) {
        const char *end = strstr(s, "?>");
        s = end ? end + 2 : s;
        s += strspn(s, " \t\r\n");
    }
    return s;
}

static int add_filter(mm_buf *b, const nc_opts *o, const char *tag_ns)
{
    if (o->filter) {
        MM_GUARD(mm_buf_printf(b, "<filter%s type=\"subtree\">%s</filter>", tag_ns,
                               skip_decl(o->filter)));
    } else if (o->xpath) {
        MM_GUARD(mm_buf_printf(b, "<filter%s type=\"xpath\"", tag_ns));
        for (int i = 0; i < o->nns; i++) {
            const char *eq = strchr(o->ns[i], '=');
            MM_GUARD(mm_buf_printf(b, " xmlns:%.*s=\"", (int)(eq - o->ns[i]), o->ns[i]));
            MM_GUARD(xml_escape(b, eq + 1));
            MM_GUARD(mm_buf_append_str(b, "\""));
        }
        MM_GUARD(mm_buf_append_str(b, " select=\""));
        MM_GUARD(xml_escape(b, o->xpath));
        MM_GUARD(mm_buf_append_str(b, "\"/>"));
    }
    return 0;
}

static bool one_of(const char *v, const char *const *set)
{
    for (; *set; set++) {
        if (strcmp(v, *set) == 0)
            return true;
    }
    return false;
}

static const char *const datastores[] = {"running", "candidate", "startup", NULL};

static int need_datastore(const char *opt, const char *v, bool required)
{
    if (!v && required)
        return mm_cli_usage_error(NOUN, "%s is required", opt);
    if (v && !one_of(v, datastores))
        return mm_cli_usage_error(NOUN, "%s must be running, candidate or startup", opt);
    return 0;
}

static int leaf(mm_buf *b, const char *name, const char *v)
{
    if (!v)
        return 0;
    MM_GUARD(mm_buf_printf(b, "<%s>", name));
    MM_GUARD(xml_escape(b, v));
    return mm_buf_printf(b, "</%s>", name);
}

/* edit-config content: a whole <config> element, or what goes inside one. */
static int add_config(mm_buf *b, const char *text)
{
    const char *s = skip_decl(text);
    bool wrapped = strncmp(s, "<config", 7) == 0 && strchr(" \t\r\n>/", s[7]);
    if (wrapped)
        return mm_buf_append_str(b, s);
    return mm_buf_printf(b, "<config>%s</config>", s);
}

static int build_edit(mm_buf *b, const nc_opts *o)
{
    static const char *const dops[] = {"merge", "replace", "none", NULL};
    static const char *const tops[] = {"test-then-set", "set", "test-only", NULL};
    static const char *const eops[] = {"stop-on-error", "continue-on-error", "rollback-on-error",
                                       NULL};
    MM_GUARD(need_datastore("--target", o->target, true));
    if (!o->config)
        return mm_cli_usage_error(NOUN, "--config FILE is required");
    if (o->default_op && !one_of(o->default_op, dops))
        return mm_cli_usage_error(NOUN, "--default-operation must be merge, replace or none");
    if (o->test_option && !one_of(o->test_option, tops))
        return mm_cli_usage_error(NOUN, "--test-option must be test-then-set, set or test-only");
    if (o->error_option && !one_of(o->error_option, eops))
        return mm_cli_usage_error(NOUN, "--error-option must be stop-on-error, "
                                        "continue-on-error or rollback-on-error");
    char *text = NULL;
    int rc = read_file(o->config, &text);
    if (rc < 0)
        return mm_cli_fail(NOUN, "edit-config: cannot read %s: %s", o->config,
                           rc == MM_ENOENT ? strerror(errno) : mm_strerror(rc));
    rc = mm_buf_printf(b, "<edit-config><target><%s/></target>", o->target);
    if (rc == 0)
        rc = leaf(b, "default-operation", o->default_op);
    if (rc == 0)
        rc = leaf(b, "test-option", o->test_option);
    if (rc == 0)
        rc = leaf(b, "error-option", o->error_option);
    if (rc == 0)
        rc = add_config(b, text);
    if (rc == 0)
        rc = mm_buf_append_str(b, "</edit-config>");
    free(text);
    return rc < 0 ? mm_cli_fail(NOUN, "edit-config: %s", mm_strerror(rc)) : 0;
}

static int build_commit(mm_buf *b, const nc_opts *o)
{
    if ((o->confirm_timeout || o->persist) && !o->confirmed)
        return mm_cli_usage_error(NOUN, "--timeout and --persist need --confirmed");
    MM_GUARD(mm_buf_append_str(b, "<commit>"));
    if (o->confirmed)
        MM_GUARD(mm_buf_append_str(b, "<confirmed/>"));
    if (o->confirm_timeout)
        MM_GUARD(mm_buf_printf(b, "<confirm-timeout>%ld</confirm-timeout>", o->confirm_timeout));
    MM_GUARD(leaf(b, "persist", o->persist));
    MM_GUARD(leaf(b, "persist-id", o->persist_id));
    return mm_buf_append_str(b, "</commit>");
}

static int build_subscribe(mm_buf *b, const nc_opts *o)
{
    if (o->stop && !o->start)
        return mm_cli_usage_error(NOUN, "--stop needs --start");
    MM_GUARD(mm_buf_printf(b, "<create-subscription xmlns=\"%s\">", NS_NOTIF));
    MM_GUARD(leaf(b, "stream", o->stream));
    MM_GUARD(add_filter(b, o, ""));
    MM_GUARD(leaf(b, "startTime", o->start));
    MM_GUARD(leaf(b, "stopTime", o->stop));
    return mm_buf_append_str(b, "</create-subscription>");
}

static int build_get(mm_buf *b, const nc_opts *o, bool config)
{
    static const char *const wd[] = {"report-all", "report-all-tagged", "trim", "explicit", NULL};
    if (o->filter && o->xpath)
        return mm_cli_usage_error(NOUN, "--filter and --xpath exclude each other");
    if (o->with_defaults && !one_of(o->with_defaults, wd))
        return mm_cli_usage_error(NOUN, "--with-defaults must be report-all, "
                                        "report-all-tagged, trim or explicit");
    if (config) {
        MM_GUARD(need_datastore("--source", o->source, false));
        MM_GUARD(mm_buf_printf(b, "<get-config><source><%s/></source>",
                               o->source ? o->source : "running"));
    } else {
        MM_GUARD(mm_buf_append_str(b, "<get>"));
    }
    MM_GUARD(add_filter(b, o, ""));
    if (o->with_defaults)
        MM_GUARD(mm_buf_printf(b,
                               "<with-defaults xmlns=\"urn:ietf:params:xml:ns:yang:"
                               "ietf-netconf-with-defaults\">%s</with-defaults>",
                               o->with_defaults));
    return mm_buf_append_str(b, config ? "</get-config>" : "</get>");
}

static int add_ns_decls(mm_buf *b, const nc_opts *o)
{
    for (int i = 0; i < o->nns; i++) {
        const char *eq = strchr(o->ns[i], '=');
        MM_GUARD(mm_buf_printf(b, " xmlns:%.*s=\"", (int)(eq - o->ns[i]), o->ns[i]));
        MM_GUARD(xml_escape(b, eq + 1));
        MM_GUARD(mm_buf_append_str(b, "\""));
    }
    return 0;
}

static const char *const wd_modes[] = {"report-all", "report-all-tagged", "trim", "explicit", NULL};

/* RFC 8526 section 3.1.1. */
static int build_get_data(mm_buf *b, const nc_opts *o)
{
    static const char *const dss[] = {"running", "candidate", "startup", "operational", NULL};
    if (o->filter && o->xpath)
        return mm_cli_usage_error(NOUN, "--filter and --xpath exclude each other");
    if (o->datastore && !one_of(o->datastore, dss))
        return mm_cli_usage_error(NOUN, "--datastore must be running, candidate, startup or "
                                        "operational");
    if (o->with_defaults && !one_of(o->with_defaults, wd_modes))
        return mm_cli_usage_error(NOUN, "--with-defaults must be report-all, "
                                        "report-all-tagged, trim or explicit");
    MM_GUARD(mm_buf_printf(b,
                           "<get-data xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-nmda\" "
                           "xmlns:ds=\"urn:ietf:params:xml:ns:yang:ietf-datastores\">"
                           "<datastore>ds:%s</datastore>",
                           o->datastore ? o->datastore : "operational"));
    if (o->filter)
        MM_GUARD(mm_buf_printf(b, "<subtree-filter>%s</subtree-filter>", skip_decl(o->filter)));
    if (o->xpath) {
        MM_GUARD(mm_buf_append_str(b, "<xpath-filter"));
        MM_GUARD(add_ns_decls(b, o));
        MM_GUARD(mm_buf_append_str(b, ">"));
        MM_GUARD(xml_escape(b, o->xpath));
        MM_GUARD(mm_buf_append_str(b, "</xpath-filter>"));
    }
    if (o->max_depth)
        MM_GUARD(mm_buf_printf(b, "<max-depth>%ld</max-depth>", o->max_depth));
    MM_GUARD(leaf(b, "with-defaults", o->with_defaults));
    return mm_buf_append_str(b, "</get-data>");
}

/* RFC 6022 section 3.1. */
static int build_get_schema(mm_buf *b, const nc_opts *o)
{
    static const char *const formats[] = {"yang", "yin", NULL};
    if (!o->identifier)
        return mm_cli_usage_error(NOUN, "--identifier MODULE is required");
    if (o->format && !one_of(o->format, formats))
        return mm_cli_usage_error(NOUN, "--format must be yang or yin");
    MM_GUARD(mm_buf_append_str(
        b, "<get-schema xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring\">"));
    MM_GUARD(leaf(b, "identifier", o->identifier));
    MM_GUARD(leaf(b, "version", o->version));
    MM_GUARD(leaf(b, "format", o->format));
    return mm_buf_append_str(b, "</get-schema>");
}

/* RFC 6241 section 7.3: source is a datastore or an inline <config>. */
static int build_copy(mm_buf *b, const nc_opts *o)
{
    MM_GUARD(need_datastore("--target", o->target, true));
    if (!!o->source == !!o->config)
        return mm_cli_usage_error(NOUN, "copy-config takes one of --source DS and --config FILE");
    MM_GUARD(need_datastore("--source", o->source, false));
    MM_GUARD(mm_buf_printf(b, "<copy-config><target><%s/></target><source>", o->target));
    if (o->source) {
        MM_GUARD(mm_buf_printf(b, "<%s/>", o->source));
    } else {
        char *text = NULL;
        int rc = read_file(o->config, &text);
        if (rc < 0)
            return mm_cli_fail(NOUN, "copy-config: cannot read %s: %s", o->config,
                               rc == MM_ENOENT ? strerror(errno) : mm_strerror(rc));
        rc = add_config(b, text);
        free(text);
        MM_GUARD(rc);
    }
    return mm_buf_append_str(b, "</source></copy-config>");
}

/* RFC 5717 section 2.4.1. */
static int build_partial_lock(mm_buf *b, const nc_opts *o)
{
    if (o->nselect == 0)
        return mm_cli_usage_error(NOUN, "--select XPATH is required");
    MM_GUARD(mm_buf_append_str(
        b, "<partial-lock xmlns=\"urn:ietf:params:xml:ns:netconf:partial-lock:1.0\">"));
    for (int i = 0; i < o->nselect; i++) {
        MM_GUARD(mm_buf_append_str(b, "<select"));
        MM_GUARD(add_ns_decls(b, o));
        MM_GUARD(mm_buf_append_str(b, ">"));
        MM_GUARD(xml_escape(b, o->select[i]));
        MM_GUARD(mm_buf_append_str(b, "</select>"));
    }
    return mm_buf_append_str(b, "</partial-lock>");
}

/* The operation XML for the verb; >0 is a CLI exit status (usage error). */
static int build_op(const nc_opts *o, mm_buf *b)
{
    const char *v = o->verb;
    if (!strcmp(v, "get"))
        return build_get(b, o, false);
    if (!strcmp(v, "get-config"))
        return build_get(b, o, true);
    if (!strcmp(v, "edit-config"))
        return build_edit(b, o);
    if (!strcmp(v, "get-data"))
        return build_get_data(b, o);
    if (!strcmp(v, "get-schema"))
        return build_get_schema(b, o);
    if (!strcmp(v, "copy-config"))
        return build_copy(b, o);
    if (!strcmp(v, "partial-lock"))
        return build_partial_lock(b, o);
    if (!strcmp(v, "delete-config")) {
        /* ietf-netconf: running cannot be deleted, candidate is not a target. */
        if (!o->target || strcmp(o->target, "startup") != 0)
            return mm_cli_usage_error(NOUN, "--target must be startup");
        return mm_buf_printf(b, "<delete-config><target><%s/></target></delete-config>",
                             o->target);
    }
    if (!strcmp(v, "lock") || !strcmp(v, "unlock")) {
        MM_GUARD(need_datastore("--target", o->target, true));
        return mm_buf_printf(b, "<%s><target><%s/></target></%s>", v, o->target, v);
    }
    if (!strcmp(v, "commit"))
        return build_commit(b, o);
    if (!strcmp(v, "cancel-commit")) {
        MM_GUARD(mm_buf_append_str(b, "<cancel-commit>"));
        MM_GUARD(leaf(b, "persist-id", o->persist_id));
        return mm_buf_append_str(b, "</cancel-commit>");
    }
    if (!strcmp(v, "discard-changes"))
        return mm_buf_append_str(b, "<discard-changes/>");
    if (!strcmp(v, "validate")) {
        MM_GUARD(need_datastore("--source", o->source, false));
        return mm_buf_printf(b, "<validate><source><%s/></source></validate>",
                             o->source ? o->source : "candidate");
    }
    if (!strcmp(v, "kill-session")) {
        if (!o->session_id)
            return mm_cli_usage_error(NOUN, "--session-id N is required");
        return mm_buf_printf(b, "<kill-session><session-id>%ld</session-id></kill-session>",
                             o->session_id);
    }
    if (!strcmp(v, "subscribe"))
        return build_subscribe(b, o);
    if (!strcmp(v, "rpc")) {
        if (!o->file)
            return mm_cli_usage_error(NOUN, "--file FILE|- is required");
        char *text = NULL;
        int rc = read_file(o->file, &text);
        if (rc < 0)
            return mm_cli_fail(NOUN, "rpc: cannot read %s: %s", o->file,
                               rc == MM_ENOENT ? strerror(errno) : mm_strerror(rc));
        rc = mm_buf_append_str(b, skip_decl(text));
        free(text);
        return rc;
    }
    return 0; /* hello: no operation */
}

/* ---------------------------------------------------------------- connection */

typedef struct conn {
    enum transport transport;
    mm_nc_tls_stream *tls;
#ifdef MM_NC_HAVE_SSH
    mm_nc_ssh_stream *ssh;
#endif
    mm_nc_fd_stream fds;
    mm_nc_client_io io;
    bool quic_io;
    mm_nc_client *client;
} conn;

static int connect_tcp_direct(const nc_opts *o, conn *c, char *why, size_t len)
{
    const char *user = o->user ? o->user : getenv("USER");
    int fd = -1;
    fprintf(stderr, "mamori nc: warning: tcp-direct is plaintext and unauthenticated "
                    "(interop testing on loopback only)\n");
    int rc = mm_nc_tcp_direct_connect(o->host, (uint16_t)o->port, user ? user : "nobody",
                                      o->rpc_timeout_ms, &fd, why, len);
    if (rc < 0)
        return rc;
    c->fds.rfd = c->fds.wfd = fd;
    mm_nc_client_io_fd(&c->fds, &c->io);
    return 0;
}

static int connect_quic(const nc_opts *o, conn *c, char *why, size_t len)
{
    if (!QUIC_LINKED) {
        snprintf(why, len, "the QUIC transport is not available in this build");
        return MM_EUNSUPPORTED;
    }
    mm_quic_config qc = {
        .ca_file = o->ca, .cert_file = o->cert, .key_file = o->key, .server_name = o->server_name,
        .groups = o->groups};
    int rc = mm_nc_quic_client_io(o->host, (uint16_t)o->port, &qc, o->rpc_timeout_ms, &c->io);
    if (rc < 0) {
        snprintf(why, len, "QUIC connection to %s port %ld failed: %s", o->host, o->port,
                 mm_strerror(rc));
        return rc;
    }
    c->quic_io = true;
    return 0;
}

/*
 * Call home (RFC 8071): listen, and take the first connection the server
 * opens to us within the timeout. The TLS or SSH handshake that follows is
 * the same as on a connection we opened: the server is authenticated as usual.
 */
static int call_home_accept(const nc_opts *o, int *out, char *why, size_t len)
{
    const char *bind_addr = o->call_home_bind ? o->call_home_bind : "127.0.0.1";
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, bind_addr, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)o->call_home_listen);
        sl = sizeof(*in);
    } else if (inet_pton(AF_INET6, bind_addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)o->call_home_listen);
        sl = sizeof(*in6);
    } else {
        snprintf(why, len, "--call-home-bind %s is not a numeric address", bind_addr);
        return MM_EINVAL;
    }
    int ls = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (ls < 0) {
        snprintf(why, len, "socket: %s", strerror(errno));
        return MM_ESYS;
    }
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(ls, (struct sockaddr *)&ss, sl) != 0 || listen(ls, 4) != 0) {
        snprintf(why, len, "listen on %s port %ld: %s", bind_addr, o->call_home_listen,
                 strerror(errno));
        close(ls);
        return MM_ESYS;
    }
    if (o->verbose)
        fprintf(stderr, "mamori nc: waiting for a call home on %s port %ld\n", bind_addr,
                o->call_home_listen);
    struct pollfd p = {.fd = ls, .events = POLLIN};
    int pr = poll(&p, 1, o->rpc_timeout_ms);
    int fd = pr == 1 ? accept4(ls, NULL, NULL, SOCK_CLOEXEC) : -1;
    close(ls);
    if (fd < 0) {
        snprintf(why, len, "no call home within %d s", o->rpc_timeout_ms / 1000);
        return MM_ETIMEOUT;
    }
    *out = fd;
    return 0;
}

static int connect_transport(const nc_opts *o, conn *c, char *why, size_t len)
{
    c->fds.rfd = c->fds.wfd = -1;
    int ch_fd = 0;
    if (o->call_home_listen) {
        if (o->transport != TR_TLS && o->transport != TR_SSH) {
            snprintf(why, len, "call home works with --transport tls or ssh");
            return MM_EINVAL;
        }
        MM_GUARD(call_home_accept(o, &ch_fd, why, len));
    }
    if (o->transport == TR_TCP_DIRECT)
        return connect_tcp_direct(o, c, why, len);
    if (o->transport == TR_QUIC)
        return connect_quic(o, c, why, len);
    if (o->transport == TR_SSH) {
#ifdef MM_NC_HAVE_SSH
        const char *user = o->user ? o->user : getenv("USER");
        mm_nc_ssh_client_config sc = {.host = o->host, .port = (uint16_t)o->port,
                                      .user = user ? user : "nobody", .key_file = o->key,
                                      .known_hosts = o->known_hosts,
                                      .fingerprint = o->host_key_fp,
                                      .timeout_ms = o->rpc_timeout_ms, .fd = ch_fd};
        MM_GUARD(mm_nc_ssh_connect(&sc, &c->ssh, why, len));
        mm_nc_ssh_stream_io(c->ssh, &c->io);
        return 0;
#else
        snprintf(why, len, "the SSH transport is not available in this build (no libssh)");
        return MM_EUNSUPPORTED;
#endif
    }
    mm_nc_tls_client_config tc = {.host = o->host,
                                  .port = (uint16_t)o->port,
                                  .server_name = o->server_name,
                                  .groups = o->groups,
                                  .ca_file = o->ca,
                                  .cert_file = o->cert,
                                  .key_file = o->key,
                                  .timeout_ms = o->rpc_timeout_ms, .fd = ch_fd};
    MM_GUARD(mm_nc_tls_connect(&tc, &c->tls, why, len));
    mm_nc_tls_stream_io(c->tls, &c->io);
    return 0;
}

static void conn_close(conn *c)
{
    if (c->client)
        mm_nc_client_close(c->client);
    c->client = NULL;
    if (c->tls)
        mm_nc_tls_stream_close(c->tls);
#ifdef MM_NC_HAVE_SSH
    if (c->ssh)
        mm_nc_ssh_stream_close(c->ssh);
#endif
    if (c->quic_io && QUIC_LINKED)
        mm_nc_quic_client_io_free(&c->io);
    if (c->fds.rfd >= 0)
        close(c->fds.rfd);
}

/* The negotiated key-exchange group of either secure transport (docs/tls.md). */
static const char *conn_group(conn *c)
{
    if (c->tls)
        return mm_nc_tls_stream_group(c->tls);
#ifdef MM_NC_HAVE_SSH
    if (c->ssh)
        return mm_nc_ssh_stream_kex(c->ssh);
#endif
#ifdef MM_HAVE_QUIC
    if (c->quic_io)
        return mm_quic_conn_tls_group(mm_nc_quic_client_conn(&c->io));
#endif
    return NULL;
}

static int nc_connect(const nc_opts *o, conn *c)
{
    memset(c, 0, sizeof(*c));
    char why[512] = "";
    int rc = connect_transport(o, c, why, sizeof(why));
    if (rc < 0) {
        conn_close(c);
        return mm_cli_fail(NOUN, "connect: %s", why[0] ? why : mm_strerror(rc));
    }
    rc = mm_nc_client_new_ex(&c->io, 0, o->rpc_timeout_ms, &c->client, why, sizeof(why));
    if (rc < 0) {
        conn_close(c);
        return mm_cli_fail(NOUN, "hello: %s", why);
    }
    /*
     * yuma123 netconfd (2.13) drops a chunked <rpc> that arrives in the same
     * read as the client <hello> (observed: it never answers). Give it a
     * moment to take the hello alone. Interop transport only.
     */
    if (o->transport == TR_TCP_DIRECT) {
        struct timespec settle = {0, 100 * 1000 * 1000};
        nanosleep(&settle, NULL);
    }
    if (o->verbose) {
        const char *group = conn_group(c);
        fprintf(stderr, "mamori nc: connected to %s port %ld, session-id %u%s%s\n", o->host,
                o->port, mm_nc_client_session_id(c->client), group ? ", group " : "",
                group ? group : "");
    }
    return 0;
}

/* ---------------------------------------------------------------- output */

static json_t *error_json(const mm_nc_reply_error *e)
{
    json_t *j = json_object();
    const struct {
        const char *key, *v;
    } f[] = {{"error-type", e->type},         {"error-tag", e->tag},
             {"error-severity", e->severity}, {"error-app-tag", e->app_tag},
             {"error-path", e->path},         {"error-message", e->message},
             {"error-info", e->info}};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        if (f[i].v)
            json_object_set_new(j, f[i].key, json_string(f[i].v));
    }
    return j;
}

static void print_errors(const char *verb, const mm_nc_reply *r)
{
    for (size_t i = 0; i < mm_nc_reply_error_count(r); i++) {
        const mm_nc_reply_error *e = mm_nc_reply_error_at(r, i);
        fprintf(stderr, "mamori nc: %s: rpc-error: %s (%s, %s)\n", verb, e->tag ? e->tag : "?",
                e->type ? e->type : "?", e->severity ? e->severity : "error");
        if (e->message)
            fprintf(stderr, "  message: %s\n", e->message);
        if (e->path)
            fprintf(stderr, "  path:    %s\n", e->path);
        if (e->app_tag)
            fprintf(stderr, "  app-tag: %s\n", e->app_tag);
        if (e->info && *e->info)
            fprintf(stderr, "  info:    %s\n", e->info);
    }
}

/* Print one reply; the exit status follows it (0 ok/data, 1 rpc-error). */
static int report_reply(const nc_opts *o, mm_nc_client *c, const char *xml)
{
    mm_nc_reply *r = NULL;
    char why[256] = "";
    if (mm_nc_reply_parse(xml, strlen(xml), &r, why, sizeof(why)) < 0)
        return mm_cli_fail(NOUN, "%s: bad reply: %s", o->verb, why);
    bool failed = false;
    for (size_t i = 0; i < mm_nc_reply_error_count(r); i++) {
        const char *sev = mm_nc_reply_error_at(r, i)->severity;
        failed |= !sev || strcmp(sev, "warning") != 0;
    }
    if (o->json) {
        json_t *j = json_pack("{s:s, s:i, s:b}", "verb", o->verb, "session-id",
                              (json_int_t)mm_nc_client_session_id(c), "ok", !failed);
        if (mm_nc_reply_has_data(r))
            json_object_set_new(j, "data", json_string(mm_nc_reply_data(r)));
        if (mm_nc_reply_error_count(r)) {
            json_t *errs = json_array();
            for (size_t i = 0; i < mm_nc_reply_error_count(r); i++)
                json_array_append_new(errs, error_json(mm_nc_reply_error_at(r, i)));
            json_object_set_new(j, "errors", errs);
        }
        mm_cli_json_print(j);
    } else if (mm_nc_reply_has_data(r)) {
        fputs(mm_nc_reply_data(r), stdout);
    } else if (mm_nc_reply_ok(r)) {
        puts("ok");
    }
    if (!o->json || failed)
        print_errors(o->verb, r);
    mm_nc_reply_free(r);
    return failed ? MM_CLI_EXIT_FAIL : MM_CLI_EXIT_OK;
}

static int do_hello(const nc_opts *o, mm_nc_client *c)
{
    const char *const *caps = mm_nc_client_capabilities(c);
    const char *framing = mm_nc_client_framing(c) == MM_NC_FRAMING_CHUNKED ? "chunked" : "eom";
    if (o->json) {
        json_t *arr = json_array();
        for (size_t i = 0; caps[i]; i++)
            json_array_append_new(arr, json_string(caps[i]));
        mm_cli_json_print(json_pack("{s:s, s:i, s:s, s:o}", "verb", "hello", "session-id",
                                    (json_int_t)mm_nc_client_session_id(c), "framing", framing,
                                    "capabilities", arr));
        return MM_CLI_EXIT_OK;
    }
    printf("session-id: %u\nframing: %s\ncapabilities:\n", mm_nc_client_session_id(c), framing);
    for (size_t i = 0; caps[i]; i++)
        printf("  %s\n", caps[i]);
    return MM_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- subscribe */

typedef struct sub_state {
    const nc_opts *o;
    long seen;
    bool complete;
    json_t *list;
} sub_state;

static void on_notification(const char *xml, size_t len, void *arg)
{
    sub_state *s = arg;
    if (s->o->count && s->seen >= s->o->count)
        return;
    s->seen++;
    /* RFC 5277 section 2.2.1: notificationComplete ends the subscription. */
    if (memmem(xml, len, "notificationComplete", 20))
        s->complete = true;
    if (s->list) {
        json_array_append_new(s->list, json_stringn(xml, len));
        return;
    }
    fwrite(xml, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static int do_subscribe(const nc_opts *o, mm_nc_client *c, const char *op)
{
    sub_state s = {.o = o, .list = o->json ? json_array() : NULL};
    mm_nc_client_on_notification(c, on_notification, &s);
    char *reply = NULL;
    int rc = mm_nc_client_rpc(c, op, &reply, o->rpc_timeout_ms);
    if (rc < 0) {
        json_decref(s.list);
        return mm_cli_fail(NOUN, "subscribe: %s", mm_nc_client_error(c));
    }
    mm_nc_reply *r = NULL;
    bool ok = mm_nc_reply_parse(reply, strlen(reply), &r, NULL, 0) == 0 && mm_nc_reply_ok(r);
    if (!ok) {
        json_decref(s.list);
        mm_nc_reply_free(r);
        nc_opts eo = *o;
        eo.json = false;
        rc = report_reply(&eo, c, reply);
        free(reply);
        return rc;
    }
    mm_nc_reply_free(r);
    free(reply);
    /* On stderr, so scripts (and people) know from when on events are caught. */
    fprintf(stderr, "mamori nc: subscribed, waiting for notifications\n");
    int64_t end = o->duration ? mm_monotonic_ms() + o->duration * 1000 : -1;
    rc = 0;
    while (rc >= 0 && !s.complete && (!o->count || s.seen < o->count)) {
        int wait = end < 0 ? 1000 : (int)(end - mm_monotonic_ms());
        if (end >= 0 && wait <= 0)
            break;
        rc = mm_nc_client_poll(c, wait > 1000 ? 1000 : wait);
    }
    if (s.list)
        mm_cli_json_print(json_pack("{s:s, s:i, s:o}", "verb", "subscribe", "count",
                                    (json_int_t)s.seen, "notifications", s.list));
    if (rc < 0 && rc != MM_ECLOSED)
        return mm_cli_fail(NOUN, "subscribe: %s", mm_nc_client_error(c));
    return MM_CLI_EXIT_OK;
}

/* ---------------------------------------------------------------- main */

static int run(const nc_opts *o)
{
    mm_buf op;
    mm_buf_init(&op, FILE_MAX + 4096);
    int rc = build_op(o, &op);
    if (rc != 0) {
        mm_buf_free(&op);
        return rc < 0 ? mm_cli_fail(NOUN, "%s: %s", o->verb, mm_strerror(rc)) : rc;
    }
    conn c;
    rc = nc_connect(o, &c);
    if (rc != 0) {
        mm_buf_free(&op);
        return rc;
    }
    if (!strcmp(o->verb, "hello")) {
        rc = do_hello(o, c.client);
    } else if (!strcmp(o->verb, "subscribe")) {
        rc = do_subscribe(o, c.client, mm_buf_cstr(&op));
    } else {
        char *reply = NULL;
        int e = mm_nc_client_rpc(c.client, mm_buf_cstr(&op), &reply, o->rpc_timeout_ms);
        rc = e < 0 ? mm_cli_fail(NOUN, "%s: %s", o->verb, mm_nc_client_error(c.client))
                   : report_reply(o, c.client, reply);
        free(reply);
    }
    mm_buf_free(&op);
    conn_close(&c);
    return rc;
}

int mm_cli_nc(int argc, char **argv)
{
    if (argc < 2)
        return help(NULL);
    nc_opts o;
    int rc = parse(argc, argv, &o);
    if (rc == -1)
        return MM_CLI_EXIT_OK; /* help printed */
    if (rc != 0)
        return rc;
    /* libyang reports through our messages; keep its own log off stderr. */
    ly_log_options(LY_LOSTORE_LAST);
    return run(&o);
}
