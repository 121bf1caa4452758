/*
 * client/tls.c - client transports for mm_nc_client: a TCP connect with a
 * timeout, and NETCONF over TLS (RFC 7589) through the mamori TLS layer
 * (TLS 1.3, hybrid groups first, mutual X.509 with the mamori PKI).
 *
 * The server is authenticated by its chain (ca_file) and by name: the
 * host or address we connected to, or server_name, must match a dNSName
 * or iPAddress of its certificate (RFC 7589 section 6, via
 * mm_tls_set_peer_name). The socket is non-blocking underneath so that
 * every wait is bounded by poll().
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_tls.h"

#define DEFAULT_TIMEOUT_MS 30000

struct mm_nc_tls_stream {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

__attribute__((format(printf, 3, 4))) static int why_set(char *why, size_t len, const char *fmt,
                                                         ...)
{
    if (why && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static int set_nonblocking(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return MM_ESYS;
    fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
    return fcntl(fd, F_SETFL, fl) < 0 ? MM_ESYS : 0;
}

/* 1 ready, 0 timeout, <0 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int r = poll(&p, 1, mm_deadline_left_ms(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? MM_ESYS : r;
    }
}

/* ---------------------------------------------------------------- TCP */

static int connect_one(const struct addrinfo *ai, int64_t deadline, int *fd)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0)
        return -errno;
    if (set_nonblocking(s, true) < 0) {
        close(s);
        return -EIO;
    }
    int err = 0;
    if (connect(s, ai->ai_addr, ai->ai_addrlen) < 0) {
        err = errno;
        if (err == EINPROGRESS) {
            int r = wait_fd(s, POLLOUT, deadline);
            socklen_t sl = sizeof(err);
            if (r == 0)
                err = ETIMEDOUT;
            else if (r < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
                err = EIO;
        }
    }
    if (err) {
        close(s);
        return -err;
    }
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *fd = s;
    return 0;
}

int mm_nc_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fd, char *why,
                      size_t why_len)
{
    *fd = -1;
    MM_ENSURE(host && *host, MM_EINVAL);
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        why_set(why, why_len, "cannot resolve %s: %s", host, gai_strerror(gai));
        return MM_ENOENT;
    }
    int64_t deadline = mm_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS);
    int last = ECONNREFUSED;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int rc = connect_one(ai, deadline, fd);
        if (rc == 0)
            break;
        last = -rc;
    }
    freeaddrinfo(res);
    if (*fd < 0) {
        why_set(why, why_len, "cannot connect to %s port %u: %s", host, port, strerror(last));
        return last == ETIMEDOUT ? MM_ETIMEOUT : MM_EIO;
    }
    if (set_nonblocking(*fd, false) < 0) {
        close(*fd);
        *fd = -1;
        return MM_ESYS;
    }
    return 0;
}

/* ---------------------------------------------------------------- tcp-direct */

/*
 * yuma123's netconfd accepts plain TCP on --tcp-direct-port when the first
 * message is an <ncx-connect> carrying the server's built-in magic string
 * (the value its netconf-subsystem and yangcli use; yuma123 2.13). The
 * session then runs as `user`. Never for production: no authentication.
 */
#define NCX_URN "http://netconfcentral.org/ns/yuma-ncx"
#define NCX_MAGIC "x56o8937ab17eg922z34rwhobskdbyswfehkpsqq3i55a0an960ccw24a4ek864aOpal1t2p"

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

/* Every address host resolves to must be loopback. */
static int check_loopback(const char *host, char *why, size_t why_len)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &res);
    if (gai != 0) {
        why_set(why, why_len, "cannot resolve %s: %s", host, gai_strerror(gai));
        return MM_ENOENT;
    }
    bool ok = res != NULL;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        ok = ok && is_loopback(ai->ai_addr);
    freeaddrinfo(res);
    if (!ok) {
        why_set(why, why_len, "tcp-direct is plaintext: refused for %s (loopback only)", host);
        return MM_EPERM;
    }
    return 0;
}

static bool attr_safe(const char *s)
{
    return s && *s && strlen(s) < 256 && strpbrk(s, "<>&\"'\r\n") == NULL;
}

int mm_nc_tcp_direct_connect(const char *host, uint16_t port, const char *user, int timeout_ms,
                             int *fd, char *why, size_t why_len)
{
    *fd = -1;
    if (!attr_safe(user)) {
        why_set(why, why_len, "invalid user name for tcp-direct");
        return MM_EINVAL;
    }
    MM_GUARD(check_loopback(host, why, why_len));
    MM_GUARD(mm_nc_tcp_connect(host, port, timeout_ms, fd, why, why_len));
    char msg[768];
    int n = snprintf(msg, sizeof(msg),
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<ncx-connect xmlns=\"%s\" version=\"1\" user=\"%s\" "
                     "address=\"127.0.0.1\" magic=\"%s\" transport=\"ssh\" port=\"830\" />\n"
                     "]]>]]>",
                     NCX_URN, user, NCX_MAGIC);
    const char *p = msg;
    size_t left = (size_t)n;
    while (left > 0) {
        ssize_t w = send(*fd, p, left, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            why_set(why, why_len, "cannot send the ncx-connect preamble: %s", strerror(errno));
            close(*fd);
            *fd = -1;
            return MM_EIO;
        }
        p += w;
        left -= (size_t)w;
    }
    /*
     * netconfd reads the preamble and whatever follows it in one go and
     * drops the rest: wait until it answers (its <hello>) before our hello
     * goes out. The data stays queued for the client.
     */
    int64_t deadline = mm_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS);
    int r = wait_fd(*fd, POLLIN, deadline);
    if (r <= 0) {
        why_set(why, why_len, "no answer to the ncx-connect preamble");
        close(*fd);
        *fd = -1;
        return r == 0 ? MM_ETIMEOUT : MM_EIO;
    }
    return 0;
}

/* ---------------------------------------------------------------- TLS */

static const char *ossl_error(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    if (!e)
        return "connection closed during the handshake";
    ERR_error_string_n(e, buf, len);
    return buf;
}

/* Drive one SSL call to completion or deadline: 1 done, 0 timeout, <0 error. */
static int ssl_wait(SSL *ssl, int fd, int ret, int64_t deadline)
{
    int e = SSL_get_error(ssl, ret);
    short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (!ev)
        return e == SSL_ERROR_ZERO_RETURN ? MM_ECLOSED : MM_EIO;
    int r = wait_fd(fd, ev, deadline);
    return r < 0 ? MM_ESYS : r;
}

static int handshake(mm_nc_tls_stream *s, int64_t deadline, char *why, size_t why_len)
{
    for (;;) {
        ERR_clear_error();
        int ret = SSL_connect(s->ssl);
        if (ret == 1)
            return 0;
        int r = ssl_wait(s->ssl, s->fd, ret, deadline);
        if (r == 0) {
            why_set(why, why_len, "TLS handshake timed out");
            return MM_ETIMEOUT;
        }
        if (r < 0)
            break;
    }
    long vr = SSL_get_verify_result(s->ssl);
    if (vr != X509_V_OK) {
        why_set(why, why_len, "server certificate rejected: %s", X509_verify_cert_error_string(vr));
        return MM_EVERIFY;
    }
    char buf[256];
    why_set(why, why_len, "TLS handshake failed: %s", ossl_error(buf, sizeof(buf)));
    return MM_ECRYPTO;
}

static int tls_setup(mm_nc_tls_stream *s, const mm_nc_tls_client_config *cfg, char *why,
                     size_t why_len)
{
    mm_tls_config tc = {
        .ca_file = cfg->ca_file,
        .cert_file = cfg->cert_file,
        .key_file = cfg->key_file,
        .groups = cfg->groups,
    };
    s->ctx = mm_tls_ctx_new_client(&tc);
    if (!s->ctx) {
        why_set(why, why_len, "cannot set up TLS with ca %s, cert %s, key %s", cfg->ca_file,
                cfg->cert_file, cfg->key_file);
        return MM_ECONFIG;
    }
    s->ssl = SSL_new(s->ctx);
    MM_ENSURE(s->ssl, MM_ENOMEM);
    const char *name = cfg->server_name ? cfg->server_name : cfg->host;
    if (mm_tls_set_peer_name(s->ssl, name) < 0) {
        why_set(why, why_len, "invalid server name \"%s\"", name);
        return MM_EINVAL;
    }
    MM_ENSURE(SSL_set_fd(s->ssl, s->fd) == 1, MM_ECRYPTO);
    return 0;
}

int mm_nc_tls_connect(const mm_nc_tls_client_config *cfg, mm_nc_tls_stream **out, char *why,
                      size_t why_len)
{
    *out = NULL;
    MM_ENSURE(cfg && cfg->host && cfg->ca_file, MM_EINVAL);
    /* RFC 7589 section 7: the server must see a client certificate. */
    if (!cfg->cert_file || !cfg->key_file) {
        why_set(why, why_len, "a client certificate and key are required");
        return MM_EINVAL;
    }
    int timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    int64_t deadline = mm_monotonic_ms() + timeout;
    mm_nc_tls_stream *s = calloc(1, sizeof(*s));
    MM_ENSURE(s, MM_ENOMEM);
    uint16_t port = cfg->port ? cfg->port : MM_NC_TLS_PORT;
    int rc = 0;
    if (cfg->fd > 0)
        s->fd = cfg->fd; /* call home (RFC 8071): the TCP connection came from the server */
    else
        rc = mm_nc_tcp_connect(cfg->host, port, timeout, &s->fd, why, why_len);
    if (rc == 0)
        rc = set_nonblocking(s->fd, true);
    if (rc == 0)
        rc = tls_setup(s, cfg, why, why_len);
    if (rc == 0)
        rc = handshake(s, deadline, why, why_len);
    if (rc < 0) {
        SSL_free(s->ssl);
        SSL_CTX_free(s->ctx);
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return rc;
    }
    mm_log_debug("nc_tls_connect", "host=%s port=%u group=%s", cfg->host, port,
                 mm_nc_tls_stream_group(s) ? mm_nc_tls_stream_group(s) : "?");
    *out = s;
    return 0;
}

static int tls_send(void *io, const uint8_t *data, size_t len)
{
    mm_nc_tls_stream *s = io;
    while (len > 0) {
        size_t n = 0;
        ERR_clear_error();
        int ret = SSL_write_ex(s->ssl, data, len, &n);
        if (ret == 1) {
            data += n;
            len -= n;
            continue;
        }
        int r = ssl_wait(s->ssl, s->fd, ret, -1);
        if (r < 0)
            return r == MM_ECLOSED ? MM_ECLOSED : MM_EIO;
    }
    return 0;
}

static long tls_recv(void *io, uint8_t *buf, size_t cap, int timeout_ms)
{
    mm_nc_tls_stream *s = io;
    int64_t deadline = timeout_ms < 0 ? -1 : mm_monotonic_ms() + timeout_ms;
    for (;;) {
        size_t n = 0;
        ERR_clear_error();
        int ret = SSL_read_ex(s->ssl, buf, cap, &n);
        if (ret == 1)
            return (long)n;
        /* a peer that vanishes without close_notify is end of stream too */
        if (SSL_get_error(s->ssl, ret) == SSL_ERROR_SYSCALL)
            return 0;
        int r = ssl_wait(s->ssl, s->fd, ret, deadline);
        if (r == MM_ECLOSED)
            return 0;
        if (r == 0)
            return MM_ETIMEOUT;
        if (r < 0)
            return MM_EIO;
    }
}

void mm_nc_tls_stream_io(mm_nc_tls_stream *s, mm_nc_client_io *io)
{
    io->send = tls_send;
    io->recv = tls_recv;
    io->io = s;
}

const char *mm_nc_tls_stream_group(mm_nc_tls_stream *s)
{
    return s && s->ssl ? mm_tls_negotiated_group_name(s->ssl) : NULL;
}

void mm_nc_tls_stream_close(mm_nc_tls_stream *s)
{
    if (!s)
        return;
    if (s->ssl) {
        ERR_clear_error();
        SSL_shutdown(s->ssl); /* close_notify; do not wait for the peer's */
        SSL_free(s->ssl);
    }
    SSL_CTX_free(s->ctx);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}
