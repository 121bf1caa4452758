/*
 * The Knot DNS child of mamori-ddnsd (`--knot PORT`): the authoritative
 * server the API's changes are pushed to, set up with no operator step.
 *
 * In STATE/knot ddnsd keeps a TSIG secret (32 CSPRNG bytes, made once,
 * 0600), writes knot.conf on every start (loopback listener on PORT, the
 * key, an ACL allowing only signed UPDATEs of A/AAAA/TXT, the zone) and the
 * zone file if there is none (SOA and NS only: the names arrive by RFC 2136
 * UPDATE and Knot journals them, writing them back to the zone file at
 * once). The zone is registered in the store with that key, so every
 * accepted change goes through the push queue to this server.
 *
 * knotd runs as our child: restarted with backoff if it dies, stopped with
 * SIGTERM when ddnsd stops, and given PR_SET_PDEATHSIG so that a killed
 * ddnsd does not leave it holding the port. Without knotd (Debian package
 * "knot") ddnsd logs how to get it and serves the API without DNS push.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "knot.h"
#include "mamori/mm_core.h"
#include "mamori/mm_event.h"

#define KEY_NAME "mamori-ddnsd"

struct mm_ddnsd_knot {
    char knotd[512], conf[1200], log[1200];
    pid_t pid;
    uint32_t backoff_ms;
    int64_t started_ms, retry_at_ms;
    struct event *timer;
};

/* knotd: $MM_KNOTD, then the Debian path, then PATH. */
static bool find_knotd(char *out, size_t len)
{
    const char *env = getenv("MM_KNOTD");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return access(out, X_OK) == 0;
    }
    static const char *const fixed[] = {"/usr/sbin/knotd", "/usr/local/sbin/knotd"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (access(fixed[i], X_OK) == 0) {
            snprintf(out, len, "%s", fixed[i]);
            return true;
        }
    const char *path = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path ? path : "");
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, len, "%s/knotd", d);
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}

/* The TSIG secret (base64 of 32 bytes), made on first use. */
static int load_secret(const char *path, char *b64, size_t len)
{
    FILE *f = fopen(path, "r");
    if (f) {
        bool ok = fgets(b64, (int)len, f) != NULL;
        fclose(f);
        b64[strcspn(b64, "\r\n")] = 0;
        return ok && strlen(b64) == 44 ? 0 : MM_EMALFORMED;
    }
    uint8_t raw[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1 || len < 45)
        return MM_ECRYPTO;
    EVP_EncodeBlock((unsigned char *)b64, raw, sizeof(raw));
    OPENSSL_cleanse(raw, sizeof(raw));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return MM_ESYS;
    size_t n = strlen(b64);
    bool ok = write(fd, b64, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    return ok ? 0 : MM_EIO;
}

static int write_file(const char *path, const char *text, bool keep_existing)
{
    if (keep_existing && access(path, F_OK) == 0)
        return 0;
    FILE *f = fopen(path, "w");
    if (!f)
        return MM_ESYS;
    bool ok = fputs(text, f) >= 0;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : MM_EIO;
}

static void spawn(struct mm_ddnsd_knot *k)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(0); /* ddnsd died between fork and prctl */
        int fd = open(k->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execl(k->knotd, k->knotd, "-c", k->conf, (char *)NULL);
        _exit(127);
    }
    if (pid < 0) {
        mm_log_error("ddnsd-knot", "err=\"fork: %s\"", strerror(errno));
        return;
    }
    k->pid = pid;
    k->started_ms = mm_monotonic_ms();
    mm_log_info("ddnsd-knot-start", "pid=%ld conf=%s log=%s", (long)pid, k->conf, k->log);
}

/* Once a second: reap a dead knotd and start it again after the backoff. */
static void watch(void *arg)
{
    struct mm_ddnsd_knot *k = arg;
    int64_t now = mm_monotonic_ms();
    int st;
    if (k->pid > 0 && waitpid(k->pid, &st, WNOHANG) == k->pid) {
        k->pid = 0;
        /* Ran a minute: a fresh failure, not a crash loop. */
        k->backoff_ms = now - k->started_ms > 60000 || !k->backoff_ms ? 1000
                        : k->backoff_ms >= 30000                       ? 30000
                                                                       : k->backoff_ms * 2;
        k->retry_at_ms = now + k->backoff_ms;
        mm_log_warn("ddnsd-knot-exit", "status=%d restart_in_ms=%u log=%s", st, k->backoff_ms,
                    k->log);
    }
    if (k->pid == 0 && now >= k->retry_at_ms)
        spawn(k);
}

int mm_ddnsd_knot_start(struct event_base *base, const char *state_dir, uint16_t port,
                        const char *zone, mm_ddns_store *store, mm_ddnsd_knot **out)
{
    *out = NULL;
    struct mm_ddnsd_knot *k = calloc(1, sizeof(*k));
    if (!k)
        return MM_ENOMEM;
    if (!find_knotd(k->knotd, sizeof(k->knotd))) {
        mm_log_warn("ddnsd-knot-missing",
                    "hint=\"knotd not found: install the Debian package knot (or set MM_KNOTD); "
                    "ddnsd serves the API without pushing to DNS\"");
        free(k);
        return MM_ENOENT;
    }
    char dir[1100], p[1300], secret[64], conf[4096];
    snprintf(dir, sizeof(dir), "%s/knot", state_dir);
    int rc = 0;
    snprintf(p, sizeof(p), "%s/storage", dir);
    rc = mm_mkdir_p(p, 0700);
    snprintf(p, sizeof(p), "%s/run", dir);
    if (rc == 0)
        rc = mm_mkdir_p(p, 0700);
    snprintf(p, sizeof(p), "%s/tsig.key", dir);
    if (rc == 0)
        rc = load_secret(p, secret, sizeof(secret));
    if (rc == 0) {
        /* RFC 2136 updates need the key; only the record types the API writes. */
        snprintf(conf, sizeof(conf),
                 "# Generated by mamori-ddnsd on every start: edit ddnsd's options, not this.\n"
                 "server:\n    rundir: \"%s/run\"\n    listen: 127.0.0.1@%u\n"
                 "control:\n    listen: knot.sock\n"
                 "log:\n  - target: stderr\n    any: info\n"
                 "key:\n  - id: " KEY_NAME "\n    algorithm: hmac-sha256\n    secret: %s\n"
                 "acl:\n  - id: ddnsd-update\n    key: " KEY_NAME "\n    action: update\n"
                 "    update-type: [A, AAAA, TXT]\n"
                 "template:\n  - id: default\n    storage: \"%s/storage\"\n    zonefile-sync: 0\n"
                 "database:\n    storage: \"%s/storage\"\n"
                 "zone:\n  - domain: %s\n    acl: ddnsd-update\n",
                 dir, port, secret, dir, dir, zone);
        snprintf(k->conf, sizeof(k->conf), "%s/knot.conf", dir);
        rc = write_file(k->conf, conf, false);
    }
    if (rc == 0) {
        snprintf(conf, sizeof(conf),
                 "$ORIGIN %s.\n$TTL 60\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\n"
                 "ns1 A 127.0.0.1\n", zone);
        snprintf(p, sizeof(p), "%s/storage/%s.zone", dir, zone);
        rc = write_file(p, conf, true);
    }
    if (rc == 0) {
        mm_ddns_zone z;
        memset(&z, 0, sizeof(z));
        snprintf(z.name, sizeof(z.name), "%s", zone);
        snprintf(z.server, sizeof(z.server), "127.0.0.1");
        z.port = port;
        snprintf(z.key_name, sizeof(z.key_name), KEY_NAME);
        snprintf(z.key_alg, sizeof(z.key_alg), "hmac-sha256");
        snprintf(z.key_secret, sizeof(z.key_secret), "%s", secret);
        rc = mm_ddns_store_zone_add(store, &z);
        OPENSSL_cleanse(&z, sizeof(z));
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(conf, sizeof(conf));
    if (rc < 0) {
        mm_log_error("ddnsd-knot", "dir=%s err=\"%s\"", dir, mm_strerror(rc));
        free(k);
        return rc;
    }
    snprintf(k->log, sizeof(k->log), "%s/knot.log", dir);
    k->timer = mm_timer_new(base, 1000, true, watch, k);
    if (!k->timer) {
        free(k);
        return MM_ENOMEM;
    }
    spawn(k);
    mm_log_info("ddnsd-knot", "zone=%s listen=127.0.0.1@%u", zone, port);
    *out = k;
    return 0;
}

void mm_ddnsd_knot_stop(mm_ddnsd_knot *k)
{
    if (!k)
        return;
    mm_timer_free(k->timer);
    if (k->pid > 0) {
        kill(k->pid, SIGTERM);
        /* knotd flushes its journal on SIGTERM: give it a few seconds, then insist. */
        for (int i = 0; i < 100; i++) {
            if (waitpid(k->pid, NULL, WNOHANG) == k->pid) {
                k->pid = 0;
                break;
            }
            struct timespec ts = {0, 50000000};
            nanosleep(&ts, NULL);
        }
        if (k->pid > 0) {
            kill(k->pid, SIGKILL);
            waitpid(k->pid, NULL, 0);
        }
    }
    free(k);
}
