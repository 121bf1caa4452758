/*
 * libnetconf2_client.c - libnetconf2 (CESNET, 2.0.x) as a NETCONF-over-TLS
 * client of a running mamori-netconfd: hello (session-id, capabilities),
 * get-config, edit-config then get-config, and an RFC 5277 subscription
 * that receives the netconf-config-change caused by another session.
 *
 * usage: libnetconf2_client PORT CA CERT KEY
 * The daemon must serve the nc-test module (--module-dir tests/unit/netconf/yang).
 * Exit 0 pass, 1 fail. libnetconf2 builds its YANG context with
 * <get-schema> from the server (MM_LNC2_SEARCHPATH adds a search path).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnetconf2/log.h>
#include <libnetconf2/messages_client.h>
#include <libnetconf2/netconf.h>
#include <libnetconf2/session.h>
#include <libyang/libyang.h>
#include "interop_check.h"

/*
 * libnetconf2's session_client.h declares these only with NC_ENABLED_TLS,
 * and then also includes <libssh/libssh.h> (libssh-dev, which the Debian
 * package does not pull in). The five client calls we need, as in
 * libnetconf2 2.0 session_client.h:
 */
void nc_client_init(void);
void nc_client_destroy(void);
int nc_client_set_schema_searchpath(const char *path);
int nc_client_tls_set_cert_key_paths(const char *client_cert, const char *client_key);
int nc_client_tls_set_trusted_ca_paths(const char *ca_file, const char *ca_dir);
struct nc_session *nc_connect_tls(const char *host, uint16_t port, struct ly_ctx *ctx);
const char *const *nc_session_get_cpblts(const struct nc_session *session);
NC_MSG_TYPE nc_recv_reply(struct nc_session *session, struct nc_rpc *rpc, uint64_t msgid,
                          int timeout, struct lyd_node **envp, struct lyd_node **op);
NC_MSG_TYPE nc_recv_notif(struct nc_session *session, int timeout, struct lyd_node **envp,
                          struct lyd_node **op);
NC_MSG_TYPE nc_send_rpc(struct nc_session *session, struct nc_rpc *rpc, int timeout,
                        uint64_t *msgid);

#define TIMEOUT_MS 5000
#define NS_TEST "urn:mamori:test:nc"


/* Send rpc, wait for its reply; the data (or NULL) printed as XML in *xml. */
static NC_MSG_TYPE call(struct nc_session *s, struct nc_rpc *rpc, char **xml, int *is_ok)
{
    uint64_t id = 0;
    struct lyd_node *envp = NULL, *op = NULL;
    *xml = NULL;
    *is_ok = 0;
    NC_MSG_TYPE t = nc_send_rpc(s, rpc, TIMEOUT_MS, &id);
    if (t != NC_MSG_RPC) {
        nc_rpc_free(rpc);
        return NC_MSG_ERROR;
    }
    do {
        t = nc_recv_reply(s, rpc, id, TIMEOUT_MS, &envp, &op);
    } while (t == NC_MSG_NOTIF);
    if (t == NC_MSG_REPLY) {
        if (op)
            lyd_print_mem(xml, op, LYD_XML, LYD_PRINT_WITHSIBLINGS);
        else if (envp && lyd_child(envp) && !strcmp(LYD_NAME(lyd_child(envp)), "ok"))
            *is_ok = 1;
        if (envp && !op && !*is_ok)
            lyd_print_mem(xml, envp, LYD_XML, LYD_PRINT_WITHSIBLINGS); /* rpc-error */
    }
    lyd_free_tree(envp);
    lyd_free_tree(op);
    nc_rpc_free(rpc);
    return t;
}

static int has_cap(struct nc_session *s, const char *prefix)
{
    const char *const *caps = nc_session_get_cpblts(s);
    for (size_t i = 0; caps && caps[i]; i++)
        if (!strncmp(caps[i], prefix, strlen(prefix)))
            return 1;
    return 0;
}

static void test_hello(struct nc_session *s)
{
    check(nc_session_get_id(s) > 0, "hello: session-id %u", nc_session_get_id(s));
    check(has_cap(s, "urn:ietf:params:netconf:base:1.1"), "hello: base:1.1 advertised");
    check(has_cap(s, "urn:ietf:params:netconf:capability:notification:1.0"),
          "hello: notification:1.0 advertised");
    check(nc_session_get_version(s) == 1, "hello: base:1.1 negotiated");
}

static void test_get_config(struct nc_session *s, const char *want, const char *what)
{
    char *xml = NULL;
    int ok = 0;
    struct nc_rpc *rpc = nc_rpc_getconfig(NC_DATASTORE_RUNNING, NULL, NC_WD_UNKNOWN,
                                          NC_PARAMTYPE_CONST);
    NC_MSG_TYPE t = call(s, rpc, &xml, &ok);
    check(t == NC_MSG_REPLY && xml && strstr(xml, want), "get-config: %s", what);
    free(xml);
}

/* Create list entry <item><id>id</id></item> of nc-test's top. */
static void test_edit(struct nc_session *s, const char *id)
{
    char content[256], *xml = NULL;
    int ok = 0;
    snprintf(content, sizeof(content),
             "<top xmlns=\"%s\"><item><id>%s</id><value>1</value></item></top>", NS_TEST, id);
    struct nc_rpc *rpc = nc_rpc_edit(NC_DATASTORE_RUNNING, NC_RPC_EDIT_DFLTOP_MERGE,
                                     NC_RPC_EDIT_TESTOPT_UNKNOWN, NC_RPC_EDIT_ERROPT_UNKNOWN,
                                     content, NC_PARAMTYPE_CONST);
    NC_MSG_TYPE t = call(s, rpc, &xml, &ok);
    check(t == NC_MSG_REPLY && ok, "edit-config: <ok/>%s%s", xml ? " " : "", xml ? xml : "");
    free(xml);
}

/* create-subscription on sub, an edit on s, the netconf-config-change on sub. */
static void test_subscription(struct nc_session *s, struct nc_session *sub)
{
    char *xml = NULL;
    int ok = 0;
    struct nc_rpc *rpc = nc_rpc_subscribe(NULL, NULL, NULL, NULL, NC_PARAMTYPE_CONST);
    NC_MSG_TYPE t = call(sub, rpc, &xml, &ok);
    check(t == NC_MSG_REPLY && ok, "create-subscription: <ok/>");
    free(xml);
    test_edit(s, "changed-by-another-session");
    struct lyd_node *envp = NULL, *op = NULL;
    int got = 0;
    for (int i = 0; i < 5 && !got; i++) {
        t = nc_recv_notif(sub, TIMEOUT_MS, &envp, &op);
        if (t != NC_MSG_NOTIF) {
            printf("     nc_recv_notif: %d (no notification)\n", (int)t);
            break;
        }
        got = op && !strcmp(LYD_NAME(op), "netconf-config-change");
        if (got) {
            char *txt = NULL;
            lyd_print_mem(&txt, op, LYD_XML, 0);
            got = txt && strstr(txt, "changed-by-another-session") != NULL; /* edit target */
            if (!got)
                printf("     notification: %s\n", txt ? txt : "?");
            free(txt);
        }
        lyd_free_tree(envp);
        lyd_free_tree(op);
        envp = op = NULL;
    }
    check(got, "notification: netconf-config-change for the edit of the other session");
}

static void log_clb(const struct nc_session *s, NC_VERB_LEVEL level, const char *msg)
{
    (void)s;
    if (level <= NC_VERB_WARNING)
        fprintf(stderr, "libnetconf2: %s\n", msg);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT CA CERT KEY\n", argv[0]);
        return 2;
    }
    uint16_t port = (uint16_t)strtoul(argv[1], NULL, 10);
    nc_set_print_clb_session(log_clb);
    nc_verbosity(NC_VERB_WARNING);
    nc_client_init();
    const char *sp = getenv("MM_LNC2_SEARCHPATH");
    if (sp && *sp)
        nc_client_set_schema_searchpath(sp);
    nc_client_tls_set_cert_key_paths(argv[3], argv[4]);
    nc_client_tls_set_trusted_ca_paths(argv[2], NULL);
    struct nc_session *s = nc_connect_tls("127.0.0.1", port, NULL);
    check(s != NULL, "nc_connect_tls to 127.0.0.1:%u", port);
    if (!s) {
        nc_client_destroy();
        return 1;
    }
    struct nc_session *sub = nc_connect_tls("127.0.0.1", port, NULL);
    check(sub != NULL, "second session");
    test_hello(s);
    test_get_config(s, "netconf-server", "shows ietf-netconf-server");
    test_edit(s, "set-by-libnetconf2");
    test_get_config(s, "set-by-libnetconf2", "shows the edit");
    if (sub)
        test_subscription(s, sub);
    nc_session_free(sub, NULL);
    nc_session_free(s, NULL);
    nc_client_destroy();
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
