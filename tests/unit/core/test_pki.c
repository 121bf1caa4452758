/*
 * Local PKI: the chain verifies with `openssl verify`, keys are 0600, the
 * server SANs are right, nothing is overwritten without force.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mamori/mm_core.h"
#include "mamori/mm_pki.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/mm-test-pki-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    rmdir(dir); /* mm_pki_init creates it with mode 0700 */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static mode_t mode_of(const char *file)
{
    char p[512];
    struct stat st;
    assert_int_equal(mm_pki_path(dir, file, p, sizeof(p)), 0);
    assert_int_equal(stat(p, &st), 0);
    return st.st_mode & 0777;
}

static int openssl_verify(const char *cert)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict -CAfile '%s/ca.crt' '%s/%s' >/dev/null",
             dir, dir, cert);
    return system(cmd);
}

static X509 *load(const char *file)
{
    char p[512];
    mm_pki_path(dir, file, p, sizeof(p));
    X509 *c = mm_pki_read_cert_file(p);
    assert_non_null(c);
    return c;
}

static void test_init_verifies(void **state)
{
    (void)state;
    assert_int_equal(mm_pki_exists(dir), 0);
    assert_int_equal(mm_pki_init(dir, false), 0);
    assert_int_equal(mm_pki_exists(dir), 1);
    /* openssl(1) is a build dependency (scripts/bootstrap): missing is a failure. */
    if (system("command -v openssl >/dev/null") != 0)
        fail_msg("openssl(1) not found: the independent check of the certificates cannot run");
    assert_int_equal(openssl_verify(MM_PKI_SERVER_CERT), 0);
    assert_int_equal(openssl_verify(MM_PKI_CLIENT_CERT), 0);
    /* The CA is not accepted as a leaf of itself by a different trust anchor. */
    assert_int_equal(openssl_verify(MM_PKI_CA_CERT), 0);
}

static void test_key_modes(void **state)
{
    (void)state;
    assert_int_equal(mode_of(MM_PKI_CA_KEY), 0600);
    assert_int_equal(mode_of(MM_PKI_SERVER_KEY), 0600);
    assert_int_equal(mode_of(MM_PKI_CLIENT_KEY), 0600);
    assert_int_equal(mode_of(MM_PKI_CA_CERT), 0644);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_server_sans(void **state)
{
    (void)state;
    X509 *c = load(MM_PKI_SERVER_CERT);
    assert_int_equal(X509_check_host(c, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(c, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(c, "::1", 0), 1);
    assert_int_equal(X509_check_host(c, "example.com", 0, 0, NULL), 0);
    assert_int_equal(X509_check_purpose(c, X509_PURPOSE_SSL_SERVER, 0), 1);
    EVP_PKEY *k = X509_get0_pubkey(c);
    assert_int_equal(EVP_PKEY_get_base_id(k), EVP_PKEY_EC);
    assert_int_equal(EVP_PKEY_get_bits(k), 256);
    /* the key file holds the private half of that certificate's key */
    char p[512];
    mm_pki_path(dir, MM_PKI_SERVER_KEY, p, sizeof(p));
    EVP_PKEY *priv = mm_pki_read_key_file(p);
    assert_non_null(priv);
    assert_int_equal(X509_check_private_key(c, priv), 1);
    EVP_PKEY_free(priv);
    assert_null(mm_pki_read_key_file("/nonexistent/mamori.key"));
    assert_null(mm_pki_read_cert_file(p)); /* a key is no certificate */
    X509_free(c);
    X509 *ca = load(MM_PKI_CA_CERT);
    assert_int_equal(X509_check_ca(ca), 1);
    X509_free(ca);
}

static void test_no_overwrite(void **state)
{
    (void)state;
    X509 *before = load(MM_PKI_CA_CERT);
    assert_int_equal(mm_pki_init(dir, false), MM_EEXIST);
    X509 *same = load(MM_PKI_CA_CERT);
    assert_int_equal(X509_cmp(before, same), 0);
    assert_int_equal(mm_pki_init(dir, true), 0);
    X509 *after = load(MM_PKI_CA_CERT);
    assert_int_not_equal(X509_cmp(before, after), 0);
    X509_free(before);
    X509_free(same);
    X509_free(after);
}

static void test_issue_client(void **state)
{
    (void)state;
    assert_int_equal(mm_pki_issue_client(dir, "alice", false), 0);
    assert_int_equal(mm_pki_issue_client(dir, "alice", false), MM_EEXIST);
    assert_int_equal(mm_pki_issue_client(dir, "alice", true), 0);
    assert_int_equal(mm_pki_issue_client(dir, "../evil", false), MM_EINVAL);
    assert_int_equal(mm_pki_issue_client(dir, "", false), MM_EINVAL);
    assert_int_equal(mm_pki_issue_client("/nonexistent-pki", "bob", false), MM_ENOENT);
    assert_int_equal(mode_of("clients/alice.key"), 0600);
    X509 *c = load("clients/alice.crt");
    assert_int_equal(X509_check_purpose(c, X509_PURPOSE_SSL_CLIENT, 0), 1);
    assert_int_equal(X509_check_host(c, "alice", 0, 0, NULL), 1);
    X509_free(c);
    /* openssl(1) is a build dependency (scripts/bootstrap): missing is a failure. */
    if (system("command -v openssl >/dev/null") != 0)
        fail_msg("openssl(1) not found: the independent check of the certificates cannot run");
    assert_int_equal(openssl_verify("clients/alice.crt"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_verifies), cmocka_unit_test(test_key_modes),
        cmocka_unit_test(test_server_sans),   cmocka_unit_test(test_no_overwrite),
        cmocka_unit_test(test_issue_client),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
