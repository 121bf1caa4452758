/*
 * netconfd.h - mamori-netconfd's glue between the NETCONF engine, the
 * ietf-netconf-server configuration in its datastore, and the TLS transport.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_NETCONFD_H
#define MAMORI_NETCONFD_H

#include <stdint.h>

#include <libyang/libyang.h>

#include "mamori/mm_netconf_tls.h"

/* Where the TLS transport's settings live in the datastore. */
#define MM_NETCONFD_ENDPOINTS "/ietf-netconf-server:netconf-server/listen/endpoints/endpoint"
/* File (inside the state directory) holding the trust anchors taken from the datastore. */
#define MM_NETCONFD_TRUST_FILE "tls-trust-anchors.pem"

/*
 * The initial configuration of a new installation, as RFC 7951 JSON
 * (malloc'd in *json): one TLS endpoint on address:port whose server
 * identity is the PKI's server certificate (private key hidden: it stays in
 * the PKI directory), the PKI's CA as the client trust anchor, a
 * cert-to-name entry mapping certificates issued by that CA to their common
 * name, and NACM rules that give the PKI's first client ("admin") all rights.
 */
int mm_netconfd_seed_json(const char *pki_dir, const char *address, uint16_t port, char **json);

/*
 * Read every TLS endpoint of ietf-netconf-server from running into out:
 * addresses and ports, cert-to-name entries (of all endpoints, in id order),
 * and client trust anchors (written as PEM to <state_dir>/tls-trust-anchors.pem;
 * without any, the PKI's ca.crt is used). The server's certificate and key
 * are the PKI's. MM_ENOENT if running has no TLS endpoint.
 */
int mm_netconfd_settings_from_running(const struct lyd_node *running, const char *pki_dir,
                                      const char *state_dir, mm_nc_tls_settings *out);

#endif
