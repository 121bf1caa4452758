/*
 * quic_internal.h - the pieces of src/quic shared between its files.
 *
 * endpoint.c   UDP socket, demultiplexing, Retry, stateless reset, accept
 * conn.c       one ngtcp2_conn: callbacks, read, write loop, close
 * stream.c     per-stream send queues kept until acknowledged
 * timer.c      the ngtcp2 expiry timer and the clock
 * verify.c     X.509 chain building and continuous verification (OpenSSL)
 * tls_gnutls.c the GnuTLS backend behind mm_quic_tls_backend
 * tls_ossl.c   the OpenSSL >= 3.5 backend (hybrid post-quantum groups)
 * tls.c        which backend is the default, and what conn.c needs of it
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_QUIC_INTERNAL_H
#define MM_QUIC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <openssl/x509.h>

#include "mamori/mm_quic.h"

#define MM_QUIC_MAX_SCIDS 8
#define MM_QUIC_CID_LEN 18
#define MM_QUIC_PKT_MAX 1452
#define MM_QUIC_SECRET_LEN 32
/* RFC 9002 section 7.2 initial window (10 x 1200, the lower bound of min(10 x max_datagram_size,
 * max(14720, 2 x max_datagram_size))): sent before pacing starts. */
#define MM_QUIC_UNPACED_BYTES 12000
/* Packets of congestion window bulk streams leave free while a notification stream is open. */
#define MM_QUIC_URGENT_HEADROOM 2
/* ...when the window holds at least this many packets (the headroom is then at most a quarter). */
#define MM_QUIC_URGENT_MIN_CWND 8

/* ---------------------------------------------------------------- TLS backend */

/*
 * What a TLS 1.3 library must provide to carry QUIC. The ngtcp2 crypto
 * callbacks (AEAD, header protection, key derivation) come from the matching
 * libngtcp2_crypto_<backend>, chosen at build time (meson -Dquic_tls), so a
 * build has exactly one backend; everything that touches the TLS library's
 * own objects goes through this table.
 */
struct mm_quic_tls_backend {
    const char *name;
    /* Credentials and policy of one endpoint. */
    int (*ctx_new)(const mm_quic_config *cfg, bool server, void **ctx);
    void (*ctx_free)(void *ctx);
    /*
     * A TLS session bound to an ngtcp2 connection through ref (the backend
     * stores ref where ngtcp2_crypto_<backend> expects it). Sets TLS 1.3 only,
     * ALPN, no tickets, no early data, peer verification (server_name on a client).
     */
    int (*session_new)(void *ctx, ngtcp2_crypto_conn_ref *ref, const char *server_name,
                       void **sess);
    void (*session_free)(void *sess);
    /* What ngtcp2_conn_set_tls_native_handle() needs. */
    void *(*native_handle)(void *sess);
    /* Negotiated ALPN; false if none. */
    bool (*alpn)(void *sess, const uint8_t **p, size_t *len);
    /* DER certificates the peer sent, leaf first (pointers valid while sess lives). */
    size_t (*peer_certs)(void *sess, const uint8_t **der, size_t *len, size_t max);
    bool (*resumed)(void *sess);
    bool (*early_data_accepted)(void *sess);
    /* Client test hook: offer early data and try to resume with saved data. */
    int (*try_resume)(void *sess, const uint8_t *data, size_t len);
    /* Client: serialized session for a later resumption attempt (may be empty). */
    int (*session_data)(void *sess, uint8_t *out, size_t cap, size_t *len);
    /* Name of the negotiated key-exchange group, NULL before the handshake. */
    const char *(*group)(void *sess);
};

/* The one backend this build has (tls.c): mm_quic_tls_ossl or mm_quic_tls_gnutls. */
extern const mm_quic_tls_backend mm_quic_tls_ossl;
extern const mm_quic_tls_backend mm_quic_tls_gnutls;
const mm_quic_tls_backend *mm_quic_tls_default(void);

/* ---------------------------------------------------------------- verify */

typedef struct mm_quic_verifier mm_quic_verifier;

int mm_quic_verifier_new(const char *ca_file, const char *crl_file, mm_quic_verifier **out);
void mm_quic_verifier_free(mm_quic_verifier *v);
/* Re-read the files if they changed (force: always). 1 if reloaded. */
int mm_quic_verifier_refresh(mm_quic_verifier *v, bool force);
/* Build and verify the chain of DER certs (leaf first) now; *chain gets the
 * verified chain (leaf .. anchor) on success (caller frees). */
int mm_quic_verifier_check(mm_quic_verifier *v, const uint8_t *const *der, const size_t *len,
                           size_t n, STACK_OF(X509) **chain, const char **why);

/* ---------------------------------------------------------------- streams */

typedef struct mm_quic_block mm_quic_block;

/*
 * One stream's outgoing data: ngtcp2 keeps pointers to sent data until it is
 * acknowledged, so bytes live in fixed blocks that never move.
 */
typedef struct mm_quic_stream {
    int64_t id;
    mm_quic_block *head, *tail;
    uint64_t acked;     /* stream offset acknowledged (head starts here) */
    uint64_t sent;      /* stream offset handed to ngtcp2 */
    uint64_t queued;    /* stream offset of the end of queued data */
    bool fin_queued, fin_sent, blocked, shut;
    bool over;            /* backlog over max_send_queue: peer credit withheld */
    uint64_t credit_owed; /* bytes received and not yet credited back */
    int prio; /* lower goes first: notification streams before the RPC stream */
    struct mm_quic_stream *next;
} mm_quic_stream;

mm_quic_stream *mm_quic_stream_new(int64_t id, int prio);
void mm_quic_stream_free(mm_quic_stream *s);
int mm_quic_stream_push(mm_quic_stream *s, const uint8_t *data, size_t len);
/* Unsent bytes as iovecs (up to n); returns the count. */
size_t mm_quic_stream_pending(const mm_quic_stream *s, ngtcp2_vec *v, size_t n);
bool mm_quic_stream_has_pending(const mm_quic_stream *s);
void mm_quic_stream_sent(mm_quic_stream *s, size_t n);
void mm_quic_stream_acked(mm_quic_stream *s, uint64_t offset, uint64_t len);

/* ---------------------------------------------------------------- timer */

ngtcp2_tstamp mm_quic_now(void);
/* (Re)arm ev for ngtcp2 expiry ts (UINT64_MAX: disarm). */
void mm_quic_timer_arm(struct event *ev, ngtcp2_tstamp expiry);

/* ---------------------------------------------------------------- connection */

struct mm_quic_conn {
    mm_quic_endpoint *ep;
    ngtcp2_conn *conn;
    ngtcp2_crypto_conn_ref ref;
    void *tls;
    struct sockaddr_storage local, remote;
    socklen_t locallen, remotelen;
    char peer[64];
    ngtcp2_cid scids[MM_QUIC_MAX_SCIDS];
    size_t nscids;
    ngtcp2_cid odcid; /* client's first DCID (server) */
    mm_quic_stream *streams;
    struct event *timer;
    void *user;
    STACK_OF(X509) *chain;
    uint8_t close_pkt[MM_QUIC_PKT_MAX];
    size_t close_pkt_len;
    uint64_t close_error;
    const char *close_reason;
    ngtcp2_tstamp close_deadline;
    bool established, closing_wait, close_now, closed, dead, notified;
    uint64_t tx_bytes; /* UDP payload bytes sent; pacing starts at MM_QUIC_UNPACED_BYTES */
    int busy; /* inside ngtcp2 or an application callback: defer writes */
    void *tls_ctx; /* the endpoint TLS context this connection's session uses */
    mm_quic_close_info info;
    struct mm_quic_conn *next;
};

struct mm_quic_endpoint {
    struct event_base *base;
    mm_quic_config cfg;
    const mm_quic_tls_backend *tls;
    void *tls_ctx;
    /* Contexts replaced after a trust-anchor change, freed when no
     * connection's TLS session uses them any more. */
    void *retired_ctx[16];
    size_t n_retired;
    mm_quic_verifier *verifier;
    mm_quic_callbacks cbs;
    void *arg;
    bool server;
    bool freeing; /* mm_quic_endpoint_free() is running */
    int fd;
    struct event *rd;
    struct event *verify_timer;
    struct sockaddr_storage local;
    socklen_t locallen;
    mm_quic_conn *conns;
    size_t nconns;
    uint8_t secret[MM_QUIC_SECRET_LEN]; /* Retry tokens, stateless reset tokens */
    char *host;                          /* client: name to verify */
};

int mm_quic_conn_new_server(mm_quic_endpoint *ep, const ngtcp2_pkt_hd *hd,
                            const ngtcp2_cid *odcid, const ngtcp2_cid *retry_scid,
                            const struct sockaddr *remote, socklen_t remotelen,
                            mm_quic_conn **out);
int mm_quic_conn_new_client(mm_quic_endpoint *ep, const struct sockaddr *remote,
                            socklen_t remotelen, mm_quic_conn **out);
/* A datagram for this connection. */
void mm_quic_conn_input(mm_quic_conn *c, const uint8_t *pkt, size_t len,
                        const struct sockaddr *from, socklen_t fromlen);
bool mm_quic_conn_has_cid(const mm_quic_conn *c, const uint8_t *cid, size_t len);
void mm_quic_conn_destroy(mm_quic_conn *c, bool notify);
/* Continuous verification of one server connection. */
void mm_quic_conn_reverify(mm_quic_conn *c);

void mm_quic_endpoint_unlink(mm_quic_endpoint *ep, mm_quic_conn *c);
/* Free retired TLS contexts no connection uses. */
void mm_quic_endpoint_gc_ctx(mm_quic_endpoint *ep);
void mm_quic_endpoint_retry(mm_quic_endpoint *ep, const uint8_t *pkt, size_t len,
                            const struct sockaddr *from, socklen_t fromlen);
int mm_quic_endpoint_sendto(mm_quic_endpoint *ep, const uint8_t *pkt, size_t len,
                            const struct sockaddr *to, socklen_t tolen);
void mm_quic_random(uint8_t *p, size_t n);

#endif
