/*
 * NETCONF over SSH (RFC 6242) on libssh, driven by the daemon's libevent loop.
 *
 * Event-loop integration (why this way): libssh's own loop (ssh_event_dopoll
 * with a timeout) would block libevent, and libssh has no bufferevent. So
 * every connection is a non-blocking libssh session with its own ssh_event
 * holding only that session; libevent watches the socket and, when it is
 * readable (or writable while libssh has output pending, which
 * ssh_get_poll_flags() reports), calls ssh_event_dopoll(ev, 0): a poll()
 * with zero timeout on that one descriptor that lets libssh read, decrypt
 * and dispatch packets to the callbacks below, or flush its output. Nothing
 * in libssh ever waits; libevent remains the only place the daemon sleeps.
 *
 * Back-pressure: replies go to a per-connection buffer, written to the
 * channel no faster than the client's SSH window allows (the rest waits for
 * a window adjust: channel_write_wontblock). While more than max_queue bytes
 * wait, the data callback consumes nothing, so libssh keeps the client's
 * bytes and does not re-open our receive window: the client is stopped by
 * SSH flow control (RFC 4254 section 5.2) and our memory stays bounded.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/listener.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "mamori/mm_buf.h"
#include "mamori/mm_core.h"
#include "mamori/mm_netconf_ssh.h"
#include "nc_ssh_keys.h"

/* Bytes handed to the engine per call (as the TLS transport does). */
#define PIECE 1024
/* A closing session gets this long to flush its last replies. */
#define DRAIN_TIMEOUT_S 10

struct conn {
    struct mm_nc_ssh_server *ss;
    ssh_session sess;
    ssh_event sev;
    ssh_channel chan;
    evutil_socket_t fd;
    struct event *rev, *wev, *timer, *free_ev;
    struct ssh_server_callbacks_struct scb;
    struct ssh_channel_callbacks_struct ccb;
    mm_nc_session *session;
    bool closing, released, paused, draining;
    unsigned auth_attempts;
    mm_buf out;
    char *key_b64; /* the key the user authenticated with */
    int key_type;
    char peer[96];
    char user[MM_NC_SSH_USER_MAX];
    char scope[64]; /* "" (listen endpoint) or the call-home client's name */
    void (*closed)(void *arg); /* call home: the server's own connection ended */
    void *closed_arg;
    struct conn *prev, *next;
};

/* One bound endpoint; scope goes to the authorize callback for its connections. */
struct listener {
    struct mm_nc_ssh_server *ss;
    struct evconnlistener *l;
    mm_nc_ssh_endpoint ep; /* as configured (port 0: any) */
    uint16_t port;         /* as bound */
};

struct mm_nc_ssh_server {
    mm_nc_server *engine;
    struct event_base *base;
    mm_nc_ssh_settings set;
    ssh_bind bind;
    char fingerprint[128];
    struct listener *lis[MM_NC_SSH_MAX_ENDPOINTS];
    size_t n_lis;
    struct conn *conns;
    size_t n_conns;
    struct event *verify_ev;
};

/* ------------------------------------------------------------ connections */

static void conn_free(struct conn *c)
{
    struct mm_nc_ssh_server *ss = c->ss;
    if (c->prev)
        c->prev->next = c->next;
    else
        ss->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ss->n_conns--;
    struct event *evs[] = {c->rev, c->wev, c->timer, c->free_ev};
    for (size_t i = 0; i < 4; i++)
        if (evs[i])
            event_free(evs[i]);
    if (c->sev) {
        ssh_event_remove_session(c->sev, c->sess);
        ssh_event_free(c->sev);
    }
    if (c->sess) {
        ssh_disconnect(c->sess); /* also closes the socket */
        ssh_free(c->sess);       /* and the channel */
    }
    ssh_string_free_char(c->key_b64);
    mm_buf_free(&c->out);
    if (c->closed)
        c->closed(c->closed_arg);
    free(c);
}

static void deferred_free(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn_free(arg);
}

/* Free outside the current callback chain: libssh and the engine may be on the stack. */
static void conn_release(struct conn *c)
{
    if (c->released)
        return;
    c->released = c->closing = true;
    event_del(c->rev);
    event_del(c->wev);
    event_del(c->timer);
    struct timeval now = {0, 0};
    evtimer_add(c->free_ev, &now);
}

/* The peer is gone (EOF, channel close, error, timeout): release what the session holds. */
static void conn_lost(struct conn *c, const char *cause)
{
    if (c->released)
        return;
    mm_log_info("nc-ssh-close", "peer=%s user=%s cause=%s", c->peer, c->user[0] ? c->user : "-",
                cause);
    if (c->session) {
        mm_nc_session *s = c->session;
        c->session = NULL;
        mm_nc_session_lost(s);
    }
    conn_release(c);
}

static size_t max_queue(const struct conn *c)
{
    return c->ss->set.max_queue ? c->ss->set.max_queue : MM_NC_SSH_DEFAULT_MAX_QUEUE;
}

/* Write what the client's window allows; the rest waits for a window adjust. */
static int flush_out(struct conn *c)
{
    while (c->chan && c->out.len > 0) {
        uint32_t win = ssh_channel_window_size(c->chan);
        if (win == 0)
            break;
        size_t n = c->out.len < win ? c->out.len : win;
        if (n > 32768)
            n = 32768;
        int w = ssh_channel_write(c->chan, c->out.data, (uint32_t)n);
        if (w == SSH_ERROR)
            return MM_EIO;
        if (w <= 0)
            break;
        mm_buf_consume(&c->out, (size_t)w);
    }
    return 0;
}

static int op_send(void *io, const uint8_t *data, size_t len)
{
    struct conn *c = io;
    if (c->closing || c->draining)
        return MM_ECLOSED;
    MM_GUARD(mm_buf_append(&c->out, data, len));
    return flush_out(c);
}

/* Schedule a pass of the I/O callback (flush, drain, resume) from the loop. */
static void kick(struct conn *c)
{
    if (!c->released)
        event_active(c->wev, EV_WRITE, 0);
}

/* The engine ends the session: send what is queued, then EOF, close and disconnect. */
static void op_close(void *io, int app_error)
{
    (void)app_error; /* SSH has no application error codes for a channel */
    struct conn *c = io;
    c->session = NULL;
    if (c->closing || c->draining)
        return;
    c->draining = true;
    struct timeval tv = {DRAIN_TIMEOUT_S, 0};
    evtimer_add(c->timer, &tv);
    kick(c);
}

static size_t op_queued(void *io, size_t *cap)
{
    struct conn *c = io;
    *cap = max_queue(c);
    return c->out.len;
}

/* The engine ends a session whose peer does not read: drop its backlog, disconnect. */
static void op_abort(void *io, int app_error)
{
    (void)app_error;
    struct conn *c = io;
    c->session = NULL;
    if (c->closing)
        return;
    mm_log_info("nc-ssh-abort", "peer=%s user=%s dropped=%zu", c->peer, c->user, c->out.len);
    mm_buf_reset(&c->out);
    conn_release(c);
}

static const mm_nc_transport_ops ssh_ops = {.send = op_send, .close = op_close,
                                           .queued = op_queued, .abort = op_abort};

/* Hand client bytes to the engine in small pieces; stop while replies back up. */
static size_t feed(struct conn *c, const uint8_t *data, size_t len)
{
    size_t off = 0, cap = max_queue(c);
    while (off < len && c->session && !c->closing && !c->draining) {
        if (c->out.len > cap) {
            if (!c->paused)
                mm_log_debug("nc-ssh-pause", "peer=%s queued=%zu cap=%zu", c->peer, c->out.len,
                             cap);
            c->paused = true;
            break;
        }
        size_t n = len - off < PIECE ? len - off : PIECE;
        int rc = mm_nc_session_input(c->session, data + off, n);
        off += n;
        if (rc < 0)
            return len; /* the engine ended (and freed) the session */
    }
    return off;
}

static int on_channel_data(ssh_session sess, ssh_channel ch, void *data, uint32_t len,
                           int is_stderr, void *ud)
{
    (void)sess;
    (void)ch;
    struct conn *c = ud;
    if (is_stderr || !c->session || c->closing || c->draining)
        return (int)len; /* nothing to do with it */
    if (c->paused)
        return 0; /* keep it in libssh; our window stays closed */
    return (int)feed(c, data, len);
}

/* Replies drained below half the cap: take the client's bytes libssh kept for us. */
static void resume(struct conn *c)
{
    if (!c->paused || c->out.len > max_queue(c) / 2)
        return;
    c->paused = false;
    uint8_t buf[PIECE];
    while (c->chan && c->session && !c->paused && !c->closing && !c->draining) {
        int n = ssh_channel_read_nonblocking(c->chan, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        size_t used = feed(c, buf, (size_t)n);
        if (used < (size_t)n && c->session) {
            /* Over the cap again with bytes in hand: they are the next input. */
            if (mm_nc_session_input(c->session, buf + used, (size_t)n - used) < 0)
                break;
        }
    }
}

/*
 * The client sends nothing more (e.g. `ssh -s netconf < requests`). Its
 * requests are already answered (input is processed as it arrives): end the
 * session, releasing what it holds, but send the queued replies before closing.
 */
static void on_channel_eof(ssh_session sess, ssh_channel ch, void *ud)
{
    (void)sess;
    (void)ch;
    struct conn *c = ud;
    if (c->released || c->draining)
        return;
    mm_log_info("nc-ssh-eof", "peer=%s user=%s queued=%zu", c->peer, c->user[0] ? c->user : "-",
                c->out.len);
    if (c->session) {
        mm_nc_session *s = c->session;
        c->session = NULL;
        mm_nc_session_lost(s);
    }
    c->draining = true;
    struct timeval tv = {DRAIN_TIMEOUT_S, 0};
    evtimer_add(c->timer, &tv);
    kick(c);
}

static void on_channel_close(ssh_session sess, ssh_channel ch, void *ud)
{
    (void)sess;
    (void)ch;
    conn_lost(ud, "channel-close");
}

static int on_write_wontblock(ssh_session sess, ssh_channel ch, uint32_t bytes, void *ud)
{
    (void)sess;
    (void)ch;
    (void)bytes;
    struct conn *c = ud;
    if (flush_out(c) < 0)
        conn_lost(c, "write-error");
    return 0;
}

/* RFC 6242 section 3: the "netconf" subsystem, once per connection. */
static int on_subsystem(ssh_session sess, ssh_channel ch, const char *subsystem, void *ud)
{
    (void)sess;
    (void)ch;
    struct conn *c = ud;
    if (strcmp(subsystem, "netconf") != 0 || c->session || c->closing || c->draining) {
        mm_log_warn("nc-ssh-refuse", "peer=%s user=%s subsystem=%s", c->peer, c->user, subsystem);
        return -1;
    }
    mm_nc_session_info info = {
        .username = c->user, .transport = "netconf-ssh", .peer = c->peer, .chunked_only = false};
    /* The hello is queued now and written after libssh has answered the
     * subsystem request (the I/O pass that follows this callback). */
    c->session = mm_nc_session_new(c->ss->engine, &info, &ssh_ops, c);
    if (!c->session) {
        mm_log_error("nc-ssh-refuse", "peer=%s user=%s err=\"cannot create a NETCONF session\"",
                     c->peer, c->user);
        return -1;
    }
    event_del(c->timer); /* authenticated and talking NETCONF: no handshake deadline */
    mm_log_info("nc-ssh-session", "peer=%s user=%s session=%u kex=%s", c->peer, c->user,
                mm_nc_session_id(c->session),
                ssh_get_kex_algo(c->sess) ? ssh_get_kex_algo(c->sess) : "?");
    return 0;
}

static ssh_channel on_channel_open(ssh_session sess, void *ud)
{
    struct conn *c = ud;
    if (!c->user[0] || c->chan || c->closing)
        return NULL; /* one NETCONF channel per connection */
    c->chan = ssh_channel_new(sess);
    if (!c->chan)
        return NULL;
    ssh_callbacks_init(&c->ccb);
    c->ccb.userdata = c;
    c->ccb.channel_data_function = on_channel_data;
    c->ccb.channel_eof_function = on_channel_eof;
    c->ccb.channel_close_function = on_channel_close;
    c->ccb.channel_subsystem_request_function = on_subsystem;
    c->ccb.channel_write_wontblock_function = on_write_wontblock;
    ssh_set_channel_callbacks(c->chan, &c->ccb);
    return c->chan;
}

/*
 * The configuration's answer (authorize callback) first, then the bootstrap
 * authorized-keys files if the daemon was given a directory for them.
 */
static bool key_ok(struct mm_nc_ssh_server *ss, const char *scope, const char *user, ssh_key key)
{
    if (ss->set.authorize) {
        char *b64 = NULL;
        bool ok = ssh_pki_export_pubkey_base64(key, &b64) == SSH_OK &&
                  ss->set.authorize(ss->set.authorize_arg, scope, user, b64);
        ssh_string_free_char(b64);
        if (ok)
            return true;
    }
    return ss->set.keys_dir[0] && mm_nc_ssh_key_authorized(ss->set.keys_dir, user, key);
}

static int on_auth_pubkey(ssh_session sess, const char *user, struct ssh_key_struct *pubkey,
                          char state, void *ud)
{
    (void)sess;
    struct conn *c = ud;
    if (c->user[0] || ++c->auth_attempts > MM_NC_SSH_MAX_AUTH_ATTEMPTS) {
        mm_log_warn("nc-ssh-auth", "peer=%s user=%s result=refused reason=\"too many attempts\"",
                    c->peer, user);
        kick(c); /* the I/O pass drops the connection */
        return SSH_AUTH_DENIED;
    }
    if (state == SSH_PUBLICKEY_STATE_WRONG ||
        !key_ok(c->ss, c->scope, user, pubkey)) {
        if (state != SSH_PUBLICKEY_STATE_NONE)
            mm_log_warn("nc-ssh-auth", "peer=%s user=%s result=denied", c->peer, user);
        return SSH_AUTH_DENIED;
    }
    if (state == SSH_PUBLICKEY_STATE_NONE)
        return SSH_AUTH_SUCCESS; /* "this key would do" (RFC 4252 section 7) */
    /* A valid signature by an authorized key: the SSH user is the NACM user. */
    if (ssh_pki_export_pubkey_base64(pubkey, &c->key_b64) != SSH_OK)
        return SSH_AUTH_DENIED;
    c->key_type = ssh_key_type(pubkey);
    snprintf(c->user, sizeof(c->user), "%s", user);
    mm_log_info("nc-ssh-auth", "peer=%s user=%s result=accepted key=%s", c->peer, user,
                ssh_key_type_to_char(ssh_key_type(pubkey)));
    return SSH_AUTH_SUCCESS;
}

/* One I/O pass: let libssh read/write, then flush, resume, drain or drop. */
static void on_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    if (c->released)
        return;
    if (ssh_event_dopoll(c->sev, 0) == SSH_ERROR && !c->released &&
        (ssh_get_status(c->sess) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
        conn_lost(c, "error");
        return;
    }
    if (c->released)
        return;
    if (c->auth_attempts > MM_NC_SSH_MAX_AUTH_ATTEMPTS || !ssh_is_connected(c->sess)) {
        conn_lost(c, c->auth_attempts > MM_NC_SSH_MAX_AUTH_ATTEMPTS ? "auth-attempts" : "eof");
        return;
    }
    if (flush_out(c) < 0) {
        conn_lost(c, "write-error");
        return;
    }
    resume(c);
    bool pending = ssh_get_poll_flags(c->sess) & SSH_WRITE_PENDING;
    if (c->draining && c->out.len == 0 && !pending) {
        /* Everything sent: end the channel and the connection (RFC 6242 section 3). */
        if (c->chan) {
            ssh_channel_send_eof(c->chan);
            ssh_channel_close(c->chan);
        }
        mm_log_info("nc-ssh-close", "peer=%s user=%s cause=session-end", c->peer,
                    c->user[0] ? c->user : "-");
        conn_release(c);
        return;
    }
    if (pending)
        event_add(c->wev, NULL);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    conn_lost(c, c->draining ? "drain-timeout" : "auth-timeout");
}

static int conn_setup(struct mm_nc_ssh_server *ss, struct conn *c, evutil_socket_t fd)
{
    c->sess = ssh_new();
    if (!c->sess)
        return MM_ENOMEM;
    if (ssh_bind_accept_fd(ss->bind, c->sess, fd) != SSH_OK) {
        mm_log_warn("nc-ssh-accept", "peer=%s err=\"%s\"", c->peer, ssh_get_error(ss->bind));
        return MM_EPROTO;
    }
    c->fd = fd; /* owned by the libssh session from here on */
    ssh_callbacks_init(&c->scb);
    c->scb.userdata = c;
    c->scb.auth_pubkey_function = on_auth_pubkey;
    c->scb.channel_open_request_session_function = on_channel_open;
    ssh_set_server_callbacks(c->sess, &c->scb);
    /* Public key only: no password, keyboard-interactive, gssapi or none. */
    ssh_set_auth_methods(c->sess, SSH_AUTH_METHOD_PUBLICKEY);
    ssh_set_blocking(c->sess, 0);
    int rc = ssh_handle_key_exchange(c->sess); /* sends our banner; the rest is callbacks */
    if (rc == SSH_ERROR) {
        mm_log_warn("nc-ssh-accept", "peer=%s err=\"%s\"", c->peer, ssh_get_error(c->sess));
        return MM_EPROTO;
    }
    c->sev = ssh_event_new();
    if (!c->sev || ssh_event_add_session(c->sev, c->sess) != SSH_OK)
        return MM_ENOMEM;
    c->rev = event_new(ss->base, fd, EV_READ | EV_PERSIST, on_io, c);
    c->wev = event_new(ss->base, fd, EV_WRITE, on_io, c);
    c->timer = evtimer_new(ss->base, on_timer, c);
    c->free_ev = evtimer_new(ss->base, deferred_free, c);
    if (!c->rev || !c->wev || !c->timer || !c->free_ev)
        return MM_ENOMEM;
    /* Key exchange, authentication and the subsystem request must not take forever. */
    struct timeval tv = {MM_NC_SSH_AUTH_TIMEOUT_S, 0};
    evtimer_add(c->timer, &tv);
    event_add(c->rev, NULL);
    kick(c);
    return 0;
}

static int accept_fd(struct mm_nc_ssh_server *ss, evutil_socket_t fd, const struct sockaddr *sa,
                     const char *scope, void (*closed)(void *), void *carg);

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)lev;
    (void)salen;
    struct listener *li = arg;
    accept_fd(li->ss, fd, sa, li->ep.scope, NULL, NULL);
}

int mm_nc_ssh_server_adopt(mm_nc_ssh_server *ss, int fd, const char *scope,
                           void (*closed)(void *), void *arg)
{
    struct sockaddr_storage st;
    MM_GUARD(mm_sock_adopt(fd, &st));
    return accept_fd(ss, fd, (struct sockaddr *)&st, scope ? scope : "", closed, arg);
}

static int accept_fd(struct mm_nc_ssh_server *ss, evutil_socket_t fd, const struct sockaddr *sa,
                     const char *scope, void (*closed)(void *), void *carg)
{
    char peer[96];
    mm_sockaddr_format(sa, peer, sizeof(peer));
    uint32_t max = ss->set.max_conns ? ss->set.max_conns : MM_NC_SSH_DEFAULT_MAX_CONNS;
    if (ss->n_conns >= max) {
        mm_log_warn("nc-ssh-refuse", "peer=%s reason=\"connection limit %u reached\"", peer, max);
        evutil_closesocket(fd);
        return MM_ELIMIT;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        evutil_closesocket(fd);
        return MM_ENOMEM;
    }
    c->ss = ss;
    c->fd = -1;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    snprintf(c->scope, sizeof(c->scope), "%s", scope);
    mm_buf_init(&c->out, 64u << 20); /* beyond this the client is not reading at all */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    mm_tcp_dead_peer_detection(fd, ss->set.dead_peer_ms ? ss->set.dead_peer_ms
                                                        : MM_NC_SSH_DEFAULT_DEAD_PEER_MS);
    c->next = ss->conns;
    if (ss->conns)
        ss->conns->prev = c;
    ss->conns = c;
    ss->n_conns++;
    int rc = conn_setup(ss, c, fd);
    if (rc < 0) {
        if (c->fd < 0)
            evutil_closesocket(fd);
        conn_free(c);
        return rc;
    }
    /* Set last: a connection that never started does not count as "ended". */
    c->closed = closed;
    c->closed_arg = carg;
    return 0;
}

/* ------------------------------------------------------------ continuous verification */

static const char *still_authorized(struct mm_nc_ssh_server *ss, struct conn *c)
{
    ssh_key k = NULL;
    if (ssh_pki_import_pubkey_base64(c->key_b64, (enum ssh_keytypes_e)c->key_type, &k) != SSH_OK)
        return "cannot re-read the session's key";
    bool ok = key_ok(ss, c->scope, c->user, k);
    ssh_key_free(k);
    return ok ? NULL : "public key no longer authorized for the user";
}

void mm_nc_ssh_server_reverify(mm_nc_ssh_server *ss)
{
    for (struct conn *c = ss->conns, *next; c; c = next) {
        next = c->next;
        if (!c->session || c->closing || c->draining || !c->key_b64)
            continue;
        const char *why = still_authorized(ss, c);
        if (!why)
            continue;
        mm_log_warn("nc-ssh-revoke", "peer=%s user=%s session=%u reason=\"%s\"", c->peer, c->user,
                    mm_nc_session_id(c->session), why);
        mm_nc_session_terminate(c->session, why); /* calls op_close */
    }
}

static void on_verify(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mm_nc_ssh_server_reverify(arg);
}

/* ------------------------------------------------------------ host key, listeners */

static int load_host_key(struct mm_nc_ssh_server *ss)
{
    MM_GUARD(mm_nc_ssh_host_key_ensure(ss->set.host_key_file));
    ssh_key priv = NULL, pub = NULL;
    if (ssh_pki_import_privkey_file(ss->set.host_key_file, NULL, NULL, NULL, &priv) != SSH_OK) {
        mm_log_error("nc-ssh-hostkey", "file=%s err=\"cannot read the host key\"",
                     ss->set.host_key_file);
        return MM_ECRYPTO;
    }
    unsigned char *hash = NULL;
    size_t hlen = 0;
    if (ssh_pki_export_privkey_to_pubkey(priv, &pub) == SSH_OK &&
        ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
        char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        snprintf(ss->fingerprint, sizeof(ss->fingerprint), "%s", fp ? fp : "");
        ssh_string_free_char(fp);
        ssh_clean_pubkey_hash(&hash);
    }
    ssh_key_free(pub);
    /* The bind owns the key from here on. */
    if (ssh_bind_options_set(ss->bind, SSH_BIND_OPTIONS_IMPORT_KEY, priv) != SSH_OK) {
        ssh_key_free(priv);
        return MM_ECRYPTO;
    }
    const char *kex = ss->set.kex[0] ? ss->set.kex : MM_NC_SSH_KEX;
    if (ssh_bind_options_set(ss->bind, SSH_BIND_OPTIONS_KEY_EXCHANGE, kex) != SSH_OK) {
        mm_log_error("nc-ssh-kex", "kex=%s err=\"%s\"", kex, ssh_get_error(ss->bind));
        return MM_ECONFIG;
    }
    return 0;
}

static int bind_endpoint(struct mm_nc_ssh_server *ss, const mm_nc_ssh_endpoint *ep)
{
    if (ss->n_lis == MM_NC_SSH_MAX_ENDPOINTS)
        return MM_ELIMIT;
    struct sockaddr_storage st;
    memset(&st, 0, sizeof(st));
    socklen_t sl;
    struct sockaddr_in *in = (struct sockaddr_in *)&st;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&st;
    if (inet_pton(AF_INET, ep->address, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(ep->port);
        sl = sizeof(*in);
    } else if (inet_pton(AF_INET6, ep->address, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(ep->port);
        sl = sizeof(*in6);
    } else {
        mm_log_error("nc-ssh-listen", "address=%s err=\"not a numeric address\"", ep->address);
        return MM_ECONFIG;
    }
    struct listener *li = calloc(1, sizeof(*li));
    MM_ENSURE(li, MM_ENOMEM);
    li->ss = ss;
    li->ep = *ep;
    li->l = evconnlistener_new_bind(
        ss->base, on_accept, li, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        128, (struct sockaddr *)&st, (int)sl);
    if (!li->l) {
        mm_log_error("nc-ssh-listen", "address=%s port=%u err=\"%s\"", ep->address, ep->port,
                     strerror(errno));
        free(li);
        return MM_ESYS;
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof(got);
    getsockname(evconnlistener_get_fd(li->l), (struct sockaddr *)&got, &gl);
    li->port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                              : ((struct sockaddr_in6 *)&got)->sin6_port);
    ss->lis[ss->n_lis++] = li;
    mm_log_info("nc-ssh-listen", "address=%s port=%u hostkey=%s scope=%s", ep->address, li->port,
                ss->fingerprint, ep->scope[0] ? ep->scope : "-");
    return 0;
}

static void listener_free(struct listener *li)
{
    evconnlistener_free(li->l);
    free(li);
}

static bool same_socket(const mm_nc_ssh_endpoint *a, const mm_nc_ssh_endpoint *b)
{
    return a->port == b->port && !strcmp(a->address, b->address);
}

/*
 * Listen on exactly eps from now on: an endpoint with the same address and
 * port keeps its socket (only its scope is updated), others are closed or
 * bound. Open connections are not touched. Endpoints compare as configured
 * (a port-0 endpoint keeps the port it got).
 */
int mm_nc_ssh_server_listen(mm_nc_ssh_server *ss, const mm_nc_ssh_endpoint *eps, size_t n)
{
    MM_ENSURE(n <= MM_NC_SSH_MAX_ENDPOINTS, MM_ELIMIT);
    bool used[MM_NC_SSH_MAX_ENDPOINTS] = {false};
    size_t kept = 0;
    for (size_t i = 0; i < ss->n_lis; i++) {
        struct listener *li = ss->lis[i];
        size_t j = 0;
        while (j < n && (used[j] || !same_socket(&li->ep, &eps[j])))
            j++;
        if (j == n) {
            mm_log_info("nc-ssh-listen", "address=%s port=%u action=closed", li->ep.address,
                        li->port);
            listener_free(li);
            continue;
        }
        used[j] = true;
        snprintf(li->ep.scope, sizeof(li->ep.scope), "%s", eps[j].scope);
        ss->lis[kept++] = li;
    }
    ss->n_lis = kept;
    int rc = 0;
    for (size_t j = 0; j < n; j++) {
        if (used[j])
            continue;
        int r = bind_endpoint(ss, &eps[j]);
        rc = rc < 0 ? rc : r; /* bind the others even if one fails */
    }
    return rc;
}

int mm_nc_ssh_server_new(mm_nc_server *engine, struct event_base *base, const mm_nc_ssh_settings *s,
                         mm_nc_ssh_server **out)
{
    *out = NULL;
    MM_ENSURE(s->n_endpoints <= MM_NC_SSH_MAX_ENDPOINTS && s->host_key_file[0] &&
                  (s->keys_dir[0] || s->authorize),
              MM_EINVAL);
    struct mm_nc_ssh_server *ss = calloc(1, sizeof(*ss));
    MM_ENSURE(ss, MM_ENOMEM);
    ss->engine = engine;
    ss->base = base;
    ss->set = *s;
    ss->bind = ssh_bind_new();
    int rc = ss->bind ? load_host_key(ss) : MM_ENOMEM;
    if (rc == 0)
        rc = mm_nc_ssh_server_listen(ss, s->endpoints, s->n_endpoints);
    uint32_t ms = s->verify_interval_ms ? s->verify_interval_ms : MM_NC_SSH_DEFAULT_VERIFY_MS;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (rc == 0) {
        ss->verify_ev = event_new(base, -1, EV_PERSIST, on_verify, ss);
        rc = (ss->verify_ev && event_add(ss->verify_ev, &tv) == 0) ? 0 : MM_ESYS;
    }
    if (rc < 0) {
        mm_nc_ssh_server_free(ss);
        return rc;
    }
    *out = ss;
    return 0;
}

uint16_t mm_nc_ssh_server_port(const mm_nc_ssh_server *ss, size_t i)
{
    return ss && i < ss->n_lis ? ss->lis[i]->port : 0;
}

size_t mm_nc_ssh_server_session_count(const mm_nc_ssh_server *ss)
{
    size_t n = 0;
    for (const struct conn *c = ss ? ss->conns : NULL; c; c = c->next)
        n += c->session != NULL;
    return n;
}

size_t mm_nc_ssh_server_queued_bytes(const mm_nc_ssh_server *ss)
{
    size_t n = 0;
    for (const struct conn *c = ss ? ss->conns : NULL; c; c = c->next)
        n += c->out.len;
    return n;
}

const char *mm_nc_ssh_server_fingerprint(const mm_nc_ssh_server *ss)
{
    return ss->fingerprint;
}

void mm_nc_ssh_server_free(mm_nc_ssh_server *ss)
{
    if (!ss)
        return;
    if (ss->verify_ev)
        event_free(ss->verify_ev);
    for (size_t i = 0; i < ss->n_lis; i++)
        listener_free(ss->lis[i]);
    while (ss->conns) {
        struct conn *c = ss->conns;
        c->closed = NULL; /* shutting down: nobody reconnects */
        if (c->session) {
            mm_nc_session *s = c->session;
            c->session = NULL;
            mm_nc_session_lost(s);
        }
        conn_free(c);
    }
    if (ss->bind)
        ssh_bind_free(ss->bind);
    free(ss);
}
