/*
 * zt.c - the ZT-01..ZT-12 checks of `mamori audit zt`, one row per check in
 * a table (adding a check is adding a row). Each probes the running
 * installation found by zt_discover.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "mamori/mm_ahaudit.h"
#include "mamori/mm_audit.h"
#include "mamori/mm_core.h"
#include "mamori/mm_tls.h"
#include "zt.h"
#include "zt_internal.h"

/* ---------------------------------------------------------------- evidence */

void mm_zt_add(mm_zt_result *r, const char *fmt, ...)
{
    size_t used = strlen(r->evidence);
    if (used + 1 >= sizeof(r->evidence))
        return;
    if (used)
        r->evidence[used++] = ';', r->evidence[used++] = ' ', r->evidence[used] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->evidence + used, sizeof(r->evidence) - used, fmt, ap);
    va_end(ap);
}

void mm_zt_fail(mm_zt_result *r) { r->status = MM_ZT_FAIL; }

/* ---------------------------------------------------------------- TLS probes */

struct outcome {
    bool connected;    /* TCP */
    bool handshake;    /* SSL_connect succeeded */
    bool refused;      /* the server ended the session (alert or close) */
    bool data;         /* the server sent application data */
    bool silent;       /* nothing within the timeout */
    bool plaintext;    /* the answer was not TLS */
    bool cert_requested; /* the server sent a CertificateRequest (probes without a cert) */
    char err[160];
    char group[64];
    char version[16];
    X509 *peer;        /* served certificate (owned) */
};

/* Wildcard listeners are probed on loopback. */
const char *mm_zt_probe_addr(const mm_zt_endpoint *ep)
{
    if (!strcmp(ep->addr, "0.0.0.0"))
        return "127.0.0.1";
    if (!strcmp(ep->addr, "::"))
        return "::1";
    return ep->addr;
}

int mm_zt_netns_enter(pid_t pid, int *saved)
{
    *saved = -1;
    if (!pid)
        return 0;
    char nspath[64];
    snprintf(nspath, sizeof(nspath), "/proc/%d/ns/net", (int)pid);
    int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = open(nspath, O_RDONLY | O_CLOEXEC);
    int rc = (self >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0) ? 0 : MM_ESYS;
    int e = errno;
    if (target >= 0)
        close(target);
    if (rc < 0 && self >= 0)
        close(self);
    errno = e;
    if (rc == 0)
        *saved = self;
    return rc;
}

void mm_zt_netns_leave(int saved)
{
    if (saved < 0)
        return;
    if (setns(saved, CLONE_NEWNET) != 0)
        abort(); /* every later probe would run in the wrong namespace */
    close(saved);
}

static int tcp_connect(const mm_zt_endpoint *ep, int timeout_ms)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    const char *a = mm_zt_probe_addr(ep);
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(ep->port);
        sl = sizeof(*s6);
    } else if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(ep->port);
        sl = sizeof(*s4);
    } else {
        return -1;
    }
    /* A socket belongs to the namespace it is created in: make it in the daemon's. */
    int saved = -1;
    if (mm_zt_netns_enter(ep->pid, &saved) < 0)
        return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int e = errno;
    mm_zt_netns_leave(saved);
    errno = e;
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void ssl_err(char *out, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, out, cap);
    else
        snprintf(out, cap, "%s", errno ? strerror(errno) : "connection closed");
    ERR_clear_error();
}

/* Handshake with ctx, then wait for the server's first move. */
static void tls_try(SSL_CTX *ctx, const mm_zt_endpoint *ep, int timeout_ms, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    int fd = tcp_connect(ep, timeout_ms);
    if (fd < 0) {
        snprintf(o->err, sizeof(o->err), "connect: %s", strerror(errno));
        return;
    }
    o->connected = true;
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, fd)) {
        snprintf(o->err, sizeof(o->err), "SSL_new failed");
        SSL_free(ssl);
        close(fd);
        return;
    }
    SSL_set_app_data(ssl, &o->cert_requested);
    errno = 0;
    ERR_clear_error();
    if (SSL_connect(ssl) != 1) {
        ssl_err(o->err, sizeof(o->err));
        /* A reply that is not a TLS record: wrong version number / record too long. */
        o->plaintext = strstr(o->err, "wrong version number") || strstr(o->err, "too long") ||
                       strstr(o->err, "unknown protocol");
        o->silent = errno == EAGAIN || errno == EWOULDBLOCK;
        o->refused = !o->plaintext && !o->silent;
    } else {
        o->handshake = true;
        const char *g = mm_tls_negotiated_group_name(ssl);
        snprintf(o->group, sizeof(o->group), "%s", g ? g : "?");
        snprintf(o->version, sizeof(o->version), "%s", SSL_get_version(ssl));
        o->peer = SSL_get1_peer_certificate(ssl);
        char b;
        errno = 0;
        int n = SSL_read(ssl, &b, 1);
        if (n > 0) {
            o->data = true;
        } else {
            int se = SSL_get_error(ssl, n);
            o->silent = se == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK);
            o->refused = !o->silent;
            ssl_err(o->err, sizeof(o->err));
        }
    }
    SSL_free(ssl);
    close(fd);
}

/* Called by OpenSSL when the server asks for a certificate and we have none. */
static int on_cert_request(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    bool *requested = SSL_get_app_data(ssl);
    if (requested)
        *requested = true;
    return 0; /* no certificate */
}

static SSL_CTX *client_ctx(int min_version, int max_version, const char *groups)
{
    SSL_CTX *ctx = SSL_CTX_new_ex(mm_tls_libctx(), NULL, TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, min_version);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_client_cert_cb(ctx, on_cert_request);
    if (groups && !SSL_CTX_set1_groups_list(ctx, groups)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* A client certificate from a CA nobody trusts: self-signed, made now. */
static bool use_stranger_cert(SSL_CTX *ctx)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(mm_tls_libctx(), NULL, "EC", "P-256");
    X509 *x = X509_new_ex(mm_tls_libctx(), NULL);
    bool ok = key && x;
    if (ok) {
        X509_NAME *n = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"admin", -1, -1,
                                   0);
        X509_set_issuer_name(x, n);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        ok = X509_set_pubkey(x, key) && X509_sign(x, key, EVP_sha256()) &&
             SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1;
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return ok;
}

static bool tcp_eps(const mm_zt_target *t, mm_zt_result *r)
{
    for (size_t i = 0; i < t->nendpoints; i++)
        if (!t->endpoints[i].udp)
            return true;
    r->status = MM_ZT_NA;
    mm_zt_add(r, "no TCP listener found");
    return false;
}

/* A listener the probe cannot reach is not verified: that is a failure of the check. */
static bool unreachable(mm_zt_result *r, const mm_zt_endpoint *ep, const struct outcome *o)
{
    if (o->connected)
        return false;
    mm_zt_fail(r);
    mm_zt_add(r, "%s [%s]:%u could not be probed: %s", ep->owner, ep->addr, ep->port, o->err);
    return true;
}

#define FOR_TCP(t, ep)                                                                            \
    for (const mm_zt_endpoint *ep = (t)->endpoints; ep < (t)->endpoints + (t)->nendpoints; ep++) \
        if (!ep->udp)

static int timeout_ms_of(const mm_zt_target *t) { return t->timeout_ms; }

/* ZT-01: an unauthenticated or unknown client must be turned away. */
static void refuse_common(const mm_zt_target *t, mm_zt_result *r, bool stranger)
{
    if (!tcp_eps(t, r))
        return;
    /* Any version: a server that accepts anonymous clients over TLS 1.2 must be caught too. */
    SSL_CTX *ctx = client_ctx(TLS1_2_VERSION, 0, MM_TLS_DEFAULT_GROUPS ":P-256");
    if (!ctx || (stranger && !use_stranger_cert(ctx))) {
        r->status = MM_ZT_FAIL;
        mm_zt_add(r, "probe could not be set up");
        SSL_CTX_free(ctx);
        return;
    }
    FOR_TCP(t, ep)
    {
        struct outcome o;
        tls_try(ctx, ep, t->timeout_ms, &o);
        X509_free(o.peer);
        const char *who = stranger ? "a client certificate from an unknown CA"
                                   : "a client without a certificate";
        /*
         * Accepted: application data or an open session after the handshake; a
         * completed TLS 1.2 handshake (1.2 refuses inside the handshake); or, for
         * the probe without a certificate, a server that never asked for one. A
         * TLS 1.3 server that asked refuses with an alert after our Finished.
         */
        bool tls12 = o.handshake && strcmp(o.version, "TLSv1.3") != 0;
        bool unasked = o.handshake && !stranger && !o.cert_requested;
        if (o.data || (o.handshake && o.silent) || tls12 || unasked) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s [%s]:%u accepted %s (%s)", ep->owner, ep->addr, ep->port, who,
                o.data     ? "it sent application data"
                : unasked  ? "it did not ask for a certificate"
                : tls12    ? "TLS 1.2 handshake completed"
                           : "session stayed open");
        } else if (unreachable(r, ep, &o)) {
            continue;
        } else if (o.silent) {
            mm_zt_add(r, "%s [%s]:%u did not complete a handshake with %s within %d ms", ep->owner,
                ep->addr, ep->port, who, timeout_ms_of(t));
        } else {
            mm_zt_add(r, "%s [%s]:%u refused %s (%s)", ep->owner, ep->addr, ep->port, who,
                o.err[0] ? o.err : "closed");
        }
    }
    SSL_CTX_free(ctx);
}

static void zt01_no_cert(const mm_zt_target *t, mm_zt_result *r) { refuse_common(t, r, false); }
static void zt01_stranger(const mm_zt_target *t, mm_zt_result *r) { refuse_common(t, r, true); }

static void zt02_no_old_tls(const mm_zt_target *t, mm_zt_result *r)
{
    if (!tcp_eps(t, r))
        return;
    SSL_CTX *ctx = client_ctx(TLS1_VERSION, TLS1_2_VERSION, "X25519:P-256");
    if (ctx)
        SSL_CTX_set_security_level(ctx, 0); /* let the probe offer what old servers speak */
    FOR_TCP(t, ep)
    {
        struct outcome o;
        if (!ctx)
            break;
        tls_try(ctx, ep, t->timeout_ms, &o);
        X509_free(o.peer);
        if (unreachable(r, ep, &o))
            continue;
        if (o.handshake) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s [%s]:%u completed a %s handshake", ep->owner, ep->addr, ep->port,
                o.version);
        } else {
            mm_zt_add(r, "%s [%s]:%u refused TLS 1.0-1.2", ep->owner, ep->addr, ep->port);
        }
    }
    SSL_CTX_free(ctx);
}

/* A listener that talks first, or answers a ClientHello with non-TLS bytes, is plaintext. */
static void zt02_no_plaintext(const mm_zt_target *t, mm_zt_result *r)
{
    for (size_t i = 0; i < t->nendpoints; i++)
        if (t->endpoints[i].udp)
            mm_zt_add(r, "%s udp [%s]:%u not probed (QUIC carries TLS 1.3 by design)",
                      t->endpoints[i].owner, t->endpoints[i].addr, t->endpoints[i].port);
    if (!tcp_eps(t, r))
        return;
    SSL_CTX *ctx = client_ctx(TLS1_3_VERSION, 0, MM_TLS_DEFAULT_GROUPS ":P-256");
    FOR_TCP(t, ep)
    {
        int fd = tcp_connect(ep, t->timeout_ms);
        if (fd < 0) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s [%s]:%u could not be probed: %s", ep->owner, ep->addr, ep->port,
                strerror(errno));
            continue;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char banner[64] = "";
        ssize_t n = 0;
        if (poll(&p, 1, 300) == 1)
            n = recv(fd, banner, sizeof(banner) - 1, MSG_DONTWAIT);
        close(fd);
        if (n > 0) {
            banner[n] = '\0';
            for (ssize_t i = 0; i < n; i++)
                if (banner[i] < 0x20 || banner[i] > 0x7e)
                    banner[i] = '.';
            mm_zt_fail(r);
            mm_zt_add(r, "%s [%s]:%u speaks first in the clear: \"%s\"", ep->owner, ep->addr, ep->port,
                banner);
            continue;
        }
        struct outcome o;
        if (!ctx)
            break;
        tls_try(ctx, ep, t->timeout_ms, &o);
        X509_free(o.peer);
        if (unreachable(r, ep, &o))
            continue;
        if (o.plaintext || (!o.handshake && o.silent)) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s [%s]:%u did not answer a TLS ClientHello with TLS (%s)", ep->owner, ep->addr,
                ep->port, o.err);
        } else {
            mm_zt_add(r, "%s [%s]:%u speaks TLS", ep->owner, ep->addr, ep->port);
        }
    }
    SSL_CTX_free(ctx);
}

static bool is_hybrid(const char *g) { return strstr(g, "SCloud") != NULL; }

static void zt02_hybrid(const mm_zt_target *t, mm_zt_result *r)
{
    if (!tcp_eps(t, r))
        return;
    /* The suite's client order: the hybrid group first, classical after. */
    SSL_CTX *ctx = client_ctx(TLS1_3_VERSION, 0, MM_TLS_DEFAULT_GROUPS ":P-256");
    FOR_TCP(t, ep)
    {
        struct outcome o;
        if (!ctx)
            break;
        tls_try(ctx, ep, t->timeout_ms, &o);
        X509_free(o.peer);
        if (unreachable(r, ep, &o))
            continue;
        if (!o.handshake) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s [%s]:%u no TLS 1.3 handshake with the hybrid group offered first (%s)",
                ep->owner, ep->addr, ep->port, o.err);
        } else if (!is_hybrid(o.group)) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s [%s]:%u chose %s although X25519SCloud+128 was offered first", ep->owner,
                ep->addr, ep->port, o.group);
        } else {
            mm_zt_add(r, "%s [%s]:%u negotiated %s", ep->owner, ep->addr, ep->port, o.group);
        }
    }
    SSL_CTX_free(ctx);
}

/* ---------------------------------------------------------------- host checks */

static void not_applicable(const mm_zt_target *t, mm_zt_result *r)
{
    r->status = MM_ZT_NA;
    mm_zt_add(r, "nothing in a mamori installation to probe for this item yet");
}

static void zt05_not_root(const mm_zt_target *t, mm_zt_result *r)
{
    if (!t->ndaemons) {
        r->status = MM_ZT_NA;
        mm_zt_add(r, "no running mamori daemon found");
        return;
    }
    for (size_t i = 0; i < t->ndaemons; i++) {
        const mm_zt_daemon *d = &t->daemons[i];
        if (d->euid == 0 || d->ruid == 0) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s pid %d runs as uid %u/%u (root)", d->name, (int)d->pid, d->ruid, d->euid);
        } else {
            mm_zt_add(r, "%s pid %d runs as uid %u", d->name, (int)d->pid, d->euid);
        }
    }
}

/* Mode check: bits that must be clear. */
static void mode_check(mm_zt_result *r, const char *path, mode_t forbidden, bool must_exist)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (must_exist) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s: %s", path, strerror(errno));
        }
        return;
    }
    if (st.st_mode & forbidden) {
        mm_zt_fail(r);
        mm_zt_add(r, "%s mode %04o (must not have %04o)", path, (unsigned)(st.st_mode & 07777),
            (unsigned)forbidden);
    } else {
        mm_zt_add(r, "%s %04o", path, (unsigned)(st.st_mode & 07777));
    }
}

static void for_each_pki_dir(const mm_zt_target *t, void (*fn)(const char *, void *), void *arg)
{
    const char *seen[MM_ZT_MAX_DAEMONS + 1];
    size_t n = 0;
    if (t->pki_dir[0])
        seen[n++] = t->pki_dir;
    for (size_t i = 0; i < t->ndaemons; i++) {
        const char *p = t->daemons[i].pki_dir;
        bool dup = !p[0];
        for (size_t j = 0; j < n && !dup; j++)
            dup = !strcmp(seen[j], p);
        if (!dup)
            seen[n++] = p;
    }
    for (size_t i = 0; i < n; i++)
        fn(seen[i], arg);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static void pki_modes(const char *dir, void *arg)
{
    mm_zt_result *r = arg;
    mode_check(r, dir, 0022, true);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!has_suffix(e->d_name, ".key"))
            continue;
        char p[1400];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        mode_check(r, p, 0077, true);
    }
    if (d)
        closedir(d);
}

static void zt05_file_modes(const mm_zt_target *t, mm_zt_result *r)
{
    size_t before = strlen(r->evidence);
    for_each_pki_dir(t, pki_modes, r);
    for (size_t i = 0; i <= t->ndaemons; i++) {
        const char *sd = i < t->ndaemons ? t->daemons[i].state_dir : t->state_dir;
        if (!sd[0])
            continue;
        char p[1100];
        mode_check(r, sd, 0077, true);
        snprintf(p, sizeof(p), "%s/audit.log", sd);
        mode_check(r, p, 0077, false);
    }
    if (strlen(r->evidence) == before) {
        r->status = MM_ZT_NA;
        mm_zt_add(r, "no PKI or state directory known (give --pki-dir / --state-dir)");
    }
}

static void zt06_bind(const mm_zt_target *t, mm_zt_result *r)
{
    if (!t->nendpoints) {
        r->status = MM_ZT_NA;
        mm_zt_add(r, "no listener found");
        return;
    }
    for (size_t i = 0; i < t->nendpoints; i++) {
        const mm_zt_endpoint *ep = &t->endpoints[i];
        bool any = !strcmp(ep->addr, "0.0.0.0") || !strcmp(ep->addr, "::");
        if (any)
            mm_zt_fail(r);
        mm_zt_add(r, "%s %s [%s]:%u%s", ep->owner, ep->udp ? "udp" : "tcp", ep->addr, ep->port,
            any ? " (every interface)" : "");
    }
}

static time_t asn1_time(const ASN1_TIME *a)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!a || ASN1_TIME_to_tm(a, &tm) != 1)
        return 0;
    return timegm(&tm);
}

static void zt07_crl(const mm_zt_target *t, mm_zt_result *r)
{
    bool any = false;
    for (size_t i = 0; i < t->ndaemons; i++) {
        const mm_zt_daemon *d = &t->daemons[i];
        if (!d->crl[0])
            continue;
        any = true;
        FILE *f = fopen(d->crl, "r");
        X509_CRL *crl = f ? PEM_read_X509_CRL(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        if (!crl) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s: CRL %s unreadable", d->name, d->crl);
            continue;
        }
        time_t next = asn1_time(X509_CRL_get0_nextUpdate(crl));
        if (!next || next < time(NULL)) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s: CRL %s is stale (nextUpdate %s)", d->name, d->crl,
                next ? "passed" : "missing");
        } else {
            mm_zt_add(r, "%s: CRL %s fresh for %lld more hours", d->name, d->crl,
                (long long)(next - time(NULL)) / 3600);
        }
        X509_CRL_free(crl);
    }
    if (!any) {
        r->status = MM_ZT_NA;
        mm_zt_add(r, "no daemon checks a CRL (--crl)");
    }
}

static void cert_horizon(mm_zt_result *r, const char *what, X509 *x, unsigned days)
{
    time_t end = asn1_time(X509_get0_notAfter(x));
    time_t horizon = time(NULL) + (time_t)days * 86400;
    if (end < horizon) {
        mm_zt_fail(r);
        mm_zt_add(r, "%s expires in %lld days (< %u)", what, (long long)(end - time(NULL)) / 86400,
            days);
    } else {
        mm_zt_add(r, "%s valid for %lld more days", what, (long long)(end - time(NULL)) / 86400);
    }
}

struct horizon_arg {
    mm_zt_result *r;
    unsigned days;
};

static void pki_horizon(const char *dir, void *arg)
{
    struct horizon_arg *h = arg;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!has_suffix(e->d_name, ".crt"))
            continue;
        char p[1400];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        FILE *f = fopen(p, "r");
        X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        if (x)
            cert_horizon(h->r, p, x, h->days);
        X509_free(x);
    }
    if (d)
        closedir(d);
}

static void zt08_expiry(const mm_zt_target *t, mm_zt_result *r)
{
    SSL_CTX *ctx = client_ctx(TLS1_3_VERSION, 0, MM_TLS_DEFAULT_GROUPS ":P-256");
    FOR_TCP(t, ep)
    {
        struct outcome o;
        if (!ctx)
            break;
        tls_try(ctx, ep, t->timeout_ms, &o);
        if (o.peer) {
            char what[160];
            snprintf(what, sizeof(what), "certificate served on [%.63s]:%u", ep->addr, ep->port);
            cert_horizon(r, what, o.peer, t->expiry_days);
        }
        X509_free(o.peer);
    }
    SSL_CTX_free(ctx);
    struct horizon_arg h = {r, t->expiry_days};
    for_each_pki_dir(t, pki_horizon, &h);
    if (!r->evidence[0]) {
        r->status = MM_ZT_NA;
        mm_zt_add(r, "no certificate found");
    }
}

static void zt10_audit_present(const mm_zt_target *t, mm_zt_result *r)
{
    for (size_t i = 0; i < t->ndaemons; i++) {
        const mm_zt_daemon *d = &t->daemons[i];
        if (!d->state_dir[0]) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s: no --state-dir, audit log location unknown", d->name);
            continue;
        }
        char p[1100];
        snprintf(p, sizeof(p), "%s/audit.log", d->state_dir);
        struct stat st;
        if (stat(p, &st) != 0) {
            mm_zt_fail(r);
            mm_zt_add(r, "%s: %s: %s", d->name, p, strerror(errno));
        } else {
            mm_zt_add(r, "%s: %s, %lld bytes", d->name, p, (long long)st.st_size);
        }
    }
    if (!t->ndaemons) {
        r->status = MM_ZT_NA;
        mm_zt_add(r, "no running mamori daemon found");
    }
}

static void zt11_crypto(const mm_zt_target *t, mm_zt_result *r)
{
    SSL_CTX *ctx = client_ctx(TLS1_3_VERSION, 0, MM_TLS_DEFAULT_GROUPS ":P-256");
    FOR_TCP(t, ep)
    {
        struct outcome o;
        if (!ctx)
            break;
        tls_try(ctx, ep, t->timeout_ms, &o);
        if (!o.peer)
            continue;
        int md = NID_undef, pk = NID_undef;
        OBJ_find_sigid_algs(X509_get_signature_nid(o.peer), &md, &pk);
        EVP_PKEY *key = X509_get0_pubkey(o.peer);
        int bits = key ? EVP_PKEY_get_bits(key) : 0;
        bool rsa = key && EVP_PKEY_is_a(key, "RSA");
        bool weak_md = md == NID_md5 || md == NID_sha1;
        bool weak_key = rsa ? bits < 2048 : bits < 256;
        if (weak_md || weak_key)
            mm_zt_fail(r);
        mm_zt_add(r, "[%s]:%u certificate signed with %s, %s %d bits%s", ep->addr, ep->port,
            md == NID_undef ? OBJ_nid2sn(X509_get_signature_nid(o.peer)) : OBJ_nid2sn(md),
            key ? EVP_PKEY_get0_type_name(key) : "?", bits,
            weak_md || weak_key ? " (weak)" : "");
        X509_free(o.peer);
    }
    SSL_CTX_free(ctx);
    /*
     * AH is deprecated (draft-herbert-deprecate-auth-header): the kernel must
     * not use it, in our namespace and in every daemon's.
     */
    mm_ah_report ah;
    mm_ah_report_init(&ah);
    mm_ah_xfrm_scan(NULL, &ah);
    /* Each namespace once: ours, then the daemons' (identified by inode). */
    ino_t seen[MM_ZT_MAX_DAEMONS + 1];
    size_t nseen = 0;
    struct stat st;
    if (stat("/proc/self/ns/net", &st) == 0)
        seen[nseen++] = st.st_ino;
    for (size_t i = 0; i < t->ndaemons; i++) {
        char ns[64];
        snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)t->daemons[i].pid);
        if (stat(ns, &st) != 0)
            continue;
        bool dup = false;
        for (size_t j = 0; j < nseen && !dup; j++)
            dup = seen[j] == st.st_ino;
        if (dup)
            continue;
        seen[nseen++] = st.st_ino;
        mm_ah_xfrm_scan_nsfile(ns, ns, &ah);
    }
    if (ah.nerrors)
        mm_zt_add(r, "kernel IPsec not fully checked: %s", ah.errors[0]);
    if (ah.n) {
        mm_zt_fail(r);
        mm_zt_add(r, "kernel IPsec uses AH: %zu SA/policy findings, first: %s %s", ah.n, ah.f[0].where,
            ah.f[0].detail);
    } else {
        mm_zt_add(r, "no AH SA or policy in the kernel");
    }
    mm_ah_report_free(&ah);
}

static void zt12_chain(const mm_zt_target *t, mm_zt_result *r)
{
    bool any = false;
    for (size_t i = 0; i <= t->ndaemons; i++) {
        const char *sd = i < t->ndaemons ? t->daemons[i].state_dir : t->state_dir;
        if (!sd[0])
            continue;
        char p[1100];
        snprintf(p, sizeof(p), "%s/audit.log", sd);
        if (access(p, F_OK) != 0)
            continue;
        any = true;
        size_t count = 0, bad = 0;
        int rc = mm_audit_verify(p, &count, &bad);
        if (rc == 0) {
            mm_zt_add(r, "%s: chain intact, %zu records", p, count);
        } else {
            mm_zt_fail(r);
            if (rc == MM_EVERIFY)
                mm_zt_add(r, "%s: chain broken at record %zu", p, bad);
            else
                mm_zt_add(r, "%s: %s", p, mm_strerror(rc));
        }
    }
    if (!any) {
        r->status = MM_ZT_NA;
        mm_zt_add(r, "no audit log found");
    }
}

/* ---------------------------------------------------------------- the table */

static const struct check {
    const char *id, *name;
    void (*run)(const mm_zt_target *, mm_zt_result *);
    const char *fix;
} checks[] = {
    {"ZT-01a", "listeners refuse clients without a certificate", zt01_no_cert,
     "require client certificates (TLS CertificateRequest, fail if none) on every listener"},
    {"ZT-01b", "listeners refuse certificates from an unknown CA", zt01_stranger,
     "trust only the installation's CA as client trust anchor"},
    {"ZT-02a", "listeners refuse TLS below 1.3", zt02_no_old_tls,
     "set the minimum protocol version to TLS 1.3 (mm_tls does)"},
    {"ZT-02b", "no plaintext listener", zt02_no_plaintext,
     "close the plaintext port or put it behind TLS"},
    {"ZT-02c", "hybrid post-quantum group negotiated", zt02_hybrid,
     "offer X25519SCloud+128 first (MM_TLS_DEFAULT_GROUPS)"},
    {"ZT-03", "telemetry authenticated and integrity-protected", not_applicable,
     "export telemetry only over mutually authenticated TLS"},
    {"ZT-04", "control-plane protocols authenticated", not_applicable,
     "use TCP-AO for BGP; OSPFv3 Authentication Trailer instead of AH"},
    {"ZT-05a", "daemons do not run as root", zt05_not_root,
     "run each daemon as a dedicated user (systemd User=, or drop privileges after bind)"},
    {"ZT-05b", "key and state file modes", zt05_file_modes,
     "chmod 0600 private keys and the audit log, 0700 state directories, no group/other write on "
     "the PKI directory"},
    {"ZT-05c", "NACM enabled, writes denied by default", mm_zt_check_nacm,
     "keep enable-nacm true and write-default deny; grant writes with rules per group"},
    {"ZT-06", "listeners bound to specific addresses", zt06_bind,
     "bind the management address (loopback by default), not every interface"},
    {"ZT-07", "revocation list fresh", zt07_crl,
     "publish a new CRL before nextUpdate and point --crl at it"},
    {"ZT-08", "certificate expiry horizon", zt08_expiry,
     "renew certificates (mamori pki issue) before they come within the horizon"},
    {"ZT-09", "device integrity / attestation", not_applicable,
     "attest devices (RFC 9683) before trusting them"},
    {"ZT-10", "audit log present for every daemon", zt10_audit_present,
     "give every daemon a state directory; it writes audit.log there"},
    {"ZT-11", "crypto hygiene (certificates, no AH)", zt11_crypto,
     "issue SHA-256+ certificates with P-256+/RSA-2048+ keys; replace AH with ESP"},
    {"ZT-12", "audit log chain intact", zt12_chain,
     "keep the log append-only; investigate the first broken record (mamori audit verify-log)"},
};

size_t mm_zt_check_count(void) { return sizeof(checks) / sizeof(checks[0]); }

size_t mm_zt_run(const mm_zt_target *t, mm_zt_result *results, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < mm_zt_check_count() && n < max; i++, n++) {
        mm_zt_result *r = &results[n];
        memset(r, 0, sizeof(*r));
        r->id = checks[i].id;
        r->name = checks[i].name;
        r->fix = checks[i].fix;
        r->status = MM_ZT_PASS;
        checks[i].run(t, r);
    }
    return n;
}
