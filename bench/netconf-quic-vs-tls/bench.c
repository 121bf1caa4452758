/*
 * bench-netconf-quic-vs-tls - NETCONF over QUIC against NETCONF over TLS
 * (RFC 7589, the mamori TLS transport), same engine, same PKI, same link.
 *
 * Topology (tests/netns/topo.sh): client namespace -- delay line -- server
 * namespace, 25 ms each way (50 ms RTT), the delay made by the userspace
 * AF_PACKET delay line of tests/netns/delayline.c (no netem here).
 *
 *  1. session set-up: connect + handshake + <hello> exchange, median of N,
 *     with the default groups and then per key-exchange group (X25519,
 *     X25519SCloud+128, X25519MLKEM768: the client offers that group alone,
 *     the server its defaults), so the round trips that larger key shares
 *     cost (QUIC's 3x amplification limit before the client's address is
 *     validated, RFC 9000 section 8.1; TCP's initial window) are visible;
 *  2. notification latency under 1% loss (nftables numgen drop both ways in
 *     the server namespace) while bulk <get-config> replies are in flight on
 *     the same session: a writer session edits every EDIT_MS, the subscriber
 *     session keeps two large <get-config>s pipelined. Latency is measured
 *     from the notification's generation on the server: the engine stamps
 *     <eventTime> (CLOCK_REALTIME, microseconds) when the event is raised, and
 *     the subscriber subtracts it from its own CLOCK_REALTIME on arrival
 *     (server and client share the host clock; only network namespaces
 *     differ). So the writer's own path (its RPC crossing the lossy link) is
 *     not counted, and every notification is a sample, matched by itself
 *     rather than by position. p50, p90 and p99 over NOTIF_SAMPLES samples.
 *
 * Fairness: both TLS ends run with TCP_NODELAY (the transport sets it on
 * every accepted socket), so Nagle does not hold a notification behind
 * unacknowledged bulk data.
 *
 * Prints ratios QUIC/TLS (targets: set-up <= 0.6, notification p99 <= 0.5);
 * never asserts on timing. Skips (exit 0) when not root or without network
 * namespaces.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "delayline.h"
#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_netconf_tls.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_netconf_quic.h"
#include "mamori/mm_quic.h"
#include "mamori/mm_tls.h"

#define SERVER_ADDR "10.77.0.2"
#define QUIC_PORT 8831
#define TLS_PORT 16513
#define ONE_WAY_MS_DEFAULT 25
static int ONE_WAY_MS = ONE_WAY_MS_DEFAULT;
static bool setup_only; /* --setup-only: skip the notification test */
static const char *g_group; /* client key-exchange groups; NULL: the defaults */
#define SETUP_RUNS 15
#define EDITS 1000 /* notifications raised per transport */
#define EDIT_MS 50
#define NOTIF_SAMPLES EDITS
#define BULK_ITEMS 3000

static char g_dir[64], g_pki[96];
static volatile bool g_stop;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Wall clock in microseconds: what the engine's <eventTime> is in. */
static int64_t now_real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* <eventTime>YYYY-MM-DDTHH:MM:SS[.ffffff]Z</eventTime> in xml -> microseconds, or -1. */
static int64_t event_time_us(const char *xml, size_t len)
{
    const char *p = memmem(xml, len, "<eventTime>", 11);
    if (p == NULL || (size_t)(p - xml) + 11 + 20 > len)
        return -1;
    p += 11;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int us = 0, n = 0;
    if (sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    p += n;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (digits++ < 6)
                us = us * 10 + (*p - '0');
        for (; digits < 6; digits++)
            us *= 10;
    }
    if (*p != 'Z')
        return -1; /* the engine writes UTC */
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000000 + us;
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int enter_ns(const char *name)
{
    char p[128];
    snprintf(p, sizeof(p), "/var/run/netns/%s", name);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = setns(fd, CLONE_NEWNET);
    close(fd);
    return rc;
}

static void on_term(int sig)
{
    (void)sig;
    g_stop = true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p)
{
    qsort(v, n, sizeof(*v), cmp_double);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* ---------------------------------------------------------------- topology */

static void topo_down(void)
{
    sh("ip netns del mmq-c 2>/dev/null; ip netns del mmq-s 2>/dev/null; "
       "ip netns del mmq-d 2>/dev/null");
}

static int topo_up(void)
{
    topo_down();
    const char *cmds[] = {
        "ip netns add mmq-c", "ip netns add mmq-s", "ip netns add mmq-d",
        "ip link add c0 netns mmq-c type veth peer name c1 netns mmq-d",
        "ip link add s0 netns mmq-s type veth peer name s1 netns mmq-d",
        "ip -n mmq-c addr add 10.77.0.1/24 dev c0", "ip -n mmq-s addr add 10.77.0.2/24 dev s0",
        "ip -n mmq-c link set lo up", "ip -n mmq-s link set lo up",
        "ip -n mmq-c link set c0 up", "ip -n mmq-s link set s0 up",
        "ip -n mmq-d link set c1 up", "ip -n mmq-d link set s1 up",
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (sh(cmds[i]) != 0)
            return -1;
    return 0;
}

static int loss(int pct)
{
    char cmd[512];
    if (pct == 0)
        return sh("ip netns exec mmq-s nft delete table inet mmqloss 2>/dev/null");
    snprintf(cmd, sizeof(cmd),
             "ip netns exec mmq-s nft 'add table inet mmqloss; "
             "add chain inet mmqloss in { type filter hook input priority 0; }; "
             "add chain inet mmqloss out { type filter hook output priority 0; }; "
             "add rule inet mmqloss in numgen random mod 100 < %d drop; "
             "add rule inet mmqloss out numgen random mod 100 < %d drop'",
             pct, pct);
    return sh(cmd);
}

/* ---------------------------------------------------------------- children */

static pid_t spawn_delayline(void)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    signal(SIGTERM, on_term);
    if (enter_ns("mmq-d") < 0)
        _exit(1);
    _exit(mm_delayline_run("c1", "s1", ONE_WAY_MS, &g_stop) == 0 ? 0 : 1);
}

static void ca_fp(uint8_t *fp, size_t cap, size_t *len)
{
    char p[160];
    snprintf(p, sizeof(p), "%s/ca.crt", g_pki);
    FILE *f = fopen(p, "r");
    X509 *ca = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    if (ca == NULL || mm_ctn_fingerprint_of(ca, MM_CTN_SHA256, fp, cap, len) < 0)
        _exit(1);
    X509_free(ca);
}

static void tick(evutil_socket_t fd, short w, void *arg)
{
    (void)fd;
    (void)w;
    if (g_stop)
        event_base_loopbreak(arg);
}

static void serve(void)
{
    struct event_base *base = event_base_new();
    char state[128];
    snprintf(state, sizeof(state), "%s/state", g_dir);
    mkdir(state, 0700);
    mm_nc_server_config cfg = {.module_dir = MM_BENCH_YANG_DIR, .state_dir = state,
                               .recovery_user = MM_PKI_DEFAULT_CLIENT,
                               .max_message = 8u << 20};
    mm_nc_server *srv = NULL;
    if (mm_nc_server_new(&cfg, base, &srv) < 0)
        _exit(1);
    mm_nc_quic_settings q;
    memset(&q, 0, sizeof(q));
    mm_pki_path(g_pki, MM_PKI_CA_CERT, q.ca_file, sizeof(q.ca_file));
    mm_pki_path(g_pki, MM_PKI_SERVER_CERT, q.cert_file, sizeof(q.cert_file));
    mm_pki_path(g_pki, MM_PKI_SERVER_KEY, q.key_file, sizeof(q.key_file));
    q.n_endpoints = 1;
    snprintf(q.endpoints[0].address, sizeof(q.endpoints[0].address), SERVER_ADDR);
    q.endpoints[0].port = QUIC_PORT;
    q.n_ctn = 1;
    q.ctn[0].id = 1;
    q.ctn[0].map_type = MM_CTN_COMMON_NAME;
    ca_fp(q.ctn[0].fingerprint, sizeof(q.ctn[0].fingerprint), &q.ctn[0].fingerprint_len);
    mm_nc_tls_settings *t = calloc(1, sizeof(*t));
    snprintf(t->ca_file, sizeof(t->ca_file), "%s", q.ca_file);
    snprintf(t->cert_file, sizeof(t->cert_file), "%s", q.cert_file);
    snprintf(t->key_file, sizeof(t->key_file), "%s", q.key_file);
    t->n_endpoints = 1;
    snprintf(t->endpoints[0].address, sizeof(t->endpoints[0].address), SERVER_ADDR);
    t->endpoints[0].port = TLS_PORT;
    t->n_ctn = 1;
    t->ctn[0].id = 1;
    t->ctn[0].map_type = MM_CTN_COMMON_NAME;
    memcpy(t->ctn[0].fingerprint, q.ctn[0].fingerprint, sizeof(q.ctn[0].fingerprint));
    t->ctn[0].fingerprint_len = q.ctn[0].fingerprint_len;
    mm_nc_quic_server *qs = NULL;
    mm_nc_tls_server *ts = NULL;
    if (mm_nc_quic_server_new(srv, base, &q, &qs) < 0 ||
        mm_nc_tls_server_new(srv, base, t, &ts) < 0)
        _exit(1);
    struct event *ev = event_new(base, -1, EV_PERSIST, tick, base);
    struct timeval tv = {0, 50000};
    event_add(ev, &tv);
    event_base_dispatch(base);
    _exit(0);
}

static pid_t spawn_server(void)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    signal(SIGTERM, on_term);
    if (enter_ns("mmq-s") < 0 || mm_delayline_no_offload("s0") < 0)
        _exit(1);
    mm_log_set_level(MM_LOG_ERROR);
    serve();
    _exit(0);
}

/* ---------------------------------------------------------------- clients */

typedef struct sess {
    bool quic;
    mm_nc_client_io io;
    mm_nc_tls_stream *tls;
    mm_nc_client *c;
    int notifs;
    double *lat; /* ms from generation (eventTime) to arrival, NOTIF_SAMPLES */
    double t_transport; /* when the transport (handshake) was up, now_ms() */
} sess;

static void on_notif(const char *xml, size_t len, void *arg)
{
    sess *s = arg;
    int64_t now = now_real_us();
    if (s->lat == NULL || s->notifs >= NOTIF_SAMPLES || !memmem(xml, len, "config-change", 13))
        return;
    int64_t ev = event_time_us(xml, len);
    if (ev > 0)
        s->lat[s->notifs++] = (double)(now - ev) / 1e3;
}

static int sess_open(sess *s, bool quic)
{
    memset(s, 0, sizeof(*s));
    s->quic = quic;
    char ca[160], crt[160], key[160];
    mm_pki_path(g_pki, MM_PKI_CA_CERT, ca, sizeof(ca));
    mm_pki_path(g_pki, MM_PKI_CLIENT_CERT, crt, sizeof(crt));
    mm_pki_path(g_pki, MM_PKI_CLIENT_KEY, key, sizeof(key));
    if (quic) {
        mm_quic_config c = {.ca_file = ca, .cert_file = crt, .key_file = key,
                            /* The PKI server certificate names localhost. */
                            .server_name = "localhost", .keep_alive_ms = 1000,
                            .groups = g_group};
        MM_GUARD(mm_nc_quic_client_io(SERVER_ADDR, QUIC_PORT, &c, 10000, &s->io));
    } else {
        mm_nc_tls_client_config c = {.host = SERVER_ADDR, .port = TLS_PORT,
                                     .server_name = "localhost", .ca_file = ca,
                                     .cert_file = crt, .key_file = key, .timeout_ms = 10000,
                                     .groups = g_group};
        char why[256];
        MM_GUARD(mm_nc_tls_connect(&c, &s->tls, why, sizeof(why)));
        mm_nc_tls_stream_io(s->tls, &s->io);
    }
    s->t_transport = now_ms();
    MM_GUARD(mm_nc_client_new(&s->io, 16u << 20, &s->c));
    mm_nc_client_on_notification(s->c, on_notif, s);
    return 0;
}

static void sess_close(sess *s)
{
    if (s->c != NULL)
        mm_nc_client_close(s->c);
    if (s->quic)
        mm_nc_quic_client_io_free(&s->io);
    else if (s->tls != NULL)
        mm_nc_tls_stream_close(s->tls);
}

/* Median set-up time; *transport gets the median of its transport part. */
static double setup_median(bool quic, double *transport)
{
    double v[SETUP_RUNS], tr[SETUP_RUNS];
    size_t n = 0;
    for (int i = 0; i < SETUP_RUNS; i++) {
        sess s;
        double t0 = now_ms();
        if (sess_open(&s, quic) == 0) {
            tr[n] = s.t_transport - t0;
            v[n++] = now_ms() - t0;
        }
        sess_close(&s);
    }
    *transport = n > 0 ? percentile(tr, n, 0.5) : -1;
    return n > 0 ? percentile(v, n, 0.5) : -1;
}

static int seed_bulk(bool quic)
{
    sess s;
    MM_GUARD(sess_open(&s, quic));
    mm_buf b;
    mm_buf_init(&b, 8u << 20);
    mm_buf_printf(&b, "<edit-config><target><running/></target><config>"
                      "<top xmlns=\"urn:mamori:test:nc\">");
    for (int i = 0; i < BULK_ITEMS; i++)
        mm_buf_printf(&b, "<item><id>item-%05d</id><value>%d</value><note>bulk payload row %d "
                          "padding padding padding padding padding</note></item>",
                      i, i, i);
    mm_buf_printf(&b, "</top></config></edit-config>");
    char *reply = NULL;
    int rc = mm_nc_client_rpc(s.c, mm_buf_cstr(&b), &reply, 60000);
    free(reply);
    mm_buf_free(&b);
    sess_close(&s);
    return rc;
}

typedef struct writer {
    bool quic;
    volatile bool stop;
    int rc;
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    sess s;
    w->rc = sess_open(&s, w->quic);
    for (int i = 0; i < EDITS + 20 && w->rc == 0 && !w->stop; i++) {
        char op[256];
        snprintf(op, sizeof(op),
                 "<edit-config><target><running/></target><config><top "
                 "xmlns=\"urn:mamori:test:nc\"><name>edit-%d</name></top></config>"
                 "</edit-config>",
                 i);
        uint64_t id;
        double sent = now_ms();
        if ((w->rc = mm_nc_client_send_rpc(s.c, op, &id)) < 0)
            break;
        char *reply = NULL;
        w->rc = mm_nc_client_recv_reply(s.c, &reply, 30000);
        free(reply);
        double next = sent + EDIT_MS;
        while (now_ms() < next)
            usleep(1000);
    }
    sess_close(&s);
    return NULL;
}

typedef struct lat_stats {
    double p50, p90, p99, max;
    int n;
} lat_stats;

static lat_stats notif_latency(bool quic)
{
    lat_stats st = {-1, -1, -1, -1, 0};
    sess sub;
    static double lat[NOTIF_SAMPLES];
    if (sess_open(&sub, quic) < 0)
        return st;
    sub.lat = lat;
    char *reply = NULL;
    if (mm_nc_client_rpc(sub.c, "<create-subscription xmlns=\"" MM_NC_NS_NOTIF "\"/>", &reply,
                         10000) < 0)
        return st;
    free(reply);
    writer w = {.quic = quic};
    pthread_t th;
    pthread_create(&th, NULL, writer_main, &w);
    /* Keep two bulk <get>s in flight on the subscriber's session throughout. */
    const char *get = "<get-config><source><running/></source></get-config>";
    uint64_t id;
    mm_nc_client_send_rpc(sub.c, get, &id);
    mm_nc_client_send_rpc(sub.c, get, &id);
    double deadline = now_ms() + (double)EDITS * EDIT_MS * 3 + 30000;
    while (sub.notifs < NOTIF_SAMPLES && now_ms() < deadline) {
        int rc = mm_nc_client_recv_reply(sub.c, &reply, 30000);
        if (rc < 0) {
            printf("  %s subscriber stopped after %d notifications: %s\n", quic ? "quic" : "tls",
                   sub.notifs, mm_nc_client_error(sub.c));
            break;
        }
        free(reply);
        mm_nc_client_send_rpc(sub.c, get, &id);
    }
    w.stop = true;
    pthread_join(th, NULL);
    int n = sub.notifs;
    sub.lat = NULL;
    sess_close(&sub);
    st.n = n;
    if (n < NOTIF_SAMPLES / 2)
        return st;
    st.p50 = percentile(lat, (size_t)n, 0.50);
    st.p90 = percentile(lat, (size_t)n, 0.90);
    st.p99 = percentile(lat, (size_t)n, 0.99);
    st.max = lat[n - 1]; /* sorted by percentile() */
    return st;
}

/* ---------------------------------------------------------------- main */

/* Set-up per group over both transports; ratios against X25519 on the same
 * transport, and the transport-up time in round trips. */
static void setup_per_group(void)
{
    static const char *groups[] = {"X25519", "X25519SCloud+128", "X25519MLKEM768"};
    double rtt = 2.0 * ONE_WAY_MS, base_q = -1, base_t = -1;
    printf("set-up per group (client offers the group alone; median of %d; QUIC TLS: %s):\n",
           SETUP_RUNS, mm_quic_tls_name());
    printf("  %-18s %10s %8s %10s   %10s %8s %10s\n", "group", "quic ms", "vs x25519",
           "hs RTTs", "tls ms", "vs x25519", "hs RTTs");
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        double trq, trt;
        g_group = groups[i];
        double q = setup_median(true, &trq), t = setup_median(false, &trt);
        if (i == 0) {
            base_q = q;
            base_t = t;
        }
        if (q < 0 || t < 0) {
            printf("  %-18s quic=%s tls=%s\n", groups[i], q < 0 ? "failed" : "ok",
                   t < 0 ? "failed" : "ok");
            continue;
        }
        printf("  %-18s %10.1f %8.2fx %10.1f   %10.1f %8.2fx %10.1f\n", groups[i], q,
               base_q > 0 ? q / base_q : 0, rtt > 0 ? trq / rtt : 0, t,
               base_t > 0 ? t / base_t : 0, rtt > 0 ? trt / rtt : 0);
    }
    g_group = NULL;
    printf("  (hs RTTs: transport up at the client in round trips; goal for QUIC: "
           "X25519SCloud+128 within 1.1x of X25519)\n");
}

static void ratio_line(const char *what, double quic, double tls, double target)
{
    if (quic < 0 || tls < 0) {
        printf("%-34s quic=%s tls=%s\n", what, quic < 0 ? "failed" : "ok",
               tls < 0 ? "failed" : "ok");
        return;
    }
    double r = quic / tls;
    if (target <= 0) {
        printf("%-34s quic=%8.1f ms  tls=%8.1f ms  ratio=%.2f\n", what, quic, tls, r);
        return;
    }
    printf("%-34s quic=%8.1f ms  tls=%8.1f ms  ratio=%.2f (target <= %.1f: %s)\n", what, quic,
           tls, r, target, r <= target ? "met" : "NOT met");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--setup-only") == 0) {
            setup_only = true;
        } else if (strcmp(argv[i], "--one-way-ms") == 0 && i + 1 < argc &&
                   atoi(argv[i + 1]) >= 0 && atoi(argv[i + 1]) <= 1000) {
            ONE_WAY_MS = atoi(argv[++i]);
        } else {
            fprintf(stderr,
                    "usage: bench-netconf-quic-vs-tls [--setup-only] [--one-way-ms N]\n"
                    "  --setup-only    measure session set-up only (no loss test)\n"
                    "  --one-way-ms N  delay line, each way (default %d)\n",
                    ONE_WAY_MS_DEFAULT);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (geteuid() != 0) {
        printf("bench-netconf-quic-vs-tls: skipped: needs root (network namespaces)\n");
        return 0;
    }
    if (sh("ip netns add mmq-probe 2>/dev/null && ip netns del mmq-probe") != 0) {
        printf("bench-netconf-quic-vs-tls: skipped: network namespaces unavailable\n");
        return 0;
    }
    mm_log_set_level(MM_LOG_ERROR);
    snprintf(g_dir, sizeof(g_dir), "/tmp/mm-bench-ncq-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return 1;
    snprintf(g_pki, sizeof(g_pki), "%s/pki", g_dir);
    if (mm_pki_init(g_pki, false) < 0 || topo_up() < 0) {
        printf("bench-netconf-quic-vs-tls: skipped: topology set-up failed\n");
        topo_down();
        return 0;
    }
    if (enter_ns("mmq-c") < 0 || mm_delayline_no_offload("c0") < 0)
        return 1;
    pid_t dl = spawn_delayline(), srv = spawn_server();
    usleep(500000);
    printf("link: %d ms one way (RTT %d ms), userspace delay line; TLS = mamori NETCONF over "
           "TLS 1.3/TCP (RFC 7589), same engine\n",
           ONE_WAY_MS, 2 * ONE_WAY_MS);
    int rc = seed_bulk(true);
    if (rc < 0)
        printf("seeding bulk data failed: %s\n", mm_strerror(rc));
    double trq, trt;
    double sq = setup_median(true, &trq), st = setup_median(false, &trt);
    ratio_line("session set-up (median)", sq, st, 0.6);
    printf("  of which transport up (handshake done at the client): quic %.1f ms, tls %.1f ms; "
           "floors at %d ms RTT with mutual X.509 and no 0-RTT: quic %d ms, tls %d ms\n",
           trq, trt, 2 * ONE_WAY_MS, 4 * ONE_WAY_MS, 6 * ONE_WAY_MS);
    setup_per_group();
    if (setup_only)
        goto done;
    loss(1);
    lat_stats nq = notif_latency(true), nt = notif_latency(false);
    loss(0);
    printf("notification latency, generation (eventTime) -> arrival, 1%% loss + bulk replies:\n");
    printf("  quic: n=%d p50=%.1f p90=%.1f p99=%.1f max=%.1f ms\n", nq.n, nq.p50, nq.p90, nq.p99,
           nq.max);
    printf("  tls:  n=%d p50=%.1f p90=%.1f p99=%.1f max=%.1f ms\n", nt.n, nt.p50, nt.p90,
           nt.p99, nt.max);
    ratio_line("notification p50, 1% loss + bulk", nq.p50, nt.p50, 0);
    ratio_line("notification p99, 1% loss + bulk", nq.p99, nt.p99, 0.5);
done:
    kill(srv, SIGTERM);
    kill(dl, SIGTERM);
    waitpid(srv, NULL, 0);
    waitpid(dl, NULL, 0);
    topo_down();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    sh(cmd);
    return 0;
}
