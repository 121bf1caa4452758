/*
 * nc_session - one NETCONF session over TLS or QUIC driven by a script on
 * stdin, for the daemon-level tests (a multi-step session, which `mamori nc`
 * deliberately is not).
 *
 * usage: nc_session tls|quic HOST PORT CA CERT KEY < SCRIPT
 *
 * Script lines:
 *   <op .../>      send it as an <rpc>, wait for the reply, print
 *                  "reply: ok" or "reply: <tag>" or "reply: data" on stdout
 *   @flood N       send N <get/>s pipelined, without reading any reply
 *   @drain N       read N replies (those of a flood); print "drained N"
 *   @wait FILE     wait (bounded, 60 s) until FILE exists
 *   @hold          print "holding" and block until killed
 *   @cycle N FILE RPC  send RPC (each @V@ in it replaced by "a" and "b" in
 *                  turn, so that every edit changes something) and wait for
 *                  its <ok/>, up to N times, stopping early once FILE
 *                  exists; print "cycled K"
 *   @until-end     read (and count) notifications until the server ends the
 *                  session (bounded, 120 s); print "notifications N" and
 *                  "ended: WHY"
 *   @close         <close-session/>; print "closed"
 * After each line, "step N done" is printed, so a test can wait on it.
 * Exit status 0 when every step worked, 1 otherwise.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#ifdef MM_HAVE_QUIC
#include "mamori/mm_netconf_quic.h"
#include "mamori/mm_quic.h"
#endif

#define T_MS 60000

__attribute__((format(printf, 1, 2))) static int say(const char *fmt, ...);
static int say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    return 0;
}

static int report(const char *xml)
{
    mm_nc_reply *r = NULL;
    if (mm_nc_reply_parse(xml, strlen(xml), &r, NULL, 0) < 0)
        return say("reply: unparsable %s\n", xml), 1;
    if (mm_nc_reply_error_count(r)) {
        const mm_nc_reply_error *e = mm_nc_reply_error_at(r, 0);
        printf("reply: %s path=%s\n", e->tag ? e->tag : "?", e->path ? e->path : "-");
    } else {
        say("reply: %s\n", mm_nc_reply_has_data(r) ? "data" : "ok");
    }
    fflush(stdout);
    mm_nc_reply_free(r);
    return 0;
}

static int wait_file(const char *path)
{
    for (int i = 0; i < 6000; i++) {
        if (access(path, F_OK) == 0)
            return 0;
        usleep(10000);
    }
    return 1;
}

static void count_notif(const char *xml, size_t len, void *arg)
{
    (void)xml;
    (void)len;
    (*(long *)arg)++;
}

static int until_end(mm_nc_client *c)
{
    long n = 0;
    mm_nc_client_on_notification(c, count_notif, &n);
    int rc = 0;
    for (int i = 0; i < 120 && rc >= 0; i++)
        while ((rc = mm_nc_client_poll(c, 1000)) > 0)
            ;
    printf("notifications %ld\n", n);
    if (rc >= 0)
        return say("%s\n", "still open"), 1;
    return say("ended: %s\n", mm_nc_client_error(c)), 0;
}

/* "@cycle N FILE RPC" */
static int cycle(mm_nc_client *c, char *args)
{
    char *end = NULL;
    long n = strtol(args, &end, 10);
    char *file = end + strspn(end, " ");
    char *rpc = strchr(file, ' ');
    if (n <= 0 || !rpc)
        return say("%s\n", "cycle: usage @cycle N FILE RPC"), 1;
    *rpc++ = '\0';
    long k = 0;
    for (; k < n && access(file, F_OK) != 0; k++) {
        char *op = strdup(rpc), *reply = NULL;
        if (!op)
            return 1;
        for (char *v = strstr(op, "@V@"); v; v = strstr(v, "@V@"))
            memcpy(v, k % 2 ? "b__" : "a__", 3);
        int rc = mm_nc_client_rpc(c, op, &reply, T_MS);
        free(op);
        mm_nc_reply *r = NULL;
        bool ok = rc == 0 && mm_nc_reply_parse(reply, strlen(reply), &r, NULL, 0) == 0 &&
                  mm_nc_reply_ok(r);
        mm_nc_reply_free(r);
        if (!ok) {
            say("cycle %ld: %s\n", k, rc < 0 ? mm_nc_client_error(c) : reply);
            free(reply);
            return 1;
        }
        free(reply);
    }
    say("cycled %ld\n", k);
    return 0;
}

static int step(mm_nc_client *c, char *line)
{
    char *reply = NULL;
    long n = 0;
    if (!strncmp(line, "@flood ", 7)) {
        n = strtol(line + 7, NULL, 10);
        mm_nc_client_cork(c, true);
        for (long i = 0; i < n; i++)
            if (mm_nc_client_send_rpc(c, "<get/>", NULL) < 0)
                return say("flood: %s\n", mm_nc_client_error(c)), 1;
        mm_nc_client_cork(c, false);
        return mm_nc_client_flush(c) < 0 ? 1 : 0;
    }
    if (!strncmp(line, "@drain ", 7)) {
        n = strtol(line + 7, NULL, 10);
        for (long i = 0; i < n; i++) {
            if (mm_nc_client_recv_reply(c, &reply, T_MS) < 0)
                return say("drain: %s\n", mm_nc_client_error(c)), 1;
            free(reply);
        }
        printf("drained %ld\n", n);
        return 0;
    }
    if (!strncmp(line, "@wait ", 6))
        return wait_file(line + 6);
    if (!strncmp(line, "@cycle ", 7))
        return cycle(c, line + 7);
    if (!strcmp(line, "@until-end"))
        return until_end(c);
    if (!strcmp(line, "@hold")) {
        say("%s\n", "holding");
        for (;;)
            pause();
    }
    if (!strcmp(line, "@close")) {
        int rc = mm_nc_client_close(c);
        say("%s\n", rc == 0 ? "closed" : "close failed");
        return rc == 0 ? 2 : 1;
    }
    if (mm_nc_client_rpc(c, line, &reply, T_MS) < 0)
        return say("rpc: %s\n", mm_nc_client_error(c)), 1;
    int rc = report(reply);
    free(reply);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: nc_session tls|quic HOST PORT CA CERT KEY < SCRIPT\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint16_t port = (uint16_t)strtoul(argv[3], NULL, 10);
    mm_nc_client_io io;
    mm_nc_tls_stream *tls = NULL;
    char why[512] = "";
    int rc = MM_EUNSUPPORTED;
    bool quic = !strcmp(argv[1], "quic");
    if (!quic) {
        mm_nc_tls_client_config tc = {.host = argv[2], .port = port, .server_name = "localhost",
                                      .ca_file = argv[4], .cert_file = argv[5],
                                      .key_file = argv[6], .timeout_ms = T_MS};
        rc = mm_nc_tls_connect(&tc, &tls, why, sizeof(why));
        if (rc == 0)
            mm_nc_tls_stream_io(tls, &io);
    }
#ifdef MM_HAVE_QUIC
    else {
        mm_quic_config qc = {.ca_file = argv[4], .cert_file = argv[5], .key_file = argv[6],
                             .server_name = "localhost"};
        rc = mm_nc_quic_client_io(argv[2], port, &qc, T_MS, &io);
    }
#endif
    if (rc < 0) {
        fprintf(stderr, "nc_session: connect: %s %s\n", mm_strerror(rc), why);
        return 1;
    }
    mm_nc_client *c = NULL;
    rc = mm_nc_client_new_ex(&io, 0, T_MS, &c, why, sizeof(why));
    if (rc < 0) {
        fprintf(stderr, "nc_session: hello: %s\n", why);
        return 1;
    }
    printf("session-id %u\n", mm_nc_client_session_id(c));
    char line[65536];
    int n = 0, bad = 0;
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        int s = step(c, line);
        printf("step %d done\n", ++n);
        if (s == 2) {
            c = NULL;
            break;
        }
        if (s != 0) {
            bad = 1;
            break;
        }
    }
    if (c)
        mm_nc_client_free(c);
#ifdef MM_HAVE_QUIC
    if (quic) {
        bool local = false, app = false;
        uint64_t code = 0;
        /* Let the server's CONNECTION_CLOSE arrive (bounded), then report it. */
        for (int i = 0; i < 100 && mm_nc_quic_client_close_info(&io, &local, &app, &code) < 0; i++) {
            uint8_t b[1];
            io.recv(io.io, b, 0, 50);
        }
        if (mm_nc_quic_client_close_info(&io, &local, &app, &code) == 0)
            printf("connection closed by %s: %s error 0x%02llx\n", local ? "us" : "server",
                   app ? "application" : "transport", (unsigned long long)code);
        mm_nc_quic_client_io_free(&io);
    }
#endif
    if (tls)
        mm_nc_tls_stream_close(tls);
    return bad;
}
