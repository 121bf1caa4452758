/*
 * bench-ddns - mamori-ddnsd authenticated updates per second made durable
 * (SQLite, synchronous=FULL, audit record before each reply) against nginx
 * answering a static 200 to the same request over the same TLS setup (TLS
 * 1.3, the ddnsd certificate, X25519), with the same client: 64 keep-alive
 * connections, one thread each, request/response in lockstep. nginx runs one
 * worker, as ddnsd serves HTTP from one event-loop thread.
 * Then, with Knot DNS as the zone's primary, the latency from an update's
 * HTTP 200 to Knot answering the new address (p50/p99 over sequential
 * updates, polled with UDP queries).
 * With Knot, also the throughput load for `seconds` with every change pushed
 * to Knot, and the time the push queue takes to drain after it stops.
 * No pass/fail: numbers only (`make bench`). Options: --seconds N, --only ddnsd|nginx|knot|drain,
 * --knot-samples N (sequential updates timed through Knot, default 200).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/ssl.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

#define CLIENTS 64
#define HOSTS_PER_TOKEN 1

static char tmp[256], self_dir[1024];
static double seconds = 5;
static const char *only;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(const char *cmd, char *out, size_t outlen)
{
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = 0;
    if (out) {
        out[0] = 0;
        char line[512];
        while (fgets(line, sizeof(line), p)) /* keep the last line */
            n = (size_t)snprintf(out, outlen, "%s", line);
        if (n && out[n - 1] == '\n')
            out[n - 1] = 0;
    } else {
        char sink[512];
        while (fgets(sink, sizeof(sink), p))
            ;
    }
    return pclose(p);
}

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_open(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static bool wait_port(uint16_t port)
{
    for (int i = 0; i < 400; i++) {
        if (port_open(port))
            return true;
        struct timespec ts = {0, 25000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static pid_t spawn(char *const argv[], const char *log)
{
    fflush(stdout); /* the child must not flush our buffer a second time */
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "a", stderr);
        (void)f;
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

/* ------------------------------------------------------------ load client */

struct worker {
    uint16_t port;
    SSL_CTX *ctx;
    char token[MM_DDNS_TOKEN_MAX];
    char host[64];
    volatile bool *go, *halt;
    unsigned long ok, bad;
};

static int connect_tls(const struct worker *w, SSL **out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(w->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    SSL *ssl = SSL_new(w->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        SSL_free(ssl);
        close(fd);
        return -1;
    }
    *out = ssl;
    return fd;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    SSL *ssl = NULL;
    int fd = connect_tls(w, &ssl);
    if (fd < 0)
        return NULL;
    while (!*w->go)
        sched_yield();
    char req[1024], buf[16384];
    unsigned long i = 0;
    while (!*w->halt) {
        char body[160];
        int bl = snprintf(body, sizeof(body), "{\"hostname\":\"%s\",\"ipv4\":\"203.0.113.%lu\",\"ttl\":%lu}",
                          w->host, i % 250 + 1, 60 + i % 1000);
        int rl = snprintf(req, sizeof(req),
                          "POST " MM_DDNS_PREFIX "/update HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %d\r\n\r\n%s", w->token, bl, body);
        i++;
        if (SSL_write(ssl, req, rl) != rl)
            break;
        size_t have = 0;
        mm_ddns_http_response r;
        int rc = MM_EAGAIN;
        while (rc == MM_EAGAIN) {
            int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - have));
            if (n <= 0)
                break;
            have += (size_t)n;
            rc = mm_ddns_http_response_parse((uint8_t *)buf, have, &r);
        }
        if (rc != 0)
            break;
        if (r.status == 200)
            w->ok++;
        else
            w->bad++;
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    return NULL;
}

/* Requests per second with CLIENTS connections for `seconds`. */
static double load(uint16_t port, SSL_CTX *ctx, char tokens[][MM_DDNS_TOKEN_MAX],
                   unsigned long *bad)
{
    struct worker w[CLIENTS];
    pthread_t th[CLIENTS];
    volatile bool go = false, halt = false;
    for (int i = 0; i < CLIENTS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].port = port;
        w[i].ctx = ctx;
        memcpy(w[i].token, tokens[i], sizeof(w[i].token) - 1);
        snprintf(w[i].host, sizeof(w[i].host), "h%d.bench.example", i);
        w[i].go = &go;
        w[i].halt = &halt;
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    struct timespec settle = {0, 300000000};
    nanosleep(&settle, NULL); /* handshakes done before the clock starts */
    unsigned long before = 0;
    for (int i = 0; i < CLIENTS; i++)
        before += w[i].ok;
    double t0 = now_s();
    go = true;
    struct timespec d = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    nanosleep(&d, NULL);
    unsigned long done = 0;
    for (int i = 0; i < CLIENTS; i++)
        done += w[i].ok;
    double el = now_s() - t0;
    halt = true;
    *bad = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        *bad += w[i].bad;
    }
    return (double)(done - before) / el;
}

/* ------------------------------------------------------------ Knot latency */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static bool knot_has(ldns_resolver *res, const char *name, const char *addr)
{
    ldns_rdf *dn = ldns_dname_new_frm_str(name);
    /*
     * ldns marks a server that timed out once as unreachable and never asks
     * it again: every later poll would then wait out the 5 s limit.
     */
    ldns_resolver_set_nameserver_rtt(res, 0, LDNS_RESOLV_RTT_MIN);
    ldns_pkt *p = ldns_resolver_query(res, dn, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
    bool hit = false;
    if (p) {
        ldns_rr_list *ans = ldns_pkt_answer(p);
        for (size_t i = 0; ans && i < ldns_rr_list_rr_count(ans); i++) {
            char *t = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ans, i), 0));
            if (t && strcmp(t, addr) == 0)
                hit = true;
            free(t);
        }
        ldns_pkt_free(p);
    }
    ldns_rdf_deep_free(dn);
    return hit;
}

/* The push queue's length from GET /health ("dns_queue"), or -1. */
static long health_queue(uint16_t port, SSL_CTX *ctx)
{
    struct worker w = {.port = port, .ctx = ctx};
    SSL *ssl = NULL;
    int fd = connect_tls(&w, &ssl);
    if (fd < 0)
        return -1;
    const char *req = "GET " MM_DDNS_PREFIX "/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    static char buf[16384];
    size_t have = 0;
    SSL_write(ssl, req, (int)strlen(req));
    for (;;) {
        int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - 1 - have));
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    buf[have] = 0;
    SSL_free(ssl);
    close(fd);
    const char *q = strstr(buf, "\"dns_queue\":");
    return q ? strtol(q + 12, NULL, 10) : -1;
}

/*
 * Sustained load with Knot as the primary: the 64 clients of the throughput
 * phase for `seconds`, on the throughput phase's state with the zone added,
 * then how long the push queue takes to drain once they stop, and how many
 * UPDATE messages carried the changes (ddnsd's ddnsd-push-sent log lines).
 */
static void knot_drain(const char *mamori, const char *ddnsd, SSL_CTX *ctx,
                       char tokens[][MM_DDNS_TOKEN_MAX], uint16_t kport, const char *secret,
                       const char *ctl)
{
    char cmd[2048], state[300], log[400], listen[64];
    snprintf(state, sizeof(state), "%s/state", tmp);
    snprintf(cmd, sizeof(cmd),
             "%s ddns admin zone-add --state-dir %s --zone bench.example --server-ip 127.0.0.1 "
             "--port %u --key-name k --key-secret %s",
             mamori, state, kport, secret);
    if (run(cmd, NULL, 0) != 0) {
        printf("knot drain: zone-add failed\n");
        return;
    }
    uint16_t port = free_port();
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
    snprintf(log, sizeof(log), "%s/ddnsd-drain.log", tmp);
    char *dargv[] = {(char *)ddnsd, "--state-dir", state, "--listen", listen, "--test-mode",
                     "--max-connections", "256", "--knot-control", (char *)ctl, NULL};
    pid_t dpid = spawn(dargv, log);
    if (!wait_port(port)) {
        printf("knot drain: ddnsd did not start\n");
        stop(dpid);
        return;
    }
    unsigned long bad = 0;
    double rate = load(port, ctx, tokens, &bad);
    double t0 = now_s();
    long q0 = health_queue(port, ctx), q = q0;
    struct timespec gap = {0, 10000000};
    while (q != 0 && now_s() - t0 < 600) {
        nanosleep(&gap, NULL);
        q = health_queue(port, ctx);
    }
    double drain = now_s() - t0;
    stop(dpid);
    char out[64] = "";
    snprintf(cmd, sizeof(cmd), "grep -c 'event=ddnsd-push-sent' %s", log);
    run(cmd, out, sizeof(out));
    printf("with Knot: %.0f durable updates/s for %.0f s (%lu non-200); queue at stop %ld, drained "
           "%s in %.2f s; UPDATE messages sent: %s\n",
           rate, seconds, bad, q0, q == 0 ? "" : "NOT", drain, out);
}

static int knot_samples; /* --knot-samples N (default 200, at most 5000) */

static void knot_latency(const char *mamori, const char *ddnsd, SSL_CTX *ctx,
                         char tokens[][MM_DDNS_TOKEN_MAX])
{
    char kdir[300], conf[400], cmd[8192], secret[64], state[300], log[400];
    snprintf(kdir, sizeof(kdir), "%s/knot", tmp);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/run %s/storage && head -c 32 /dev/urandom | base64",
             kdir, kdir);
    if (run(cmd, secret, sizeof(secret)) != 0 || access("/usr/sbin/knotd", X_OK) != 0) {
        printf("knot: knotd not available, latency not measured\n");
        return;
    }
    uint16_t kport = free_port();
    snprintf(conf, sizeof(conf), "%s/knot.conf", kdir);
    FILE *f = fopen(conf, "w");
    fprintf(f, "server:\n    rundir: \"%s/run\"\n    listen: 127.0.0.1@%u\n"
               "log:\n  - target: stderr\n    any: info\n"
               "key:\n  - id: k\n    algorithm: hmac-sha256\n    secret: %s\n"
               "acl:\n  - id: u\n    key: k\n    action: update\n"
               "template:\n  - id: default\n    storage: \"%s/storage\"\n    zonefile-sync: -1\n"
               "database:\n    storage: \"%s/storage\"\nzone:\n  - domain: bench.example\n    acl: u\n",
            kdir, kport, secret, kdir, kdir);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "%s/storage/bench.example.zone", kdir);
    f = fopen(cmd, "w");
    fprintf(f, "$ORIGIN bench.example.\n$TTL 60\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n"
               "@ NS ns1\nns1 A 192.0.2.53\n");
    fclose(f);
    snprintf(log, sizeof(log), "%s/knot.log", tmp);
    char *kargv[] = {"/usr/sbin/knotd", "-c", conf, NULL};
    pid_t kpid = spawn(kargv, log);
    snprintf(state, sizeof(state), "%s/kstate", tmp);
    char tok[MM_DDNS_TOKEN_MAX];
    snprintf(cmd, sizeof(cmd),
             "%s ddns admin zone-add --state-dir %s --zone bench.example --server-ip 127.0.0.1 "
             "--port %u --key-name k --key-secret %s && %s ddns admin token-create --state-dir %s "
             "--env test --scopes all --host lat.bench.example",
             mamori, state, kport, secret, mamori, state);
    if (!wait_port(kport) || run(cmd, tok, sizeof(tok)) != 0) {
        printf("knot: setup failed\n");
        stop(kpid);
        return;
    }
    /* the same certificate as the throughput run: the client trusts its CA */
    snprintf(cmd, sizeof(cmd), "cp -rp %s/state/pki %s/pki", tmp, state);
    run(cmd, NULL, 0);
    uint16_t port = free_port();
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
    snprintf(log, sizeof(log), "%s/ddnsd-knot.log", tmp);
    /* MM_BENCH_NO_KICK: measure without ddnsd's zone-notify kick (Knot's 1 s hold, knotctl.c) */
    char ctl[400];
    snprintf(ctl, sizeof(ctl), "%s/run/knot.sock", kdir);
    if (tokens)
        knot_drain(mamori, ddnsd, ctx, tokens, kport, secret, ctl);
    if (only && !strcmp(only, "drain")) {
        stop(kpid);
        return;
    }
    char *dargv[] = {(char *)ddnsd, "--state-dir", state, "--listen", listen, "--test-mode",
                     getenv("MM_BENCH_NO_KICK") ? NULL : "--knot-control", ctl, NULL};
    pid_t dpid = spawn(dargv, log);
    ldns_resolver *res = ldns_resolver_new();
    ldns_resolver_push_nameserver(res, ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1"));
    ldns_resolver_set_port(res, kport);
    ldns_resolver_set_retry(res, 1);
    /*
     * A short timeout and no retransmission pause (ldns sleeps `retrans`
     * seconds between tries): a poll that times out while Knot applies an
     * update must not add a second to the measured latency.
     */
    ldns_resolver_set_timeout(res, (struct timeval){0, 50000});
    ldns_resolver_set_retrans(res, 0);
    enum { N_MAX = 5000 };
    static double lat[N_MAX];
    int N = knot_samples > 0 && knot_samples <= N_MAX ? knot_samples : 200;
    int got = 0;
    struct worker w = {.port = port, .ctx = ctx};
    memcpy(w.token, tok, sizeof(w.token) - 1);
    SSL *ssl = NULL;
    int fd = wait_port(port) ? connect_tls(&w, &ssl) : -1;
    for (int i = 0; fd >= 0 && i < N; i++) {
        char body[128], req[1024], buf[8192], addr[32];
        snprintf(addr, sizeof(addr), "198.51.100.%d", i % 250 + 1);
        int bl = snprintf(body, sizeof(body), "{\"hostname\":\"lat.bench.example\",\"ipv4\":\"%s\"}", addr);
        int rl = snprintf(req, sizeof(req),
                          "POST " MM_DDNS_PREFIX "/update HTTP/1.1\r\nHost: x\r\nAuthorization: "
                          "Bearer %s\r\nContent-Length: %d\r\n\r\n%s", tok, bl, body);
        SSL_write(ssl, req, rl);
        size_t have = 0;
        mm_ddns_http_response r;
        int rc = MM_EAGAIN;
        while (rc == MM_EAGAIN) {
            int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - have));
            if (n <= 0)
                break;
            have += (size_t)n;
            rc = mm_ddns_http_response_parse((uint8_t *)buf, have, &r);
        }
        if (rc != 0 || r.status != 200)
            break;
        double t0 = now_s();
        struct timespec gap = {0, 200000}; /* 0.2 ms between polls: do not starve the server */
        while (!knot_has(res, "lat.bench.example.", addr) && now_s() - t0 < 5)
            nanosleep(&gap, NULL);
        lat[got++] = (now_s() - t0) * 1000;
        if (getenv("MM_BENCH_KEEP") && lat[got - 1] > 100)
            printf("slow: update %d (%s) %.1f ms\n", i, addr, lat[got - 1]);
    }
    if (fd >= 0) {
        SSL_free(ssl);
        close(fd);
    }
    ldns_resolver_deep_free(res);
    stop(dpid);
    stop(kpid);
    if (got < 10) {
        printf("knot: only %d samples\n", got);
        return;
    }
    qsort(lat, (size_t)got, sizeof(lat[0]), cmp_d);
    int slow = 0; /* Knot's ~1 s holds (knotctl.c) show up here */
    for (int i = 0; i < got; i++)
        slow += lat[i] > 500;
    printf("update -> Knot answer latency (HTTP 200 to first UDP answer with the new A), %d "
           "updates: p50 %.2f ms, p99 %.2f ms, max %.2f ms, over 500 ms: %d (target p99 < 50 "
           "ms)\n",
           got, lat[got / 2], lat[(got * 99) / 100], lat[got - 1], slow);
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--knot-samples") && i + 1 < argc)
            knot_samples = atoi(argv[++i]);
    }
    signal(SIGPIPE, SIG_IGN);
    mm_log_setup("bench-ddns", MM_LOG_STDERR, MM_LOG_ERROR);
    ssize_t n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);
    if (n <= 0)
        return 1;
    self_dir[n] = 0;
    *strrchr(self_dir, '/') = 0;
    char ddnsd[1100], mamori[1200], state[300], cmd[8192], log[400];
    snprintf(ddnsd, sizeof(ddnsd), "%s/mamori-ddnsd", self_dir);
    snprintf(mamori, sizeof(mamori), "%s/../../cli/mamori", self_dir);
    snprintf(tmp, sizeof(tmp), "%s/mm-bench-ddns.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp))
        return 1;
    snprintf(state, sizeof(state), "%s/state", tmp);
    static char tokens[CLIENTS][MM_DDNS_TOKEN_MAX];
    /* One token per client: the per-token rate limit (raised in test mode) stays out of the way. */
    for (int i = 0; i < CLIENTS; i++) {
        snprintf(cmd, sizeof(cmd), "%s ddns admin token-create --state-dir %s --env test "
                 "--scopes dns:update --host h%d.bench.example", mamori, state, i);
        if (run(cmd, tokens[i], sizeof(tokens[i])) != 0) {
            fprintf(stderr, "bench-ddns: token-create failed\n");
            return 1;
        }
    }
    uint16_t port = free_port();
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
    snprintf(log, sizeof(log), "%s/ddnsd.log", tmp);
    char *dargv[] = {ddnsd, "--state-dir", state, "--listen", listen, "--test-mode",
                     "--max-connections", "256", NULL};
    pid_t dpid = spawn(dargv, log);
    if (!wait_port(port)) {
        fprintf(stderr, "bench-ddns: ddnsd did not start (%s)\n", log);
        return 1;
    }
    char ca[400];
    snprintf(ca, sizeof(ca), "%s/pki/ca.crt", state);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set1_groups_list(ctx, "X25519");
    SSL_CTX_load_verify_locations(ctx, ca, NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    printf("bench-ddns: %d keep-alive TLS 1.3 clients, %.0f s per target, POST /update\n",
           CLIENTS, seconds);
    double ours = 0, ng = 0;
    unsigned long bad = 0;
    if (!only || !strcmp(only, "ddnsd")) {
        ours = load(port, ctx, tokens, &bad);
        printf("mamori-ddnsd (SQLite WAL synchronous=FULL, audit before reply): %.0f durable "
               "updates/s (%lu non-200)\n", ours, bad);
    }
    stop(dpid);
    if ((!only || !strcmp(only, "nginx")) && access("/usr/sbin/nginx", X_OK) == 0) {
        uint16_t np = free_port();
        char conf[400];
        snprintf(conf, sizeof(conf), "%s/nginx.conf", tmp);
        FILE *f = fopen(conf, "w");
        fprintf(f, "worker_processes 1;\nerror_log %s/nginx-error.log;\npid %s/nginx.pid;\n"
                   "events { worker_connections 1024; }\nhttp {\n access_log off;\n"
                   " client_body_temp_path %s;\n keepalive_requests 10000000;\n"
                   " server {\n  listen 127.0.0.1:%u ssl;\n  ssl_certificate %s/pki/server.crt;\n"
                   "  ssl_certificate_key %s/pki/server.key;\n  ssl_protocols TLSv1.3;\n"
                   "  ssl_ecdh_curve X25519;\n  location / { default_type application/json;"
                   " return 200 '{\"success\":true}'; }\n }\n}\n",
                tmp, tmp, tmp, np, state, state);
        fclose(f);
        snprintf(log, sizeof(log), "%s/nginx.out", tmp);
        char *nargv[] = {"/usr/sbin/nginx", "-c", conf, "-p", tmp, "-g", "daemon off; user root;", NULL};
        pid_t npid = spawn(nargv, log);
        if (wait_port(np)) {
            ng = load(np, ctx, tokens, &bad);
            printf("nginx 1 worker, static 200 (same TLS, same client): %.0f requests/s\n", ng);
        } else {
            printf("nginx did not start (%s)\n", log);
        }
        stop(npid);
    }
    if (ours > 0 && ng > 0)
        printf("ratio mamori-ddnsd / nginx ceiling: %.1f%% (targets: >= 10000 updates/s, >= 40%%)\n",
               100 * ours / ng);
    if (!only || !strcmp(only, "knot") || !strcmp(only, "drain"))
        knot_latency(mamori, ddnsd, ctx, only && strcmp(only, "drain") ? NULL : tokens);
    SSL_CTX_free(ctx);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (getenv("MM_BENCH_KEEP"))
        printf("logs kept in %s\n", tmp);
    else if (system(cmd) != 0)
        fprintf(stderr, "bench-ddns: cannot remove %s\n", tmp);
    return 0;
}
