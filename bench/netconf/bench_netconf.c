/*
 * bench-netconf - the mamori NETCONF server against yuma123 netconfd, in
 * one run, as ratios:
 *   1. pipelined <get> RPCs per second (64 in flight, small filtered get);
 *   2. get-config of a 10 000-entry list (bench/netconf/yang);
 *   3. 500 concurrent TLS sessions held open against mamori-netconfd.
 * Targets: mamori-netconfd over TLS 1.3 (the real binary, a child process),
 * the mamori engine over a plaintext socketpair in-process (no TLS: shows
 * what TLS costs), and netconfd over its plaintext tcp-direct transport on
 * loopback. No pass/fail: numbers only (`make bench`).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"

#ifndef MM_BENCH_YANG_DIR
#error "MM_BENCH_YANG_DIR must name bench/netconf/yang"
#endif

#define WINDOW 64
#define RPC_COUNT_DEFAULT 20000
#define LIST_SIZE 10000
#define GETCONFIG_ROUNDS 5
#define SESSIONS 500
#define NS_BENCH "urn:mamori:bench"
#define SMALL_GET                                                                               \
    "<get><filter type=\"subtree\"><bench xmlns=\"" NS_BENCH "\"><entry><name>none</name>"     \
    "</entry></bench></filter></get>"
#define GET_CONFIG                                                                              \
    "<get-config><source><running/></source><filter type=\"subtree\"><bench xmlns=\"" NS_BENCH \
    "\"/></filter></get-config>"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned rpc_count = RPC_COUNT_DEFAULT;
static const char *only; /* --only tls|plain|netconfd: one target (for profiling) */

static bool want(const char *target)
{
    return !only || strcmp(only, target) == 0;
}

typedef struct result {
    bool ok;
    double rpc_per_s;
    double server_us; /* server CPU (user + system) per RPC during the rate test */
    double loaded_rpc_per_s; /* the same with the 10 000-entry list in the datastore */
    double loaded_server_us;
    double client_us; /* the bench client's CPU per RPC (empty datastore) */
    double getconfig_ms;
    size_t getconfig_bytes;
} result;

/* ------------------------------------------------------------ measurements */

/* CPU seconds (user + system) a process or thread has used. */
static pid_t cpu_pid;          /* the server process, or 0 */
static clockid_t cpu_clock;    /* or the server thread's CPU clock */

static double server_cpu_s(void)
{
    if (cpu_pid > 0) {
        char path[64], line[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)cpu_pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return -1;
        char *ok = fgets(line, sizeof(line), f);
        fclose(f);
        const char *p = ok ? strrchr(line, ')') : NULL;
        unsigned long ut = 0, st = 0;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
            return -1;
        return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    struct timespec ts;
    if (clock_gettime(cpu_clock, &ts) < 0)
        return -1;
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double client_us_last; /* client CPU per RPC of the last rate test */

/* rpc_count pipelined small <get>s with WINDOW in flight; RPCs per second. */
static double rpc_rate(mm_nc_client *c, double *server_us)
{
    const size_t RPC_COUNT = rpc_count;
    mm_nc_client_cork(c, true); /* a pipelining client gathers its requests */
    double cpu0 = server_cpu_s(), self0 = self_cpu_s();
    size_t sent = 0, got = 0;
    double t0 = now_s();
    while (got < RPC_COUNT) {
        while (sent < RPC_COUNT && sent - got < WINDOW) {
            uint64_t id;
            if (mm_nc_client_send_rpc(c, SMALL_GET, &id) < 0)
                return 0;
            sent++;
        }
        char *reply = NULL;
        if (mm_nc_client_recv_reply(c, &reply, 30000) < 0 || !strstr(reply, "<data")) {
            free(reply);
            return 0;
        }
        free(reply);
        got++;
    }
    double elapsed = now_s() - t0, cpu1 = server_cpu_s();
    mm_nc_client_cork(c, false);
    client_us_last = (self_cpu_s() - self0) * 1e6 / RPC_COUNT;
    *server_us = cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) * 1e6 / RPC_COUNT : 0;
    return RPC_COUNT / elapsed;
}

static int load_list(mm_nc_client *c, const char *target)
{
    mm_buf b;
    mm_buf_init(&b, 64u << 20);
    int rc = mm_buf_printf(&b, "<edit-config><target><%s/></target><config><bench xmlns=\""
                               NS_BENCH "\">", target);
    for (int i = 0; rc == 0 && i < LIST_SIZE; i++)
        rc = mm_buf_printf(&b, "<entry><name>entry-%05d</name><value>%d</value>"
                               "<note>benchmark row %d</note></entry>", i, i, i);
    if (rc == 0)
        rc = mm_buf_printf(&b, "</bench></config></edit-config>");
    char *reply = NULL;
    if (rc == 0)
        rc = mm_nc_client_rpc(c, mm_buf_cstr(&b), &reply, 120000);
    if (rc == 0 && !strstr(reply, "<ok/>")) {
        fprintf(stderr, "bench-netconf: loading the list: %.300s\n", reply);
        rc = MM_EPROTO;
    }
    free(reply);
    mm_buf_free(&b);
    return rc;
}

static void get_config_time(mm_nc_client *c, result *r)
{
    double total = 0;
    for (int i = 0; i < GETCONFIG_ROUNDS; i++) {
        char *reply = NULL;
        double t0 = now_s();
        int rc = mm_nc_client_rpc(c, GET_CONFIG, &reply, 120000);
        total += now_s() - t0;
        if (rc < 0 || !strstr(reply, "entry-09999")) {
            free(reply);
            return;
        }
        r->getconfig_bytes = strlen(reply);
        free(reply);
    }
    r->getconfig_ms = total / GETCONFIG_ROUNDS * 1000;
}

static void measure(mm_nc_client *c, const char *target, result *r)
{
    r->rpc_per_s = rpc_rate(c, &r->server_us);
    r->client_us = client_us_last;
    if (load_list(c, target) == 0) {
        r->loaded_rpc_per_s = rpc_rate(c, &r->loaded_server_us);
        get_config_time(c, r);
    }
    r->ok = r->rpc_per_s > 0 && r->loaded_rpc_per_s > 0 && r->getconfig_ms > 0;
}

/* ------------------------------------------------------------ child processes */

static char tmpdir[256];

static pid_t spawn(char *const argv[], const char *log)
{
    fflush(stdout); /* the child must not print our buffer again */
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "w", stdout);
        if (f)
            dup2(fileno(f), 2);
        execvp(argv[0], argv);
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

/* Read "event=netconfd-ready port=N" from the daemon's log. */
static uint16_t ready_port(const char *log, pid_t pid)
{
    for (int i = 0; i < 400; i++) {
        FILE *f = fopen(log, "r");
        char line[512];
        unsigned port = 0;
        while (f && fgets(line, sizeof(line), f)) {
            const char *p = strstr(line, "event=netconfd-ready port=");
            if (p)
                port = (unsigned)strtoul(p + strlen("event=netconfd-ready port="), NULL, 10);
        }
        if (f)
            fclose(f);
        if (port)
            return (uint16_t)port;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        usleep(25000);
    }
    return 0;
}

static char netconfd_path[PATH_MAX + 32];

static void find_daemon(void)
{
    char self[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(netconfd_path, sizeof(netconfd_path), "%s/mamori-netconfd", self);
}

typedef struct tls_target {
    pid_t pid;
    uint16_t port;
    char ca[400], crt[400], key[400];
} tls_target;

static int tls_start(tls_target *t)
{
    char state[300], pki[300], log[300]; /* tmpdir is 256 */
    snprintf(state, sizeof(state), "%s/mamori-state", tmpdir);
    snprintf(pki, sizeof(pki), "%s/pki", tmpdir);
    snprintf(log, sizeof(log), "%s/mamori-netconfd.log", tmpdir);
    snprintf(t->ca, sizeof(t->ca), "%s/ca.crt", pki);
    snprintf(t->crt, sizeof(t->crt), "%s/client.crt", pki);
    snprintf(t->key, sizeof(t->key), "%s/client.key", pki);
    char *argv[] = {netconfd_path, "--state-dir", state, "--pki-dir", pki, "--address",
                    "127.0.0.1", "--port", "0", "--module-dir", MM_BENCH_YANG_DIR,
                    "--log-level", "error", NULL};
    /* log-level error hides the ready line: run at info, it is cheap. */
    argv[12] = "info";
    t->pid = spawn(argv, log);
    t->port = ready_port(log, t->pid);
    return t->port ? 0 : MM_ESYS;
}

typedef struct tls_conn {
    mm_nc_tls_stream *st;
    mm_nc_client *c;
} tls_conn;

static int tls_open(const tls_target *t, tls_conn *out, char *why, size_t len)
{
    mm_nc_tls_client_config cfg = {.host = "127.0.0.1", .port = t->port, .ca_file = t->ca,
                                   .cert_file = t->crt, .key_file = t->key,
                                   .timeout_ms = 30000};
    memset(out, 0, sizeof(*out));
    MM_GUARD(mm_nc_tls_connect(&cfg, &out->st, why, len));
    mm_nc_client_io io;
    mm_nc_tls_stream_io(out->st, &io);
    int rc = mm_nc_client_new_ex(&io, 64u << 20, 30000, &out->c, why, len);
    if (rc < 0)
        mm_nc_tls_stream_close(out->st);
    return rc;
}

static void tls_close(tls_conn *c)
{
    mm_nc_client_free(c->c);
    mm_nc_tls_stream_close(c->st);
}

/* yuma123 netconfd over tcp-direct on loopback. */
static int yuma_start(pid_t *pid, uint16_t *port)
{
    const char *user = getenv("USER") ? getenv("USER") : "bench";
    char a1[64], a2[64], a3[300], a4[300], a5[300], a6[400], log[300];
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t sl = sizeof(sa);
    if (probe < 0 || bind(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(probe, (struct sockaddr *)&sa, &sl) < 0)
        return MM_ESYS;
    close(probe);
    *port = ntohs(sa.sin_port);
    snprintf(a1, sizeof(a1), "--tcp-direct-port=%u", *port);
    snprintf(a2, sizeof(a2), "--superuser=%s", user);
    snprintf(a3, sizeof(a3), "--runpath=%s", tmpdir);
    snprintf(a4, sizeof(a4), "--ncxserver-sockname=%s/ncxserver.sock", tmpdir);
    snprintf(a5, sizeof(a5), "--log=%s/netconfd.log", tmpdir);
    snprintf(a6, sizeof(a6), "--module=%s/mamori-bench@2026-01-01.yang", MM_BENCH_YANG_DIR);
    snprintf(log, sizeof(log), "%s/netconfd.out", tmpdir);
    setenv("HOME", tmpdir, 1); /* netconfd keeps state under HOME/.yuma */
    char *argv[] = {"netconfd", "--tcp-direct-address=127.0.0.1", a1, "--no-startup", a2,
                    "--target=running", a3, a4, a5, "--log-level=error", a6, NULL};
    *pid = spawn(argv, log);
    return 0;
}

static int yuma_connect(uint16_t port, mm_nc_client **c, int *fd)
{
    const char *user = getenv("USER") ? getenv("USER") : "bench";
    char why[256] = "";
    for (int i = 0; i < 100; i++) {
        if (mm_nc_tcp_direct_connect("127.0.0.1", port, user, 2000, fd, why, sizeof(why)) == 0)
            break;
        *fd = -1;
        usleep(100000);
    }
    if (*fd < 0) {
        fprintf(stderr, "bench-netconf: netconfd: %s\n", why);
        return MM_ESYS;
    }
    static mm_nc_fd_stream fds;
    fds.rfd = fds.wfd = *fd;
    mm_nc_client_io io;
    mm_nc_client_io_fd(&fds, &io);
    return mm_nc_client_new_ex(&io, 64u << 20, 10000, c, why, sizeof(why));
}

/* ------------------------------------------------------------ in-process plaintext */

typedef struct plain {
    int fd;
    mm_nc_session *s;
    mm_buf out; /* replies of one input burst, written at once (as the TLS transport does) */
} plain;

static int plain_send(void *io, const uint8_t *data, size_t len)
{
    plain *p = io;
    if (mm_buf_append(&p->out, data, len) == 0)
        return 0;
    int rc = mm_write_all(p->fd, p->out.data, p->out.len);
    mm_buf_reset(&p->out);
    return rc < 0 ? rc : mm_write_all(p->fd, data, len);
}

static void plain_flush(plain *p)
{
    if (p->out.len && mm_write_all(p->fd, p->out.data, p->out.len) < 0)
        p->s = NULL;
    mm_buf_reset(&p->out);
}

static void plain_close(void *io, int app_error)
{
    (void)app_error;
    plain *p = io;
    plain_flush(p);
    p->s = NULL;
    shutdown(p->fd, SHUT_WR);
}

static void *plain_server(void *arg)
{
    int fd = *(int *)arg;
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/plain-state", tmpdir);
    mkdir(dir, 0700);
    struct event_base *base = event_base_new();
    mm_nc_server_config cfg = {.module_dir = MM_BENCH_YANG_DIR, .state_dir = dir,
                               .max_message = 64u << 20,
                               /* the list load is one edit of 4 * LIST_SIZE elements */
                               .max_elements = 8 * LIST_SIZE};
    mm_nc_server *srv = NULL;
    static const mm_nc_transport_ops ops = {.send = plain_send, .close = plain_close};
    plain p = {.fd = fd};
    mm_buf_init(&p.out, 4u << 20);
    mm_nc_session_info info = {.username = "admin", .transport = "bench", .peer = "socketpair"};
    /* Recovery user: the plaintext path has no NACM configuration to pass. */
    cfg.recovery_user = "admin";
    if (base && mm_nc_server_new(&cfg, base, &srv) == 0)
        p.s = mm_nc_session_new(srv, &info, &ops, &p);
    static uint8_t buf[1 << 16];
    while (p.s) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            mm_nc_session_lost(p.s);
            break;
        }
        if (mm_nc_session_input(p.s, buf, (size_t)n) < 0)
            break;
        plain_flush(&p);
    }
    mm_buf_free(&p.out);
    close(fd);
    mm_nc_server_free(srv);
    if (base)
        event_base_free(base);
    return NULL;
}

static void run_plain(result *r)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return;
    pthread_t th;
    pthread_create(&th, NULL, plain_server, &sv[1]);
    cpu_pid = 0;
    if (pthread_getcpuclockid(th, &cpu_clock) != 0)
        cpu_clock = (clockid_t)-1;
    mm_nc_fd_stream fds = {sv[0], sv[0]};
    mm_nc_client_io io;
    mm_nc_client_io_fd(&fds, &io);
    mm_nc_client *c = NULL;
    char why[256];
    if (mm_nc_client_new_ex(&io, 64u << 20, 10000, &c, why, sizeof(why)) == 0) {
        measure(c, "running", r);
        mm_nc_client_close(c);
    }
    shutdown(sv[0], SHUT_RDWR);
    pthread_join(th, NULL);
    close(sv[0]);
}

/* ------------------------------------------------------------ 500 sessions */

static void many_sessions(const tls_target *t)
{
    tls_conn *conns = calloc(SESSIONS, sizeof(*conns));
    size_t hello = 0, answered = 0;
    char why[256] = "";
    double t0 = now_s();
    for (size_t i = 0; conns && i < SESSIONS; i++)
        hello += tls_open(t, &conns[i], why, sizeof(why)) == 0;
    double t1 = now_s();
    for (size_t i = 0; conns && i < SESSIONS; i++) {
        char *reply = NULL;
        if (conns[i].c && mm_nc_client_rpc(conns[i].c, SMALL_GET, &reply, 30000) == 0 &&
            strstr(reply, "<data"))
            answered++;
        free(reply);
    }
    double t2 = now_s();
    printf("%u concurrent TLS sessions (mamori-netconfd): %zu got <hello>, %zu answered <get>"
           " while all were open (%s)\n",
           SESSIONS, hello, answered, hello == SESSIONS && answered == SESSIONS ? "all" : why);
    printf("  open %.0f sessions/s (TLS 1.3 handshake + hello), then one <get> each %.2f ms\n",
           hello / (t1 - t0), (t2 - t1) * 1000 / (answered ? answered : 1));
    for (size_t i = 0; conns && i < SESSIONS; i++)
        if (conns[i].c)
            tls_close(&conns[i]);
    free(conns);
}

/* ------------------------------------------------------------ main */

static void print_row(const char *name, const result *r)
{
    if (!r->ok) {
        printf("  %-34s (not measured)\n", name);
        return;
    }
    printf("  %-36s %7.0f RPC/s %5.1f us | %7.0f RPC/s %5.1f us | %7.1f ms %8zu B\n", name,
           r->rpc_per_s, r->server_us, r->loaded_rpc_per_s, r->loaded_server_us, r->getconfig_ms,
           r->getconfig_bytes);
}

static void print_ratio(const char *what, const result *a, const result *b)
{
    if (!a->ok || !b->ok)
        return;
    printf("  %-36s RPC rate %.2fx (server CPU %.2fx less) | %.2fx (%.2fx less) | get-config "
           "%.2fx faster\n",
           what, a->rpc_per_s / b->rpc_per_s, a->server_us > 0 ? b->server_us / a->server_us : 0,
           a->loaded_rpc_per_s / b->loaded_rpc_per_s,
           a->loaded_server_us > 0 ? b->loaded_server_us / a->loaded_server_us : 0,
           b->getconfig_ms / a->getconfig_ms);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int rm_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rpcs") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0) {
            rpc_count = (unsigned)atoi(argv[++i]);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
                   strspn(argv[i + 1], "abcdefghijklmnopqrstuvwxyz") > 0) {
            only = argv[++i];
        } else {
            fprintf(stderr,
                    "usage: bench-netconf [--rpcs N] [--only tls|plain|netconfd]\n"
                    "  --rpcs N   pipelined <get>s per rate test (default %d)\n"
                    "  --only T   measure one target only (for profiling)\n",
                    RPC_COUNT_DEFAULT);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    mm_log_setup("bench-netconf", MM_LOG_STDERR, MM_LOG_ERROR);
    raise_nofile(); /* inherited by the daemon: 500 sessions need > 1024 fds */
    find_daemon();
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/mm-bench-netconf-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    printf("NETCONF: %u pipelined small <get> (%d in flight), on an empty datastore and with a "
           "%d-entry list; get-config of that list (mean of %d)\n",
           rpc_count, WINDOW, LIST_SIZE, GETCONFIG_ROUNDS);
    printf("  %-36s %-20s | %-20s | %s\n", "", "RPC rate, empty", "RPC rate, 10k list",
           "get-config");
    printf("  %-36s %-20s | %-20s |\n", "", "(server CPU/RPC)", "(server CPU/RPC)");
    result tls = {0}, plain_r = {0}, yuma = {0};

    tls_target t = {0};
    tls_conn c;
    char why[256] = "";
    if (!want("tls")) {
        /* skipped */
    } else if (tls_start(&t) == 0 && tls_open(&t, &c, why, sizeof(why)) == 0) {
        cpu_pid = t.pid;
        measure(c.c, "running", &tls);
        tls_close(&c);
    } else {
        fprintf(stderr, "bench-netconf: mamori-netconfd (%s): %s\n", netconfd_path, why);
    }
    if (want("plain"))
        run_plain(&plain_r);

    pid_t ypid = -1;
    uint16_t yport = 0;
    mm_nc_client *yc = NULL;
    int yfd = -1;
    if (!want("netconfd"))
        ; /* skipped */
    else if (access("/usr/sbin/netconfd", X_OK) != 0 &&
             system("command -v netconfd >/dev/null") != 0)
        printf("  (yuma123 netconfd not installed: no peer to compare with)\n");
    else if (yuma_start(&ypid, &yport) == 0 && yuma_connect(yport, &yc, &yfd) == 0) {
        cpu_pid = ypid;
        measure(yc, "running", &yuma);
    }
    if (yc)
        mm_nc_client_close(yc);
    if (yfd >= 0)
        close(yfd);
    stop(ypid);

    print_row("mamori-netconfd, TLS 1.3", &tls);
    print_row("mamori engine, plaintext socketpair", &plain_r);
    print_row("yuma123 netconfd, tcp-direct", &yuma);
    printf("  client CPU per RPC (the same client library for all): %.1f / %.1f / %.1f us\n",
           tls.client_us, plain_r.client_us, yuma.client_us);
    print_ratio("mamori TLS / netconfd:", &tls, &yuma);
    print_ratio("mamori plaintext / netconfd:", &plain_r, &yuma);
    print_ratio("mamori plaintext / mamori TLS:", &plain_r, &tls);
    if (tls.ok && yuma.ok) {
        double empty = tls.rpc_per_s / yuma.rpc_per_s;
        double loaded = tls.loaded_rpc_per_s / yuma.loaded_rpc_per_s;
        printf("  target: mamori-netconfd over TLS >= 5x netconfd's RPC rate: %s with the %d-entry "
               "list (%.1fx), %s on an empty datastore (%.1fx)\n",
               loaded >= 5 ? "met" : "NOT met", LIST_SIZE, loaded, empty >= 5 ? "met" : "NOT met",
               empty);
    }

    if (t.port)
        many_sessions(&t);
    stop(t.pid);
    rm_tmp();
    return 0;
}
