/*
 * bench-dkim: messages signed and verified per second by mamori, OpenDKIM
 * (libopendkim, in process) and dkimpy (python3-dkim, in its own process),
 * measured in the same run over the same corpus, rsa-sha256 (2048 bits) and
 * ed25519-sha256, c=relaxed/relaxed. Keys come from memory for every peer
 * (no DNS). Every verification must pass, or the run is invalid.
 * usage: bench-dkim [SECONDS-PER-CELL]   (default 1)
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <dkim.h>

#include "mamori/mm_dkim.h"

#define NMSG 5
static const size_t body_sizes[NMSG] = {1024, 4096, 16384, 65536, 262144};
static mm_buf corpus[NMSG];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: robust on a shared machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_corpus(void)
{
    static const char *words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy",
                                  "dog", "mail", "relay", "signature", "header", "body\t"};
    srand(42);
    for (int i = 0; i < NMSG; i++) {
        mm_buf *b = &corpus[i];
        mm_buf_init(b, 1 << 22);
        mm_buf_printf(b, "Received: from client.example.net (client.example.net [192.0.2.10])\r\n"
                         "\tby mx.example.test with ESMTPS id 4Qx%d; Wed, 31 Dec 2025 12:00:00 +0000\r\n"
                         "From: Alice Example <alice@example.test>\r\n"
                         "To: Bob <bob@example.net>, Carol <carol@example.org>\r\n"
                         "Cc: list@lists.example.test\r\n"
                         "Subject: Quarterly report, part %d\r\n"
                         "Date: Wed, 31 Dec 2025 12:00:00 +0000\r\n"
                         "Message-ID: <bench%d@example.test>\r\n"
                         "MIME-Version: 1.0\r\n"
                         "Content-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: 8bit\r\n\r\n", i, i, i);
        size_t target = b->len + body_sizes[i], col = 0;
        while (b->len < target) {
            const char *w = words[rand() % 13];
            mm_buf_append_str(b, w);
            col += strlen(w);
            if (col > 66) {
                mm_buf_append_str(b, rand() % 7 ? "\r\n" : "  \r\n");
                col = 0;
            } else {
                mm_buf_append_str(b, " ");
            }
        }
        mm_buf_append_str(b, "\r\n");
    }
}

struct key {
    EVP_PKEY *pk;
    enum mm_dkim_alg alg;
    const char *sel;
    char rdata[1024];
    char opendkim_secret[4096]; /* PEM */
};
static struct key keys[2];
static mm_dkim_keysrc *keysrc;

static void make_keys(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/keys.txt", dir);
    FILE *kf = fopen(path, "w");
    for (int k = 0; k < 2; k++) {
        struct key *K = &keys[k];
        K->alg = k ? MM_DKIM_ALG_ED25519_SHA256 : MM_DKIM_ALG_RSA_SHA256;
        K->sel = k ? "ed" : "rsa";
        K->pk = k ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        uint8_t der[2048];
        size_t dl = sizeof(der);
        mm_buf b;
        mm_buf_init(&b, 4096);
        if (k) {
            EVP_PKEY_get_raw_public_key(K->pk, der, &dl);
        } else {
            unsigned char *p = der;
            dl = (size_t)i2d_PUBKEY(K->pk, &p);
        }
        mm_buf_printf(&b, "v=DKIM1; k=%s; p=", k ? "ed25519" : "rsa");
        mm_dkim_b64_encode(&b, der, dl);
        snprintf(K->rdata, sizeof(K->rdata), "%s", mm_buf_cstr(&b));
        fprintf(kf, "%s._domainkey.example.test %s\n", K->sel, K->rdata);
        mm_buf_reset(&b);
        /* private keys for the peers: PEM; for ed25519 also the raw seed in base64 */
        snprintf(path, sizeof(path), "%s/%s.pem", dir, K->sel);
        FILE *pf = fopen(path, "w");
        PEM_write_PrivateKey(pf, K->pk, NULL, NULL, 0, NULL, NULL);
        fclose(pf);
        /* libopendkim takes PEM for both algorithms; dkimpy takes the raw Ed25519 seed */
        BIO *bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(bio, K->pk, NULL, NULL, 0, NULL, NULL);
        int pn = BIO_read(bio, K->opendkim_secret, sizeof(K->opendkim_secret) - 1);
        K->opendkim_secret[pn > 0 ? pn : 0] = 0;
        BIO_free(bio);
        if (k) {
            uint8_t seed[32];
            size_t sl = sizeof(seed);
            EVP_PKEY_get_raw_private_key(K->pk, seed, &sl);
            mm_dkim_b64_encode(&b, seed, sl);
            snprintf(path, sizeof(path), "%s/ed.seed", dir);
            pf = fopen(path, "w");
            fputs(mm_buf_cstr(&b), pf);
            fclose(pf);
        }
        mm_buf_free(&b);
    }
    fclose(kf);
    snprintf(path, sizeof(path), "%s/keys.txt", dir);
    mm_dkim_keysrc_open(MM_DKIM_KEYS_FILE, path, 0, &keysrc);
}

/* signed[k][i]: corpus message i signed by mamori with key k */
static mm_buf signed_msg[2][NMSG];

/* ---------------------------------------------------------------- mamori */

static int mm_sign_one(int k, int i, mm_buf *out)
{
    mm_dkim_sign_opts o = {.pkey = keys[k].pk, .alg = keys[k].alg, .domain = "example.test",
                           .selector = keys[k].sel, .hc = MM_DKIM_RELAXED, .bc = MM_DKIM_RELAXED};
    return mm_dkim_sign_message(&o, corpus[i].data, corpus[i].len, out);
}

static int mm_verify_one(int k, int i)
{
    mm_dkim_verify_opts vo = {.keys = keysrc};
    mm_dkim_result r[2];
    size_t n;
    if (mm_dkim_verify_message(&vo, signed_msg[k][i].data, signed_msg[k][i].len, r, 2, &n) < 0 ||
        n != 1 || r[0].code != MM_DKIM_PASS)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- OpenDKIM */

static DKIM_LIB *odlib;

static DKIM_CBSTAT od_lookup(DKIM *d, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
    (void)d;
    const char *sel = (const char *)dkim_sig_getselector(sig);
    for (int k = 0; k < 2; k++)
        if (strcmp(sel, keys[k].sel) == 0) {
            snprintf((char *)buf, buflen, "%s", keys[k].rdata);
            return DKIM_CBSTAT_CONTINUE;
        }
    return DKIM_CBSTAT_NOTFOUND;
}

static int od_sign_one(int k, int i)
{
    DKIM_STAT st;
    DKIM *d = dkim_sign(odlib, (const u_char *)"bench", NULL, (dkim_sigkey_t)keys[k].opendkim_secret,
                        (const u_char *)keys[k].sel, (const u_char *)"example.test", DKIM_CANON_RELAXED,
                        DKIM_CANON_RELAXED, k ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1, &st);
    if (!d)
        return -1;
    u_char hdr[4096];
    int rc = dkim_chunk(d, corpus[i].data, corpus[i].len) == DKIM_STAT_OK &&
                     dkim_chunk(d, NULL, 0) == DKIM_STAT_OK && dkim_eom(d, NULL) == DKIM_STAT_OK &&
                     dkim_getsighdr(d, hdr, sizeof(hdr), strlen("DKIM-Signature: ")) == DKIM_STAT_OK
                 ? 0
                 : -1;
    dkim_free(d);
    return rc;
}

static int od_verify_one(int k, int i)
{
    DKIM_STAT st;
    DKIM *d = dkim_verify(odlib, (const u_char *)"bench", NULL, &st);
    if (!d)
        return -1;
    int rc = dkim_chunk(d, signed_msg[k][i].data, signed_msg[k][i].len) == DKIM_STAT_OK &&
                     dkim_chunk(d, NULL, 0) == DKIM_STAT_OK && dkim_eom(d, NULL) == DKIM_STAT_OK
                 ? 0
                 : -1;
    dkim_free(d);
    return rc;
}

/* ---------------------------------------------------------------- driver */

/* Messages per second of fn over the corpus (round robin) for about secs seconds. */
static double rate(int (*fn)(int, int), int k, double secs, int *errors)
{
    double t0 = now_s(), t;
    long n = 0;
    *errors = 0;
    do {
        for (int i = 0; i < NMSG; i++, n++)
            if (fn(k, i) < 0)
                (*errors)++;
        t = now_s();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

static int mm_sign_bench(int k, int i)
{
    mm_buf out;
    mm_buf_init(&out, 1 << 16);
    int rc = mm_sign_one(k, i, &out);
    mm_buf_free(&out);
    return rc;
}

static double dkimpy_rate(const char *dir, const char *what, int k, double secs)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/bench_dkimpy.py %s %s %s %.2f", BENCH_DIR, dir,
             what, k ? "ed" : "rsa", secs);
    FILE *p = popen(cmd, "r");
    double r = -1;
    if (p) {
        if (fscanf(p, "%lf", &r) != 1)
            r = -1;
        pclose(p);
    }
    return r;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    char dir[] = "/tmp/bench-dkim-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    make_corpus();
    make_keys(dir);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < NMSG; i++) {
            mm_buf f;
            mm_buf_init(&f, 1 << 16);
            if (mm_sign_one(k, i, &f) < 0)
                return 1;
            mm_buf_init(&signed_msg[k][i], 1 << 22);
            mm_buf_append(&signed_msg[k][i], f.data, f.len);
            mm_buf_append_str(&signed_msg[k][i], "\r\n");
            mm_buf_append(&signed_msg[k][i], corpus[i].data, corpus[i].len);
            mm_buf_free(&f);
            char p[1100];
            snprintf(p, sizeof(p), "%s/signed-%s-%d.eml", dir, keys[k].sel, i);
            FILE *o = fopen(p, "wb");
            fwrite(signed_msg[k][i].data, 1, signed_msg[k][i].len, o);
            fclose(o);
        }
    odlib = dkim_init(NULL, NULL);
    dkim_set_key_lookup(odlib, od_lookup);
    printf("corpus: %d messages, bodies 1, 4, 16, 64, 256 KiB (round robin); c=relaxed/relaxed;\n"
           "keys from memory for every peer; %.1f CPU-s per cell; single thread; rates are messages\n"
           "per CPU-second (robust against other load on the machine)\n\n", NMSG, secs);
    printf("%-22s %12s %12s %12s %10s %10s\n", "operation", "mamori/s", "opendkim/s", "dkimpy/s",
           "x opendkim", "x dkimpy");
    for (int k = 0; k < 2; k++) {
        const char *alg = k ? "ed25519-sha256" : "rsa-sha256";
        int e1, e2;
        double m = rate(mm_sign_bench, k, secs, &e1);
        double o = rate(od_sign_one, k, secs, &e2);
        double py = dkimpy_rate(dir, "sign", k, secs);
        char name[64];
        snprintf(name, sizeof(name), "sign %s", alg);
        if (e2)
            printf("%-22s %12.0f %12s %12.0f %10s %10.2f   (opendkim: %d signing errors)\n", name,
                   m, "n/a", py, "n/a", py > 0 ? m / py : 0, e2);
        else
            printf("%-22s %12.0f %12.0f %12.0f %10.2f %10.2f\n", name, m, o, py, m / o,
                   py > 0 ? m / py : 0);
        if (e1)
            printf("  INVALID: mamori signing errors %d\n", e1);
        m = rate(mm_verify_one, k, secs, &e1);
        o = rate(od_verify_one, k, secs, &e2);
        py = dkimpy_rate(dir, "verify", k, secs);
        snprintf(name, sizeof(name), "verify %s", alg);
        printf("%-22s %12.0f %12.0f %12.0f %10.2f %10.2f\n", name, m, o, py, m / o,
               py > 0 ? m / py : 0);
        if (e1 || e2)
            printf("  INVALID: verification failures mamori=%d opendkim=%d\n", e1, e2);
    }
    dkim_close(odlib);
    char cmd[1100];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
