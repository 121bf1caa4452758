/*
 * NETCONF over SSH (RFC 6242) client stream on libssh, blocking: connect,
 * check the server's host key (known_hosts file or a pinned SHA-256
 * fingerprint; never trust on first use), authenticate with a private key,
 * open the "netconf" subsystem. Used by `mamori nc --transport ssh`.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf_ssh.h"

struct mm_nc_ssh_stream {
    ssh_session sess;
    ssh_channel chan;
    char kex[64];
};

static int fail(mm_nc_ssh_stream *s, char *why, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(mm_nc_ssh_stream *s, char *why, size_t len, int rc, const char *fmt, ...)
{
    if (why && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    mm_nc_ssh_stream_close(s);
    return rc;
}

/* Compare "SHA256:xyz" (or just "xyz") with the server key's fingerprint. */
static bool fingerprint_matches(ssh_session sess, const char *want, char *got, size_t got_len)
{
    ssh_key key = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    bool ok = false;
    if (ssh_get_server_publickey(sess, &key) == SSH_OK &&
        ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
        char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        if (fp) {
            snprintf(got, got_len, "%s", fp);
            const char *bare = strncmp(fp, "SHA256:", 7) == 0 ? fp + 7 : fp;
            const char *w = strncmp(want, "SHA256:", 7) == 0 ? want + 7 : want;
            /* OpenSSH prints it without base64 padding; libssh too, but be lenient. */
            size_t bl = strcspn(bare, "="), wl = strcspn(w, "=");
            ok = bl == wl && strncmp(bare, w, bl) == 0;
        }
        ssh_string_free_char(fp);
        ssh_clean_pubkey_hash(&hash);
    }
    ssh_key_free(key);
    return ok;
}

static int check_host(mm_nc_ssh_stream *s, const mm_nc_ssh_client_config *cfg, char *why,
                      size_t len)
{
    char got[128] = "?";
    if (cfg->fingerprint && cfg->fingerprint[0]) {
        if (fingerprint_matches(s->sess, cfg->fingerprint, got, sizeof(got)))
            return 0;
        return fail(s, why, len, MM_EVERIFY, "host key fingerprint mismatch (server has %s)", got);
    }
    enum ssh_known_hosts_e k = ssh_session_is_known_server(s->sess);
    switch (k) {
    case SSH_KNOWN_HOSTS_OK:
        return 0;
    case SSH_KNOWN_HOSTS_CHANGED:
        return fail(s, why, len, MM_EVERIFY, "host key CHANGED for this host in %s",
                    cfg->known_hosts);
    case SSH_KNOWN_HOSTS_OTHER:
        return fail(s, why, len, MM_EVERIFY, "host key of another type known in %s",
                    cfg->known_hosts);
    default:
        return fail(s, why, len, MM_EVERIFY,
                    "host key not in %s (pin it with --host-key-fingerprint)", cfg->known_hosts);
    }
}

int mm_nc_ssh_connect(const mm_nc_ssh_client_config *cfg, mm_nc_ssh_stream **out, char *why,
                      size_t why_len)
{
    *out = NULL;
    MM_ENSURE(cfg && cfg->user && cfg->key_file &&
                  ((cfg->known_hosts && cfg->known_hosts[0]) ||
                   (cfg->fingerprint && cfg->fingerprint[0])),
              MM_EINVAL);
    mm_nc_ssh_stream *s = calloc(1, sizeof(*s));
    MM_ENSURE(s, MM_ENOMEM);
    s->sess = ssh_new();
    if (!s->sess)
        return fail(s, why, why_len, MM_ENOMEM, "%s", "out of memory");
    unsigned int port = cfg->port ? cfg->port : MM_NC_SSH_PORT;
    long tmo = (cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000) / 1000;
    if (tmo < 1)
        tmo = 1;
    int verbosity = SSH_LOG_NOLOG;
    ssh_options_set(s->sess, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
    ssh_options_set(s->sess, SSH_OPTIONS_HOST, cfg->host ? cfg->host : "localhost");
    ssh_options_set(s->sess, SSH_OPTIONS_PORT, &port);
    ssh_options_set(s->sess, SSH_OPTIONS_USER, cfg->user);
    ssh_options_set(s->sess, SSH_OPTIONS_TIMEOUT, &tmo);
    ssh_options_set(s->sess, SSH_OPTIONS_KEY_EXCHANGE, MM_NC_SSH_KEX);
    /* No ~/.ssh/config, no agent: exactly the key and trust given. */
    bool no = false;
    ssh_options_set(s->sess, SSH_OPTIONS_PROCESS_CONFIG, &no);
    if (cfg->known_hosts && cfg->known_hosts[0])
        ssh_options_set(s->sess, SSH_OPTIONS_KNOWNHOSTS, cfg->known_hosts);
    if (cfg->fd > 0) {
        socket_t fd = cfg->fd;
        ssh_options_set(s->sess, SSH_OPTIONS_FD, &fd);
    }
    if (ssh_connect(s->sess) != SSH_OK)
        return fail(s, why, why_len, MM_EIO, "ssh connect: %s", ssh_get_error(s->sess));
    MM_GUARD(check_host(s, cfg, why, why_len));
    ssh_key key = NULL;
    if (ssh_pki_import_privkey_file(cfg->key_file, NULL, NULL, NULL, &key) != SSH_OK)
        return fail(s, why, why_len, MM_EIO, "cannot read private key %s", cfg->key_file);
    int rc = ssh_userauth_publickey(s->sess, NULL, key);
    ssh_key_free(key);
    if (rc != SSH_AUTH_SUCCESS)
        return fail(s, why, why_len, MM_EPERM, "public key authentication failed%s",
                    rc == SSH_AUTH_ERROR ? " (error)" : "");
    s->chan = ssh_channel_new(s->sess);
    if (!s->chan || ssh_channel_open_session(s->chan) != SSH_OK)
        return fail(s, why, why_len, MM_EIO, "cannot open a channel: %s", ssh_get_error(s->sess));
    if (ssh_channel_request_subsystem(s->chan, "netconf") != SSH_OK)
        return fail(s, why, why_len, MM_EPROTO, "%s", "server refused the netconf subsystem");
    const char *kex = ssh_get_kex_algo(s->sess);
    snprintf(s->kex, sizeof(s->kex), "%s", kex ? kex : "?");
    *out = s;
    return 0;
}

static int ssh_send(void *io, const uint8_t *data, size_t len)
{
    mm_nc_ssh_stream *s = io;
    while (len > 0) {
        uint32_t n = len > 65536 ? 65536 : (uint32_t)len;
        int w = ssh_channel_write(s->chan, data, n);
        if (w <= 0)
            return MM_EIO;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

static long ssh_recv(void *io, uint8_t *buf, size_t cap, int timeout_ms)
{
    mm_nc_ssh_stream *s = io;
    uint32_t n = cap > 65536 ? 65536 : (uint32_t)cap;
    int r = ssh_channel_read_timeout(s->chan, buf, n, 0, timeout_ms < 0 ? -1 : timeout_ms);
    if (r == SSH_ERROR)
        return MM_EIO;
    if (r == 0)
        return ssh_channel_is_eof(s->chan) || !ssh_channel_is_open(s->chan) ? 0 : MM_ETIMEOUT;
    return r;
}

void mm_nc_ssh_stream_io(mm_nc_ssh_stream *s, mm_nc_client_io *io)
{
    io->send = ssh_send;
    io->recv = ssh_recv;
    io->io = s;
}

const char *mm_nc_ssh_stream_kex(mm_nc_ssh_stream *s)
{
    return s->kex;
}

void mm_nc_ssh_stream_close(mm_nc_ssh_stream *s)
{
    if (!s)
        return;
    if (s->chan) {
        if (ssh_channel_is_open(s->chan)) {
            ssh_channel_send_eof(s->chan);
            ssh_channel_close(s->chan);
        }
        ssh_channel_free(s->chan);
    }
    if (s->sess) {
        ssh_disconnect(s->sess);
        ssh_free(s->sess);
    }
    free(s);
}
