/*
 * bgp.c - `mamori bgp`: talk to mamori-bgpd over its control socket.
 *
 *   mamori bgp neighbors [--json]
 *   mamori bgp rib [--family flow4|flow6|v4|v6] [--peer ADDR|local] [--prefix P]
 *                  [--limit N] [--json]
 *   mamori bgp announce [--family F] --match 'RULE' [--then 'ACTION']... [--json]
 *   mamori bgp withdraw [--family F] --match 'RULE' [--json]
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

#define NOUN "bgp"

static void help(void)
{
    printf("usage: mamori bgp [--socket PATH] VERB [options]\n\n"
           "Control mamori-bgpd (BGP FlowSpec v4/v6 with traffic actions and IFIT).\n\n"
           "verbs:\n"
           "  neighbors                      sessions: state, families, prefixes, last error\n"
           "  rib [--family F]               routes of a family (default flow4), FlowSpec in\n"
           "                                 RFC 8955 §5.1 order, with actions and IFIT fields;\n"
           "                                 streamed: printed as the daemon sends them\n"
           "      [--peer ADDR|local]        only the routes of one neighbor (or originated)\n"
           "      [--prefix P]               unicast: only P and its more specifics\n"
           "      [--limit N]                at most N routes\n"
           "  announce --match R [--then A]  originate a FlowSpec rule (repeat --then)\n"
           "  withdraw --match R             withdraw an originated rule\n"
           "  counters                       install mode: the named per-rule counters of\n"
           "                                 IFIT-instructed rules (packets, bytes)\n\n"
           "options:\n"
           "  --family F      flow4 | flow6 | v4 | v6 (or ipv4-flowspec ...)\n"
           "  --socket PATH   control socket (default $MM_STATE_DIR/bgp/control.sock or\n"
           "                  ./var/bgp/control.sock)\n"
           "  --json          print the daemon's JSON reply\n\n"
           "rule:    'dst 10.0.0.0/24 proto =17 dport >=1000&<=2000' (src, port, sport,\n"
           "         icmp-type, icmp-code, tcp-flags, length, dscp, fragment, flow-label)\n"
           "actions: discard | rate-bytes N | rate-packets N | action sample|terminal |\n"
           "         redirect AS:N | mark DSCP | ec 0x<16 hex> |\n"
           "         ifit METHOD [namespace N] [trace-type N] [flags N] [e2e-type N]\n"
           "              [flow-mon-id N] [period N] [loss] [delay]\n"
           "         METHOD: ioam-preallocated-trace ioam-incremental-trace ioam-dex ioam-e2e\n"
           "                 enhanced-alternate-marking (codepoints provisional, docs/bgpd.md)\n");
}

static int ctl_connect(const char *path, json_t *req, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "socket path too long");
        return -1;
    }
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        snprintf(err, errlen, "%s: %s (is mamori-bgpd running?)", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char *s = json_dumps(req, JSON_COMPACT);
    size_t n = s ? strlen(s) : 0;
    bool ok = s && write(fd, s, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
    free(s);
    if (!ok) {
        snprintf(err, errlen, "write: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Lines of a streamed reply, each bounded (a route is a few hundred bytes;
 * a FlowSpec rule with many components a few KiB). */
#define LINE_MAX_BYTES (1u << 20)
typedef struct {
    int fd;
    char buf[65536];
    size_t off, len;
    char *line;
    size_t llen, lcap;
} line_reader;

/* 1: a line in r->line (NUL-terminated, no LF); 0: EOF; -1: error/too long. */
static int line_next(line_reader *r)
{
    r->llen = 0;
    for (;;) {
        if (r->off == r->len) {
            ssize_t n = read(r->fd, r->buf, sizeof(r->buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return -1;
            if (n == 0)
                return r->llen ? -1 : 0; /* a reply always ends with LF */
            r->off = 0;
            r->len = (size_t)n;
        }
        char *nl = memchr(r->buf + r->off, '\n', r->len - r->off);
        size_t take = nl ? (size_t)(nl - (r->buf + r->off)) : r->len - r->off;
        if (r->llen + take + 1 > LINE_MAX_BYTES)
            return -1;
        if (r->llen + take + 1 > r->lcap) {
            size_t nc = r->lcap ? r->lcap : 4096;
            while (nc < r->llen + take + 1)
                nc *= 2;
            char *nb = realloc(r->line, nc);
            if (!nb)
                return -1;
            r->line = nb;
            r->lcap = nc;
        }
        memcpy(r->line + r->llen, r->buf + r->off, take);
        r->llen += take;
        r->line[r->llen] = 0;
        r->off += take + (nl ? 1 : 0);
        if (nl)
            return 1;
    }
}

static void print_route(json_t *r)
{
    const char *m = json_string_value(json_object_get(r, "match"));
    printf("%s %s from %s%s\n", json_is_true(json_object_get(r, "best")) ? "*" : " ",
           m ? m : json_string_value(json_object_get(r, "prefix")), json_string_value(json_object_get(r, "peer")),
           json_is_false(json_object_get(r, "valid")) ? " (invalid: RFC 8955 §6)" : "");
    const char *a = json_string_value(json_object_get(r, "actions"));
    if (a && *a)
        printf("    then %s\n", a);
    json_t *ecs = json_object_get(r, "extended-communities");
    if (json_array_size(ecs)) {
        printf("    ecs");
        size_t k;
        json_t *e;
        json_array_foreach(ecs, k, e)
            printf(" %s", json_string_value(e));
        printf("\n");
    }
}

/*
 * `rib`: the daemon streams one JSON document, one route per line (see
 * src/bgp/daemon/ctl_rib.c); print each route as it arrives, so memory here
 * stays one line however large the table. --json copies the document.
 */
static int rib_stream(const char *path, json_t *req, bool json_out)
{
    char err[600];
    int fd = ctl_connect(path, req, err, sizeof(err));
    if (fd < 0)
        return mm_cli_fail(NOUN, "rib: %s", err);
    line_reader lr = {.fd = fd};
    int rc = MM_CLI_EXIT_FAIL, st = line_next(&lr);
    json_error_t je;
    if (st <= 0) {
        mm_cli_fail(NOUN, "rib: no reply from the daemon");
        goto out;
    }
    json_t *whole = json_loads(lr.line, 0, &je);
    if (whole) { /* not a stream: an error reply */
        rc = json_is_true(json_object_get(whole, "ok")) ? MM_CLI_EXIT_OK : MM_CLI_EXIT_FAIL;
        if (json_out)
            mm_cli_json_print(whole);
        else
            mm_cli_fail(NOUN, "rib: %s", json_string_value(json_object_get(whole, "error")));
        json_decref(whole);
        goto out;
    }
    /* The header line: {"ok":true,"family":"...","routes":[ */
    size_t hl = strlen(lr.line);
    char *h = malloc(hl + 3);
    json_t *hdr = NULL;
    if (h) {
        memcpy(h, lr.line, hl);
        memcpy(h + hl, "]}", 3);
        hdr = json_loads(h, 0, &je);
        free(h);
    }
    if (!json_is_true(json_object_get(hdr, "ok"))) {
        json_decref(hdr);
        mm_cli_fail(NOUN, "rib: bad reply from the daemon");
        goto out;
    }
    if (json_out)
        printf("%s\n", lr.line);
    else
        printf("%s\n", json_string_value(json_object_get(hdr, "family")));
    json_decref(hdr);
    for (;;) {
        st = line_next(&lr);
        if (st <= 0) {
            fflush(stdout);
            mm_cli_fail(NOUN, "rib: the reply ended early (daemon gone?)");
            goto out;
        }
        if (lr.line[0] == ']') { /* the trailer: ],"count":N,"truncated":B} */
            if (json_out) {
                printf("%s\n", lr.line);
                rc = MM_CLI_EXIT_OK;
                break;
            }
            size_t tl = strlen(lr.line);
            char *t = malloc(tl + 8);
            json_t *tr = NULL;
            if (t) {
                memcpy(t, "{\"r\":[", 6);
                memcpy(t + 6, lr.line, tl + 1);
                tr = json_loads(t, 0, &je);
                free(t);
            }
            if (!tr) {
                mm_cli_fail(NOUN, "rib: bad reply trailer");
                goto out;
            }
            printf("%lld route(s)%s\n", (long long)json_integer_value(json_object_get(tr, "count")),
                   json_is_true(json_object_get(tr, "truncated")) ? " (--limit reached, more exist)" : "");
            json_decref(tr);
            rc = MM_CLI_EXIT_OK;
            break;
        }
        if (json_out) {
            fwrite(lr.line, 1, strlen(lr.line), stdout);
            putchar('\n');
            continue;
        }
        size_t ll = strlen(lr.line);
        if (ll && lr.line[ll - 1] == ',')
            lr.line[ll - 1] = 0;
        json_t *r = json_loads(lr.line, 0, &je);
        if (!r) {
            mm_cli_fail(NOUN, "rib: bad route in the reply: %s", je.text);
            goto out;
        }
        print_route(r);
        json_decref(r);
    }
out:
    free(lr.line);
    close(fd);
    return rc;
}

static json_t *request(const char *path, json_t *req, char *err, size_t errlen)
{
    int fd = ctl_connect(path, req, err, errlen);
    if (fd < 0)
        return NULL;
    /* The reply is one line (rib, the large one, is streamed: rib_stream). */
    size_t cap = 65536, len = 0, max = 64u << 20;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            snprintf(err, errlen, "out of memory");
            close(fd);
            return NULL;
        }
        if (len + 1 >= cap) {
            if (cap >= max) {
                snprintf(err, errlen, "reply too large");
                free(buf);
                close(fd);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                continue;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    json_error_t je;
    json_t *res = json_loadb(buf, len, 0, &je);
    free(buf);
    if (!res)
        snprintf(err, errlen, "bad reply from the daemon: %s", je.text);
    return res;
}

static void print_neighbors(json_t *res)
{
    printf("%-20s %-10s %-12s %-28s %s\n", "NEIGHBOR", "AS", "STATE", "PREFIXES", "LAST ERROR");
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(res, "neighbors"), i, n) {
        char pfx[128] = "";
        const char *k;
        json_t *v;
        size_t off = 0;
        json_object_foreach(json_object_get(n, "prefixes"), k, v) {
            off += (size_t)snprintf(pfx + off, off < sizeof(pfx) ? sizeof(pfx) - off : 0, "%s%s=%lld",
                                    off ? " " : "", k, (long long)json_integer_value(v));
            if (off >= sizeof(pfx))
                break;
        }
        printf("%-20s %-10lld %-12s %-28s %s\n", json_string_value(json_object_get(n, "address")),
               (long long)json_integer_value(json_object_get(n, "remote-as")),
               json_string_value(json_object_get(n, "state")), pfx,
               json_string_value(json_object_get(n, "last-error")));
    }
}

int mm_cli_bgp(int argc, char **argv)
{
    static const struct option longs[] = {
        {"family", required_argument, 0, 'f'}, {"match", required_argument, 0, 'm'},
        {"then", required_argument, 0, 't'},   {"socket", required_argument, 0, 's'},
        {"json", no_argument, 0, 'j'},         {"help", no_argument, 0, 'h'},
        {"peer", required_argument, 0, 'p'},   {"prefix", required_argument, 0, 'x'},
        {"limit", required_argument, 0, 'l'},
        {0, 0, 0, 0}};
    const char *sock = NULL;
    /* `mamori bgp --socket PATH VERB ...`: the global option may precede the verb. */
    while (argc >= 3 && strcmp(argv[1], "--socket") == 0) {
        sock = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc < 2 || mm_cli_is_help(argv[1])) {
        help();
        return argc < 2 ? MM_CLI_EXIT_USAGE : MM_CLI_EXIT_OK;
    }
    const char *verb = argv[1];
    const char *family = "flow4", *match = NULL, *peer = NULL, *prefix = NULL;
    long long limit = -1;
    bool json_out = false;
    json_t *then = json_array();
    optind = 2;
    int o;
    while ((o = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (o) {
        case 'f': family = optarg; break;
        case 'm': match = optarg; break;
        case 't': json_array_append_new(then, json_string(optarg)); break;
        case 's': sock = optarg; break;
        case 'j': json_out = true; break;
        case 'p': peer = optarg; break;
        case 'x': prefix = optarg; break;
        case 'l': {
            char *end;
            errno = 0;
            limit = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg || limit < 0) {
                json_decref(then);
                return mm_cli_usage_error(NOUN, "--limit needs a non-negative number");
            }
            break;
        }
        case 'h': help(); json_decref(then); return MM_CLI_EXIT_OK;
        default: json_decref(then); return mm_cli_usage_error(NOUN, "bad option");
        }
    }
    if (optind < argc) {
        json_decref(then);
        return mm_cli_usage_error(NOUN, "unexpected argument '%s'", argv[optind]);
    }
    json_t *req;
    if (strcmp(verb, "neighbors") == 0) {
        req = json_pack("{s:s}", "cmd", "neighbors");
    } else if (strcmp(verb, "counters") == 0) {
        req = json_pack("{s:s}", "cmd", "counters");
    } else if (strcmp(verb, "rib") == 0) {
        req = json_pack("{s:s, s:s}", "cmd", "rib", "family", family);
        if (peer)
            json_object_set_new(req, "peer", json_string(peer));
        if (prefix)
            json_object_set_new(req, "prefix", json_string(prefix));
        if (limit >= 0)
            json_object_set_new(req, "limit", json_integer(limit));
    } else if (strcmp(verb, "announce") == 0 || strcmp(verb, "withdraw") == 0) {
        if (!match) {
            json_decref(then);
            return mm_cli_usage_error(NOUN, "%s needs --match", verb);
        }
        req = json_pack("{s:s, s:s, s:s}", "cmd", verb, "family", family, "match", match);
        if (strcmp(verb, "announce") == 0)
            json_object_set(req, "then", then);
    } else {
        json_decref(then);
        return mm_cli_usage_error(NOUN, "unknown verb '%s'", verb);
    }
    json_decref(then);
    char path[512];
    if (sock) {
        snprintf(path, sizeof(path), "%s", sock);
    } else {
        const char *st = getenv("MM_STATE_DIR");
        snprintf(path, sizeof(path), "%s/bgp/control.sock", st && *st ? st : "./var");
    }
    if (strcmp(verb, "rib") == 0) {
        int r = rib_stream(path, req, json_out);
        json_decref(req);
        return r;
    }
    char err[600];
    json_t *res = request(path, req, err, sizeof(err));
    json_decref(req);
    if (!res)
        return mm_cli_fail(NOUN, "%s: %s", verb, err);
    int rc = json_is_true(json_object_get(res, "ok")) ? MM_CLI_EXIT_OK : MM_CLI_EXIT_FAIL;
    if (json_out) {
        mm_cli_json_print(res);
        return rc;
    }
    if (rc != MM_CLI_EXIT_OK) {
        int r = mm_cli_fail(NOUN, "%s: %s", verb, json_string_value(json_object_get(res, "error")));
        json_decref(res);
        return r;
    }
    if (strcmp(verb, "neighbors") == 0)
        print_neighbors(res);
    else if (strcmp(verb, "counters") == 0) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(res, "counters"), i, c)
            printf("%-12s packets %lld bytes %lld\n", json_string_value(json_object_get(c, "name")),
                   (long long)json_integer_value(json_object_get(c, "packets")),
                   (long long)json_integer_value(json_object_get(c, "bytes")));
    }
    else
        printf("%s: %s\n", strcmp(verb, "announce") == 0 ? "announced" : "withdrawn",
               json_string_value(json_object_get(res, "rule")));
    json_decref(res);
    return rc;
}
