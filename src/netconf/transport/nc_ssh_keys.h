/*
 * nc_ssh_keys.h - authorized keys of the NETCONF-over-SSH transport (internal).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_NC_SSH_KEYS_H
#define MAMORI_NC_SSH_KEYS_H

#include <stdbool.h>

#include <libssh/libssh.h>

/*
 * Whether key is listed in <keys_dir>/<user> (OpenSSH authorized_keys lines
 * "type base64 [comment]"; lines with options never match). False for user
 * names outside [A-Za-z0-9._@-] (they name files) and for a world-writable file.
 */
bool mm_nc_ssh_key_authorized(const char *keys_dir, const char *user, ssh_key key);

#endif
