/*
 * netconfd_ssh_users.h - the SSH client-authentication users of
 * ietf-netconf-server in running, as a table the SSH transport asks.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_NETCONFD_SSH_USERS_H
#define MAMORI_NETCONFD_SSH_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include <libyang/libyang.h>

#ifdef MM_NC_HAVE_SSH
#include "mamori/mm_netconf_ssh.h"
#endif

typedef struct mm_netconfd_ssh_users mm_netconfd_ssh_users;

/*
 * Scopes (see mm_nc_ssh_authorize_fn): the users of listen endpoint E are
 * "listen:E", those of call-home netconf-client C "call-home:C". A
 * connection of scope "" (the --ssh-port listeners, --call-home options)
 * accepts the users of every listen endpoint.
 */
#define MM_NETCONFD_SCOPE_LISTEN "listen:"
#define MM_NETCONFD_SCOPE_CALL_HOME "call-home:"

/*
 * Every user and inline public key (ssh-public-key-format) under
 * .../ssh-server-parameters/client-authentication/users/user of the ssh
 * listen endpoints and of each call-home netconf-client's ssh endpoints,
 * with their scope. An empty table when running
 * has none. Keys of another format are skipped (and logged).
 */
int mm_netconfd_ssh_users_from_running(const struct lyd_node *running,
                                       mm_netconfd_ssh_users **out);
/* Whether user may log in with key_b64 on a connection of scope. */
bool mm_netconfd_ssh_users_allow(const mm_netconfd_ssh_users *t, const char *scope,
                                 const char *user, const char *key_b64);
size_t mm_netconfd_ssh_users_count(const mm_netconfd_ssh_users *t);
void mm_netconfd_ssh_users_free(mm_netconfd_ssh_users *t);

/*
 * The running check for these keys: every configured public key must be in
 * ssh-public-key-format and be an SSH key the transport can use; otherwise
 * the commit is refused (MM_EINVAL, path and msg filled).
 */
int mm_netconfd_ssh_users_check(const struct lyd_node *proposed, char *path, size_t path_len,
                                char *msg, size_t msg_len);

#ifdef MM_NC_HAVE_SSH
/*
 * The local-binds of running's ssh listen endpoints (port default 830), each
 * with the scope of its endpoint's users. MM_ELIMIT beyond max.
 */
int mm_netconfd_ssh_endpoints_from_running(const struct lyd_node *running,
                                           mm_nc_ssh_endpoint *eps, size_t max, size_t *n);
#endif

#endif
