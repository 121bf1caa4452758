/*
 * netconfd.h - mamori-netconfd's glue between the NETCONF engine, the
 * ietf-netconf-server configuration in its datastore, and the TLS transport.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_NETCONFD_H
#define MAMORI_NETCONFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include <libyang/libyang.h>

#include "mamori/mm_netconf_tls.h"
#include "netconfd_callhome.h"

/*
 * First-start listen addresses: both loopbacks, so that "localhost" works
 * whether it resolves to ::1, to 127.0.0.1 or to both.
 */
#define MM_NETCONFD_DEFAULT_ADDRESSES "::1,127.0.0.1"

/* Where the TLS transport's settings live in the datastore. */
#define MM_NETCONFD_ENDPOINTS "/ietf-netconf-server:netconf-server/listen/endpoints/endpoint"
/* File (inside the state directory) holding the trust anchors taken from the datastore. */
#define MM_NETCONFD_TRUST_FILE "tls-trust-anchors.pem"
/* ...and those of the QUIC endpoints. */
#define MM_NETCONFD_QUIC_TRUST_FILE "quic-trust-anchors.pem"

/*
 * The initial configuration of a new installation, as RFC 7951 JSON
 * (malloc'd in *json): one TLS endpoint on address:port whose server
 * identity is the PKI's server certificate (private key hidden: it stays in
 * the PKI directory), the PKI's CA as the client trust anchor, a
 * cert-to-name entry mapping certificates issued by that CA to their common
 * name, and NACM rules that give the PKI's first client ("admin") all rights.
 */
int mm_netconfd_seed_json(const char *pki_dir, const char *address, uint16_t port,
                          uint16_t quic_port, char **json);

/*
 * Read every TLS endpoint of ietf-netconf-server from running into out:
 * addresses and ports, cert-to-name entries (of all endpoints, in id order),
 * and client trust anchors (written as PEM to <state_dir>/tls-trust-anchors.pem;
 * without any, the PKI's ca.crt is used). The server's certificate and key
 * are the PKI's. MM_ENOENT if running has no TLS endpoint.
 */
int mm_netconfd_settings_from_running(const struct lyd_node *running, const char *pki_dir,
                                      const char *state_dir, mm_nc_tls_settings *out);

/*
 * The client trust anchors (ca-certs) of the QUIC endpoints of running,
 * written as PEM to <state_dir>/quic-trust-anchors.pem; ca_file is set to it.
 * Without any anchor ca_file is not changed.
 */
int mm_netconfd_quic_anchors(const struct lyd_node *running, const char *state_dir,
                             char *ca_file, size_t ca_len);

/*
 * TLS settings when running has no TLS endpoint: one endpoint on
 * address:port, the PKI's identity and CA, and the seed's cert-to-name entry
 * (the CA's clients by common name), so that a restart always comes up.
 */
int mm_netconfd_fallback_settings(const char *pki_dir, const char *address, uint16_t port,
                                  mm_nc_tls_settings *out);

/*
 * The running check (mm_nc_server_on_running_check): refuses a proposed
 * running without any TLS or QUIC listen endpoint (path and msg filled).
 */
int mm_netconfd_check_listen(const struct lyd_node *proposed, char *path, size_t path_len,
                             char *msg, size_t msg_len);

/* ------------------------------------------------------------ the daemon */

typedef struct mm_netconfd_options {
    const char *state_dir;     /* required */
    const char *pki_dir;       /* required; a PKI is created there if missing */
    const char *module_dir;    /* NULL: only the NETCONF modules */
    const char *address;       /* first-start listen addresses, comma-separated;
                                  NULL: MM_NETCONFD_DEFAULT_ADDRESSES */
    uint16_t port;             /* first-start listen port (0: any free port) */
    uint16_t quic_port;        /* first-start NETCONF-over-QUIC port (0: no QUIC endpoint) */
    const char *crl_file;      /* NULL: no CRL */
    uint32_t verify_ms;        /* 0: MM_NC_TLS_DEFAULT_VERIFY_MS */
    const char *recovery_user; /* NULL: none */
    size_t max_message;        /* 0: engine default */
    /* Dead-peer detection (issue 10 #7). TLS: TCP keep-alive and
     * TCP_USER_TIMEOUT; QUIC: the idle timeout of endpoints whose running
     * configuration sets none (PING keep-alive at a third of it).
     * 0: the defaults (MM_NC_TLS_DEFAULT_DEAD_PEER_MS, MM_NC_QUIC_DEFAULT_IDLE_MS). */
    uint32_t idle_timeout_ms;
    /* Unsent output per session (replies and notifications) before its input
     * is paused and its subscription's grace starts (0: default). */
    size_t max_queue;
    /* How long a subscriber's backlog may stay over max_queue before its
     * session is closed (0: MM_NC_DEFAULT_NOTIF_GRACE_MS). */
    uint32_t notif_grace_ms;
    /* Work one message may cost before libyang sees it (0: engine defaults). */
    uint32_t max_elements, max_attributes, max_depth;
    /* NETCONF over SSH (RFC 6242): the ssh listen endpoints of running, and
     * (bootstrap) the first-start addresses at ssh_port (0: any free port).
     * Host key <state_dir>/ssh_host_ed25519_key (created on first run). Users
     * and keys: running's ssh client-authentication; the per-user files of
     * ssh_keys_dir only if set (bootstrap fallback). */
    uint16_t ssh_port;
    bool ssh_enabled;          /* ssh_port given (port 0 then means: any free port) */
    const char *ssh_keys_dir;  /* NULL: no key files */
    /* Prometheus /metrics on loopback (0: off unless metrics_enabled). */
    uint16_t metrics_port;
    bool metrics_enabled;
    const char *metrics_address; /* NULL: 127.0.0.1 */
    /* Call home (RFC 8071): bootstrap clients dialed besides running's
     * call-home netconf-clients, and the first retry delay. */
    mm_netconfd_callhome_client call_home[MM_NETCONFD_CALLHOME_MAX];
    size_t n_call_home;
    uint32_t call_home_retry_ms; /* 0: 1000 */
} mm_netconfd_options;

typedef struct mm_netconfd mm_netconfd;

/*
 * Everything mamori-netconfd does before its loop: make sure the PKI
 * exists, seed a new state directory, start the engine, bind the TLS
 * endpoints of running, and re-apply ietf-netconf-server whenever running
 * changes. The options' strings must outlive the daemon.
 */
int mm_netconfd_start(const mm_netconfd_options *o, struct event_base *base, mm_netconfd **out);
mm_nc_server *mm_netconfd_engine(mm_netconfd *d);
mm_nc_tls_server *mm_netconfd_tls(mm_netconfd *d);
/* Bound SSH port i (0: none), metrics port (0: none), host key fingerprint ("" without SSH). */
uint16_t mm_netconfd_ssh_port(mm_netconfd *d, size_t i);
uint16_t mm_netconfd_metrics_port(mm_netconfd *d);
mm_netconfd_callhome *mm_netconfd_callhome_of(mm_netconfd *d);
const char *mm_netconfd_ssh_fingerprint(mm_netconfd *d);
void mm_netconfd_free(mm_netconfd *d);

#endif
