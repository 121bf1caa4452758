/*
 * mamori-netconfd's reading of ietf-netconf-server from running (issue 17):
 * call-home netconf-clients (endpoints, default ports, connection type,
 * reconnect strategy) and SSH client-authentication users (scopes, key
 * match, the commit check), on the engine's own YANG context.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "netconfd_callhome.h"
#include "netconfd_ssh_users.h"

/* Two real ed25519 public keys (RFC 4253 section 6.6 encoding, base64). */
#define KEY_A "AAAAC3NzaC1lZDI1NTE5AAAAIG/jrKf5zNapHHZ/lbCcSA4pGc/AC9DOd26UV4Rhf2+P"
#define KEY_B "AAAAC3NzaC1lZDI1NTE5AAAAIDChKJ7RaZaQqwRW9BBAc+vvV65ujS38BFmgQixL5icW"
#define CT "ietf-crypto-types:ssh-public-key-format"

static const char *cfg_json =
    "{\"ietf-netconf-server:netconf-server\": {"
    " \"listen\": {\"endpoints\": {\"endpoint\": [{\"name\": \"ep1\", \"ssh\": {"
    "   \"tcp-server-parameters\": {\"local-bind\": [{\"local-address\": \"127.0.0.1\"}]},"
    "   \"ssh-server-parameters\": {"
    "    \"server-identity\": {\"host-key\": [{\"name\": \"h\", \"public-key\": "
    "     {\"inline-definition\": {\"public-key-format\": \"" CT "\", \"public-key\": \"" KEY_A "\","
    "      \"hidden-private-key\": [null]}}}]},"
    "    \"client-authentication\": {\"users\": {\"user\": [{\"name\": \"alice\", \"public-keys\": "
    "     {\"inline-definition\": {\"public-key\": [{\"name\": \"k\", \"public-key-format\": \"" CT
    "\", \"public-key\": \"" KEY_A "\"}]}}}]}}}}}]}},"
    " \"call-home\": {\"netconf-client\": ["
    "  {\"name\": \"nms\", \"endpoints\": {\"endpoint\": ["
    "    {\"name\": \"a\", \"ssh\": {\"tcp-client-parameters\": {\"remote-address\": \"192.0.2.1\"},"
    "     \"ssh-server-parameters\": {"
    "      \"server-identity\": {\"host-key\": [{\"name\": \"h\", \"public-key\": "
    "       {\"inline-definition\": {\"public-key-format\": \"" CT "\", \"public-key\": \"" KEY_A "\","
    "        \"hidden-private-key\": [null]}}}]},"
    "      \"client-authentication\": {\"users\": {\"user\": [{\"name\": \"bob\", \"public-keys\": "
    "       {\"inline-definition\": {\"public-key\": [{\"name\": \"k\", \"public-key-format\": \""
    CT "\", \"public-key\": \"" KEY_B "\"}]}}}]}}}}},"
    "    {\"name\": \"b\", \"ssh\": {\"tcp-client-parameters\": {\"remote-address\": \"192.0.2.2\","
    "     \"remote-port\": 9999},"
    "     \"ssh-server-parameters\": {"
    "      \"server-identity\": {\"host-key\": [{\"name\": \"h\", \"public-key\": "
    "       {\"inline-definition\": {\"public-key-format\": \"" CT "\", \"public-key\": \"" KEY_A "\","
    "        \"hidden-private-key\": [null]}}}]}}}}]},"
    "   \"connection-type\": {\"periodic\": {\"period\": 5,"
    "    \"anchor-time\": \"2026-01-01T01:15:00+01:00\"}},"
    "   \"reconnect-strategy\": {\"start-with\": \"last-connected\", \"max-wait\": 7,"
    "    \"max-attempts\": 2}},"
    "  {\"name\": \"plain\", \"endpoints\": {\"endpoint\": [{\"name\": \"x\", \"ssh\": {"
    "    \"tcp-client-parameters\": {\"remote-address\": \"::1\"},"
    "    \"ssh-server-parameters\": {"
    "     \"server-identity\": {\"host-key\": [{\"name\": \"h\", \"public-key\": "
    "      {\"inline-definition\": {\"public-key-format\": \"" CT "\", \"public-key\": \"" KEY_A "\","
    "       \"hidden-private-key\": [null]}}}]}}}}]},"
    "   \"connection-type\": {\"persistent\": {}}}]}}}";

struct fx {
    struct ly_ctx *ctx;
    struct lyd_node *tree;
};

static int setup(void **state)
{
    static struct fx f;
    mm_nc_server_config cfg = {0};
    char dir[] = "/tmp/mm-ncd-cfg.XXXXXX";
    assert_non_null(mkdtemp(dir));
    cfg.state_dir = dir;
    assert_int_equal(mm_nc_server_ctx_new(&cfg, &f.ctx), 0);
    if (lyd_parse_data_mem(f.ctx, cfg_json, LYD_JSON, LYD_PARSE_STRICT | LYD_PARSE_NO_STATE,
                           LYD_VALIDATE_PRESENT | LYD_VALIDATE_NO_STATE, &f.tree) != LY_SUCCESS)
        fail_msg("config does not validate: %s", ly_errmsg(f.ctx));
    rmdir(dir);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    lyd_free_all(f->tree);
    ly_ctx_destroy(f->ctx);
    return 0;
}

static void test_callhome_clients(void **state)
{
    struct fx *f = *state;
    mm_netconfd_callhome_peer peers[4];
    size_t n = 0;
    assert_int_equal(mm_netconfd_callhome_from_running(f->tree, peers, 4, &n), 0);
    assert_int_equal(n, 2);
    const mm_netconfd_callhome_peer *nms = !strcmp(peers[0].name, "nms") ? &peers[0] : &peers[1];
    const mm_netconfd_callhome_peer *plain = nms == &peers[0] ? &peers[1] : &peers[0];
    assert_string_equal(nms->name, "nms");
    assert_int_equal(nms->n_ep, 2);
    assert_string_equal(nms->ep[0].name, "a");
    assert_string_equal(nms->ep[0].transport, "ssh");
    assert_string_equal(nms->ep[0].host, "192.0.2.1");
    assert_int_equal(nms->ep[0].port, MM_NC_CALLHOME_SSH_PORT); /* RFC 8071 default */
    assert_int_equal(nms->ep[1].port, 9999);
    assert_true(nms->periodic);
    assert_int_equal(nms->period_s, 300);
    assert_int_equal(nms->anchor, 1767226500); /* 2026-01-01T00:15:00Z */
    assert_int_equal(nms->start_with, MM_CH_LAST_CONNECTED);
    assert_int_equal(nms->max_wait_s, 7);
    assert_int_equal(nms->max_attempts, 2);
    assert_string_equal(plain->name, "plain");
    assert_false(plain->periodic);
    assert_int_equal(plain->anchor, 0);
    assert_int_equal(plain->start_with, MM_CH_FIRST_LISTED);
    assert_int_equal(plain->max_wait_s, 5);    /* module defaults */
    assert_int_equal(plain->max_attempts, 3);
    /* The limit is enforced, not overrun. */
    n = 0;
    assert_int_equal(mm_netconfd_callhome_from_running(f->tree, peers, 1, &n), MM_ELIMIT);
    assert_int_equal(n, 1);
}

static void test_ssh_users_scopes(void **state)
{
    struct fx *f = *state;
    mm_netconfd_ssh_users *t = NULL;
    assert_int_equal(mm_netconfd_ssh_users_from_running(f->tree, &t), 0);
    assert_int_equal(mm_netconfd_ssh_users_count(t), 2);
    /* alice: listen endpoint ep1 only. */
    assert_true(mm_netconfd_ssh_users_allow(t, "listen:ep1", "alice", KEY_A));
    assert_true(mm_netconfd_ssh_users_allow(t, "", "alice", KEY_A)); /* bootstrap listener */
    assert_false(mm_netconfd_ssh_users_allow(t, "listen:ep2", "alice", KEY_A));
    assert_false(mm_netconfd_ssh_users_allow(t, "call-home:nms", "alice", KEY_A));
    assert_false(mm_netconfd_ssh_users_allow(t, "listen:ep1", "alice", KEY_B));
    assert_false(mm_netconfd_ssh_users_allow(t, "listen:ep1", "bob", KEY_A));
    /* bob: call-home client nms only. */
    assert_true(mm_netconfd_ssh_users_allow(t, "call-home:nms", "bob", KEY_B));
    assert_false(mm_netconfd_ssh_users_allow(t, "", "bob", KEY_B));
    assert_false(mm_netconfd_ssh_users_allow(t, "call-home:plain", "bob", KEY_B));
    mm_netconfd_ssh_users_free(t);
    assert_false(mm_netconfd_ssh_users_allow(NULL, "", "alice", KEY_A));
}

static void test_ssh_users_check(void **state)
{
    struct fx *f = *state;
    char path[512], msg[512];
    assert_int_equal(mm_netconfd_ssh_users_check(f->tree, path, sizeof(path), msg, sizeof(msg)),
                     0);
    /* Replace alice's key by base64 that is not an SSH key: refused, with path and user. */
    struct lyd_node *key = NULL;
    assert_int_equal(lyd_find_path(f->tree,
                                   "/ietf-netconf-server:netconf-server/listen/endpoints/"
                                   "endpoint[name='ep1']/ssh/ssh-server-parameters/"
                                   "client-authentication/users/user[name='alice']/public-keys/"
                                   "inline-definition/public-key[name='k']/public-key",
                                   0, &key),
                     LY_SUCCESS);
    assert_int_equal(lyd_change_term(key, "AAAAB3Nz"), LY_SUCCESS);
    assert_int_equal(mm_netconfd_ssh_users_check(f->tree, path, sizeof(path), msg, sizeof(msg)),
                     MM_EINVAL);
    assert_non_null(strstr(path, "user[name='alice']"));
    assert_non_null(strstr(msg, "user alice"));
    /* And the table no longer admits the old key. */
    mm_netconfd_ssh_users *t = NULL;
    assert_int_equal(mm_netconfd_ssh_users_from_running(f->tree, &t), 0);
    assert_false(mm_netconfd_ssh_users_allow(t, "listen:ep1", "alice", KEY_A));
    mm_netconfd_ssh_users_free(t);
    assert_int_equal(lyd_change_term(key, KEY_A), LY_SUCCESS);
}

int main(void)
{
    mm_log_set_level(MM_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callhome_clients),
        cmocka_unit_test(test_ssh_users_scopes),
        cmocka_unit_test(test_ssh_users_check),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
