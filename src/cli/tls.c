/*
 * mamori tls - TLS 1.3 with the hybrid post-quantum groups: probe a server,
 * list the groups.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "cli.h"
#include "mamori/mm_core.h"
#include "mamori/mm_tls.h"
#include "sp_prov.h"
#ifdef MM_HAVE_QUIC
#include <event2/event.h>

#include "mamori/mm_netconf_quic.h"
#include "mamori/mm_quic.h"
#endif

static int help(void)
{
    printf("usage: mamori tls probe HOST:PORT [--groups LIST] [--ca FILE]\n"
           "                        [--cert FILE --key FILE] [--servername N]\n"
           "                        [--timeout SEC] [--quic [--alpn TOKEN]] [--json]\n"
           "       mamori tls groups [--json]\n\n"
           "probe   connect with TLS 1.3 and report the protocol, the negotiated group,\n"
           "        the cipher suite, the peer's certificate chain (subject, issuer,\n"
           "        validity) and the handshake time in ms. Groups default to\n"
           "        %s.\n"
           "        With --ca the server is verified (name: --servername, else HOST);\n"
           "        without it the chain is only reported. --cert/--key present a\n"
           "        client certificate (mutual TLS, as mamori daemons require).\n"
           "        HOST may be a name, an IPv4 address or [IPv6]. Exit 1 if the\n"
           "        connection or the handshake fails.\n"
           "        --quic: the same over QUIC v1 (UDP, ALPN noq, as NETCONF over\n"
           "        QUIC); needs --ca (QUIC always verifies the server). --alpn\n"
           "        offers another token than noq (e.g. h3, to probe other servers).\n"
           "groups  list the hybrid and pure Scloud+ groups with their provisional\n"
           "        (private-use, not IANA-assigned) codepoints.\n",
           mm_tls_default_groups());
    return MM_CLI_EXIT_OK;
}

struct opts {
    const char *target, *groups, *ca, *cert, *key, *servername, *alpn;
    int timeout;
    bool json, quic;
};

static int parse(int argc, char **argv, struct opts *o)
{
    o->timeout = 10;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json"))
            o->json = true;
        else if (!strcmp(a, "--quic"))
            o->quic = true;
        else if (!strcmp(a, "--alpn") && i + 1 < argc)
            o->alpn = argv[++i];
        else if (!strcmp(a, "--groups") && i + 1 < argc)
            o->groups = argv[++i];
        else if (!strcmp(a, "--ca") && i + 1 < argc)
            o->ca = argv[++i];
        else if (!strcmp(a, "--cert") && i + 1 < argc)
            o->cert = argv[++i];
        else if (!strcmp(a, "--key") && i + 1 < argc)
            o->key = argv[++i];
        else if (!strcmp(a, "--servername") && i + 1 < argc)
            o->servername = argv[++i];
        else if (!strcmp(a, "--timeout") && i + 1 < argc)
            o->timeout = atoi(argv[++i]);
        else if (a[0] != '-' && o->target == NULL)
            o->target = a;
        else
            return mm_cli_usage_error("tls", "unknown or incomplete option '%s'", a);
    }
    if (!strcmp(argv[1], "probe") && o->target == NULL)
        return mm_cli_usage_error("tls", "probe needs HOST:PORT");
    if ((o->cert == NULL) != (o->key == NULL))
        return mm_cli_usage_error("tls", "--cert and --key go together");
    if (o->quic && o->ca == NULL)
        return mm_cli_usage_error("tls", "--quic needs --ca");
    if (o->alpn != NULL && (!o->quic || o->alpn[0] == '\0' || strlen(o->alpn) > 32))
        return mm_cli_usage_error("tls", "--alpn takes one token of 1..32 bytes, with --quic");
    if (o->timeout <= 0 || o->timeout > 3600)
        return mm_cli_usage_error("tls", "--timeout must be 1..3600 seconds");
    return 0;
}

/* "host:port", "[v6]:port" -> host, port (host copied into buf). */
static int split_target(const char *t, char *host, size_t hlen, const char **port)
{
    const char *colon;
    size_t n;

    if (t[0] == '[') {
        const char *end = strchr(t, ']');
        if (end == NULL || end[1] != ':')
            return MM_EINVAL;
        n = (size_t)(end - t - 1);
        t++;
        colon = end + 1;
    } else {
        colon = strrchr(t, ':');
        if (colon == NULL)
            return MM_EINVAL;
        n = (size_t)(colon - t);
    }
    if (n == 0 || n >= hlen || colon[1] == '\0')
        return MM_EINVAL;
    memcpy(host, t, n);
    host[n] = '\0';
    *port = colon + 1;
    return 0;
}

static int tcp_connect(const char *host, const char *port, int timeout)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    struct timeval tv = {.tv_sec = timeout};
    int fd = -1;

    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static void name_text(const X509_NAME *name, char *out, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;

    out[0] = '\0';
    if (b == NULL)
        return;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_read(b, out, (int)len - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}

/* ISO 8601 UTC ("2026-01-02T03:04:05Z"). */
static void time_text(const ASN1_TIME *t, char *out, size_t len)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1 || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, len, "?");
}

struct probe {
    const char *protocol, *group, *cipher;
    unsigned int group_id;
    bool verified;
    long verify_code;
    double handshake_ms;
};

static void report(const struct opts *o, const struct probe *p, STACK_OF(X509) *chain)
{
    json_t *certs = json_array();

    if (!o->json) {
        char id[16] = "";
        if (p->group_id != 0)
            snprintf(id, sizeof(id), " (0x%04x)", p->group_id);
        printf("target:       %s\nprotocol:     %s\ngroup:        %s%s\n"
               "cipher:       %s\nverified:     %s\nhandshake_ms: %.2f\npeer chain:\n",
               o->target, p->protocol, p->group ? p->group : "?", id, p->cipher,
               p->verified ? "yes" : o->ca ? X509_verify_cert_error_string(p->verify_code)
                                           : "no (no --ca given)",
               p->handshake_ms);
    }
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        char subj[512], iss[512], nb[32], na[32];

        name_text(X509_get_subject_name(x), subj, sizeof(subj));
        name_text(X509_get_issuer_name(x), iss, sizeof(iss));
        time_text(X509_get0_notBefore(x), nb, sizeof(nb));
        time_text(X509_get0_notAfter(x), na, sizeof(na));
        if (o->json)
            json_array_append_new(certs, json_pack("{s:s, s:s, s:s, s:s}", "subject", subj,
                                                   "issuer", iss, "not_before", nb,
                                                   "not_after", na));
        else
            printf("  %d subject: %s\n    issuer:  %s\n    valid:   %s .. %s\n", i, subj, iss,
                   nb, na);
    }
    if (o->json) {
        mm_cli_json_print(json_pack(
            "{s:s, s:s, s:s?, s:i, s:s, s:b, s:s, s:f, s:o}", "target", o->target, "protocol",
            p->protocol, "group", p->group, "group_id", (json_int_t)p->group_id, "cipher",
            p->cipher, "verified", p->verified, "verify_result",
            o->ca ? X509_verify_cert_error_string(p->verify_code) : "not verified (no --ca)",
            "handshake_ms", p->handshake_ms, "peer_chain", certs));
    } else {
        json_decref(certs);
    }
}

#ifdef MM_HAVE_QUIC
struct qprobe {
    int connected, closed;
    char reason[128];
};

static int qp_connected(mm_quic_conn *c, void *arg)
{
    (void)c;
    ((struct qprobe *)arg)->connected = 1;
    return 0;
}

static void qp_closed(mm_quic_conn *c, const mm_quic_close_info *info, void *arg)
{
    (void)c;
    struct qprobe *q = arg;
    q->closed = 1;
    snprintf(q->reason, sizeof(q->reason), "%s (%s error 0x%llx)", info->reason,
             info->app ? "application" : "transport", (unsigned long long)info->error_code);
}

/* The same report over QUIC: the group is what the QUIC TLS backend negotiated. */
static int probe_quic(const struct opts *o, const char *host, const char *port)
{
    static const mm_quic_callbacks cbs = {.on_connected = qp_connected, .on_closed = qp_closed};
    mm_quic_config cfg = {.ca_file = o->ca, .cert_file = o->cert, .key_file = o->key,
                          .server_name = o->servername, .groups = o->groups,
                          .alpn = o->alpn,
                          .idle_timeout_ms = (uint32_t)o->timeout * 1000,
                          .handshake_timeout_ms = (uint32_t)o->timeout * 1000,
                          .max_streams_uni = MM_NC_QUIC_MAX_SUBSCRIPTIONS};
    struct qprobe q = {0};
    struct probe p = {.protocol = "TLSv1.3 (QUIC v1)", .cipher = "?"};
    mm_quic_conn *c = NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    char group[64] = "";
    long pn = strtol(port, NULL, 10);
    int rc = MM_CLI_EXIT_FAIL;
    struct event_base *base = event_base_new();

    if (base == NULL || chain == NULL || pn <= 0 || pn > 65535) {
        rc = mm_cli_fail("tls", "cannot set up the QUIC probe of %s", o->target);
        goto done;
    }
    double t0 = (double)mm_monotonic_us() / 1e3;
    if (mm_quic_connect(base, &cfg, host, (uint16_t)pn, &cbs, &q, &c) < 0) {
        rc = mm_cli_fail("tls", "cannot set up QUIC to %s (groups, files?): see the log above",
                         o->target);
        goto done;
    }
    /* The handshake timeout bounds this loop (on_closed). */
    while (!q.connected && !q.closed)
        event_base_loop(base, EVLOOP_ONCE);
    if (!q.connected) {
        rc = mm_cli_fail("tls", "QUIC handshake with %s failed: %s", o->target, q.reason);
        goto done;
    }
    p.handshake_ms = (double)mm_monotonic_us() / 1e3 - t0;
    snprintf(group, sizeof(group), "%s",
             mm_quic_conn_tls_group(c) ? mm_quic_conn_tls_group(c) : "?");
    p.group = group;
    p.verified = true; /* a QUIC client of mamori never connects unverified */
    for (size_t i = 0; i < mm_quic_conn_peer_cert_count(c); i++) {
        size_t len = 0;
        const unsigned char *der = mm_quic_conn_peer_cert(c, i, &len);
        X509 *x = der != NULL ? d2i_X509(NULL, &der, (long)len) : NULL;
        if (x != NULL && !sk_X509_push(chain, x))
            X509_free(x);
    }
    report(o, &p, chain);
    mm_quic_conn_close(c, MM_QUIC_NC_NO_ERROR, "probe done", false);
    rc = MM_CLI_EXIT_OK;
done:
    if (c != NULL)
        mm_quic_endpoint_free(mm_quic_conn_endpoint(c));
    sk_X509_pop_free(chain, X509_free);
    if (base != NULL)
        event_base_free(base);
    return rc;
}
#endif

static int probe(const struct opts *o)
{
    mm_tls_config cfg = {.ca_file = o->ca, .cert_file = o->cert, .key_file = o->key,
                         .groups = o->groups, .no_verify = o->ca == NULL};
    char host[256];
    const char *port = NULL;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    struct probe p = {0};
    int fd = -1, rc = MM_CLI_EXIT_FAIL;
    double t0;

    if (split_target(o->target, host, sizeof(host), &port) < 0)
        return mm_cli_usage_error("tls", "target must be HOST:PORT or [IPv6]:PORT");
    if (o->quic) {
#ifdef MM_HAVE_QUIC
        return probe_quic(o, host, port);
#else
        return mm_cli_fail("tls", "this build has no QUIC");
#endif
    }
    ctx = mm_tls_ctx_new_client(&cfg);
    if (ctx == NULL)
        return mm_cli_fail("tls", "cannot set up TLS (groups, files?): see the log above");
    fd = tcp_connect(host, port, o->timeout);
    if (fd < 0) {
        rc = mm_cli_fail("tls", "cannot connect to %s", o->target);
        goto done;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL || !SSL_set_fd(ssl, fd) ||
        mm_tls_set_peer_name(ssl, o->servername ? o->servername : host) < 0) {
        rc = mm_cli_fail("tls", "cannot set up the connection to %s", o->target);
        goto done;
    }
    t0 = (double)mm_monotonic_us() / 1e3;
    if (SSL_connect(ssl) != 1) {
        char err[256] = "";
        long v = SSL_get_verify_result(ssl);

        ERR_error_string_n(ERR_peek_last_error(), err, sizeof(err));
        rc = mm_cli_fail("tls", "handshake with %s failed: %s%s%s", o->target,
                         err[0] ? err : "connection closed",
                         v != X509_V_OK ? "; verify: " : "",
                         v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
        goto done;
    }
    p.handshake_ms = (double)mm_monotonic_us() / 1e3 - t0;
    p.protocol = SSL_get_version(ssl);
    p.group = mm_tls_negotiated_group_name(ssl);
    p.group_id = mm_tls_negotiated_group_id(ssl);
    p.cipher = SSL_get_cipher_name(ssl);
    p.verify_code = SSL_get_verify_result(ssl);
    p.verified = o->ca != NULL && p.verify_code == X509_V_OK;
    report(o, &p, SSL_get_peer_cert_chain(ssl));
    SSL_shutdown(ssl);
    rc = MM_CLI_EXIT_OK;
done:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    ERR_clear_error();
    return rc;
}

static int groups(const struct opts *o)
{
    json_t *arr = json_array();

    if (!o->json)
        printf("%-22s %-8s %-6s %-10s %-10s %s\n", "group", "id", "bits", "client", "server",
               "components");
    for (size_t i = 0; i < SP_NGROUPS; i++) {
        const sp_group *g = &sp_groups[i];
        const char *ec = g->ec == SP_EC_X25519 ? "X25519"
                         : g->ec == SP_EC_P256 ? "secp256r1"
                         : g->ec == SP_EC_P384 ? "secp384r1"
                                               : NULL;

        if (o->json) {
            json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:i, s:i, s:s?, s:s}", "name",
                                                 g->tls_name, "id", (json_int_t)g->default_id,
                                                 "security_bits", (json_int_t)g->secbits,
                                                 "client_share_bytes",
                                                 (json_int_t)sp_group_pub_len(g),
                                                 "server_share_bytes",
                                                 (json_int_t)sp_group_ct_len(g), "ecdhe", ec,
                                                 "kem", sp_group_kem(g)->name));
            continue;
        }
        printf("%-22s 0x%04X   %-6u %-10zu %-10zu %s%s%s\n", g->tls_name, g->default_id,
               g->secbits, sp_group_pub_len(g), sp_group_ct_len(g), ec ? ec : "",
               ec ? " + " : "", sp_group_kem(g)->name);
    }
    if (o->json)
        mm_cli_json_print(json_pack("{s:o, s:b}", "groups", arr, "iana_assigned", 0));
    else {
        json_decref(arr);
        printf("\nCodepoints are provisional private-use values (RFC 8446 4.2.7), not\n"
               "IANA-assigned; see docs/provider.md to override them.\n");
    }
    return MM_CLI_EXIT_OK;
}

int mm_cli_tls(int argc, char **argv)
{
    struct opts o = {0};
    int rc;

    if (argc < 2 || mm_cli_is_help(argv[1]))
        return help();
    if (strcmp(argv[1], "probe") != 0 && strcmp(argv[1], "groups") != 0)
        return mm_cli_usage_error("tls", "unknown verb '%s'", argv[1]);
    rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    return !strcmp(argv[1], "probe") ? probe(&o) : groups(&o);
}
