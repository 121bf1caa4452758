/*
 * NETCONF over TLS client transport (RFC 7589): a fresh mamori PKI, an
 * in-process TLS 1.3 server (mm_tls) that speaks a minimal NETCONF, and the
 * client's checks: chain, server name (section 6), client certificate
 * required, timeouts and connection errors.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_tls.h"

static char pki[128], other_pki[128];
static char ca[192], cert[192], key[192], srv_cert[192], srv_key[192], other_ca[192];

typedef struct tls_server {
    int lfd;
    uint16_t port;
    bool silent; /* accept TCP but never answer */
    bool handshake_ok;
    char peer_cn[64];
    pthread_t thread;
} tls_server;

static void send_framed(SSL *ssl, enum mm_nc_framing mode, const char *xml)
{
    mm_buf out;
    mm_buf_init(&out, 1 << 16);
    mm_nc_frame(mode, xml, strlen(xml), &out);
    SSL_write(ssl, out.data, (int)out.len);
    mm_buf_free(&out);
}

/* Serve one connection: hello, one reply per rpc (ok), until close-session or EOF. */
static void serve(tls_server *t, SSL *ssl)
{
    t->handshake_ok = true;
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (peer) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, t->peer_cn,
                                  sizeof(t->peer_cn));
        X509_free(peer);
    }
    send_framed(ssl, MM_NC_FRAMING_EOM,
                "<hello xmlns=\"" MM_NC_NS_BASE "\"><capabilities><capability>"
                "urn:ietf:params:netconf:base:1.1</capability></capabilities>"
                "<session-id>5</session-id></hello>");
    mm_nc_framer fr;
    mm_nc_framer_init(&fr, 0);
    bool hello = false;
    for (;;) {
        const char *msg;
        size_t len;
        int rc = mm_nc_framer_next(&fr, &msg, &len);
        if (rc < 0)
            break;
        if (rc == 0) {
            uint8_t buf[4096];
            int n = SSL_read(ssl, buf, sizeof(buf));
            if (n <= 0 || mm_nc_framer_push(&fr, buf, (size_t)n) < 0)
                break;
            continue;
        }
        if (!hello) {
            hello = true;
            mm_nc_framer_set_mode(&fr, MM_NC_FRAMING_CHUNKED);
            continue;
        }
        bool close_session = strstr(msg, "<close-session/>") != NULL;
        const char *id = strstr(msg, "message-id=\"");
        char reply[256];
        snprintf(reply, sizeof(reply),
                 "<rpc-reply xmlns=\"" MM_NC_NS_BASE "\" message-id=\"%.*s\"><ok/></rpc-reply>",
                 id ? (int)strcspn(id + 12, "\"") : 0, id ? id + 12 : "");
        send_framed(ssl, MM_NC_FRAMING_CHUNKED, reply);
        if (close_session)
            break;
    }
    mm_nc_framer_free(&fr);
}

static void *server_main(void *arg)
{
    tls_server *t = arg;
    int fd = accept(t->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (t->silent) {
        char b[64];
        while (read(fd, b, sizeof(b)) > 0) {
        }
        close(fd);
        return NULL;
    }
    mm_tls_config cfg = {.ca_file = ca, .cert_file = srv_cert, .key_file = srv_key};
    SSL_CTX *ctx = mm_tls_ctx_new_server(&cfg);
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (ssl) {
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1)
            serve(t, ssl);
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    SSL_CTX_free(ctx);
    close(fd);
    return NULL;
}

static void server_start(tls_server *t, bool silent)
{
    memset(t, 0, sizeof(*t));
    t->silent = silent;
    t->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(t->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(t->lfd, 4), 0);
    socklen_t sl = sizeof(a);
    getsockname(t->lfd, (struct sockaddr *)&a, &sl);
    t->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&t->thread, NULL, server_main, t), 0);
}

static void server_stop(tls_server *t)
{
    shutdown(t->lfd, SHUT_RDWR);
    pthread_join(t->thread, NULL);
    close(t->lfd);
}

static mm_nc_tls_client_config client_cfg(const char *host, uint16_t port)
{
    mm_nc_tls_client_config c = {.host = host,
                                 .port = port,
                                 .ca_file = ca,
                                 .cert_file = cert,
                                 .key_file = key,
                                 .timeout_ms = 3000};
    return c;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(pki, sizeof(pki), "/tmp/mm-test-nctls-%ld", (long)getpid());
    snprintf(other_pki, sizeof(other_pki), "/tmp/mm-test-nctls-other-%ld", (long)getpid());
    if (mm_pki_init(pki, true) < 0 || mm_pki_init(other_pki, true) < 0)
        return -1;
    mm_pki_path(pki, MM_PKI_CA_CERT, ca, sizeof(ca));
    mm_pki_path(pki, MM_PKI_CLIENT_CERT, cert, sizeof(cert));
    mm_pki_path(pki, MM_PKI_CLIENT_KEY, key, sizeof(key));
    mm_pki_path(pki, MM_PKI_SERVER_CERT, srv_cert, sizeof(srv_cert));
    mm_pki_path(pki, MM_PKI_SERVER_KEY, srv_key, sizeof(srv_key));
    mm_pki_path(other_pki, MM_PKI_CA_CERT, other_ca, sizeof(other_ca));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", pki, other_pki);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- tests */

static void run_session(const char *host, uint16_t port, const char *server_name)
{
    mm_nc_tls_client_config cfg = client_cfg(host, port);
    cfg.server_name = server_name;
    mm_nc_tls_stream *s = NULL;
    char why[256] = "";
    int rc = mm_nc_tls_connect(&cfg, &s, why, sizeof(why));
    if (rc < 0)
        fail_msg("connect: %s", why);
    assert_non_null(mm_nc_tls_stream_group(s));
    mm_nc_client_io io;
    mm_nc_tls_stream_io(s, &io);
    mm_nc_client *c = NULL;
    assert_int_equal(mm_nc_client_new_ex(&io, 0, 3000, &c, why, sizeof(why)), 0);
    assert_int_equal(mm_nc_client_session_id(c), 5);
    char *r = NULL;
    assert_int_equal(mm_nc_client_rpc(c, "<get/>", &r, 3000), 0);
    assert_non_null(strstr(r, "<ok/>"));
    free(r);
    assert_int_equal(mm_nc_client_close(c), 0);
    mm_nc_tls_stream_close(s);
}

static void test_tls_session(void **state)
{
    (void)state;
    tls_server t;
    server_start(&t, false);
    run_session("127.0.0.1", t.port, NULL); /* iPAddress SAN */
    server_stop(&t);
    assert_true(t.handshake_ok);
    assert_string_equal(t.peer_cn, "admin");

    server_start(&t, false);
    run_session("127.0.0.1", t.port, "localhost"); /* dNSName SAN, case-insensitive below */
    server_stop(&t);
    server_start(&t, false);
    run_session("localhost", t.port, "LOCALHOST");
    server_stop(&t);
}

static void expect_connect_error(mm_nc_tls_client_config *cfg, int want, const char *why_part)
{
    mm_nc_tls_stream *s = NULL;
    char why[256] = "";
    int rc = mm_nc_tls_connect(cfg, &s, why, sizeof(why));
    if (rc != want)
        fail_msg("rc %d (%s), want %d", rc, why, want);
    assert_null(s);
    if (!strstr(why, why_part))
        fail_msg("reason \"%s\" lacks \"%s\"", why, why_part);
}

/* RFC 7589 section 6: a certificate for another name is rejected. */
static void test_wrong_server_name(void **state)
{
    (void)state;
    tls_server t;
    server_start(&t, false);
    mm_nc_tls_client_config cfg = client_cfg("127.0.0.1", t.port);
    cfg.server_name = "router.example.net";
    expect_connect_error(&cfg, MM_EVERIFY, "server certificate rejected");
    server_stop(&t);
    assert_false(t.handshake_ok);
    /* an IP address not in the certificate */
    server_start(&t, false);
    cfg.port = t.port;
    cfg.server_name = "192.0.2.1";
    expect_connect_error(&cfg, MM_EVERIFY, "server certificate rejected");
    server_stop(&t);
}

static void test_wrong_ca(void **state)
{
    (void)state;
    tls_server t;
    server_start(&t, false);
    mm_nc_tls_client_config cfg = client_cfg("127.0.0.1", t.port);
    cfg.ca_file = other_ca;
    expect_connect_error(&cfg, MM_EVERIFY, "server certificate rejected");
    server_stop(&t);
}

static void test_client_cert_required(void **state)
{
    (void)state;
    mm_nc_tls_client_config cfg = client_cfg("127.0.0.1", 1);
    cfg.cert_file = NULL;
    expect_connect_error(&cfg, MM_EINVAL, "client certificate");
    cfg = client_cfg("127.0.0.1", 1);
    cfg.key_file = "/nonexistent/key.pem";
    tls_server t;
    server_start(&t, false);
    cfg.port = t.port;
    expect_connect_error(&cfg, MM_ECONFIG, "cannot set up TLS");
    server_stop(&t);
}

static void test_connect_errors(void **state)
{
    (void)state;
    /* a port nobody listens on */
    tls_server t;
    server_start(&t, true);
    uint16_t port = t.port;
    server_stop(&t);
    mm_nc_tls_client_config cfg = client_cfg("127.0.0.1", port);
    expect_connect_error(&cfg, MM_EIO, "cannot connect");
    cfg.host = "no-such-host.invalid";
    expect_connect_error(&cfg, MM_ENOENT, "cannot resolve");
    /* a server that accepts and never answers: the handshake times out */
    server_start(&t, true);
    cfg = client_cfg("127.0.0.1", t.port);
    cfg.timeout_ms = 200;
    expect_connect_error(&cfg, MM_ETIMEOUT, "timed out");
    server_stop(&t);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    mm_log_set_level(MM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_session),    cmocka_unit_test(test_wrong_server_name),
        cmocka_unit_test(test_wrong_ca),       cmocka_unit_test(test_client_cert_required),
        cmocka_unit_test(test_connect_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
