/*
 * NETCONF over SSH: the server's host key (created on first run) and the
 * per-user authorized keys that authenticate clients (RFC 6242 with RFC 4252
 * public-key authentication; the SSH user is the NACM user).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <openssl/evp.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"
#include "mamori/mm_netconf_ssh.h"
#include "nc_ssh_keys.h"

/* NACM user names become file names: keep them to a safe alphabet. */
static bool user_name_ok(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n >= MM_NC_SSH_USER_MAX || u[0] == '.' || u[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)u[i]) && !strchr("._-@", u[i]))
            return false;
    return true;
}

/*
 * Whether key is listed in <keys_dir>/<user>. Lines are "type base64
 * [comment]" as in OpenSSH authorized_keys (options are not supported: a
 * line with them does not match). The file must not be writable by others.
 */
bool mm_nc_ssh_key_authorized(const char *keys_dir, const char *user, ssh_key key)
{
    if (!user_name_ok(user))
        return false;
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", keys_dir, user);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    if (st.st_mode & S_IWOTH) {
        mm_log_warn("nc-ssh-keys", "file=%s err=\"world-writable, ignored\"", path);
        return false;
    }
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool found = false;
    char line[8192];
    while (!found && fgets(line, sizeof(line), f)) {
        char *save = NULL, *type = strtok_r(line, " \t\r\n", &save);
        char *b64 = type ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        if (!b64 || type[0] == '#')
            continue;
        enum ssh_keytypes_e t = ssh_key_type_from_name(type);
        ssh_key k = NULL;
        if (t == SSH_KEYTYPE_UNKNOWN || ssh_pki_import_pubkey_base64(b64, t, &k) != SSH_OK)
            continue;
        found = ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) == 0;
        ssh_key_free(k);
    }
    fclose(f);
    return found;
}

int mm_nc_ssh_host_key_ensure(const char *path)
{
    if (access(path, F_OK) == 0)
        return 0;
    ssh_key key = NULL;
    if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
        return MM_ECRYPTO;
    mode_t old = umask(077);
    int rc = ssh_pki_export_privkey_file(key, NULL, NULL, NULL, path);
    umask(old);
    ssh_key_free(key);
    if (rc != SSH_OK) {
        mm_log_error("nc-ssh-hostkey", "file=%s err=\"cannot write\"", path);
        return MM_EIO;
    }
    chmod(path, 0600);
    mm_log_info("nc-ssh-hostkey", "file=%s action=created type=ssh-ed25519", path);
    return 0;
}

/*
 * A configured public key (ietf-crypto-types ssh-public-key-format: the
 * RFC 4253 section 6.6 encoding, "string algorithm-name" then the key data).
 * The algorithm name is read from the blob itself (it is configuration a
 * client sent, so through mm_cursor), then libssh must be able to import it.
 */
int mm_nc_ssh_pubkey_check(const char *b64, char *type, size_t type_len, char *why,
                           size_t why_len)
{
    type[0] = '\0';
    size_t n = strlen(b64);
    uint8_t *blob = malloc(n / 4 * 3 + 4);
    if (!blob)
        return MM_ENOMEM;
    int got = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)n);
    int rc = 0;
    if (got < 4 || n % 4) {
        snprintf(why, why_len, "public-key is not base64");
        rc = MM_EINVAL;
    } else {
        mm_cursor cur;
        mm_cursor_init_read(&cur, blob, (size_t)got);
        uint32_t tl = mm_cursor_read_u32(&cur);
        if (mm_cursor_error(&cur) || tl == 0 || tl >= type_len || tl > mm_cursor_remaining(&cur)) {
            snprintf(why, why_len, "public-key is not an SSH key (RFC 4253 section 6.6)");
            rc = MM_EINVAL;
        } else {
            mm_cursor_read_bytes(&cur, (uint8_t *)type, tl);
            type[tl] = '\0';
        }
    }
    free(blob);
    if (rc < 0)
        return rc;
    enum ssh_keytypes_e t = ssh_key_type_from_name(type);
    ssh_key k = NULL;
    if (t == SSH_KEYTYPE_UNKNOWN || ssh_pki_import_pubkey_base64(b64, t, &k) != SSH_OK) {
        snprintf(why, why_len, "SSH public key of algorithm '%.60s' not supported or malformed",
                 type);
        return MM_EINVAL;
    }
    ssh_key_free(k);
    return 0;
}
