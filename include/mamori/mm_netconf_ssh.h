/*
 * mm_netconf_ssh.h - NETCONF over SSH (RFC 6242) for mamori-netconfd, and
 * the client side for `mamori nc --transport ssh`, both on libssh.
 *
 * Server: TCP listeners on libevent; each connection is a non-blocking
 * libssh session driven from libevent (see src/netconf/transport/ssh.c for why), the
 * "netconf" subsystem on one session channel, public-key user
 * authentication only (no password, no keyboard-interactive, no "none"),
 * the NACM user is the SSH user name. Which keys a user may log in with is
 * asked of the authorize callback (mamori-netconfd answers from the
 * ietf-netconf-server configuration in running) and, only when keys_dir is
 * set (a bootstrap fallback), of <keys_dir>/<user> (OpenSSH authorized_keys
 * lines: "type base64 [comment]"). Both are asked again every
 * verify_interval_ms and every open session whose key is no longer
 * authorized for its user is closed (continuous verification).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_NETCONF_SSH_H
#define MAMORI_MM_NETCONF_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "mamori/mm_netconf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MM_NC_SSH_PORT 830 /* RFC 6242 section 3 */
#define MM_NC_SSH_MAX_ENDPOINTS 16
#define MM_NC_SSH_DEFAULT_VERIFY_MS 1000
#define MM_NC_SSH_AUTH_TIMEOUT_S 30 /* key exchange + authentication + hello */
#define MM_NC_SSH_DEFAULT_DEAD_PEER_MS 120000u
#define MM_NC_SSH_DEFAULT_MAX_QUEUE (4u << 20)
#define MM_NC_SSH_DEFAULT_MAX_CONNS 64 /* connections, authenticated or not */
#define MM_NC_SSH_MAX_AUTH_ATTEMPTS 6
#define MM_NC_SSH_USER_MAX 64

/* Key exchange methods offered, strongest first (libssh 0.10). */
#define MM_NC_SSH_KEX                                                                              \
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp521,"                           \
    "ecdh-sha2-nistp384,diffie-hellman-group18-sha512,"                                            \
    "diffie-hellman-group16-sha512"

typedef struct mm_nc_ssh_endpoint {
    char address[64]; /* numeric IPv4 or IPv6 */
    uint16_t port;
    char scope[64]; /* given to the authorize callback for connections accepted here */
} mm_nc_ssh_endpoint;

/*
 * Whether user may authenticate with the public key key_b64 (the base64 of
 * its RFC 4253 section 6.6 encoding, as in authorized_keys) on a connection
 * of the given scope: "" for a connection accepted on a listen endpoint, the
 * netconf-client name for a call-home connection (mm_nc_ssh_server_adopt).
 */
typedef bool (*mm_nc_ssh_authorize_fn)(void *arg, const char *scope, const char *user,
                                       const char *key_b64);

typedef struct mm_nc_ssh_settings {
    char host_key_file[1024]; /* OpenSSH private key; an ed25519 key is created (0600) if missing */
    char keys_dir[1024];      /* "" or the bootstrap fallback: one authorized-keys file per user */
    mm_nc_ssh_authorize_fn authorize; /* NULL: keys_dir only */
    void *authorize_arg;
    char kex[512];            /* "" = MM_NC_SSH_KEX */
    mm_nc_ssh_endpoint endpoints[MM_NC_SSH_MAX_ENDPOINTS];
    size_t n_endpoints;
    uint32_t verify_interval_ms; /* 0 = MM_NC_SSH_DEFAULT_VERIFY_MS */
    uint32_t dead_peer_ms;       /* 0 = MM_NC_SSH_DEFAULT_DEAD_PEER_MS */
    size_t max_queue;            /* 0 = MM_NC_SSH_DEFAULT_MAX_QUEUE */
    uint32_t max_conns;          /* 0 = MM_NC_SSH_DEFAULT_MAX_CONNS */
} mm_nc_ssh_settings;

typedef struct mm_nc_ssh_server mm_nc_ssh_server;

/* Load (or create) the host key, bind every endpoint, start accepting. */
int mm_nc_ssh_server_new(mm_nc_server *engine, struct event_base *base,
                         const mm_nc_ssh_settings *settings, mm_nc_ssh_server **out);
/*
 * Listen on exactly these endpoints from now on (reconfiguration): sockets
 * whose address and port stay are kept, the rest closed or bound; open
 * connections are not affected. The first error is returned after trying all.
 */
int mm_nc_ssh_server_listen(mm_nc_ssh_server *ss, const mm_nc_ssh_endpoint *eps, size_t n);
uint16_t mm_nc_ssh_server_port(const mm_nc_ssh_server *ss, size_t i);
size_t mm_nc_ssh_server_session_count(const mm_nc_ssh_server *ss);
/* Reply and notification bytes of all sessions not yet written to their channels. */
size_t mm_nc_ssh_server_queued_bytes(const mm_nc_ssh_server *ss);
/* Serve a connection the server opened (RFC 8071 call home; the peer is the SSH
 * client); scope (the netconf-client name) goes to the authorize callback.
 * closed(arg) runs once when it is gone. The fd is owned from here on. */
int mm_nc_ssh_server_adopt(mm_nc_ssh_server *ss, int fd, const char *scope,
                           void (*closed)(void *arg), void *arg);
/* Re-read the authorized keys and end sessions whose key is gone. */
void mm_nc_ssh_server_reverify(mm_nc_ssh_server *ss);
/* SHA-256 fingerprint of the host key ("SHA256:base64", OpenSSH style). */
const char *mm_nc_ssh_server_fingerprint(const mm_nc_ssh_server *ss);
void mm_nc_ssh_server_free(mm_nc_ssh_server *ss);

/*
 * Whether b64 is an SSH public key libssh can use (RFC 4253 section 6.6
 * encoding, base64); its algorithm name goes to type. MM_EINVAL otherwise,
 * with the reason in why.
 */
int mm_nc_ssh_pubkey_check(const char *b64, char *type, size_t type_len, char *why,
                           size_t why_len);

/* Create an ed25519 key at path (0600) unless a key is there already. */
int mm_nc_ssh_host_key_ensure(const char *path);

/* ------------------------------------------------------------ client */

typedef struct mm_nc_ssh_stream mm_nc_ssh_stream;
typedef struct mm_nc_ssh_client_config {
    const char *host;
    uint16_t port; /* 0: MM_NC_SSH_PORT */
    const char *user;
    const char *key_file;    /* private key (OpenSSH format) */
    const char *known_hosts; /* check the host key against this file, or */
    const char *fingerprint; /* "SHA256:..." of the host key; one of the two is required */
    int timeout_ms;          /* <= 0: 30000 */
    int fd; /* > 0: an already connected socket (call home); host is then a name only */
} mm_nc_ssh_client_config;

int mm_nc_ssh_connect(const mm_nc_ssh_client_config *cfg, mm_nc_ssh_stream **out, char *why,
                      size_t why_len);
void mm_nc_ssh_stream_io(mm_nc_ssh_stream *s, mm_nc_client_io *io);
const char *mm_nc_ssh_stream_kex(mm_nc_ssh_stream *s);
void mm_nc_ssh_stream_close(mm_nc_ssh_stream *s);

#ifdef __cplusplus
}
#endif
#endif
