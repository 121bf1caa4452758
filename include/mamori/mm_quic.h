/*
 * mm_quic.h - QUIC endpoints (ngtcp2 + a pluggable TLS 1.3 backend) driven
 * by libevent: a generic transport any module can use. NETCONF over QUIC
 * (draft-ietf-netconf-over-quic-06) is built on it in src/netconf
 * (mm_netconf_quic.h).
 *
 * Layers:
 *  - endpoint/connection: one UDP socket per endpoint (server: many
 *    connections demultiplexed by connection ID; client: one), an event per
 *    socket and a timer per connection for ngtcp2's expiry. Mutual X.509 is
 *    always on, ALPN is exactly one token ("noq" by default), there is no
 *    0-RTT and there are no session tickets.
 *
 * Functions return 0 or a negative MM_E* code, or a pointer (NULL on error).
 * Nothing here is thread-safe: one event_base, one thread.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_QUIC_H
#define MAMORI_MM_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MM_QUIC_ALPN_NETCONF "noq"

/*
 * Key-exchange groups offered, in order (the OpenSSL backend; a ClientHello
 * carries a key share for the first only, others cost a HelloRetryRequest).
 * The GnuTLS backend has a fixed classical list (X25519, P-256, P-384).
 */
#define MM_QUIC_DEFAULT_GROUPS \
    "X25519SCloud+128:X25519MLKEM768:SecP256r1SCloud+192:SecP384r1SCloud+256:X25519"

/* NETCONF-over-QUIC application error codes (draft -06 section 7). */
enum mm_quic_nc_error {
    MM_QUIC_NC_NO_ERROR = 0x00,            /* normal close */
    MM_QUIC_NC_CLOSE_SESSION_ERROR = 0x01, /* peer closes a session it did not initiate */
    MM_QUIC_NC_CLOSE_STREAM_ERROR = 0x02,  /* stream closed/refused while the session runs */
};

/* QUIC CRYPTO_ERROR for the TLS alert no_application_protocol (RFC 9001 section 8.1). */
#define MM_QUIC_ERR_NO_ALPN 0x178u

typedef struct mm_quic_endpoint mm_quic_endpoint;
typedef struct mm_quic_conn mm_quic_conn;
typedef struct mm_quic_tls_backend mm_quic_tls_backend;

typedef struct mm_quic_config {
    /* PEM files. Server: cert/key/ca required (clients must chain to ca).
     * Client: ca required, cert/key required (mutual authentication). */
    const char *ca_file;
    const char *cert_file;
    const char *key_file;
    const char *crl_file; /* optional; also re-read for continuous verification */
    const char *alpn;     /* NULL: "noq" */
    /* Client: the name or address the server certificate must match (and
     * SNI for a DNS name); NULL: the host given to mm_quic_connect(). */
    const char *server_name;
    uint32_t idle_timeout_ms;      /* 0: no idle timeout (RFC 9000 max_idle_timeout 0) */
    uint32_t keep_alive_ms;        /* 0: no PING keep-alive */
    uint32_t handshake_timeout_ms; /* 0: 10 s */
    bool retry;                    /* server: validate addresses with Retry */
    /* Server: 32 bytes keying Retry and stateless reset tokens; keep it across
     * restarts so old clients get a stateless reset. NULL: random per start. */
    const uint8_t *static_secret;
    /* Streams the peer may open (server for NETCONF: bidi 1, uni 0;
     * client: bidi 0, uni = subscriptions). */
    uint64_t max_streams_bidi;
    uint64_t max_streams_uni;
    /* Server: re-verify every client chain this often (0: 1000 ms; CA and CRL
     * files are re-read when they change). */
    uint32_t verify_interval_ms;
    /* Back-pressure: while more than this many bytes sent on a stream wait to
     * be acknowledged, data received on that stream earns the peer no new
     * stream or connection credit; the credit is granted once the backlog is
     * down to half, and on_stream_drained runs. 0: no limit. */
    size_t max_send_queue;
    const mm_quic_tls_backend *backend; /* NULL: the build's backend (mm_quic_tls_name()) */
    /* Tests only: a client that asks for 0-RTT and tries to resume with the
     * session data of an earlier connection (mm_quic_conn_tls_session_data).
     * The server never issues tickets nor accepts early data: this fails closed. */
    bool test_try_early_data;
    const uint8_t *test_resume;
    size_t test_resume_len;
    /* Colon-separated key-exchange groups, as mm_tls_config.groups; NULL:
     * MM_QUIC_DEFAULT_GROUPS. Ignored by the GnuTLS backend. */
    const char *groups;
} mm_quic_config;

/* Why a connection ended. */
typedef struct mm_quic_close_info {
    bool local;          /* we closed it */
    bool app;            /* application error space (else transport) */
    uint64_t error_code; /* QUIC error code (app or transport) */
    bool idle;           /* idle timeout or handshake timeout */
    bool stateless_reset;
    const char *reason; /* short text, never NULL */
} mm_quic_close_info;

typedef struct mm_quic_callbacks {
    /* Handshake done, peer verified, ALPN agreed. <0: close (app error 0). */
    int (*on_connected)(mm_quic_conn *c, void *arg);
    /* The peer opened stream sid. <0: refuse it (the callee may have shut it down). */
    int (*on_stream_open)(mm_quic_conn *c, int64_t sid, void *arg);
    /* In-order bytes of stream sid; fin is set on the last call. <0: close the connection. */
    int (*on_stream_data)(mm_quic_conn *c, int64_t sid, const uint8_t *data, size_t len,
                          bool fin, void *arg);
    /* RESET_STREAM or STOP_SENDING from the peer. */
    void (*on_stream_reset)(mm_quic_conn *c, int64_t sid, uint64_t app_error, void *arg);
    /* Continuous verification failed (expired, revoked, CA changed). The
     * callee should end its session; the connection is closed right after. */
    void (*on_peer_invalid)(mm_quic_conn *c, const char *reason, void *arg);
    /* The backlog of stream sid went from over max_send_queue to half of it
     * (runs inside the connection's processing: only queue data here). */
    void (*on_stream_drained)(mm_quic_conn *c, int64_t sid, void *arg);
    /* The connection is gone; c is freed after this returns. */
    void (*on_closed)(mm_quic_conn *c, const mm_quic_close_info *info, void *arg);
} mm_quic_callbacks;

/* ---------------------------------------------------------------- endpoints */

/* A listening server on addr (numeric, NULL: "::1") and port (0: ephemeral). */
int mm_quic_server_new(struct event_base *base, const mm_quic_config *cfg, const char *addr,
                       uint16_t port, const mm_quic_callbacks *cbs, void *arg,
                       mm_quic_endpoint **out);
/*
 * A client connection to host (numeric or DNS) and port; the handshake runs
 * on base. cbs->on_connected or cbs->on_closed reports the outcome.
 */
int mm_quic_connect(struct event_base *base, const mm_quic_config *cfg, const char *host,
                    uint16_t port, const mm_quic_callbacks *cbs, void *arg, mm_quic_conn **out);
/* Close every connection now (CONNECTION_CLOSE with app_error; on_closed runs). */
void mm_quic_endpoint_shutdown(mm_quic_endpoint *ep, uint64_t app_error);
/* Frees every connection (silently, no callbacks) and the socket. */
void mm_quic_endpoint_free(mm_quic_endpoint *ep);
uint16_t mm_quic_endpoint_port(const mm_quic_endpoint *ep);
size_t mm_quic_endpoint_conn_count(const mm_quic_endpoint *ep);
/* Re-read CA/CRL files now (also done on change automatically). */
int mm_quic_endpoint_reload_trust(mm_quic_endpoint *ep);

/* ---------------------------------------------------------------- connections */

void mm_quic_conn_set_data(mm_quic_conn *c, void *data);
void *mm_quic_conn_get_data(const mm_quic_conn *c);
bool mm_quic_conn_is_server(const mm_quic_conn *c);
bool mm_quic_conn_established(const mm_quic_conn *c);
/* The endpoint of a client connection (free it with mm_quic_endpoint_free). */
mm_quic_endpoint *mm_quic_conn_endpoint(mm_quic_conn *c);
const char *mm_quic_conn_peer(const mm_quic_conn *c);
/* Negotiated ALPN (not NUL-terminated), NULL before the handshake. */
const uint8_t *mm_quic_conn_alpn(const mm_quic_conn *c, size_t *len);
/* true if the TLS session was resumed or early data was accepted (never should be). */
bool mm_quic_conn_resumed(const mm_quic_conn *c);
/* Did address validation by Retry precede this connection? */
bool mm_quic_conn_retried(const mm_quic_conn *c);
bool mm_quic_conn_early_data_accepted(const mm_quic_conn *c);
/* Client: the TLS session state a resumption would need (tests). */
int mm_quic_conn_tls_session_data(mm_quic_conn *c, uint8_t *out, size_t cap, size_t *len);
/* Number of DER certificates the peer presented (leaf first), and one of them. */
size_t mm_quic_conn_peer_cert_count(const mm_quic_conn *c);
const uint8_t *mm_quic_conn_peer_cert(const mm_quic_conn *c, size_t i, size_t *len);
/*
 * The peer's verified chain (leaf to trust anchor) as OpenSSL objects, built
 * against the endpoint's current CA/CRL: a STACK_OF(X509) * owned by c, so
 * that cert-to-name (mm_ctn_resolve) sees the same chain as over TLS.
 */
void *mm_quic_conn_peer_chain(mm_quic_conn *c);

int mm_quic_conn_open_bidi(mm_quic_conn *c, int64_t *sid);
int mm_quic_conn_open_uni(mm_quic_conn *c, int64_t *sid);
/* Queue bytes on a stream (copied); fin ends the stream after them. */
int mm_quic_conn_send(mm_quic_conn *c, int64_t sid, const uint8_t *data, size_t len, bool fin);
/* STOP_SENDING and RESET_STREAM with app_error (refuse or abort a stream). */
int mm_quic_conn_stream_shutdown(mm_quic_conn *c, int64_t sid, uint64_t app_error);
/* Bytes queued on sid and not yet acknowledged. */
size_t mm_quic_conn_unacked(const mm_quic_conn *c, int64_t sid);
/*
 * Close with an application error. graceful: first let queued stream data be
 * acknowledged (bounded by a few PTOs); else CONNECTION_CLOSE at once.
 * on_closed is called when the connection is gone.
 */
void mm_quic_conn_close(mm_quic_conn *c, uint64_t app_error, const char *reason, bool graceful);
/* Drop the connection without telling the peer (tests: a vanished client). */
void mm_quic_conn_abandon(mm_quic_conn *c);
/* Send what is queued now (normally done by the event loop). */
int mm_quic_conn_flush(mm_quic_conn *c);

/* Negotiated key-exchange group ("X25519SCloud+128", "X25519MLKEM768", ...),
 * NULL before the handshake. */
const char *mm_quic_conn_tls_group(const mm_quic_conn *c);
/* The TLS backend of this build: "openssl" or "gnutls". */
const char *mm_quic_tls_name(void);
/* true if this build's QUIC offers groups from mm_quic_config.groups (OpenSSL backend). */
bool mm_quic_tls_has_groups(void);
/* The max_idle_timeout the peer advertised, in ms (0: none). */
uint64_t mm_quic_conn_peer_idle_timeout_ms(const mm_quic_conn *c);

/* Smoothed RTT in microseconds (diagnostics, benchmarks). */
uint64_t mm_quic_conn_srtt_us(const mm_quic_conn *c);

#ifdef __cplusplus
}
#endif
#endif
