/*
 * test_tls.c - mm_tls contexts over memory BIOs with certificates from the
 * mamori PKI (mm_pki_init): default groups, mutual authentication refusals,
 * peer names, and cert-to-name on a real handshake.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "mamori/mm_core.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_tls.h"
#include "testutil.h"

typedef struct paths {
    char ca[512], srv_crt[512], srv_key[512], cli_crt[512], cli_key[512];
} paths;

typedef struct fixture {
    char root[256];
    paths a, b; /* two independent PKIs (two CAs) */
} fixture;

static void pki_paths(const char *dir, paths *p)
{
    mm_pki_path(dir, MM_PKI_CA_CERT, p->ca, sizeof(p->ca));
    mm_pki_path(dir, MM_PKI_SERVER_CERT, p->srv_crt, sizeof(p->srv_crt));
    mm_pki_path(dir, MM_PKI_SERVER_KEY, p->srv_key, sizeof(p->srv_key));
    mm_pki_path(dir, MM_PKI_CLIENT_CERT, p->cli_crt, sizeof(p->cli_crt));
    mm_pki_path(dir, MM_PKI_CLIENT_KEY, p->cli_key, sizeof(p->cli_key));
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char dir[300];

    if (f == NULL)
        return -1;
    snprintf(f->root, sizeof(f->root), "%s/mm-tls-test.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(f->root) == NULL)
        return -1;
    snprintf(dir, sizeof(dir), "%s/a", f->root);
    if (mm_pki_init(dir, false) < 0)
        return -1;
    pki_paths(dir, &f->a);
    snprintf(dir, sizeof(dir), "%s/b", f->root);
    if (mm_pki_init(dir, false) < 0)
        return -1;
    pki_paths(dir, &f->b);
    *state = f;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;

    nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

typedef struct pair {
    SSL_CTX *sctx, *cctx;
    SSL *s, *c;
} pair;

static void pair_free(pair *p)
{
    SSL_free(p->c);
    SSL_free(p->s);
    SSL_CTX_free(p->cctx);
    SSL_CTX_free(p->sctx);
    ERR_clear_error();
}

/* Handshake between a server and a client configured by scfg / ccfg. */
static int run(pair *p, const mm_tls_config *scfg, const mm_tls_config *ccfg,
               const char *peer_name)
{
    memset(p, 0, sizeof(*p));
    p->sctx = mm_tls_ctx_new_server(scfg);
    p->cctx = mm_tls_ctx_new_client(ccfg);
    assert_non_null(p->sctx);
    assert_non_null(p->cctx);
    p->s = tu_ssl_mem(p->sctx, 1);
    p->c = tu_ssl_mem(p->cctx, 0);
    if (peer_name != NULL)
        assert_int_equal(mm_tls_set_peer_name(p->c, peer_name), 0);
    return tu_handshake(p->c, p->s, NULL, NULL);
}

static mm_tls_config server_cfg(const paths *p)
{
    return (mm_tls_config){.ca_file = p->ca, .cert_file = p->srv_crt, .key_file = p->srv_key};
}

static mm_tls_config client_cfg(const paths *trust, const paths *creds)
{
    mm_tls_config c = {.ca_file = trust->ca};

    if (creds != NULL) {
        c.cert_file = creds->cli_crt;
        c.key_file = creds->cli_key;
    }
    return c;
}

static void test_default_groups_negotiate_hybrid(void **state)
{
    fixture *f = *state;
    mm_tls_config s = server_cfg(&f->a), c = client_cfg(&f->a, &f->a);
    pair p;

    assert_int_equal(run(&p, &s, &c, "localhost"), 1);
    assert_int_equal(SSL_version(p.c), TLS1_3_VERSION);
    assert_string_equal(mm_tls_negotiated_group_name(p.c), "X25519SCloud+128");
    assert_string_equal(mm_tls_negotiated_group_name(p.s), "X25519SCloud+128");
    assert_int_equal(mm_tls_negotiated_group_id(p.s), 0xFE50);
    pair_free(&p);
}

static void test_configured_groups(void **state)
{
    fixture *f = *state;
    mm_tls_config s = server_cfg(&f->a), c = client_cfg(&f->a, &f->a);
    pair p;

    /* Server only X25519: the client's hybrid share is refused, HelloRetryRequest. */
    s.groups = "X25519";
    assert_int_equal(run(&p, &s, &c, "127.0.0.1"), 1);
    assert_int_equal(mm_tls_negotiated_group_id(p.c), 29);
    pair_free(&p);
    /* SecP256r1SCloud+192 on both sides. */
    s.groups = c.groups = "SecP256r1SCloud+192";
    assert_int_equal(run(&p, &s, &c, "localhost"), 1);
    assert_string_equal(mm_tls_negotiated_group_name(p.c), "SecP256r1SCloud+192");
    pair_free(&p);
    /* An unknown group name is a configuration error. */
    c.groups = "X25519SCloud+1024";
    assert_null(mm_tls_ctx_new_client(&c));
}

static void test_client_without_cert_refused(void **state)
{
    fixture *f = *state;
    mm_tls_config s = server_cfg(&f->a), c = client_cfg(&f->a, NULL);
    pair p;

    assert_int_equal(run(&p, &s, &c, "localhost"), 0);
    assert_false(SSL_is_init_finished(p.s));
    pair_free(&p);

    /* Allowed only when the server opts out; the identity is then unverified. */
    s.client_cert_optional = true;
    assert_int_equal(run(&p, &s, &c, "localhost"), 1);
    {
        char name[64];
        mm_ctn_map empty = {NULL, 0};
        assert_int_equal(mm_tls_peer_identity(p.s, &empty, name, sizeof(name)), MM_EVERIFY);
    }
    pair_free(&p);
}

static void test_client_from_other_ca_refused(void **state)
{
    fixture *f = *state;
    mm_tls_config s = server_cfg(&f->a), c = client_cfg(&f->a, &f->b);
    pair p;

    assert_int_equal(run(&p, &s, &c, "localhost"), 0);
    assert_false(SSL_is_init_finished(p.s));
    pair_free(&p);
}

static void test_server_checks(void **state)
{
    fixture *f = *state;
    mm_tls_config s = server_cfg(&f->a), c = client_cfg(&f->b, &f->a);
    pair p;

    /* Client trusts CA b only: server of CA a refused. */
    assert_int_equal(run(&p, &s, &c, "localhost"), 0);
    assert_false(SSL_is_init_finished(p.c));
    pair_free(&p);
    /* Right CA, wrong name. */
    c = client_cfg(&f->a, &f->a);
    assert_int_equal(run(&p, &s, &c, "www.example.com"), 0);
    pair_free(&p);
    /* Config errors. */
    c.ca_file = NULL;
    assert_null(mm_tls_ctx_new_client(&c));
    s.ca_file = NULL;
    assert_null(mm_tls_ctx_new_server(&s));
}

static X509 *read_cert(const char *file)
{
    X509 *x = mm_pki_read_cert_file(file);
    assert_non_null(x);
    return x;
}

static void test_peer_identity_after_handshake(void **state)
{
    fixture *f = *state;
    mm_tls_config s = server_cfg(&f->a), c = client_cfg(&f->a, &f->a);
    X509 *ca = read_cert(f->a.ca), *other_ca = read_cert(f->b.ca);
    mm_ctn_entry e[2] = {{.id = 1, .map_type = MM_CTN_SPECIFIED, .name = "wrong"},
                         {.id = 2, .map_type = MM_CTN_COMMON_NAME}};
    mm_ctn_map map = {e, 2};
    char name[64];
    pair p;

    assert_int_equal(mm_ctn_fingerprint_of(other_ca, MM_CTN_SHA256, e[0].fingerprint,
                                           sizeof(e[0].fingerprint), &e[0].fingerprint_len),
                     0);
    assert_int_equal(mm_ctn_fingerprint_of(ca, MM_CTN_SHA256, e[1].fingerprint,
                                           sizeof(e[1].fingerprint), &e[1].fingerprint_len),
                     0);
    assert_int_equal(run(&p, &s, &c, "localhost"), 1);
    /* Entry 1 names another CA: falls through to entry 2, the CN of the client. */
    assert_int_equal(mm_tls_peer_identity(p.s, &map, name, sizeof(name)), 0);
    assert_string_equal(name, MM_PKI_DEFAULT_CLIENT);
    /* The client maps the server by its DNS SAN through the same CA. */
    e[1].map_type = MM_CTN_SAN_DNS_NAME;
    assert_int_equal(mm_tls_peer_identity(p.c, &map, name, sizeof(name)), 0);
    assert_string_equal(name, "localhost");
    /* Only the other CA listed: no name. */
    map.count = 1;
    assert_int_equal(mm_tls_peer_identity(p.s, &map, name, sizeof(name)), MM_ENOENT);
    pair_free(&p);
    X509_free(ca);
    X509_free(other_ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_groups_negotiate_hybrid),
        cmocka_unit_test(test_configured_groups),
        cmocka_unit_test(test_client_without_cert_refused),
        cmocka_unit_test(test_client_from_other_ca_refused),
        cmocka_unit_test(test_server_checks),
        cmocka_unit_test(test_peer_identity_after_handshake),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
