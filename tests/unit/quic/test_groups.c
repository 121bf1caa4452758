/*
 * test_groups.c - key exchange over QUIC with the OpenSSL backend: every
 * hybrid post-quantum group negotiated between a mamori client and server
 * on loopback, the defaults, HelloRetryRequest fallbacks, and a data round
 * trip over the keys each group made.
 *
 * SecP384r1SCloud+256 makes a ClientHello of about 19 KB: more than the
 * 16 KiB of Initial CRYPTO data stock ngtcp2 1.23/1.24 accepts, so this test
 * also proves scripts/patches/ngtcp2-initial-crypto-offset-64k.patch is in.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <link.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "mamori/mm_core.h"
#include "quic_testutil.h"

typedef qt_fixture fixture;

/* A server that accepts every group mamori knows. */
#define ALL_GROUPS                                                                                 \
    "X25519SCloud+128:SecP256r1SCloud+192:SecP384r1SCloud+256:X25519MLKEM768:X25519:"              \
    "P-256"

/* Handshake with the given group lists (NULL: defaults); the group both
 * ends report, or NULL when the handshake did not complete. */
static void handshake(fixture *f, const char *server_groups, const char *client_groups)
{
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    s.groups = server_groups;
    c.groups = client_groups;
    f->srec.echo = true;
    assert_int_equal(
        mm_quic_server_new(f->base, &s, "127.0.0.1", 0, &qt_callbacks, &f->srec, &f->srv), 0);
    assert_int_equal(mm_quic_connect(f->base, &c, "127.0.0.1", mm_quic_endpoint_port(f->srv),
                                     &qt_callbacks, &f->crec, &f->client),
                     0);
    for (int i = 0;
         i < 500 && f->crec.closed == 0 && (f->crec.connected == 0 || f->srec.connected == 0); i++)
        qt_run_for(f->base, 10);
    assert_int_equal(f->crec.closed, 0);
    assert_int_equal(f->crec.connected, 1);
    assert_int_equal(f->srec.connected, 1);
}

static void expect_group(fixture *f, const char *want)
{
    const char *cg = mm_quic_conn_tls_group(f->client);
    const char *sg = mm_quic_conn_tls_group(f->srec.conn);
    assert_non_null(cg);
    assert_non_null(sg);
    /* OpenSSL spells its built-in groups in lower case ("x25519"). */
    if (strcasecmp(cg, want) != 0 || strcasecmp(sg, want) != 0)
        fail_msg("negotiated client %s / server %s, want %s", cg, sg, want);
}

/* Application data both ways over the keys the group made. */
static void round_trip(fixture *f)
{
    int64_t sid;
    static const char msg[] = "<hello/>]]>]]>";
    assert_int_equal(mm_quic_conn_open_bidi(f->client, &sid), 0);
    assert_int_equal(mm_quic_conn_send(f->client, sid, (const uint8_t *)msg, strlen(msg), false),
                     0);
    for (int i = 0; i < 300 && f->crec.total < strlen(msg); i++)
        qt_run_for(f->base, 10);
    assert_int_equal(f->crec.total, strlen(msg));
    assert_memory_equal(f->crec.data, msg, strlen(msg));
}

static void one_group(void **state, const char *group)
{
    fixture *f = *state;
    handshake(f, ALL_GROUPS, group);
    expect_group(f, group);
    round_trip(f);
}

static void test_x25519_scloudplus128(void **state)
{
    one_group(state, "X25519SCloud+128");
}
static void test_p256_scloudplus192(void **state)
{
    one_group(state, "SecP256r1SCloud+192");
}
/* ~19 KB ClientHello: Initial CRYPTO data past 16 KiB (the ngtcp2 patch). */
static void test_p384_scloudplus256(void **state)
{
    one_group(state, "SecP384r1SCloud+256");
}
static void test_x25519_mlkem768(void **state)
{
    one_group(state, "X25519MLKEM768");
}
static void test_x25519_classic(void **state)
{
    one_group(state, "X25519");
}

/* Both ends on their defaults: the first hybrid of MM_QUIC_DEFAULT_GROUPS. */
static void test_default_is_scloudplus(void **state)
{
    fixture *f = *state;
    handshake(f, NULL, NULL);
    expect_group(f, "X25519SCloud+128");
    round_trip(f);
}

/* A server without Scloud+ (e.g. a stock OpenSSL 3.5 peer): the default
 * client's key share is refused and HelloRetryRequest moves to ML-KEM. */
static void test_hrr_to_mlkem(void **state)
{
    fixture *f = *state;
    handshake(f, "X25519MLKEM768:X25519", NULL);
    expect_group(f, "X25519MLKEM768");
    round_trip(f);
}

/* A classical-only server (as a GnuTLS or pre-3.5 peer): X25519 via HRR. */
static void test_hrr_to_classic(void **state)
{
    fixture *f = *state;
    handshake(f, "X25519:P-256", NULL);
    expect_group(f, "X25519");
    round_trip(f);
}

/* No group in common: the handshake fails on both sides, nothing connects. */
static void test_no_common_group_refused(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki), c = qt_client_config(&f->pki);
    s.groups = "X25519MLKEM768";
    c.groups = "SecP256r1SCloud+192";
    assert_int_equal(
        mm_quic_server_new(f->base, &s, "127.0.0.1", 0, &qt_callbacks, &f->srec, &f->srv), 0);
    assert_int_equal(mm_quic_connect(f->base, &c, "127.0.0.1", mm_quic_endpoint_port(f->srv),
                                     &qt_callbacks, &f->crec, &f->client),
                     0);
    qt_run_until(f->base, &f->crec.closed, 5000);
    assert_int_equal(f->crec.closed, 1);
    assert_int_equal(f->crec.connected, 0);
    assert_int_equal(f->srec.connected, 0);
    /* handshake_failure (40) as a QUIC CRYPTO_ERROR (RFC 9001 section 4.8). */
    assert_false(f->crec.close.app);
    assert_int_equal(f->crec.close.error_code, 0x100 + 40);
}

/* An unknown group name is a configuration error, not a silent fallback. */
static void test_unknown_group_rejected(void **state)
{
    fixture *f = *state;
    mm_quic_config s = qt_server_config(&f->pki);
    s.groups = "X25519:NoSuchGroup";
    assert_int_not_equal(
        mm_quic_server_new(f->base, &s, "127.0.0.1", 0, &qt_callbacks, &f->srec, &f->srv), 0);
    assert_null(f->srv);
}

static int count_libcrypto(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    if (info->dlpi_name != NULL && strstr(info->dlpi_name, "/libcrypto.so") != NULL)
        (*(int *)arg)++;
    return 0;
}

/* One libcrypto in the process, and the one the headers were: the private
 * OpenSSL's rpath won over the system's search path (docs/tls.md). */
static void test_one_libcrypto(void **state)
{
    (void)state;
    int n = 0;
    dl_iterate_phdr(count_libcrypto, &n);
    assert_int_equal(n, 1);
    assert_int_equal(OpenSSL_version_num() >> 20, OPENSSL_VERSION_NUMBER >> 20);
    assert_true(OpenSSL_version_num() >= 0x30500000L);
}

int main(void)
{
    mm_log_set_level(MM_LOG_WARN);
    if (!mm_quic_tls_has_groups()) {
        print_message("QUIC backend %s has no configurable groups: skipped\n", mm_quic_tls_name());
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_libcrypto),
        cmocka_unit_test_setup_teardown(test_x25519_scloudplus128, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_p256_scloudplus192, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_p384_scloudplus256, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_x25519_mlkem768, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_x25519_classic, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_default_is_scloudplus, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_hrr_to_mlkem, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_hrr_to_classic, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_no_common_group_refused, qt_setup, qt_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_group_rejected, qt_setup, qt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
