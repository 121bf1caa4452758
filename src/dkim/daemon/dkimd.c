/*
 * mamori-dkimd - DKIM milter for Postfix and Sendmail (libmilter). All the
 * per-message logic is in the library (filter.c); this file maps libmilter's
 * callbacks onto a session per connection.
 *
 * usage: mamori-dkimd -c CONFIG.json [-l LOGLEVEL] [-u USER]
 * With -u the daemon opens its socket, keys and audit log, then runs as USER.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <grp.h>
#include <pwd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "mamori/mm_core.h"
#include "mamori/mm_dkim.h"

static mm_dkim_filter *filter; /* read-only while smfi_main runs */

static mm_dkim_fsess *sess(SMFICTX *ctx) { return smfi_getpriv(ctx); }

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    char ip[INET6_ADDRSTRLEN] = "local";
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
    mm_dkim_fsess *s = mm_dkim_fsess_new(filter, ip);
    if (!s)
        return SMFIS_TEMPFAIL;
    smfi_setpriv(ctx, s);
    mm_log_debug("connect", "client=%s host=%s", ip, host ? host : "-");
    return SMFIS_CONTINUE;
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    mm_dkim_fsess *s = sess(ctx);
    if (!s || mm_dkim_fsess_envfrom(s, argv[0] ? argv[0] : "<>") < 0)
        return SMFIS_TEMPFAIL;
    const char *qid = smfi_getsymval(ctx, "i");
    mm_dkim_fsess_queue_id(s, qid);
    return SMFIS_CONTINUE;
}

static sfsistat on_rcpt(SMFICTX *ctx, char **argv)
{
    mm_dkim_fsess *s = sess(ctx);
    if (!s || !argv[0])
        return SMFIS_TEMPFAIL;
    int rc = mm_dkim_fsess_rcpt(s, argv[0]);
    return rc == 0 ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    mm_dkim_fsess *s = sess(ctx);
    if (!s || mm_dkim_fsess_header(s, name, value ? value : "") < 0)
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

static sfsistat on_eoh(SMFICTX *ctx)
{
    mm_dkim_fsess *s = sess(ctx);
    if (!s)
        return SMFIS_TEMPFAIL;
    int rc = mm_dkim_fsess_eoh(s);
    if (rc < 0) {
        mm_log_warn("eoh", "client=%s error=\"%s\"", "-", mm_strerror(rc));
        return SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
    mm_dkim_fsess *s = sess(ctx);
    if (!s)
        return SMFIS_TEMPFAIL;
    mm_dkim_fsess_body(s, p, n);
    return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
    mm_dkim_fsess *s = sess(ctx);
    if (!s)
        return SMFIS_TEMPFAIL;
    mm_dkim_fout out;
    int rc = mm_dkim_fsess_eom(s, &out);
    if (rc < 0) {
        mm_log_warn("eom", "error=\"%s\"", mm_strerror(rc));
        mm_dkim_fout_free(&out);
        return SMFIS_TEMPFAIL;
    }
    mm_log_info("decision", "action=%s reason=\"%s\" fields=%zu",
                out.action == MM_DKIM_TEMPFAIL ? "tempfail" : "accept", out.reason, out.n);
    if (out.action == MM_DKIM_TEMPFAIL) {
        smfi_setreply(ctx, "451", "4.7.1", out.reason);
        mm_dkim_fout_free(&out);
        return SMFIS_TEMPFAIL;
    }
    /* intermediary: the edit whose change record and signature are added below */
    if (out.new_subject && smfi_chgheader(ctx, "Subject", 1, out.new_subject) != MI_SUCCESS) {
        mm_dkim_fout_free(&out);
        return SMFIS_TEMPFAIL;
    }
    if (out.new_body && smfi_replacebody(ctx, out.new_body, (int)out.new_body_len) != MI_SUCCESS) {
        mm_dkim_fout_free(&out);
        return SMFIS_TEMPFAIL;
    }
    /* signatures and results go on top (RFC 6376 5.6, RFC 8601 5) */
    for (size_t i = 0; i < out.n; i++)
        if (smfi_insheader(ctx, 0, out.name[i], out.value[i]) != MI_SUCCESS) {
            mm_dkim_fout_free(&out);
            return SMFIS_TEMPFAIL;
        }
    mm_dkim_fout_free(&out);
    return SMFIS_CONTINUE;
}

static sfsistat on_abort(SMFICTX *ctx)
{
    mm_dkim_fsess *s = sess(ctx);
    if (s)
        mm_dkim_fsess_reset(s);
    return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
    mm_dkim_fsess_free(sess(ctx)); /* a vanished MTA releases what the session holds */
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

/* Drop root after everything privileged is open; fails closed (the daemon exits). */
static int drop_privileges(const char *user)
{
    struct passwd *pw = getpwnam(user);
    if (!pw)
        return MM_ENOENT;
    if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
        return MM_EPERM;
    if (pw->pw_uid != 0 && setuid(0) == 0)
        return MM_EPERM; /* root must not be regained */
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf = NULL, *level = "info", *user = NULL;
    int c;
    while ((c = getopt(argc, argv, "c:l:u:h")) != -1) {
        if (c == 'c')
            conf = optarg;
        else if (c == 'l')
            level = optarg;
        else if (c == 'u')
            user = optarg;
        else {
            fprintf(stderr, "usage: mamori-dkimd -c CONFIG.json [-l error|warn|info|debug] [-u USER]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    enum mm_log_level lv = MM_LOG_INFO;
    mm_log_level_parse(level, &lv);
    mm_log_setup("mamori-dkimd", MM_LOG_STDERR, lv);
    if (!conf) {
        fprintf(stderr, "mamori-dkimd: -c CONFIG.json is required\n");
        return 2;
    }
    char err[2048] = "";
    int rc = mm_dkim_filter_load(conf, &filter, err, sizeof(err));
    if (rc < 0) {
        mm_log_error("config", "file=%s error=\"%s\"", conf, err[0] ? err : mm_strerror(rc));
        return 1;
    }
    struct smfiDesc desc = {
        .xxfi_name = "mamori-dkimd",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY, /* last two: intermediary */
        .xxfi_connect = on_connect,
        .xxfi_envfrom = on_envfrom,
        .xxfi_envrcpt = on_rcpt,
        .xxfi_header = on_header,
        .xxfi_eoh = on_eoh,
        .xxfi_body = on_body,
        .xxfi_eom = on_eom,
        .xxfi_abort = on_abort,
        .xxfi_close = on_close,
    };
    const char *sock = mm_dkim_filter_socket(filter);
    if (smfi_setconn((char *)sock) != MI_SUCCESS || smfi_settimeout((int)mm_dkim_filter_timeout(filter)) != MI_SUCCESS ||
        smfi_register(desc) != MI_SUCCESS || smfi_opensocket(true) != MI_SUCCESS) {
        mm_log_error("listen", "socket=%s error=\"cannot open milter socket\"", sock);
        mm_dkim_filter_free(filter);
        return 1;
    }
    if (user && (rc = drop_privileges(user)) < 0) {
        mm_log_error("privileges", "user=%s error=\"%s\"", user, mm_strerror(rc));
        mm_dkim_filter_free(filter);
        return 1;
    }
    mm_log_info("listen", "socket=%s uid=%u", sock, (unsigned)getuid());
    rc = smfi_main();
    mm_log_info("stop", "rc=%d", rc);
    mm_dkim_filter_free(filter);
    return rc == MI_SUCCESS ? 0 : 1;
}
