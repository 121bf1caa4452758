/*
 * mm_netconf.h - the NETCONF protocol engine, shared by every transport.
 *
 * Three layers, each usable alone:
 *  - framing:  RFC 6242 end-of-message and chunked framing (mm_nc_framer);
 *  - server:   datastores, locks, NACM, notifications, and one mm_nc_session
 *              per connection, fed bytes by a transport (TLS, QUIC, tests);
 *  - client:   mm_nc_client, the same in the other direction (mamori nc and
 *              the tests use it).
 *
 * Like ngtcp2, the engine never touches a socket: a transport hands it bytes
 * with mm_nc_session_input() and receives bytes through mm_nc_transport_ops.
 * Time-driven work (confirmed-commit timeouts) runs on the event_base given
 * to the server.
 *
 * All functions return 0 or a negative MM_E* code, or NULL on error.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_NETCONF_H
#define MAMORI_MM_NETCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <libyang/libyang.h>

#include "mamori/mm_buf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MM_NC_NS_BASE "urn:ietf:params:xml:ns:netconf:base:1.0"
#define MM_NC_NS_NOTIF "urn:ietf:params:xml:ns:netconf:notification:1.0"
#define MM_NC_DEFAULT_MAX_MESSAGE (16u << 20) /* 16 MiB */
/*
 * Bounds on the work one message may cost, checked by a linear scan before
 * libyang parses it (libyang's cost grows faster than linearly with sibling
 * elements and attributes). A message over one is answered with an
 * rpc-error too-big (a hello over one ends the session).
 */
#define MM_NC_DEFAULT_MAX_ELEMENTS 10000u /* start tags in one message */
#define MM_NC_DEFAULT_MAX_ATTRIBUTES 64u  /* attributes of one start tag */
#define MM_NC_DEFAULT_MAX_DEPTH 64u       /* element nesting */
#define MM_NC_TLS_PORT 6513
#define MM_NC_QUIC_PORT 831

/* ---------------------------------------------------------------- framing */

enum mm_nc_framing {
    MM_NC_FRAMING_EOM = 0,     /* base:1.0, "]]>]]>" (always used for <hello>) */
    MM_NC_FRAMING_CHUNKED = 1, /* base:1.1, RFC 6242 section 4.2 */
};

/*
 * Incremental decoder: bytes go in with mm_nc_framer_push(); complete
 * messages come out of mm_nc_framer_next(). Any framing error (bad chunk
 * header, a chunk or message over max_message) is fatal: the session must
 * end (RFC 6242 section 4.2; draft-ietf-netconf-over-quic section 4).
 */
typedef struct mm_nc_framer {
    enum mm_nc_framing mode;
    size_t max_message;
    mm_buf in;   /* undecoded input */
    mm_buf msg;  /* the message being assembled */
    int err;     /* sticky MM_E* */
    /* chunked-decoder state (private) */
    int state;
    uint64_t chunk_left;
} mm_nc_framer;

void mm_nc_framer_init(mm_nc_framer *f, size_t max_message);
void mm_nc_framer_free(mm_nc_framer *f);
/* Switch after the hellos; bytes already buffered are decoded in the new mode. */
void mm_nc_framer_set_mode(mm_nc_framer *f, enum mm_nc_framing mode);
int mm_nc_framer_push(mm_nc_framer *f, const uint8_t *data, size_t len);
/*
 * 1 and *msg, *len set (valid until the next call) if a whole message is
 * ready, 0 if more input is needed, negative MM_E* on a framing error.
 */
int mm_nc_framer_next(mm_nc_framer *f, const char **msg, size_t *len);
/* Append one framed message to out. */
int mm_nc_frame(enum mm_nc_framing mode, const char *msg, size_t len, mm_buf *out);
/*
 * Bytes mm_nc_framer_push() accepts now (0 after an error). A push larger
 * than this fails with MM_ELIMIT without harm: drain messages with
 * mm_nc_framer_next() and push the rest. This bounds a session's queued input.
 */
size_t mm_nc_framer_room(const mm_nc_framer *f);

/* ---------------------------------------------------------------- server */

typedef struct mm_nc_server mm_nc_server;
typedef struct mm_nc_session mm_nc_session;

typedef struct mm_nc_server_config {
    /* Every YANG module (*.yang) in this directory is loaded and served. */
    const char *module_dir;
    /* Extra search directories for imports (NULL-terminated, may be NULL). */
    const char *const *search_dirs;
    /* running.xml and startup.xml live here (written atomically: write, fsync, rename). */
    const char *state_dir;
    /* Hash-chained audit log of every NACM decision (NULL: <state_dir>/audit.log). */
    const char *audit_log;
    size_t max_message;      /* 0: MM_NC_DEFAULT_MAX_MESSAGE */
    uint32_t replay_log_max; /* notifications kept for replay; 0: 1024 */
    /* Session with this user name bypasses NACM (RFC 8341 recovery session); NULL: none. */
    const char *recovery_user;
    /* Bounds on one message (0: MM_NC_DEFAULT_MAX_ELEMENTS, _ATTRIBUTES, _DEPTH). */
    uint32_t max_elements;
    uint32_t max_attributes;
    uint32_t max_depth;
    /*
     * Fault injection for tests; NULL in production. Called where a resource
     * the engine must not do without could fail ("confirm-timer": arming a
     * confirmed commit's rollback timer, "confirm-persist": keeping its
     * persist token); nonzero makes that step fail as if the resource had.
     */
    int (*fault)(void *arg, const char *point);
    void *fault_arg;
    /*
     * A subscriber whose queued output (mm_nc_transport_ops.queued) stays
     * over its transport's cap this long is closed (0: MM_NC_DEFAULT_NOTIF_GRACE_MS);
     * at MM_NC_NOTIF_BACKLOG_FACTOR times the cap it is closed at once.
     */
    uint32_t notif_grace_ms;
} mm_nc_server_config;

/*
 * Notification back-pressure (issue 10 #4, notifications): RFC 5277 has no
 * way to tell a subscriber that events were skipped, so a subscriber that
 * does not read is ended (audited), never silently thinned out; see
 * src/netconf/engine/notif_backlog.c and docs/netconfd.md.
 */
#define MM_NC_DEFAULT_NOTIF_GRACE_MS 10000u
#define MM_NC_NOTIF_BACKLOG_FACTOR 2u

int mm_nc_server_new(const mm_nc_server_config *cfg, struct event_base *base,
                     mm_nc_server **out);
/*
 * The YANG context a server with cfg would use (same modules, same
 * features), e.g. to prepare datastore files before the server starts.
 */
int mm_nc_server_ctx_new(const mm_nc_server_config *cfg, struct ly_ctx **out);
void mm_nc_server_free(mm_nc_server *srv);
/*
 * Back to a fresh start (for fuzzing, where every input must run on the
 * same state): ends every session, drops the candidate, a pending
 * confirmed commit, partial locks, the replay log and all counters, and
 * reloads running and startup from the files in state_dir.
 */
int mm_nc_server_reset(mm_nc_server *srv);
struct ly_ctx *mm_nc_server_ctx(mm_nc_server *srv);
/* The running datastore (read-only view), e.g. for a transport's own config. */
const struct lyd_node *mm_nc_server_running(mm_nc_server *srv);

/*
 * Called after every change of running (commit, edit-config on running,
 * copy-config, confirmed-commit rollback), so a transport can re-read its
 * listen endpoints and cert-to-name maps from ietf-netconf-server.
 */
typedef void (*mm_nc_running_changed_cb)(mm_nc_server *srv, void *arg);
void mm_nc_server_on_running_changed(mm_nc_server *srv, mm_nc_running_changed_cb cb, void *arg);

/*
 * A check of every proposed new running (edit-config, commit, copy-config)
 * before it is stored: a negative return refuses the change, which is not
 * applied, and the RPC gets an rpc-error (operation-failed) with error-path
 * path and error-message msg (both filled by the callback). A server uses it
 * to refuse a configuration it could not be reached with (issue 10 #5).
 */
typedef int (*mm_nc_running_check_cb)(const struct lyd_node *proposed, char *path,
                                      size_t path_len, char *msg, size_t msg_len, void *arg);
void mm_nc_server_on_running_check(mm_nc_server *srv, mm_nc_running_check_cb cb, void *arg);

/*
 * Observability (issue 17 #5): the engine reports events a metrics exporter
 * counts. The callback runs inside the engine: it must only count, never
 * call back into the server.
 */
enum mm_nc_event_kind {
    MM_NC_EV_RPC = 0,      /* name: operation ("-" if unparsed); result: "ok" or "error" */
    MM_NC_EV_ROLLBACK = 1, /* confirmed-commit rollback; name: "timeout" or "cancel" */
    MM_NC_EV_AUDIT = 2,    /* durable audit write; seconds: its latency; result: ok|error */
};
typedef struct mm_nc_event_info {
    enum mm_nc_event_kind kind;
    const char *name, *result;
    const char *transport; /* of the session, NULL if none */
    double seconds;
} mm_nc_event_info;
typedef void (*mm_nc_event_cb)(const mm_nc_event_info *ev, void *arg);
void mm_nc_server_on_event(mm_nc_server *srv, mm_nc_event_cb cb, void *arg);

/* Engine totals since start (for metrics). */
typedef struct mm_nc_stats {
    uint32_t sessions;
    uint32_t in_rpcs, in_bad_rpcs, out_rpc_errors, out_notifications;
    uint32_t nacm_denied_operations, nacm_denied_data_writes, nacm_denied_notifications;
    uint32_t replay_depth; /* notifications held in the replay log */
    /* Highest output backlog any one session reached (bytes queued, as
     * mm_nc_transport_ops.queued reports it), and subscribers ended because
     * their backlog stayed over the cap. */
    uint64_t session_queued_max;
    uint32_t notif_overflows;
} mm_nc_stats;
void mm_nc_server_stats(mm_nc_server *srv, mm_nc_stats *out);

/* How a session's bytes reach the peer. */
typedef struct mm_nc_transport_ops {
    /* Queue bytes (already framed) for the peer. */
    int (*send)(void *io, const uint8_t *data, size_t len);
    /* Close the transport once queued bytes are sent; the engine frees the
     * session right after this call returns. app_error is 0 when the client
     * asked for the end (close-session), 1 when the server ends a session it
     * did not initiate (kill-session, failed verification, malformed input):
     * NETCONF over QUIC sends it as its application error code. */
    void (*close)(void *io, int app_error);
    /*
     * Optional (QUIC): open a separate channel for one subscription's
     * notifications; NULL means notifications go inline through send().
     */
    void *(*notif_open)(void *io);
    int (*notif_send)(void *io, void *chan, const uint8_t *data, size_t len);
    void (*notif_close)(void *io, void *chan); /* subscription over: FIN */
    /*
     * Optional: bytes of this session waiting to reach the peer (TLS: not yet
     * written to the socket; QUIC: queued on any of its streams and not yet
     * acknowledged; SSH: not yet inside the client's window), and in *cap the
     * transport's per-session cap on them (--max-queue). The engine keeps
     * notifications within it (MM_NC_NOTIF_BACKLOG_FACTOR, notif_grace_ms).
     */
    size_t (*queued)(void *io, size_t *cap);
    /*
     * Optional: end the transport now, dropping what is queued (a peer that
     * does not read would never take it). The engine frees the session
     * right after this call returns. NULL: close() is used.
     */
    void (*abort)(void *io, int app_error);
} mm_nc_transport_ops;

typedef struct mm_nc_session_info {
    const char *username;  /* from cert-to-name; never NULL */
    const char *transport; /* "netconf-tls", "netconf-quic", "test", ... */
    const char *peer;      /* printable peer address */
    bool chunked_only;     /* QUIC: require base:1.1 (close the session otherwise) */
} mm_nc_session_info;

/* A session for an authenticated connection; sends the server <hello> at once. */
mm_nc_session *mm_nc_session_new(mm_nc_server *srv, const mm_nc_session_info *info,
                                 const mm_nc_transport_ops *ops, void *io);
/*
 * Bytes from the peer. Complete RPCs are processed in order and their
 * replies sent in order. Returns 0, or negative when the session has ended
 * (then it has been freed and ops->close called).
 */
int mm_nc_session_input(mm_nc_session *s, const uint8_t *data, size_t len);
/* The transport is gone (abrupt loss): release locks and subscriptions,
 * roll back a non-persistent confirmed commit, free the session. */
void mm_nc_session_lost(mm_nc_session *s);
/* Server-side end (certificate expired or revoked, kill): closes and frees. */
void mm_nc_session_terminate(mm_nc_session *s, const char *reason);
uint32_t mm_nc_session_id(const mm_nc_session *s);
const char *mm_nc_session_username(const mm_nc_session *s);

/* Visit every open session (for continuous verification by the transport). */
typedef void (*mm_nc_session_visit_cb)(mm_nc_session *s, void *io, void *arg);
void mm_nc_server_foreach_session(mm_nc_server *srv, mm_nc_session_visit_cb cb, void *arg);

/* ---------------------------------------------------------------- client */

typedef struct mm_nc_client mm_nc_client;

/* Called for every <notification> the client receives (XML text). */
typedef void (*mm_nc_notif_cb)(const char *xml, size_t len, void *arg);

/*
 * A client over a connected, authenticated byte stream. The client owns no
 * socket either: it writes with ops->send and reads through
 * mm_nc_client_input(); the blocking helpers below use the recv callback.
 */
typedef struct mm_nc_client_io {
    int (*send)(void *io, const uint8_t *data, size_t len);
    /* Blocking read of up to cap bytes; returns bytes read, 0 on EOF, <0 on error. */
    long (*recv)(void *io, uint8_t *buf, size_t cap, int timeout_ms);
    void *io;
} mm_nc_client_io;

/* Exchange hellos (blocking). */
int mm_nc_client_new(const mm_nc_client_io *io, size_t max_message, mm_nc_client **out);
void mm_nc_client_free(mm_nc_client *c);
uint32_t mm_nc_client_session_id(const mm_nc_client *c);
/* The server's capability URIs (NULL-terminated). */
const char *const *mm_nc_client_capabilities(const mm_nc_client *c);
void mm_nc_client_on_notification(mm_nc_client *c, mm_nc_notif_cb cb, void *arg);

/*
 * Send one RPC whose operation is the XML text op (e.g. "<get/>"); the client
 * wraps it in <rpc message-id=..>. Blocks for the matching reply and returns
 * it (malloc'd, NUL-terminated XML of the whole <rpc-reply>) in *reply.
 * Notifications arriving meanwhile go to the callback.
 */
int mm_nc_client_rpc(mm_nc_client *c, const char *op, char **reply, int timeout_ms);
/* Pipelining: send now, collect later in order. */
int mm_nc_client_send_rpc(mm_nc_client *c, const char *op, uint64_t *message_id);
int mm_nc_client_recv_reply(mm_nc_client *c, char **reply, int timeout_ms);
/*
 * Corking (off by default): while on, mm_nc_client_send_rpc() gathers the
 * framed requests and hands them to the transport in one send when the
 * client next waits for the server (recv_reply, rpc, poll, close), when
 * 16 requests or 64 KiB have gathered, or on mm_nc_client_flush(). Pipelining clients get
 * one TLS record and one syscall for many requests. mm_nc_client_free()
 * drops what was never flushed.
 */
void mm_nc_client_cork(mm_nc_client *c, bool on);
int mm_nc_client_flush(mm_nc_client *c);
/* Wait for notifications (callback) for up to timeout_ms; 0 on timeout. */
int mm_nc_client_poll(mm_nc_client *c, int timeout_ms);
/* <close-session/>, then free. */
int mm_nc_client_close(mm_nc_client *c);

/*
 * Client details (client.c). The recv callback returns MM_ETIMEOUT when
 * nothing arrived within timeout_ms (negative timeout_ms: wait forever).
 * A server hello without <session-id>, without a common base version, or
 * not a <hello> at all ends the session (RFC 6241 section 8.1): no
 * close-session is sent. Timeouts are not fatal: a late reply is returned
 * by the next mm_nc_client_recv_reply().
 */
#define MM_NC_CLIENT_HELLO_TIMEOUT_MS 30000

/* mm_nc_client_new() with a hello timeout and, on failure, the reason in why. */
int mm_nc_client_new_ex(const mm_nc_client_io *io, size_t max_message, int hello_timeout_ms,
                        mm_nc_client **out, char *why, size_t why_len);
/* The framing in use after the hellos (chunked when both sides have base:1.1). */
enum mm_nc_framing mm_nc_client_framing(const mm_nc_client *c);
/* True if the server advertised capability uri (compared up to any '?'). */
bool mm_nc_client_has_capability(const mm_nc_client *c, const char *uri);
/* Replies sent for but not yet received. */
size_t mm_nc_client_pending(const mm_nc_client *c);
/* Why the last call on c failed (never NULL; "" if nothing failed). */
const char *mm_nc_client_error(const mm_nc_client *c);

/* A byte stream over file descriptors (socketpair, TCP, pipes): io->io = fds. */
typedef struct mm_nc_fd_stream {
    int rfd;
    int wfd;
} mm_nc_fd_stream;
void mm_nc_client_io_fd(mm_nc_fd_stream *fds, mm_nc_client_io *io);

/*
 * A parsed <rpc-reply> (or any NETCONF message), for printing results:
 * <ok/>, the content of <data>, and every <rpc-error>.
 */
typedef struct mm_nc_reply mm_nc_reply;
typedef struct mm_nc_reply_error {
    const char *type, *tag, *severity, *app_tag, *path, *message; /* NULL if absent */
    const char *info; /* <error-info> children as XML, NULL if absent */
} mm_nc_reply_error;

/* MM_EMALFORMED (reason in why, if given) unless xml is an <rpc-reply>. */
int mm_nc_reply_parse(const char *xml, size_t len, mm_nc_reply **out, char *why, size_t why_len);
void mm_nc_reply_free(mm_nc_reply *r);
const char *mm_nc_reply_message_id(const mm_nc_reply *r); /* NULL if absent */
bool mm_nc_reply_ok(const mm_nc_reply *r);
size_t mm_nc_reply_error_count(const mm_nc_reply *r);
const mm_nc_reply_error *mm_nc_reply_error_at(const mm_nc_reply *r, size_t i);
/* Whether the reply has <data>; its children as indented XML ("" when empty). */
bool mm_nc_reply_has_data(const mm_nc_reply *r);
const char *mm_nc_reply_data(const mm_nc_reply *r);

/* ----------------------------------------------------- client transports */

/*
 * TCP connect to host:port (name or IP literal) within timeout_ms; the
 * socket is returned blocking. why gets the reason on failure.
 */
int mm_nc_tcp_connect(const char *host, uint16_t port, int timeout_ms, int *fd, char *why,
                      size_t why_len);

/*
 * yuma123 netconfd's plaintext "tcp-direct" transport, for interop tests
 * only: host must resolve to loopback addresses (MM_EPERM otherwise). After
 * the TCP connect, sends the <ncx-connect> preamble naming user (what
 * yangcli --tcp-direct-enable sends); then the stream is plain NETCONF.
 */
int mm_nc_tcp_direct_connect(const char *host, uint16_t port, const char *user, int timeout_ms,
                             int *fd, char *why, size_t why_len);

/* NETCONF over TLS (RFC 7589) client stream, blocking, over mm_tls (TLS 1.3). */
typedef struct mm_nc_tls_stream mm_nc_tls_stream;
typedef struct mm_nc_tls_client_config {
    const char *host;        /* connect to this name or address */
    uint16_t port;           /* 0: MM_NC_TLS_PORT */
    const char *server_name; /* name the certificate must match (RFC 7589 s6); NULL: host */
    const char *ca_file, *cert_file, *key_file;
    const char *groups;      /* NULL: MM_TLS_DEFAULT_GROUPS */
    int timeout_ms;          /* connect + handshake; <= 0: 30000 */
    /* > 0: a socket already connected (RFC 8071 call home: the server dialled
     * us); no TCP connect is made, host only names the server. */
    int fd;
} mm_nc_tls_client_config;

int mm_nc_tls_connect(const mm_nc_tls_client_config *cfg, mm_nc_tls_stream **out, char *why,
                      size_t why_len);
void mm_nc_tls_stream_io(mm_nc_tls_stream *s, mm_nc_client_io *io);
/* Negotiated key-exchange group name (e.g. "X25519SCloud+128"). */
const char *mm_nc_tls_stream_group(mm_nc_tls_stream *s);
/* close_notify, close the socket, free. */
void mm_nc_tls_stream_close(mm_nc_tls_stream *s);

#ifdef __cplusplus
}
#endif
#endif
