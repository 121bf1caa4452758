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

typedef struct mm_netconfd_ssh_users mm_netconfd_ssh_users;

/*
 * Every user and inline public key (ssh-public-key-format) under
 * .../ssh-server-parameters/client-authentication/users/user of the ssh
 * listen endpoints (scope "") and of each call-home netconf-client's ssh
 * endpoints (scope = the netconf-client name). An empty table when running
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

#endif
