/*
 * bench-tls-handshake - full TLS 1.3 handshakes per second for X25519 and
 * each scloudplus group, as ratios to X25519 measured in the same run. On
 * OpenSSL >= 3.5 (mamori's private build) X25519MLKEM768, the hybrid users
 * would pick instead of X25519SCloud+128, is measured in the same run.
 *
 * Both endpoints are real libssl objects in this process, talking over
 * memory BIOs; every handshake is a full one (fresh SSL objects, no
 * resumption), server authenticated with the same ECDSA P-256 certificate,
 * no client certificate. The rate is computed from the server's CPU time
 * (CLOCK_THREAD_CPUTIME_ID around its SSL_do_handshake calls), so the
 * client's work does not count. Bytes on the wire are the TLS records each
 * way per handshake.
 *
 * usage: bench-tls-handshake [-t SECONDS_PER_GROUP] [GROUP...]
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stdbool.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "mamori/mm_scloudplus.h"
#include "mamori/mm_tls.h"
#include "testutil.h"

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct result {
    const char *group;
    long n;
    double server_cpu, client_cpu; /* seconds, total */
    size_t c2s, s2c;               /* bytes of the last handshake */
    char negotiated[32];
} result;

/* One step of one side, timed into *acc; 0 on failure. */
static int step(SSL *ssl, int *done, double *acc)
{
    double t0 = cpu_now();
    int rc = SSL_do_handshake(ssl);

    *acc += cpu_now() - t0;
    if (rc == 1)
        *done = 1;
    return rc == 1 || SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ;
}

static int one_handshake(SSL_CTX *sctx, SSL_CTX *cctx, result *r)
{
    SSL *c = tu_ssl_mem(cctx, 0), *s = tu_ssl_mem(sctx, 1);
    int cdone = 0, sdone = 0, ok = 0;
    size_t c2s = 0, s2c = 0;

    for (int round = 0; c != NULL && s != NULL && round < 16 && !(cdone && sdone); round++) {
        if (!cdone && !step(c, &cdone, &r->client_cpu))
            break;
        c2s += tu_pump(c, s);
        if (!sdone && !step(s, &sdone, &r->server_cpu))
            break;
        s2c += tu_pump(s, c);
    }
    if (cdone && sdone) {
        ok = 1;
        r->c2s = c2s;
        r->s2c = s2c;
        snprintf(r->negotiated, sizeof(r->negotiated), "%s",
                 mm_tls_negotiated_group_name(s) ? mm_tls_negotiated_group_name(s) : "?");
    }
    SSL_free(c);
    SSL_free(s);
    return ok;
}

static int run_group(OSSL_LIB_CTX *libctx, EVP_PKEY *key, X509 *cert, double seconds,
                     result *r)
{
    SSL_CTX *sctx = tu_server_ctx(libctx, key, cert, r->group);
    SSL_CTX *cctx = tu_client_ctx(libctx, r->group);
    double wall_end;
    struct timespec ts;
    int ok = sctx != NULL && cctx != NULL;

    if (ok) {
        /* No tickets: each handshake is full and the byte counts are the handshake's. */
        SSL_CTX_set_num_tickets(sctx, 0);
        ok = one_handshake(sctx, cctx, r); /* warm-up */
        r->n = 0;
        r->server_cpu = r->client_cpu = 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    wall_end = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + seconds;
    while (ok) {
        ok = one_handshake(sctx, cctx, r);
        r->n += ok;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9 >= wall_end && r->n >= 10)
            break;
    }
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return r->n > 0;
}

int main(int argc, char **argv)
{
    static const char *default_groups[] = {"X25519", "X25519SCloud+128", "X25519MLKEM768",
                                           "SecP256r1SCloud+192", "SecP384r1SCloud+256",
                                           "scloudplus128"};
    static const char *groups_30[] = {"X25519", "X25519SCloud+128", "SecP256r1SCloud+192",
                                      "SecP384r1SCloud+256", "scloudplus128"};
    /* X25519MLKEM768 is a group of OpenSSL's default provider from 3.5 on. */
    bool mlkem = OpenSSL_version_num() >= 0x30500000L;
    const char **groups = mlkem ? default_groups : groups_30;
    size_t ngroups = mlkem ? sizeof(default_groups) / sizeof(default_groups[0])
                           : sizeof(groups_30) / sizeof(groups_30[0]);
    double seconds = 1.0, base = 0;
    OSSL_LIB_CTX *libctx = mm_tls_libctx();
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int argi = 1;

    if (argc > 2 && strcmp(argv[1], "-t") == 0) {
        seconds = atof(argv[2]);
        argi = 3;
    }
    if (argi < argc) {
        groups = (const char **)&argv[argi];
        ngroups = (size_t)(argc - argi);
    }
    if (libctx == NULL || seconds <= 0 || !tu_self_signed(libctx, &key, &cert)) {
        fprintf(stderr, "bench-tls-handshake: setup failed (usage: [-t SECONDS] [GROUP...])\n");
        ERR_print_errors_fp(stderr);
        return 1;
    }
    printf("# full TLS 1.3 handshakes, ECDSA P-256 server cert, memory BIOs, %.1f s/group\n",
           seconds);
    printf("# rate = handshakes per second of server CPU; ratio vs the first row (X25519)\n");
    printf("# Scloud+ kernel: %s (MM_SCLOUDPLUS_KERNEL to force one); %s\n",
           mm_scloudplus_kernel_name(), OpenSSL_version(OPENSSL_VERSION));
    printf("%-22s %8s %12s %8s %12s %10s %10s %10s\n", "group", "n", "server hs/s", "ratio",
           "client ms", "c->s B", "s->c B", "total B");
    for (size_t i = 0; i < ngroups; i++) {
        result r = {.group = groups[i]};
        double rate;

        if (!run_group(libctx, key, cert, seconds, &r)) {
            printf("%-22s handshake failed\n", groups[i]);
            ERR_print_errors_fp(stderr);
            continue;
        }
        rate = (double)r.n / r.server_cpu;
        if (i == 0)
            base = rate;
        printf("%-22s %8ld %12.1f %8.3f %12.3f %10zu %10zu %10zu\n", r.negotiated, r.n, rate,
               base > 0 ? rate / base : 0, 1e3 * r.client_cpu / (double)r.n, r.c2s, r.s2c,
               r.c2s + r.s2c);
    }
    EVP_PKEY_free(key);
    X509_free(cert);
    return 0;
}
