/*
 * NETCONF over TLS (RFC 7589) end to end, in-process: mamori-netconfd's
 * logic (engine + mm_nc_tls_server + ietf-netconf-server glue) on an
 * event loop in one thread, blocking mm_nc_client sessions over real
 * loopback TLS in the test thread, a PKI from mm_pki_init in a temp dir.
 *
 * Covers: hybrid group negotiation, mutual X.509 (no certificate, foreign
 * CA), cert-to-name (no mapping, mapping added and removed over NETCONF),
 * continuous verification (expiry, CRL revocation), NACM changes taking
 * effect at once, and re-binding of endpoints changed over NETCONF.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mamori/mm_core.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_tls.h"
#include "tls_testutil.h"

#define VERIFY_MS 200
#define NS_NCS "urn:ietf:params:xml:ns:yang:ietf-netconf-server"
#define NS_ACM "urn:ietf:params:xml:ns:yang:ietf-netconf-acm"
#define NS_C2N "urn:ietf:params:xml:ns:yang:ietf-x509-cert-to-name"
#define NS_TEST "urn:mamori:test:nc"
#define GET_CONFIG "<get-config><source><running/></source></get-config>"

typedef struct fixture {
    tu_daemon d;
    uint16_t port;
    char ca[400], admin_crt[400], admin_key[400];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    const char *yang = getenv("MM_NC_TEST_YANG");
    int rc = tu_daemon_start(&f->d, yang, VERIFY_MS);
    if (rc < 0) {
        fprintf(stderr, "daemon start: %s\n", mm_strerror(rc));
        tu_daemon_stop(&f->d);
        free(f);
        return -1;
    }
    f->port = tu_daemon_port(&f->d, 0);
    snprintf(f->ca, sizeof(f->ca), "%s/%s", f->d.pki, MM_PKI_CA_CERT);
    snprintf(f->admin_crt, sizeof(f->admin_crt), "%s/%s", f->d.pki, MM_PKI_CLIENT_CERT);
    snprintf(f->admin_key, sizeof(f->admin_key), "%s/%s", f->d.pki, MM_PKI_CLIENT_KEY);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_daemon_stop(&f->d);
    free(f);
    return 0;
}

/* Path of a file in the fixture's temp dir. */
static void in_dir(const fixture *f, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", f->d.dir, name);
}

/* Client NAME issued by the PKI (clients/NAME.crt, .key). */
static void pki_client(fixture *f, const char *name, char *crt, char *key, size_t len)
{
    assert_int_equal(mm_pki_issue_client(f->d.pki, name, false), 0);
    snprintf(crt, len, "%s/%s/%s.crt", f->d.pki, MM_PKI_CLIENTS_DIR, name);
    snprintf(key, len, "%s/%s/%s.key", f->d.pki, MM_PKI_CLIENTS_DIR, name);
}

static void connect_ok(fixture *f, const char *crt, const char *key, tu_client *cl)
{
    int rc = tu_connect(f->port, f->ca, crt, key, cl);
    if (rc < 0)
        fail_msg("connect as %s: %s (%s)", crt, mm_strerror(rc), cl->why);
}

static void edit_ok(tu_client *cl, const char *config)
{
    char *op = NULL;
    assert_true(asprintf(&op,
                         "<edit-config><target><running/></target><config>%s</config>"
                         "</edit-config>",
                         config) > 0);
    char *reply = tu_rpc(cl, op);
    if (!reply || !strstr(reply, "<ok/>"))
        fail_msg("edit-config: %s", reply ? reply : mm_nc_client_error(cl->c));
    free(reply);
    free(op);
}

/* (a) hello, get-config, and the hybrid group negotiated by default. */
static void test_hello_get_config_hybrid(void **state)
{
    fixture *f = *state;
    tu_client cl;
    connect_ok(f, f->admin_crt, f->admin_key, &cl);
    assert_string_equal(mm_nc_tls_stream_group(cl.st), "X25519SCloud+128");
    assert_true(mm_nc_client_session_id(cl.c) > 0);
    assert_true(mm_nc_client_has_capability(cl.c, "urn:ietf:params:netconf:base:1.1"));
    assert_int_equal(mm_nc_client_framing(cl.c), MM_NC_FRAMING_CHUNKED);
    char *reply = tu_rpc(&cl, GET_CONFIG);
    assert_non_null(reply);
    assert_non_null(strstr(reply, "<data"));
    assert_non_null(strstr(reply, NS_NCS));
    assert_non_null(strstr(reply, "<local-port>"));
    free(reply);
    assert_int_equal(tu_daemon_sessions(&f->d), 1);
    assert_int_equal(mm_nc_client_close(cl.c), 0);
    cl.c = NULL;
    tu_client_close(&cl);
}

/* (b) a TLS client without a certificate never gets a NETCONF session. */
static void test_no_client_certificate(void **state)
{
    fixture *f = *state;
    mm_tls_config tc = {.ca_file = f->ca};
    SSL_CTX *ctx = mm_tls_ctx_new_client(&tc);
    assert_non_null(ctx);
    int fd = -1;
    char why[200];
    assert_int_equal(mm_nc_tcp_connect("127.0.0.1", f->port, 5000, &fd, why, sizeof(why)), 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    SSL *ssl = SSL_new(ctx);
    assert_int_equal(mm_tls_set_peer_name(ssl, "127.0.0.1"), 0);
    SSL_set_fd(ssl, fd);
    int hs = SSL_connect(ssl);
    uint8_t buf[256];
    int n = hs == 1 ? SSL_read(ssl, buf, sizeof(buf)) : -1;
    /* TLS 1.3: the client may finish first, then reads the server's alert. */
    assert_true(n <= 0);
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    assert_int_equal(tu_daemon_sessions(&f->d), 0);
}

/* (c) a client certificate from another CA is refused. */
static void test_foreign_ca_refused(void **state)
{
    fixture *f = *state;
    char other[400], crt[450], key[450];
    in_dir(f, "other-pki", other, sizeof(other));
    assert_int_equal(mm_pki_init(other, false), 0);
    snprintf(crt, sizeof(crt), "%s/%s", other, MM_PKI_CLIENT_CERT);
    snprintf(key, sizeof(key), "%s/%s", other, MM_PKI_CLIENT_KEY);
    tu_client cl;
    assert_true(tu_connect(f->port, f->ca, crt, key, &cl) < 0);
    tu_client_close(&cl);
    assert_int_equal(tu_daemon_sessions(&f->d), 0);
}

/* Read from a TLS stream until EOF/error; bytes received. */
static long drain(tu_client *cl)
{
    mm_nc_client_io io;
    mm_nc_tls_stream_io(cl->st, &io);
    uint8_t buf[4096];
    long total = 0, n;
    while ((n = io.recv(io.io, buf, sizeof(buf), 5000)) > 0)
        total += n;
    return n == MM_ETIMEOUT ? -1 : total;
}

/* (d) chain valid but no cert-to-name mapping: closed before any NETCONF. */
static void test_no_mapping_closed_before_netconf(void **state)
{
    fixture *f = *state;
    char crt[400], key[400];
    in_dir(f, "nocn.crt", crt, sizeof(crt));
    in_dir(f, "nocn.key", key, sizeof(key));
    assert_int_equal(tu_issue(f->d.pki, NULL, 3600, crt, key), 0);
    tu_client cl;
    assert_int_equal(tu_tls_connect(f->port, f->ca, crt, key, &cl), 0);
    assert_int_equal(drain(&cl), 0); /* EOF, and not one byte (no <hello>) */
    tu_client_close(&cl);
    assert_int_equal(tu_daemon_sessions(&f->d), 0);
}

/* (e) a certificate that expires during the session ends the session. */
static void test_expiry_closes_session(void **state)
{
    fixture *f = *state;
    char crt[400], key[400];
    in_dir(f, "short.crt", crt, sizeof(crt));
    in_dir(f, "short.key", key, sizeof(key));
    assert_int_equal(tu_issue(f->d.pki, "admin", 3, crt, key), 0);
    long not_after = tu_not_after(crt);
    tu_client cl;
    connect_ok(f, crt, key, &cl);
    assert_true(tu_rpc_ok(&cl, "<lock><target><running/></target></lock>"));
    assert_true(time(NULL) < not_after);
    long waited = tu_wait_closed(&cl, 10000);
    assert_true(waited >= 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double late = (double)now.tv_sec + now.tv_nsec / 1e9 - (double)not_after;
    /* notAfter has one-second granularity: allow it plus a few verify periods. */
    assert_true(late >= -0.05);
    assert_true(late < 1.0 + 5 * VERIFY_MS / 1000.0);
    tu_client_close(&cl);
    /* The lock went with the session: another session can take it. */
    tu_client admin;
    connect_ok(f, f->admin_crt, f->admin_key, &admin);
    assert_true(tu_rpc_ok(&admin, "<lock><target><running/></target></lock>"));
    tu_client_close(&admin);
}

/* (f) revocation in the CRL file ends that session on the next tick only. */
static void test_crl_revocation(void **state)
{
    fixture *f = *state;
    char crt[400], key[400];
    pki_client(f, "carol", crt, key, sizeof(crt));
    tu_client carol, admin;
    connect_ok(f, crt, key, &carol);
    connect_ok(f, f->admin_crt, f->admin_key, &admin);
    assert_true(tu_rpc_ok(&carol, "<lock><target><running/></target></lock>"));
    const char *revoked[] = {crt};
    int64_t t0 = tu_now_ms();
    assert_int_equal(tu_write_crl(f->d.pki, revoked, 1, f->d.crl), 0);
    long waited = tu_wait_closed(&carol, 5000);
    assert_true(waited >= 0);
    assert_true(tu_now_ms() - t0 < 2000); /* next tick is VERIFY_MS away */
    tu_client_close(&carol);
    /* The other session keeps working. */
    char *reply = tu_rpc(&admin, GET_CONFIG);
    assert_non_null(reply);
    assert_non_null(strstr(reply, "<data"));
    free(reply);
    /* A revoked certificate cannot start a new session either. */
    tu_client again;
    assert_true(tu_connect(f->port, f->ca, crt, key, &again) < 0);
    tu_client_close(&again);
    assert_int_equal(tu_daemon_sessions(&f->d), 1);
    tu_client_close(&admin);
}

/* An edit-config creating list entry bob-N of nc-test. */
static const char *bob_edit(int n)
{
    static char op[400];
    snprintf(op, sizeof(op),
             "<edit-config><target><running/></target><config><top xmlns=\"" NS_TEST "\">"
             "<item><id>bob-%d</id><value>%d</value></item></top></config></edit-config>",
             n, n);
    return op;
}

/* (g) NACM edits by one session apply to another at once. */
static void test_nacm_change_applies_at_once(void **state)
{
    fixture *f = *state;
    char crt[400], key[400];
    pki_client(f, "bob", crt, key, sizeof(crt));
    tu_client admin, bob;
    connect_ok(f, f->admin_crt, f->admin_key, &admin);
    connect_ok(f, crt, key, &bob);
    /* write-default is deny: nothing permits bob yet. */
    char *reply = tu_rpc(&bob, bob_edit(1));
    assert_non_null(reply);
    assert_non_null(strstr(reply, "access-denied"));
    free(reply);
    edit_ok(&admin, "<nacm xmlns=\"" NS_ACM "\"><groups><group><name>ops</name>"
                    "<user-name>bob</user-name></group></groups>"
                    "<rule-list><name>ops</name><group>ops</group><rule><name>nc-test</name>"
                    "<module-name>nc-test</module-name><access-operations>*</access-operations>"
                    "<action>permit</action></rule></rule-list></nacm>");
    assert_true(tu_rpc_ok(&bob, bob_edit(2)));
    /* Admin takes the permit away; bob's next edit is denied, same session. */
    edit_ok(&admin, "<nacm xmlns=\"" NS_ACM "\" xmlns:nc=\"" MM_NC_NS_BASE "\">"
                    "<rule-list nc:operation=\"delete\"><name>ops</name></rule-list></nacm>");
    reply = tu_rpc(&bob, bob_edit(3));
    assert_non_null(reply);
    assert_non_null(strstr(reply, "access-denied"));
    free(reply);
    reply = tu_rpc(&admin, GET_CONFIG);
    assert_non_null(reply);
    assert_non_null(strstr(reply, "<id>bob-2</id>"));
    assert_null(strstr(reply, "<id>bob-3</id>"));
    free(reply);
    tu_client_close(&bob);
    tu_client_close(&admin);
}

/* The reply to op with its <rpc-reply ...> start tag (message-id) cut off. */
static char *reply_body(tu_client *cl, const char *op)
{
    char *r = tu_rpc(cl, op);
    if (!r)
        fail_msg("%s: %s", op, mm_nc_client_error(cl->c));
    char *gt = strchr(r, '>');
    assert_non_null(gt);
    char *b = strdup(gt + 1);
    free(r);
    return b;
}

/*
 * Issue 10 item 1 over TLS: bob may not read /top/item/note; filtering on
 * <note>guess</note> (subtree or XPath) must give the same reply for a
 * right and a wrong guess (RFC 8341 section 3.4.5).
 */
static void test_nacm_filter_no_read_leak(void **state)
{
    fixture *f = *state;
    char crt[400], key[400];
    pki_client(f, "bob", crt, key, sizeof(crt));
    tu_client admin, bob;
    connect_ok(f, f->admin_crt, f->admin_key, &admin);
    edit_ok(&admin, "<nacm xmlns=\"" NS_ACM "\"><groups><group><name>ops</name>"
                    "<user-name>bob</user-name></group></groups>"
                    "<rule-list><name>ops</name><group>ops</group><rule><name>no-note</name>"
                    "<module-name>nc-test</module-name><path xmlns:t=\"" NS_TEST "\">"
                    "/t:top/t:item/t:note</path><access-operations>read</access-operations>"
                    "<action>deny</action></rule></rule-list></nacm>");
    edit_ok(&admin, "<top xmlns=\"" NS_TEST "\"><item><id>1</id><value>7</value>"
                    "<note>secret</note></item></top>");
    connect_ok(f, crt, key, &bob);
    static const char *const ops[][2] = {
        {"<get-config><source><running/></source><filter type=\"subtree\"><top xmlns=\""
         NS_TEST "\"><item><note>secret</note></item></top></filter></get-config>",
         "<get-config><source><running/></source><filter type=\"subtree\"><top xmlns=\""
         NS_TEST "\"><item><note>wrong</note></item></top></filter></get-config>"},
        {"<get><filter type=\"xpath\" xmlns:t=\"" NS_TEST "\" select=\"/t:top/t:item"
         "[t:note='secret']\"/></get>",
         "<get><filter type=\"xpath\" xmlns:t=\"" NS_TEST "\" select=\"/t:top/t:item"
         "[t:note='wrong']\"/></get>"},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        char *right = reply_body(&bob, ops[i][0]), *wrong = reply_body(&bob, ops[i][1]);
        if (strcmp(right, wrong) != 0)
            fail_msg("right and wrong guesses differ:\n%s\n%s", right, wrong);
        assert_null(strstr(right, "secret"));
        free(right);
        free(wrong);
    }
    /* bob still reads the rest of the entry, the admin the note */
    char *r = reply_body(&bob, GET_CONFIG);
    assert_non_null(strstr(r, "<value>7</value>"));
    assert_null(strstr(r, "secret"));
    free(r);
    r = reply_body(&admin, ops[0][0]);
    assert_non_null(strstr(r, "<note>secret</note>"));
    free(r);
    tu_client_close(&bob);
    tu_client_close(&admin);
}

static char *endpoint_edit(const char *inner)
{
    char *s = NULL;
    if (asprintf(&s,
                 "<netconf-server xmlns=\"" NS_NCS "\"><listen><endpoints><endpoint>"
                 "<name>default</name><tls>%s</tls></endpoint></endpoints></listen>"
                 "</netconf-server>",
                 inner) < 0)
        return NULL;
    return s;
}

/* (h) ietf-netconf-server edits re-bind the endpoint at once. */
static void test_endpoint_rebind(void **state)
{
    fixture *f = *state;
    uint16_t old_port = f->port, new_port = tu_free_port();
    assert_true(new_port != 0 && new_port != old_port);
    tu_client admin;
    connect_ok(f, f->admin_crt, f->admin_key, &admin);
    char inner[300];
    snprintf(inner, sizeof(inner),
             "<tcp-server-parameters><local-bind xmlns:nc=\"" MM_NC_NS_BASE "\" "
             "nc:operation=\"replace\"><local-address>127.0.0.1</local-address>"
             "<local-port>%u</local-port></local-bind></tcp-server-parameters>",
             new_port);
    char *cfg = endpoint_edit(inner);
    edit_ok(&admin, cfg);
    free(cfg);
    assert_int_equal(tu_daemon_port(&f->d, 0), new_port);
    /* The new port accepts; the old one refuses; the open session lives on. */
    tu_client fresh;
    int rc = tu_connect(new_port, f->ca, f->admin_crt, f->admin_key, &fresh);
    if (rc < 0)
        fail_msg("new port: %s", fresh.why);
    char *got = tu_rpc(&fresh, GET_CONFIG);
    assert_non_null(got);
    assert_non_null(strstr(got, "<data"));
    free(got);
    tu_client_close(&fresh);
    int fd = -1;
    char why[200];
    assert_true(mm_nc_tcp_connect("127.0.0.1", old_port, 2000, &fd, why, sizeof(why)) < 0);
    char *reply = tu_rpc(&admin, GET_CONFIG);
    assert_non_null(reply);
    char want[64];
    snprintf(want, sizeof(want), "<local-port>%u</local-port>", new_port);
    assert_non_null(strstr(reply, want));
    free(reply);
    tu_client_close(&admin);
}

/* (h) cert-to-name edits over NETCONF change who can log in, open sessions included. */
static void test_cert_to_name_edits(void **state)
{
    fixture *f = *state;
    char crt[400], key[400], fp[200];
    in_dir(f, "nocn.crt", crt, sizeof(crt));
    in_dir(f, "nocn.key", key, sizeof(key));
    assert_int_equal(tu_issue(f->d.pki, NULL, 3600, crt, key), 0);
    assert_int_equal(tu_fingerprint(crt, fp, sizeof(fp)), 0);
    tu_client admin, user;
    connect_ok(f, f->admin_crt, f->admin_key, &admin);
    assert_true(tu_connect(f->port, f->ca, crt, key, &user) < 0);
    tu_client_close(&user);
    /* Map this certificate (by its own fingerprint) to a specified name. */
    char inner[600];
    snprintf(inner, sizeof(inner),
             "<netconf-server-parameters><client-identity-mappings><cert-to-name>"
             "<id>5</id><fingerprint>%s</fingerprint>"
             "<map-type xmlns:x509c2n=\"" NS_C2N "\">x509c2n:specified</map-type>"
             "<name>operator</name></cert-to-name></client-identity-mappings>"
             "</netconf-server-parameters>",
             fp);
    char *cfg = endpoint_edit(inner);
    edit_ok(&admin, cfg);
    free(cfg);
    connect_ok(f, crt, key, &user);
    char *reply = tu_rpc(&user, "<get><filter type=\"subtree\"><netconf-state xmlns="
                                "\"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring\">"
                                "<sessions/></netconf-state></filter></get>");
    assert_non_null(reply);
    assert_non_null(strstr(reply, "<username>operator</username>"));
    free(reply);
    /* Remove the mapping: the open session ends, a new login fails. */
    cfg = endpoint_edit("<netconf-server-parameters><client-identity-mappings>"
                        "<cert-to-name xmlns:nc=\"" MM_NC_NS_BASE "\" nc:operation=\"delete\">"
                        "<id>5</id></cert-to-name></client-identity-mappings>"
                        "</netconf-server-parameters>");
    edit_ok(&admin, cfg);
    free(cfg);
    assert_true(tu_wait_closed(&user, 3000) >= 0);
    tu_client_close(&user);
    assert_true(tu_connect(f->port, f->ca, crt, key, &user) < 0);
    tu_client_close(&user);
    assert_true(tu_rpc_ok(&admin, "<lock><target><running/></target></lock>"));
    tu_client_close(&admin);
}

/* An administrator who removes the mapping of its own certificate loses its
 * session in the middle of its own RPC: no crash, and the server goes on. */
static void test_self_lockout(void **state)
{
    fixture *f = *state;
    char crt[400], key[400];
    pki_client(f, "root2", crt, key, sizeof(crt));
    tu_client admin, other;
    connect_ok(f, f->admin_crt, f->admin_key, &admin);
    /* Keep a way in: root2's own fingerprint maps to "admin", before entry 1. */
    char fp[200], inner[900];
    assert_int_equal(tu_fingerprint(crt, fp, sizeof(fp)), 0);
    snprintf(inner, sizeof(inner),
             "<netconf-server-parameters><client-identity-mappings><cert-to-name>"
             "<id>0</id><fingerprint>%s</fingerprint>"
             "<map-type xmlns:x509c2n=\"" NS_C2N "\">x509c2n:specified</map-type>"
             "<name>admin</name></cert-to-name></client-identity-mappings>"
             "</netconf-server-parameters>",
             fp);
    char *cfg = endpoint_edit(inner);
    edit_ok(&admin, cfg);
    free(cfg);
    connect_ok(f, crt, key, &other);
    /* Delete the CA-wide common-name entry (id 1) that maps the admin. */
    cfg = endpoint_edit("<netconf-server-parameters><client-identity-mappings>"
                        "<cert-to-name xmlns:nc=\"" MM_NC_NS_BASE "\" nc:operation=\"delete\">"
                        "<id>1</id></cert-to-name></client-identity-mappings>"
                        "</netconf-server-parameters>");
    char *op = NULL;
    assert_true(asprintf(&op, "<edit-config><target><running/></target><config>%s</config>"
                              "</edit-config>", cfg) > 0);
    free(tu_rpc(&admin, op)); /* the reply may or may not make it out */
    free(op);
    free(cfg);
    assert_true(tu_wait_closed(&admin, 3000) >= 0);
    tu_client_close(&admin);
    assert_true(tu_rpc_ok(&other, "<lock><target><running/></target></lock>"));
    tu_client_close(&other);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* writes to a peer that refused us must fail, not kill */
    mm_log_setup("test-netconf-tls", MM_LOG_STDERR,
                 getenv("MM_TEST_VERBOSE") ? MM_LOG_DEBUG : MM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_get_config_hybrid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_client_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_ca_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_mapping_closed_before_netconf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_closes_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crl_revocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nacm_change_applies_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nacm_filter_no_read_leak, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_rebind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cert_to_name_edits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_lockout, setup, teardown),
    };
    return cmocka_run_group_tests_name("netconf_tls", tests, NULL, NULL);
}
