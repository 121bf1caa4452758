/*
 * `mamori ddns`: the ApertoDNS client (update, bulk-update, status, domains,
 * txt set/delete/get, info, health) over HTTPS with the mamori TLS layer,
 * and token/zone/host administration of a ddnsd state directory.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "mamori/mm_audit.h"
#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"
#include "mamori/mm_tls.h"

#define NOUN "ddns"

static void help(void)
{
    puts("usage: mamori ddns VERB [options]\n\n"
         "Client (ApertoDNS over HTTPS):\n"
         "  update HOST [--ipv4 A|auto|null] [--ipv6 A|auto|null] [--ttl N]\n"
         "  bulk-update HOST... [--ipv4 ..] [--ipv6 ..] [--ttl N]\n"
         "  status HOST | domains | info | health\n"
         "  txt set NAME VALUE [--ttl N] | txt delete NAME [VALUE] | txt get NAME\n"
         "    (NAME is the owner, e.g. _acme-challenge.home.example.net)\n"
         "  acme-hook auth|cleanup  certbot manual DNS-01 hook: sets or removes the\n"
         "    TXT _acme-challenge.$CERTBOT_DOMAIN = $CERTBOT_VALIDATION\n"
         "  options: --server URL (default $APERTODNS_URL or https://127.0.0.1:8443)\n"
         "           --token T (default $APERTODNS_TOKEN) | --token-file F\n"
         "           --ca FILE (trust anchor; default STATE/pki/ca.crt with --state-dir)\n"
         "           --retries N (429/5xx/unreachable; default 3, exponential backoff)\n"
         "           --json (print the server's JSON reply)\n\n"
         "Administration (on the state directory of mamori-ddnsd):\n"
         "  admin token-create --state-dir D [--host H]... [--zone Z]... [--scopes S]\n"
         "                     [--env live|test] [--expires-days N]\n"
         "      scopes: all or a comma list of dns:update,domains:read,txt:read,\n"
         "      txt:write,txt:delete; --host also registers the hostname.\n"
         "      The token is printed once, alone on the last line.\n"
         "  admin token-revoke --state-dir D --id N\n"
         "  admin zone-add --state-dir D --zone Z --server IP [--port P]\n"
         "                 [--key-name N --key-secret BASE64 [--key-alg hmac-sha256]]\n"
         "  admin host-add --state-dir D --host H\n"
         "  admin list --state-dir D [--json]\n"
         "  (admin verbs take --store URI for a PostgreSQL store shared by several\n"
         "   ddnsd; the token key stays in D/token.key, copy it to every instance)\n"
         "Admin actions are audited in D/admin-audit.log.");
}

/* ------------------------------------------------------------ options */

struct opts {
    const char *state_dir, *store, *server, *token, *token_file, *ca, *ipv4, *ipv6, *scopes, *env,
        *zone_srv, *key_name, *key_secret, *key_alg;
    const char *hosts[64], *zones[64];
    size_t n_hosts, n_zones;
    long ttl, retries, id, port, expires_days;
    bool json;
    char *args[64];
    size_t n_args;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        {"state-dir", required_argument, 0, 'd'}, {"server", required_argument, 0, 'S'},
        {"token", required_argument, 0, 't'},     {"token-file", required_argument, 0, 'f'},
        {"ca", required_argument, 0, 'c'},        {"ipv4", required_argument, 0, '4'},
        {"ipv6", required_argument, 0, '6'},      {"ttl", required_argument, 0, 'T'},
        {"retries", required_argument, 0, 'r'},   {"json", no_argument, 0, 'j'},
        {"host", required_argument, 0, 'H'},      {"zone", required_argument, 0, 'Z'},
        {"scopes", required_argument, 0, 's'},    {"env", required_argument, 0, 'e'},
        {"id", required_argument, 0, 'i'},        {"port", required_argument, 0, 'p'},
        {"key-name", required_argument, 0, 'k'},  {"key-secret", required_argument, 0, 'K'},
        {"key-alg", required_argument, 0, 'a'},   {"expires-days", required_argument, 0, 'x'},
        {"server-ip", required_argument, 0, 'I'}, {"store", required_argument, 0, 'D'},
        {0, 0, 0, 0}};
    o->ttl = -1;
    o->retries = 3;
    o->port = 53;
    optind = 1;
    opterr = 0;
    int c;
    for (;;) {
        c = getopt_long(argc, argv, "+", longs, NULL);
        if (c == -1) {
            /* "+": getopt stops at a positional argument; keep it and go on */
            if (optind >= argc)
                break;
            if (o->n_args >= 64)
                return mm_cli_usage_error(NOUN, "too many arguments");
            o->args[o->n_args++] = argv[optind++];
            continue;
        }
        switch (c) {
        case 'd': o->state_dir = optarg; break;
        case 'S': o->server = optarg; break;
        case 't': o->token = optarg; break;
        case 'f': o->token_file = optarg; break;
        case 'c': o->ca = optarg; break;
        case '4': o->ipv4 = optarg; break;
        case '6': o->ipv6 = optarg; break;
        case 'T': o->ttl = strtol(optarg, NULL, 10); break;
        case 'r': o->retries = strtol(optarg, NULL, 10); break;
        case 'j': o->json = true; break;
        case 'H':
            if (o->n_hosts < 64)
                o->hosts[o->n_hosts++] = optarg;
            break;
        case 'Z':
            if (o->n_zones < 64)
                o->zones[o->n_zones++] = optarg;
            break;
        case 's': o->scopes = optarg; break;
        case 'e': o->env = optarg; break;
        case 'i': o->id = strtol(optarg, NULL, 10); break;
        case 'p': o->port = strtol(optarg, NULL, 10); break;
        case 'k': o->key_name = optarg; break;
        case 'K': o->key_secret = optarg; break;
        case 'a': o->key_alg = optarg; break;
        case 'x': o->expires_days = strtol(optarg, NULL, 10); break;
        case 'I': o->zone_srv = optarg; break;
        case 'D': o->store = optarg; break;
        default:
            return mm_cli_usage_error(NOUN, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    return 0;
}

/* ------------------------------------------------------------ admin */

struct admin {
    mm_ddns_store *store;
    mm_audit *audit;
    uint8_t key[MM_DDNS_KEY_LEN];
};

static int admin_open(const struct opts *o, struct admin *a)
{
    char p[1200];
    memset(a, 0, sizeof(*a));
    if (!o->state_dir)
        return mm_cli_usage_error(NOUN, "--state-dir is required");
    if (mm_mkdir_p(o->state_dir, 0700) < 0)
        return mm_cli_fail(NOUN, "%s: cannot create", o->state_dir);
    snprintf(p, sizeof(p), "%s/ddns.db", o->state_dir);
    if (mm_ddns_store_open(o->store ? o->store : p, &a->store) < 0)
        return mm_cli_fail(NOUN, "%s: cannot open the store", o->store ? "--store" : p);
    /* The daemon owns audit.log (one writer per hash chain): admin has its own. */
    snprintf(p, sizeof(p), "%s/admin-audit.log", o->state_dir);
    if (mm_audit_open(p, &a->audit) < 0)
        return mm_cli_fail(NOUN, "%s: cannot open the audit log", p);
    snprintf(p, sizeof(p), "%s/token.key", o->state_dir);
    int rc = mm_ddns_key_load(p, a->key);
    if (rc < 0)
        return mm_cli_fail(NOUN, "%s: %s", p, mm_strerror(rc));
    return 0;
}

static void admin_close(struct admin *a)
{
    OPENSSL_cleanse(a->key, sizeof(a->key));
    mm_audit_close(a->audit);
    mm_ddns_store_close(a->store);
}

/* Audit first; an action that cannot be audited is not done (fail closed). */
static int admin_audit(struct admin *a, const char *action, const char *object, const char *why)
{
    const char *user = getenv("USER");
    mm_audit_record r = {.module = "ddns", .subject = user ? user : "admin", .action = action,
                         .object = object, .permit = true, .reason = why, .session = "cli"};
    return mm_audit_write(a->audit, &r);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int norm(const char *in, char *out)
{
    return mm_ddns_hostname_normalize(in, strlen(in), false, out);
}

static int admin_token_create(struct admin *a, const struct opts *o)
{
    uint32_t scopes = 0;
    const char *sc = o->scopes ? o->scopes : "dns:update,domains:read";
    if (mm_ddns_scopes_parse(sc, &scopes) < 0)
        return mm_cli_usage_error(NOUN, "bad --scopes '%s'", sc);
    if (!o->n_hosts && !o->n_zones)
        return mm_cli_usage_error(NOUN, "token-create needs --host or --zone");
    char names[64][MM_DDNS_HOSTNAME_MAX + 1], zones[64][MM_DDNS_HOSTNAME_MAX + 1];
    for (size_t i = 0; i < o->n_hosts; i++)
        if (norm(o->hosts[i], names[i]) < 0)
            return mm_cli_usage_error(NOUN, "bad hostname '%s'", o->hosts[i]);
    for (size_t i = 0; i < o->n_zones; i++)
        if (norm(o->zones[i], zones[i]) < 0)
            return mm_cli_usage_error(NOUN, "bad zone '%s'", o->zones[i]);
    char tok[MM_DDNS_TOKEN_MAX], hint[64], scopes_txt[128];
    uint8_t h[MM_DDNS_HASH_LEN];
    if (mm_ddns_token_generate("mamori", o->env ? o->env : "live", tok, sizeof(tok)) < 0)
        return mm_cli_usage_error(NOUN, "bad --env (live, test or sandbox)");
    mm_ddns_token_hint(tok, hint, sizeof(hint));
    mm_ddns_scopes_format(scopes, scopes_txt, sizeof(scopes_txt));
    if (admin_audit(a, "create", hint, scopes_txt) < 0)
        return mm_cli_fail(NOUN, "audit log: write failed; nothing done");
    int64_t id = 0, expires = o->expires_days > 0 ? now_ms() / 1000 + o->expires_days * 86400 : 0;
    int rc = mm_ddns_token_hash(a->key, tok, strlen(tok), h);
    if (rc == 0)
        rc = mm_ddns_store_token_add(a->store, h, hint, scopes, expires, &id);
    for (size_t i = 0; rc == 0 && i < o->n_hosts; i++) {
        int hr = mm_ddns_store_host_add(a->store, names[i], now_ms());
        rc = hr == MM_EEXIST ? 0 : hr;
        if (rc == 0)
            rc = mm_ddns_store_grant_add(a->store, id, "host", names[i]);
    }
    for (size_t i = 0; rc == 0 && i < o->n_zones; i++)
        rc = mm_ddns_store_grant_add(a->store, id, "zone", zones[i]);
    if (rc < 0) {
        OPENSSL_cleanse(tok, sizeof(tok));
        return mm_cli_fail(NOUN, "token-create: %s", mm_strerror(rc));
    }
    if (o->json) {
        json_t *j = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id, "hint", hint, "scopes",
                              scopes_txt, "token", tok);
        mm_cli_json_print(j);
    } else {
        printf("token id %lld, scopes %s (shown once; only a keyed hash is stored)\n",
               (long long)id, scopes_txt);
        printf("%s\n", tok);
    }
    OPENSSL_cleanse(tok, sizeof(tok));
    return 0;
}

static int admin_token_revoke(struct admin *a, const struct opts *o)
{
    char obj[32];
    if (o->id <= 0)
        return mm_cli_usage_error(NOUN, "token-revoke needs --id N");
    snprintf(obj, sizeof(obj), "token:%ld", o->id);
    if (admin_audit(a, "delete", obj, "revoke") < 0)
        return mm_cli_fail(NOUN, "audit log: write failed; nothing done");
    int rc = mm_ddns_store_token_revoke(a->store, o->id);
    if (rc < 0)
        return mm_cli_fail(NOUN, "token-revoke %ld: %s", o->id, mm_strerror(rc));
    printf("token %ld revoked\n", o->id);
    return 0;
}

static int admin_zone_add(struct admin *a, const struct opts *o)
{
    mm_ddns_zone z;
    memset(&z, 0, sizeof(z));
    if (!o->n_zones || norm(o->zones[0], z.name) < 0)
        return mm_cli_usage_error(NOUN, "zone-add needs --zone Z");
    mm_ddns_addr ip;
    const char *srv = o->zone_srv ? o->zone_srv : (o->server ? o->server : "127.0.0.1");
    if (mm_ddns_addr_parse(srv, strlen(srv), &ip) < 0)
        return mm_cli_usage_error(NOUN, "--server must be the primary's IP address");
    if (o->port <= 0 || o->port > 65535)
        return mm_cli_usage_error(NOUN, "bad --port");
    if (!!o->key_name != !!o->key_secret)
        return mm_cli_usage_error(NOUN, "--key-name and --key-secret go together");
    snprintf(z.server, sizeof(z.server), "%s", srv);
    z.port = (uint16_t)o->port;
    snprintf(z.key_name, sizeof(z.key_name), "%s", o->key_name ? o->key_name : "");
    snprintf(z.key_secret, sizeof(z.key_secret), "%s", o->key_secret ? o->key_secret : "");
    snprintf(z.key_alg, sizeof(z.key_alg), "%s", o->key_alg ? o->key_alg : "hmac-sha256.");
    if (admin_audit(a, "create", z.name, "zone-add") < 0)
        return mm_cli_fail(NOUN, "audit log: write failed; nothing done");
    int rc = mm_ddns_store_zone_add(a->store, &z);
    if (rc < 0)
        return mm_cli_fail(NOUN, "zone-add: %s", mm_strerror(rc));
    printf("zone %s primary %s port %u%s\n", z.name, z.server, z.port,
           z.key_name[0] ? " (TSIG)" : "");
    return 0;
}

static int admin_host_add(struct admin *a, const struct opts *o)
{
    char name[MM_DDNS_HOSTNAME_MAX + 1];
    if (!o->n_hosts || norm(o->hosts[0], name) < 0)
        return mm_cli_usage_error(NOUN, "host-add needs --host H (a valid hostname)");
    if (admin_audit(a, "create", name, "host-add") < 0)
        return mm_cli_fail(NOUN, "audit log: write failed; nothing done");
    int rc = mm_ddns_store_host_add(a->store, name, now_ms());
    if (rc < 0)
        return mm_cli_fail(NOUN, "host-add %s: %s", name, mm_strerror(rc));
    printf("host %s added\n", name);
    return 0;
}

static int list_row(const char *kind, const char *text, void *arg)
{
    if (arg)
        json_array_append_new(arg, json_pack("{s:s,s:s}", "kind", kind, "text", text ? text : ""));
    else
        printf("%-6s %s\n", kind, text ? text : "");
    return 0;
}

static int admin_list(struct admin *a, const struct opts *o)
{
    json_t *arr = o->json ? json_array() : NULL;
    if (admin_audit(a, "read", "all", "list") < 0 ||
        mm_ddns_store_list(a->store, list_row, arr) < 0) {
        json_decref(arr);
        return mm_cli_fail(NOUN, "list failed");
    }
    if (arr)
        mm_cli_json_print(json_pack("{s:o}", "items", arr));
    return 0;
}

static int cmd_admin(int argc, char **argv)
{
    if (argc < 2 || mm_cli_is_help(argv[1])) {
        help();
        return argc < 2 ? MM_CLI_EXIT_USAGE : 0;
    }
    static const struct { const char *verb; int (*fn)(struct admin *, const struct opts *); } t[] = {
        {"token-create", admin_token_create}, {"token-revoke", admin_token_revoke},
        {"zone-add", admin_zone_add},         {"host-add", admin_host_add},
        {"list", admin_list}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(argv[1], t[i].verb) != 0)
            continue;
        struct opts o;
        memset(&o, 0, sizeof(o));
        int rc = parse_opts(argc - 1, argv + 1, &o);
        if (rc)
            return rc;
        if (o.n_args)
            return mm_cli_usage_error(NOUN, "unexpected argument '%s'", o.args[0]);
        struct admin a;
        rc = admin_open(&o, &a);
        if (rc == 0)
            rc = t[i].fn(&a, &o);
        admin_close(&a);
        return rc;
    }
    return mm_cli_usage_error(NOUN, "unknown admin verb '%s'", argv[1]);
}

/* ------------------------------------------------------------ HTTPS client */

struct client {
    char host[256], port[8];
    SSL_CTX *ctx;
    char token[MM_DDNS_TOKEN_MAX + 1];
    long retries;
};

static int url_parse(const char *url, struct client *c)
{
    if (strncmp(url, "https://", 8) != 0)
        return MM_EINVAL; /* HTTPS only (spec section 2) */
    const char *h = url + 8, *end = h + strcspn(h, "/");
    const char *colon = NULL;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (!rb)
            return MM_EINVAL;
        snprintf(c->host, sizeof(c->host), "%.*s", (int)(rb - h - 1), h + 1);
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        snprintf(c->host, sizeof(c->host), "%.*s", (int)((colon ? colon : end) - h), h);
    }
    snprintf(c->port, sizeof(c->port), "%.*s", colon ? (int)(end - colon - 1) : 3,
             colon ? colon + 1 : "443");
    return c->host[0] && c->port[0] ? 0 : MM_EINVAL;
}

static int tcp_connect(const struct client *c)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(c->host, c->port, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        struct timeval tv = {15, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    return fd;
}

/* One exchange on a fresh connection; status 0 if the server could not be reached. */
static int exchange(struct client *c, const char *method, const char *path, const char *body,
                    mm_buf *resp, mm_ddns_http_response *r)
{
    memset(r, 0, sizeof(*r));
    mm_buf_reset(resp);
    int fd = tcp_connect(c);
    if (fd < 0)
        return 0;
    SSL *ssl = SSL_new(c->ctx);
    int rc = MM_EIO;
    if (ssl && SSL_set_fd(ssl, fd) == 1 && mm_tls_set_peer_name(ssl, c->host) == 0 &&
        SSL_connect(ssl) == 1) {
        mm_buf req;
        mm_buf_init(&req, 1 << 20);
        req.secret = true; /* carries the token */
        mm_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mamori-ddns/" MM_VERSION
                            "\r\nAccept: application/json\r\nConnection: close\r\n"
                            "Authorization: Bearer %s\r\n",
                      method, path, c->host, c->token);
        if (body)
            mm_buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                          strlen(body), body);
        else
            mm_buf_append_str(&req, "\r\n");
        if (SSL_write(ssl, req.data, (int)req.len) == (int)req.len) {
            uint8_t chunk[16384];
            int n;
            rc = MM_EAGAIN;
            while (rc == MM_EAGAIN && (n = SSL_read(ssl, chunk, sizeof(chunk))) > 0) {
                if (mm_buf_append(resp, chunk, (size_t)n) < 0)
                    break;
                rc = mm_ddns_http_response_parse(resp->data, resp->len, r);
            }
        }
        mm_buf_free(&req);
        SSL_shutdown(ssl);
    } else {
        fprintf(stderr, "mamori ddns: TLS handshake with %s:%s failed\n", c->host, c->port);
    }
    SSL_free(ssl);
    close(fd);
    if (rc < 0)
        r->status = 0;
    return r->status;
}

/* With retries and exponential backoff on 429, 5xx and unreachable servers. */
static int request(struct client *c, const char *method, const char *path, const char *body,
                   mm_buf *resp, mm_ddns_http_response *r)
{
    uint32_t delay_ms = 500;
    for (long attempt = 0;; attempt++) {
        int st = exchange(c, method, path, body, resp, r);
        bool retry = st == 0 || st == 429 || st >= 500;
        if (!retry || attempt >= c->retries)
            return st;
        uint32_t wait = r->retry_after ? r->retry_after * 1000 : delay_ms;
        if (wait > 30000)
            wait = 30000;
        uint8_t j;
        RAND_bytes(&j, 1); /* jitter: many clients should not retry in step */
        wait += j;
        fprintf(stderr, "mamori ddns: %s %s: %s, retrying in %u ms\n", method, path,
                st ? "server busy or failing" : "unreachable", wait);
        struct timespec ts = {wait / 1000, (long)(wait % 1000) * 1000000};
        nanosleep(&ts, NULL);
        delay_ms = delay_ms * 2 > 16000 ? 16000 : delay_ms * 2;
    }
}

static int client_open(const struct opts *o, struct client *c)
{
    memset(c, 0, sizeof(*c));
    const char *url = o->server ? o->server : getenv("APERTODNS_URL");
    if (url_parse(url ? url : "https://127.0.0.1:8443", c) < 0)
        return mm_cli_usage_error(NOUN, "--server must be an https:// URL");
    const char *tok = o->token ? o->token : getenv("APERTODNS_TOKEN");
    char fbuf[MM_DDNS_TOKEN_MAX + 2] = "";
    if (!tok && o->token_file) {
        FILE *f = fopen(o->token_file, "r");
        if (!f || !fgets(fbuf, sizeof(fbuf), f)) {
            if (f)
                fclose(f);
            return mm_cli_fail(NOUN, "%s: cannot read the token", o->token_file);
        }
        fclose(f);
        fbuf[strcspn(fbuf, "\r\n")] = 0;
        tok = fbuf;
    }
    const char *t = tok ? tok : "";
    size_t tl = strlen(t);
    if (tl >= sizeof(c->token)) {
        OPENSSL_cleanse(fbuf, sizeof(fbuf));
        return mm_cli_usage_error(NOUN, "token too long");
    }
    memcpy(c->token, t, tl + 1);
    OPENSSL_cleanse(fbuf, sizeof(fbuf));
    char ca[1200];
    if (o->ca)
        snprintf(ca, sizeof(ca), "%s", o->ca);
    else if (o->state_dir)
        snprintf(ca, sizeof(ca), "%s/pki/ca.crt", o->state_dir);
    else
        return mm_cli_usage_error(NOUN, "--ca FILE (or --state-dir) is needed to verify the server");
    mm_tls_config cfg = {.ca_file = ca};
    c->ctx = mm_tls_ctx_new_client(&cfg);
    if (!c->ctx)
        return mm_cli_fail(NOUN, "%s: cannot set up TLS", ca);
    c->retries = o->retries < 0 ? 0 : o->retries;
    return 0;
}

static void client_close(struct client *c)
{
    OPENSSL_cleanse(c->token, sizeof(c->token));
    SSL_CTX_free(c->ctx);
}

/* JSON value of an address option: "auto", null, or the text. */
static json_t *addr_opt(const char *v)
{
    return strcmp(v, "null") == 0 ? json_null() : json_string(v);
}

static void print_table(json_t *data, int indent)
{
    const char *k;
    json_t *v;
    if (json_is_array(data)) {
        size_t i;
        json_array_foreach(data, i, v)
        {
            print_table(v, indent);
            if (!json_is_object(v))
                continue;
            puts("");
        }
        return;
    }
    json_object_foreach(data, k, v)
    {
        if (json_is_object(v) || json_is_array(v)) {
            printf("%*s%s:\n", indent, "", k);
            print_table(v, indent + 2);
            continue;
        }
        char *t = json_dumps(v, JSON_ENCODE_ANY);
        printf("%*s%-22s %s\n", indent, "", k, t ? t : "?");
        free(t);
    }
}

static int show(const struct opts *o, mm_buf *resp, const mm_ddns_http_response *r)
{
    if (r->status == 0)
        return mm_cli_fail(NOUN, "no answer from the server");
    json_error_t je;
    json_t *j = json_loadb((const char *)resp->data + r->body_off, r->body_len, 0, &je);
    if (!j)
        return mm_cli_fail(NOUN, "HTTP %d with a body that is not JSON", r->status);
    bool ok = json_is_true(json_object_get(j, "success"));
    if (o->json) {
        mm_cli_json_print(j);
        return ok ? 0 : MM_CLI_EXIT_FAIL;
    }
    if (!ok) {
        json_t *e = json_object_get(j, "error");
        int rc = mm_cli_fail(NOUN, "HTTP %d %s: %s", r->status,
                             json_string_value(json_object_get(e, "code")),
                             json_string_value(json_object_get(e, "message")));
        json_decref(j);
        return rc;
    }
    print_table(json_object_get(j, "data"), 0);
    json_decref(j);
    return 0;
}

static int cmd_client(const char *verb, const struct opts *o)
{
    char path[1024];
    json_t *body = NULL;
    const char *method = "GET";
    const char *a0 = o->n_args > 0 ? o->args[0] : NULL, *a1 = o->n_args > 1 ? o->args[1] : NULL,
               *a2 = o->n_args > 2 ? o->args[2] : NULL;
    if (!strcmp(verb, "info") || !strcmp(verb, "health") || !strcmp(verb, "domains")) {
        snprintf(path, sizeof(path), MM_DDNS_PREFIX "/%s", verb);
    } else if (!strcmp(verb, "status")) {
        if (!a0)
            return mm_cli_usage_error(NOUN, "status HOST");
        snprintf(path, sizeof(path), MM_DDNS_PREFIX "/status/%s", a0);
    } else if (!strcmp(verb, "update") || !strcmp(verb, "bulk-update")) {
        if (!a0)
            return mm_cli_usage_error(NOUN, "%s HOST...", verb);
        json_t *arr = json_array();
        for (size_t i = 0; i < o->n_args; i++) {
            json_t *u = json_pack("{s:s}", "hostname", o->args[i]);
            if (o->ipv4)
                json_object_set_new(u, "ipv4", addr_opt(o->ipv4));
            if (o->ipv6)
                json_object_set_new(u, "ipv6", addr_opt(o->ipv6));
            if (o->ttl >= 0)
                json_object_set_new(u, "ttl", json_integer(o->ttl));
            json_array_append_new(arr, u);
        }
        method = "POST";
        if (!strcmp(verb, "update")) {
            if (o->n_args != 1) {
                json_decref(arr);
                return mm_cli_usage_error(NOUN, "update takes one HOST (see bulk-update)");
            }
            body = json_incref(json_array_get(arr, 0));
            json_decref(arr);
            snprintf(path, sizeof(path), MM_DDNS_PREFIX "/update");
        } else {
            body = json_pack("{s:o}", "updates", arr);
            snprintf(path, sizeof(path), MM_DDNS_PREFIX "/bulk-update");
        }
    } else if (!strcmp(verb, "acme-hook")) {
        /*
         * certbot's manual hooks (--manual-auth-hook / --manual-cleanup-hook)
         * pass the name and the value in the environment; a wildcard
         * certificate's domain comes without its "*.", so both challenges of
         * "x" and "*.x" land on _acme-challenge.x and coexist as two values.
         */
        const char *dom = getenv("CERTBOT_DOMAIN"), *val = getenv("CERTBOT_VALIDATION");
        if (!a0 || (strcmp(a0, "auth") && strcmp(a0, "cleanup")))
            return mm_cli_usage_error(NOUN, "acme-hook auth|cleanup");
        if (!dom || !*dom || strlen(dom) > MM_DDNS_HOSTNAME_MAX || !val || !*val ||
            strlen(val) > MM_DDNS_TXT_VALUE_MAX)
            return mm_cli_usage_error(NOUN, "acme-hook needs CERTBOT_DOMAIN and CERTBOT_VALIDATION "
                                            "in the environment (set by certbot)");
        char owner[MM_DDNS_HOSTNAME_MAX + 20];
        snprintf(owner, sizeof(owner), "_acme-challenge.%s", dom);
        body = json_pack("{s:s,s:s}", "hostname", owner, "value", val);
        if (o->ttl >= 0)
            json_object_set_new(body, "ttl", json_integer(o->ttl));
        method = strcmp(a0, "auth") == 0 ? "POST" : "DELETE";
        snprintf(path, sizeof(path), MM_DDNS_PREFIX "/txt");
    } else if (!strcmp(verb, "txt")) {
        if (!a0 || !a1)
            return mm_cli_usage_error(NOUN, "txt set|delete|get NAME [VALUE]");
        if (!strcmp(a0, "get")) {
            snprintf(path, sizeof(path), MM_DDNS_PREFIX "/txt/%s", a1);
        } else if (!strcmp(a0, "set") || !strcmp(a0, "delete")) {
            if (!strcmp(a0, "set") && !a2)
                return mm_cli_usage_error(NOUN, "txt set NAME VALUE");
            body = json_pack("{s:s}", "hostname", a1);
            if (a2)
                json_object_set_new(body, "value", json_string(a2));
            if (o->ttl >= 0)
                json_object_set_new(body, "ttl", json_integer(o->ttl));
            method = strcmp(a0, "set") == 0 ? "POST" : "DELETE";
            snprintf(path, sizeof(path), MM_DDNS_PREFIX "/txt");
        } else {
            return mm_cli_usage_error(NOUN, "txt set|delete|get");
        }
    } else {
        return mm_cli_usage_error(NOUN, "unknown verb '%s'", verb);
    }
    struct client c;
    int rc = client_open(o, &c);
    if (rc) {
        json_decref(body);
        return rc;
    }
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    mm_buf resp;
    mm_buf_init(&resp, 16u << 20);
    mm_ddns_http_response r;
    request(&c, method, path, text, &resp, &r);
    rc = show(o, &resp, &r);
    free(text);
    mm_buf_free(&resp);
    client_close(&c);
    return rc;
}

int mm_cli_ddns(int argc, char **argv)
{
    if (argc < 2 || mm_cli_is_help(argv[1])) {
        help();
        return argc < 2 ? MM_CLI_EXIT_USAGE : 0;
    }
    if (!strcmp(argv[1], "admin"))
        return cmd_admin(argc - 1, argv + 1);
    struct opts o;
    memset(&o, 0, sizeof(o));
    int rc = parse_opts(argc - 1, argv + 1, &o);
    if (rc)
        return rc;
    return cmd_client(argv[1], &o);
}
