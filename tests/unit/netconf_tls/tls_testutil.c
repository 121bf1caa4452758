/*
 * tls_testutil.c - certificates, CRLs, an in-process mamori-netconfd on
 * its own thread, and blocking NETCONF-over-TLS clients for the tests.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "tls_testutil.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mamori/mm_core.h"
#include "mamori/mm_pki.h"

/* ------------------------------------------------------------ PKI */

static int load_ca(const char *pki, X509 **ca, EVP_PKEY **key)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", pki, MM_PKI_CA_CERT);
    *ca = mm_pki_read_cert_file(p);
    snprintf(p, sizeof(p), "%s/%s", pki, MM_PKI_CA_KEY);
    *key = mm_pki_read_key_file(p);
    return (*ca && *key) ? 0 : MM_ENOENT;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : MM_ECRYPTO;
}

static int write_pem(const char *crt_path, X509 *cert, const char *key_path, EVP_PKEY *key)
{
    FILE *f = fopen(crt_path, "w");
    int ok = f && PEM_write_X509(f, cert);
    if (f)
        fclose(f);
    f = ok ? fopen(key_path, "w") : NULL;
    ok = f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (f)
        fclose(f);
    return ok ? 0 : MM_EIO;
}

static int build_cert(X509 *cert, X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *key, const char *cn,
                      long valid_s)
{
    static long serial_seq;
    ASN1_INTEGER_set(X509_get_serialNumber(cert), (long)time(NULL) * 1000 + ++serial_seq);
    X509_set_version(cert, 2);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), valid_s);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"mamori-test", -1,
                               -1, 0);
    if (cn)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                   0);
    X509_set_issuer_name(cert, X509_get_subject_name(ca));
    X509_set_pubkey(cert, key);
    MM_GUARD(add_ext(cert, ca, NID_basic_constraints, "critical,CA:FALSE"));
    MM_GUARD(add_ext(cert, ca, NID_key_usage, "critical,digitalSignature"));
    MM_GUARD(add_ext(cert, ca, NID_ext_key_usage, "clientAuth"));
    MM_GUARD(add_ext(cert, ca, NID_authority_key_identifier, "keyid"));
    return X509_sign(cert, ca_key, EVP_sha256()) > 0 ? 0 : MM_ECRYPTO;
}

int tu_issue(const char *pki_dir, const char *cn, long valid_s, const char *crt,
             const char *key)
{
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    int rc = load_ca(pki_dir, &ca, &ca_key);
    EVP_PKEY *k = rc == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") : NULL;
    X509 *cert = k ? X509_new() : NULL;
    if (rc == 0)
        rc = cert ? build_cert(cert, ca, ca_key, k, cn, valid_s) : MM_ECRYPTO;
    if (rc == 0)
        rc = write_pem(crt, cert, key, k);
    X509_free(cert);
    EVP_PKEY_free(k);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

static int crl_add(X509_CRL *crl, const char *path)
{
    X509 *c = mm_pki_read_cert_file(path);
    X509_REVOKED *r = c ? X509_REVOKED_new() : NULL;
    ASN1_TIME *when = r ? X509_gmtime_adj(NULL, -1) : NULL;
    int ok = when && X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(c)) &&
             X509_REVOKED_set_revocationDate(r, when) && X509_CRL_add0_revoked(crl, r);
    if (!ok)
        X509_REVOKED_free(r);
    ASN1_TIME_free(when);
    X509_free(c);
    return ok ? 0 : MM_ECRYPTO;
}

static int write_crl_file(X509_CRL *crl, const char *out)
{
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    FILE *f = fopen(tmp, "w");
    int ok = f && PEM_write_X509_CRL(f, crl);
    if (f)
        ok = (fclose(f) == 0) && ok;
    return (ok && rename(tmp, out) == 0) ? 0 : MM_EIO;
}

int tu_write_crl(const char *pki_dir, const char *const *revoked, size_t n, const char *out)
{
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    int rc = load_ca(pki_dir, &ca, &ca_key);
    X509_CRL *crl = rc == 0 ? X509_CRL_new() : NULL;
    ASN1_TIME *last = X509_gmtime_adj(NULL, -60), *next = X509_gmtime_adj(NULL, 86400);
    if (rc == 0 && (!crl || !X509_CRL_set_version(crl, 1) ||
                    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
                    !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next)))
        rc = MM_ECRYPTO;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = crl_add(crl, revoked[i]);
    if (rc == 0 && (!X509_CRL_sort(crl) || X509_CRL_sign(crl, ca_key, EVP_sha256()) <= 0))
        rc = MM_ECRYPTO;
    if (rc == 0)
        rc = write_crl_file(crl, out);
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    X509_CRL_free(crl);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

int tu_fingerprint(const char *crt, char *out, size_t len)
{
    X509 *c = mm_pki_read_cert_file(crt);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    int ok = c && X509_digest(c, EVP_sha256(), md, &n) && len >= 3 + 3 * (size_t)n;
    X509_free(c);
    if (!ok)
        return MM_ECRYPTO;
    size_t o = (size_t)snprintf(out, len, "04");
    for (unsigned int i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, len - o, ":%02X", md[i]);
    return 0;
}

long tu_not_after(const char *crt)
{
    X509 *c = mm_pki_read_cert_file(crt);
    struct tm tm;
    long t = -1;
    if (c && ASN1_TIME_to_tm(X509_get0_notAfter(c), &tm))
        t = (long)timegm(&tm);
    X509_free(c);
    return t;
}

/* ------------------------------------------------------------ daemon */

static void *loop_main(void *arg)
{
    tu_daemon *t = arg;
    event_base_loop(t->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

int tu_daemon_start(tu_daemon *t, const char *module_dir, uint32_t verify_ms)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, (void (*)(void))evthread_use_pthreads);
    memset(t, 0, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/mm-nctls-XXXXXX");
    if (!mkdtemp(t->dir))
        return MM_ESYS;
    snprintf(t->pki, sizeof(t->pki), "%s/pki", t->dir);
    snprintf(t->state, sizeof(t->state), "%s/state", t->dir);
    snprintf(t->crl, sizeof(t->crl), "%s/crl.pem", t->dir);
    MM_GUARD(mm_pki_init(t->pki, false));
    MM_GUARD(tu_write_crl(t->pki, NULL, 0, t->crl));
    t->base = event_base_new();
    MM_ENSURE(t->base, MM_ESYS);
    mm_netconfd_options o = {.state_dir = t->state, .pki_dir = t->pki, .module_dir = module_dir,
                             .address = "127.0.0.1", .port = 0, .crl_file = t->crl,
                             .verify_ms = verify_ms};
    MM_GUARD(mm_netconfd_start(&o, t->base, &t->d));
    MM_ENSURE(pthread_create(&t->thread, NULL, loop_main, t) == 0, MM_ESYS);
    t->running = true;
    return 0;
}

void tu_daemon_stop(tu_daemon *t)
{
    if (t->running) {
        event_base_loopbreak(t->base);
        pthread_join(t->thread, NULL);
        t->running = false;
    }
    mm_netconfd_free(t->d);
    t->d = NULL;
    /* Callbacks libevent deferred hold a reference on their bufferevent until
     * they run (callbacks already cleared by bufferevent_free): let them. */
    if (t->base)
        event_base_loop(t->base, EVLOOP_NONBLOCK);
    if (t->base)
        event_base_free(t->base);
    t->base = NULL;
    if (t->dir[0])
        tu_rmtree(t->dir);
    t->dir[0] = '\0';
}

struct call {
    tu_daemon *t;
    void (*fn)(tu_daemon *t, void *arg);
    void *arg;
    sem_t done;
};

static void on_call(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct call *c = arg;
    c->fn(c->t, c->arg);
    sem_post(&c->done);
}

void tu_daemon_call(tu_daemon *t, void (*fn)(tu_daemon *t, void *arg), void *arg)
{
    if (!t->running) {
        fn(t, arg);
        return;
    }
    struct call c = {.t = t, .fn = fn, .arg = arg};
    sem_init(&c.done, 0, 0);
    struct timeval now = {0, 0};
    if (event_base_once(t->base, -1, EV_TIMEOUT, on_call, &c, &now) == 0)
        sem_wait(&c.done);
    sem_destroy(&c.done);
}

struct port_q {
    size_t i;
    uint16_t port;
};

static void get_port(tu_daemon *t, void *arg)
{
    struct port_q *q = arg;
    q->port = mm_nc_tls_server_port(mm_netconfd_tls(t->d), q->i);
}

uint16_t tu_daemon_port(tu_daemon *t, size_t i)
{
    struct port_q q = {.i = i};
    tu_daemon_call(t, get_port, &q);
    return q.port;
}

static void get_sessions(tu_daemon *t, void *arg)
{
    *(size_t *)arg = mm_nc_tls_server_session_count(mm_netconfd_tls(t->d));
}

size_t tu_daemon_sessions(tu_daemon *t)
{
    size_t n = 0;
    tu_daemon_call(t, get_sessions, &n);
    return n;
}

/* ------------------------------------------------------------ clients */

int tu_tls_connect(uint16_t port, const char *ca, const char *crt, const char *key,
                   tu_client *out)
{
    memset(out, 0, sizeof(*out));
    mm_nc_tls_client_config cfg = {.host = "127.0.0.1", .port = port, .ca_file = ca,
                                   .cert_file = crt, .key_file = key, .timeout_ms = 5000};
    return mm_nc_tls_connect(&cfg, &out->st, out->why, sizeof(out->why));
}

int tu_connect(uint16_t port, const char *ca, const char *crt, const char *key, tu_client *out)
{
    MM_GUARD(tu_tls_connect(port, ca, crt, key, out));
    mm_nc_client_io io;
    mm_nc_tls_stream_io(out->st, &io);
    int rc = mm_nc_client_new_ex(&io, 0, 5000, &out->c, out->why, sizeof(out->why));
    if (rc < 0) {
        mm_nc_tls_stream_close(out->st);
        out->st = NULL;
    }
    return rc;
}

char *tu_rpc(tu_client *cl, const char *op)
{
    char *reply = NULL;
    if (!cl->c || mm_nc_client_rpc(cl->c, op, &reply, 5000) < 0) {
        free(reply);
        return NULL;
    }
    return reply;
}

int tu_rpc_ok(tu_client *cl, const char *op)
{
    char *reply = tu_rpc(cl, op);
    mm_nc_reply *r = NULL;
    int ok = reply && mm_nc_reply_parse(reply, strlen(reply), &r, NULL, 0) == 0 &&
             mm_nc_reply_ok(r);
    mm_nc_reply_free(r);
    free(reply);
    return ok;
}

long tu_wait_closed(tu_client *cl, int timeout_ms)
{
    int64_t start = tu_now_ms();
    while (tu_now_ms() - start < timeout_ms) {
        int rc = mm_nc_client_poll(cl->c, 50);
        if (rc < 0 && rc != MM_ETIMEOUT)
            return (long)(tu_now_ms() - start);
    }
    return -1;
}

void tu_client_close(tu_client *cl)
{
    mm_nc_client_free(cl->c);
    mm_nc_tls_stream_close(cl->st);
    cl->c = NULL;
    cl->st = NULL;
}

uint16_t tu_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int64_t tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void tu_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
