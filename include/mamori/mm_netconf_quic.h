/*
 * mm_netconf_quic.h - NETCONF over QUIC (draft-ietf-netconf-over-quic-06,
 * ALPN "noq") on the generic QUIC endpoint of mm_quic.h: one NETCONF
 * session per connection on the client-initiated bidirectional stream 0,
 * one server-initiated unidirectional stream per subscription; see
 * docs/netconf-quic.md. Server in src/netconf/transport/quic*.c, client in
 * src/netconf/client/quic.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_NETCONF_QUIC_H
#define MAMORI_MM_NETCONF_QUIC_H

#include "mamori/mm_quic.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The NETCONF-over-QUIC transport (built when src/netconf provides the
 * engine). Settings mirror mm_netconf_tls.h so netconfd fills both alike.
 */
struct mm_nc_server;
struct mm_nc_client_io;
struct lyd_node;

#define MM_NC_QUIC_MAX_ENDPOINTS 16
#define MM_NC_QUIC_MAX_CTN 64
#define MM_NC_QUIC_NAME_MAX 64
#define MM_NC_QUIC_MAX_SUBSCRIPTIONS 4 /* uni streams a client accepts */
/* Idle timeout and PING keep-alive of servers and clients unless configured. */
#define MM_NC_QUIC_DEFAULT_IDLE_MS 120000u
#define MM_NC_QUIC_DEFAULT_KEEPALIVE_MS 30000u
/* Reply bytes queued per session before the client's credit stops growing. */
#define MM_NC_QUIC_DEFAULT_MAX_QUEUE (4u << 20)

typedef struct mm_nc_quic_endpoint {
    char name[MM_NC_QUIC_NAME_MAX];
    char address[64]; /* numeric IPv4 or IPv6 */
    uint16_t port;    /* 831 (MM_NC_QUIC_PORT) unless configured */
} mm_nc_quic_endpoint;

/* One cert-to-name entry (RFC 7407), as mm_ctn_entry in mm_tls.h. */
typedef struct mm_nc_quic_ctn {
    uint32_t id;
    uint8_t fingerprint[65]; /* hash-algorithm byte + hash */
    size_t fingerprint_len;
    int map_type; /* enum mm_ctn_map_type */
    char name[MM_NC_QUIC_NAME_MAX];
} mm_nc_quic_ctn;

typedef struct mm_nc_quic_settings {
    char cert_file[1024], key_file[1024], ca_file[1024];
    char crl_file[1024]; /* "" = none */
    mm_nc_quic_endpoint endpoints[MM_NC_QUIC_MAX_ENDPOINTS];
    size_t n_endpoints;
    mm_nc_quic_ctn ctn[MM_NC_QUIC_MAX_CTN]; /* sorted by id */
    size_t n_ctn;
    /* Section 6 of the spec summary: an idle timeout with PING keep-alive,
     * so an idle session stays up and a vanished peer's session (its locks,
     * its subscriptions) ends. Default MM_NC_QUIC_DEFAULT_IDLE_MS and
     * MM_NC_QUIC_DEFAULT_KEEPALIVE_MS unless running sets them. */
    uint32_t idle_timeout_ms;
    uint32_t keep_alive_ms;
    bool idle_timeout_set;       /* running configures idle-timeout */
    uint32_t verify_interval_ms; /* 0 = 1000 */
    bool retry;
    /* Refuse a second client bidi stream with 0x02 (needs a stream credit of
     * 2 at the QUIC level); false: advertise exactly 1 as the draft suggests. */
    bool refuse_extra_streams;
    /* Per session: while this many reply bytes wait unsent or unacknowledged
     * on stream 0, the client gets no new flow-control credit (0: default). */
    size_t max_queue;
    char groups[256]; /* key-exchange groups; "" = MM_QUIC_DEFAULT_GROUPS */
} mm_nc_quic_settings;

typedef struct mm_nc_quic_server mm_nc_quic_server;

/* Bind every endpoint and serve NETCONF sessions of engine over QUIC. */
int mm_nc_quic_server_new(struct mm_nc_server *engine, struct event_base *base,
                          const mm_nc_quic_settings *settings, mm_nc_quic_server **out);
void mm_nc_quic_server_free(mm_nc_quic_server *qs);
/*
 * New settings for a running server: endpoints whose address, port and
 * transport settings are unchanged keep their socket and their sessions;
 * removed or changed ones are closed, new ones bound. The cert-to-name map is
 * replaced and every session re-checked against it (a session whose
 * certificate now maps to another user, or none, ends). Must not be called
 * from inside one of the server's own callbacks (defer it to the loop).
 */
int mm_nc_quic_server_apply(mm_nc_quic_server *qs, const mm_nc_quic_settings *settings);
uint16_t mm_nc_quic_server_port(const mm_nc_quic_server *qs, size_t i);
size_t mm_nc_quic_server_session_count(const mm_nc_quic_server *qs);
/* Bytes queued on all sessions' streams (replies and notifications) and not yet acknowledged. */
size_t mm_nc_quic_server_queued_bytes(const mm_nc_quic_server *qs);
/* Re-read CA/CRL and re-check every session now (also runs on a timer). */
void mm_nc_quic_server_reverify(mm_nc_quic_server *qs);

/*
 * Settings from the running datastore: every ietf-netconf-server endpoint
 * with the ietf-netconf-quic "quic" transport (UDP local-bind, default port
 * 831) and its cert-to-name list from mamori-netconf-quic (open issue O6);
 * own certificate, key and CA from pki_dir. MM_ENOENT if no quic endpoint.
 */
int mm_nc_quic_settings_from_running(const struct lyd_node *running, const char *pki_dir,
                                     mm_nc_quic_settings *out);

/*
 * Client side for mm_nc_client_new(): connect (blocking, on a private event
 * base) and open stream 0. recv() returns whole framed messages of stream 0
 * and of every notification stream, so the NETCONF client sees one byte
 * stream. cfg needs ca_file, cert_file, key_file (server_name optional).
 * Free with mm_nc_quic_client_io_free() after mm_nc_client_free/close.
 */
int mm_nc_quic_client_io(const char *host, uint16_t port, const mm_quic_config *cfg,
                         int timeout_ms, struct mm_nc_client_io *out);
void mm_nc_quic_client_io_free(struct mm_nc_client_io *io);
/* The QUIC connection under a client io (tests, diagnostics). */
mm_quic_conn *mm_nc_quic_client_conn(const struct mm_nc_client_io *io);
/* How the connection ended: by us (local) or the peer, application or
 * transport error space, the code. MM_ESTATE while it is open. */
int mm_nc_quic_client_close_info(const struct mm_nc_client_io *io, bool *local, bool *app,
                                 uint64_t *code);
/* Notification streams the client has seen opened and ended (tests). */
void mm_nc_quic_client_stream_stats(const struct mm_nc_client_io *io, int *opened, int *ended);

#ifdef __cplusplus
}
#endif
#endif
