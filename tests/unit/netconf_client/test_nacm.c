/*
 * NACM (RFC 8341): defaults, groups, rule order, rpc/notification/path
 * rules, access-operations bits, nacm:default-deny-* extensions, disabled
 * NACM, recovery session, close-session, counters, read pruning and the
 * audit records of every decision.
 *
 * The running datastore is built from XML with libyang, over
 * ietf-netconf-acm and ietf-netconf from yuma123's libyuma-base and the test
 * module yang/mamori-nacm-test.yang.
 *
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
#include <libyang/libyang.h>

#include "mamori/mm_audit.h"
#include "mamori/mm_core.h"
#include "nacm.h"

#ifndef MM_TEST_YANG_DIR
#define MM_TEST_YANG_DIR "tests/unit/netconf_client/yang"
#endif
#define YUMA_IETF_DIR "/usr/share/yuma/modules/ietf"

#define NS_NACM "urn:ietf:params:xml:ns:yang:ietf-netconf-acm"
#define NS_TEST "urn:mamori:test:nacm"

static struct ly_ctx *ctx;

/* RFC 8341 Appendix A in miniature: admin, operator, monitor, plus rules for everyone. */
static const char *policy_xml =
    "<nacm xmlns='" NS_NACM "'>"
    " <groups>"
    "  <group><name>admin</name><user-name>admin</user-name><user-name>root</user-name></group>"
    "  <group><name>operator</name><user-name>oper</user-name></group>"
    "  <group><name>monitor</name><user-name>mon</user-name><user-name>oper</user-name></group>"
    "  <group><name>empty</name></group>"
    " </groups>"
    " <rule-list><name>admin-acl</name><group>admin</group>"
    "  <rule><name>permit-all</name><module-name>*</module-name>"
    "   <access-operations>*</access-operations><action>permit</action></rule>"
    " </rule-list>"
    " <rule-list><name>operator-acl</name><group>operator</group>"
    "  <rule><name>deny-kill-session</name><module-name>ietf-netconf</module-name>"
    "   <rpc-name>kill-session</rpc-name><access-operations>exec</access-operations>"
    "   <action>deny</action></rule>"
    "  <rule><name>deny-delete-config</name><module-name>ietf-netconf</module-name>"
    "   <rpc-name>delete-config</rpc-name><access-operations>exec</access-operations>"
    "   <action>deny</action></rule>"
    "  <rule><name>deny-eth0</name><module-name>mamori-nacm-test</module-name>"
    "   <path xmlns:nt='" NS_TEST "'>/nt:settings/nt:interface[nt:name='eth0']</path>"
    "   <access-operations>update delete</access-operations><action>deny</action></rule>"
    "  <rule><name>permit-interfaces</name><module-name>mamori-nacm-test</module-name>"
    "   <path xmlns:nt='" NS_TEST "'>/nt:settings/nt:interface</path>"
    "   <access-operations>create update delete</access-operations>"
    "   <action>permit</action></rule>"
    "  <rule><name>permit-protected</name><module-name>mamori-nacm-test</module-name>"
    "   <path xmlns:nt='" NS_TEST "'>/nt:settings/nt:protected</path>"
    "   <access-operations>update</access-operations><action>permit</action></rule>"
    " </rule-list>"
    " <rule-list><name>monitor-acl</name><group>monitor</group>"
    "  <rule><name>deny-edit-config</name><module-name>ietf-netconf</module-name>"
    "   <rpc-name>edit-config</rpc-name><access-operations>exec</access-operations>"
    "   <action>deny</action></rule>"
    "  <rule><name>deny-reboot</name><module-name>mamori-nacm-test</module-name>"
    "   <rpc-name>reboot</rpc-name><action>deny</action></rule>"
    "  <rule><name>deny-reset</name><module-name>mamori-nacm-test</module-name>"
    "   <path xmlns:nt='" NS_TEST "'>/nt:settings/nt:interface/nt:reset</path>"
    "   <access-operations>exec</access-operations><action>deny</action></rule>"
    "  <rule><name>deny-alarm</name><module-name>mamori-nacm-test</module-name>"
    "   <notification-name>alarm</notification-name><action>deny</action></rule>"
    " </rule-list>"
    " <rule-list><name>everyone</name><group>*</group>"
    "  <rule><name>hide-eth1-description</name><module-name>*</module-name>"
    "   <path xmlns:nt='" NS_TEST
    "'>/nt:settings/nt:interface[nt:name='eth1']/nt:description</path>"
    "   <access-operations>read</access-operations><action>deny</action></rule>"
    " </rule-list>"
    "</nacm>";

/* Settings data every read test starts from; nacm comes first on purpose. */
static const char *data_xml =
    "<settings xmlns='" NS_TEST "'>"
    " <hostname>r1</hostname><motd>hi</motd>"
    " <protected><value>v</value></protected>"
    " <hidden><key>s3cret</key></hidden>"
    " <interface><name>eth0</name><mtu>1500</mtu><description>uplink</description></interface>"
    " <interface><name>eth1</name><mtu>9000</mtu><description>backbone</description></interface>"
    "</settings>";

/* State data, added to what a read returns. */
static const char *state_xml = "<stats xmlns='" NS_TEST "'><packets>42</packets></stats>";

static struct lyd_node *parse_xml(const char *xml, uint32_t parse_opts)
{
    struct lyd_node *tree = NULL;
    uint32_t val_opts = LYD_VALIDATE_PRESENT | LYD_VALIDATE_NO_STATE;
    LY_ERR e = lyd_parse_data_mem(ctx, xml, LYD_XML, parse_opts | LYD_PARSE_STRICT,
                                  (parse_opts & LYD_PARSE_ONLY) ? 0 : val_opts, &tree);
    if (e != LY_SUCCESS)
        fail_msg("parse failed: %s", ly_errmsg(ctx));
    return tree;
}

/* running = policy plus the settings, validated (so defaults are present). */
static struct lyd_node *running_with(const char *policy)
{
    char *xml = NULL;
    assert_true(asprintf(&xml, "%s%s", policy ? policy : "", data_xml) > 0);
    struct lyd_node *t = parse_xml(xml, 0);
    free(xml);
    return t;
}

static struct lyd_node *make_op(const char *path)
{
    struct lyd_node *top = NULL, *node = NULL;
    if (lyd_new_path2(NULL, ctx, path, NULL, 0, 0, 0, &top, &node) != LY_SUCCESS)
        fail_msg("lyd_new_path2 %s: %s", path, ly_errmsg(ctx));
    return node;
}

static struct lyd_node *find(const struct lyd_node *tree, const char *path)
{
    struct lyd_node *n = NULL;
    /* LY_EINCOMPLETE sets n to the deepest existing parent: not a hit */
    return lyd_find_path(tree, path, 0, &n) == LY_SUCCESS ? n : NULL;
}

static void free_op(struct lyd_node *node)
{
    while (lyd_parent(node))
        node = lyd_parent(node);
    lyd_free_all(node);
}

static bool rpc_ok(const struct lyd_node *running, const char *user, const char *path)
{
    mm_nacm_req req = {.running = running, .user = user, .session_id = 1};
    struct lyd_node *op = make_op(path);
    bool ok = mm_nacm_rpc_allowed(&req, op);
    free_op(op);
    return ok;
}

static bool write_ok(const struct lyd_node *running, const char *user, const char *path,
                     enum mm_nacm_op op)
{
    mm_nacm_req req = {.running = running, .user = user, .session_id = 1};
    struct lyd_node *n = find(running, path);
    if (!n)
        fail_msg("no node %s", path);
    return mm_nacm_write_allowed(&req, n, op);
}

static bool notif_ok(const struct lyd_node *running, const char *user, const char *path)
{
    mm_nacm_req req = {.running = running, .user = user, .session_id = 1};
    struct lyd_node *n = make_op(path);
    bool ok = mm_nacm_notification_allowed(&req, n);
    free_op(n);
    return ok;
}

/* running plus state data, as a <get> would return it before filtering. */
static struct lyd_node *get_tree(const struct lyd_node *running)
{
    struct lyd_node *copy = NULL, *state = parse_xml(state_xml, LYD_PARSE_ONLY);
    assert_int_equal(lyd_dup_siblings(running, NULL, LYD_DUP_RECURSIVE, &copy), LY_SUCCESS);
    assert_int_equal(lyd_merge_siblings(&copy, state, LYD_MERGE_DESTRUCT), LY_SUCCESS);
    return copy;
}

/* Read-filter a fresh copy of the settings as user; returns the pruned tree. */
static struct lyd_node *read_as(const struct lyd_node *running, const char *user)
{
    struct lyd_node *copy = get_tree(running);
    mm_nacm_req req = {.running = running, .user = user, .session_id = 3};
    mm_nacm_filter_read(&req, &copy);
    return copy;
}

/* ---------------------------------------------------------------- fixtures */

static int group_setup(void **state)
{
    (void)state;
    if (access(YUMA_IETF_DIR "/ietf-netconf-acm@2018-02-14.yang", R_OK) != 0) {
        print_message("SKIP: %s missing (apt-get install libyuma-base)\n", YUMA_IETF_DIR);
        return -1;
    }
    if (ly_ctx_new(YUMA_IETF_DIR, 0, &ctx) != LY_SUCCESS)
        return -1;
    const char *dir = getenv("MM_TEST_YANG_DIR");
    ly_ctx_set_searchdir(ctx, dir ? dir : MM_TEST_YANG_DIR);
    const char *mods[] = {"ietf-netconf-acm", "ietf-netconf", "mamori-nacm-test"};
    for (size_t i = 0; i < 3; i++) {
        if (!ly_ctx_load_module(ctx, mods[i], NULL, NULL)) {
            print_message("cannot load %s: %s\n", mods[i], ly_errmsg(ctx));
            return -1;
        }
    }
    mm_log_set_level(MM_LOG_WARN);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ly_ctx_destroy(ctx);
    return 0;
}

/* ---------------------------------------------------------------- tests */

/* No /nacm at all: enabled, read permit, write deny, exec permit (section 3.1.3). */
static void test_defaults_without_nacm(void **state)
{
    (void)state;
    struct lyd_node *run = running_with(NULL);
    assert_true(rpc_ok(run, "nobody", "/mamori-nacm-test:reboot"));
    assert_true(rpc_ok(run, "nobody", "/ietf-netconf:get-config"));
    assert_false(rpc_ok(run, "nobody", "/mamori-nacm-test:wipe")); /* default-deny-all */
    assert_false(write_ok(run, "nobody", "/mamori-nacm-test:settings/hostname", MM_NACM_UPDATE));
    assert_true(notif_ok(run, "nobody", "/mamori-nacm-test:alarm"));
    assert_false(notif_ok(run, "nobody", "/mamori-nacm-test:secret-event"));
    struct lyd_node *r = read_as(run, "nobody");
    assert_non_null(find(r, "/mamori-nacm-test:settings/hostname"));
    assert_null(find(r, "/mamori-nacm-test:settings/hidden"));
    lyd_free_all(r);
    lyd_free_all(run);
}

/* The three *-default leaves, set explicitly, decide when no rule matches. */
static void test_defaults_configured(void **state)
{
    (void)state;
    struct lyd_node *run = running_with("<nacm xmlns='" NS_NACM "'>"
                                        "<read-default>deny</read-default>"
                                        "<write-default>permit</write-default>"
                                        "<exec-default>deny</exec-default></nacm>");
    assert_false(rpc_ok(run, "nobody", "/mamori-nacm-test:reboot"));
    assert_true(write_ok(run, "nobody", "/mamori-nacm-test:settings/hostname", MM_NACM_UPDATE));
    assert_true(write_ok(run, "nobody", "/mamori-nacm-test:settings/interface[name='eth0']",
                         MM_NACM_DELETE));
    /* default-deny-write still holds with write-default permit */
    assert_false(write_ok(run, "nobody", "/mamori-nacm-test:settings/motd", MM_NACM_UPDATE));
    assert_false(
        write_ok(run, "nobody", "/mamori-nacm-test:settings/protected/value", MM_NACM_CREATE));
    assert_false(notif_ok(run, "nobody", "/mamori-nacm-test:alarm"));
    struct lyd_node *r = read_as(run, "nobody");
    assert_null(r); /* everything pruned */
    lyd_free_all(run);
}

/* A tree without defaults (LYD_PARSE_ONLY) gives the same answers as a validated one. */
static void test_defaults_unvalidated_tree(void **state)
{
    (void)state;
    char *xml = NULL;
    assert_true(asprintf(&xml, "%s%s", policy_xml, data_xml) > 0);
    struct lyd_node *run = parse_xml(xml, LYD_PARSE_ONLY);
    free(xml);
    assert_null(find(run, "/ietf-netconf-acm:nacm/enable-nacm"));
    assert_true(rpc_ok(run, "oper", "/mamori-nacm-test:reboot") == false); /* monitor-acl */
    assert_true(rpc_ok(run, "nobody", "/mamori-nacm-test:reboot"));
    assert_false(write_ok(run, "nobody", "/mamori-nacm-test:settings/hostname", MM_NACM_UPDATE));
    lyd_free_all(run);
}

/* Groups: user-name lists, '*', users in no group, rule-lists of other groups. */
static void test_group_matching(void **state)
{
    (void)state;
    struct lyd_node *run = running_with(policy_xml);
    /* admin and root share the admin group and its permit-all rule */
    assert_true(rpc_ok(run, "admin", "/ietf-netconf:kill-session"));
    assert_true(rpc_ok(run, "root", "/mamori-nacm-test:wipe"));
    assert_true(write_ok(run, "root", "/mamori-nacm-test:settings/hostname", MM_NACM_UPDATE));
    /* mon is only in monitor, which has no rule for kill-session: RFC 6241
     * marks it default-deny-all, so only an explicit permit allows it. */
    assert_false(rpc_ok(run, "mon", "/ietf-netconf:kill-session"));
    assert_false(rpc_ok(run, "mon", "/ietf-netconf:delete-config"));
    assert_false(rpc_ok(run, "nobody", "/ietf-netconf:kill-session"));
    assert_true(rpc_ok(run, "nobody", "/ietf-netconf:get"));
    assert_false(rpc_ok(run, "mon", "/ietf-netconf:edit-config"));
    /* a user in no group: even the '*' rule-list does not apply (step 5) */
    struct lyd_node *r = read_as(run, "nobody");
    assert_non_null(find(r, "/mamori-nacm-test:settings/interface[name='eth1']/description"));
    lyd_free_all(r);
    /* but it does for a user in any group */
    r = read_as(run, "mon");
    assert_null(find(r, "/mamori-nacm-test:settings/interface[name='eth1']/description"));
    lyd_free_all(r);
    /* user names are case-sensitive */
    assert_false(rpc_ok(run, "ADMIN", "/mamori-nacm-test:wipe"));
    lyd_free_all(run);
}

/* Rule-lists in order, rules in order; the first match decides. */
static void test_rule_order(void **state)
{
    (void)state;
    struct lyd_node *run = running_with(policy_xml);
    /* oper: operator-acl first (deny-kill-session), monitor-acl second (deny-edit-config) */
    assert_false(rpc_ok(run, "oper", "/ietf-netconf:kill-session"));
    assert_false(rpc_ok(run, "oper", "/ietf-netconf:delete-config"));
    assert_false(rpc_ok(run, "oper", "/ietf-netconf:edit-config"));
    assert_true(rpc_ok(run, "oper", "/ietf-netconf:get"));
    /* deny-eth0 precedes permit-interfaces */
    const char *eth0 = "/mamori-nacm-test:settings/interface[name='eth0']/mtu";
    const char *eth1 = "/mamori-nacm-test:settings/interface[name='eth1']/mtu";
    assert_false(write_ok(run, "oper", eth0, MM_NACM_UPDATE));
    assert_true(write_ok(run, "oper", eth1, MM_NACM_UPDATE));
    /* reversing the two rules in a fresh tree reverses the outcome for eth0 */
    struct lyd_node *rule = find(run, "/ietf-netconf-acm:nacm/rule-list[name='operator-acl']"
                                      "/rule[name='permit-interfaces']");
    struct lyd_node *deny = find(run, "/ietf-netconf-acm:nacm/rule-list[name='operator-acl']"
                                      "/rule[name='deny-eth0']");
    assert_int_equal(lyd_insert_before(deny, rule), LY_SUCCESS);
    assert_true(write_ok(run, "oper", eth0, MM_NACM_UPDATE));
    lyd_free_all(run);
}

/* rpc-name, notification-name and path rules only match their own kind. */
static void test_rule_types(void **state)
{
    (void)state;
    struct lyd_node *run = running_with(policy_xml);
    /* rpc-name */
    assert_false(rpc_ok(run, "mon", "/mamori-nacm-test:reboot"));
    assert_true(rpc_ok(run, "admin", "/mamori-nacm-test:reboot"));
    /* path rule on an action */
    assert_false(rpc_ok(run, "mon", "/mamori-nacm-test:settings/interface[name='eth0']/reset"));
    assert_true(rpc_ok(run, "admin", "/mamori-nacm-test:settings/interface[name='eth0']/reset"));
    /* notification-name */
    assert_false(notif_ok(run, "mon", "/mamori-nacm-test:alarm"));
    assert_true(notif_ok(run, "admin", "/mamori-nacm-test:alarm"));
    /* a notification-name rule never matches data: reading stays permitted */
    struct lyd_node *r = read_as(run, "mon");
    assert_non_null(find(r, "/mamori-nacm-test:settings/hostname"));
    lyd_free_all(r);
    /* path with predicate: only eth0 is affected */
    assert_false(
        write_ok(run, "oper", "/mamori-nacm-test:settings/interface[name='eth0']", MM_NACM_DELETE));
    assert_true(
        write_ok(run, "oper", "/mamori-nacm-test:settings/interface[name='eth1']", MM_NACM_DELETE));
    /* path rules do not match nodes outside their subtree (write-default deny) */
    assert_false(write_ok(run, "oper", "/mamori-nacm-test:settings/hostname", MM_NACM_UPDATE));
    lyd_free_all(run);
}

/* access-operations bits: a rule matches only the operations it lists. */
static void test_access_operation_bits(void **state)
{
    (void)state;
    struct lyd_node *run = running_with(policy_xml);
    const char *eth0 = "/mamori-nacm-test:settings/interface[name='eth0']/description";
    /* deny-eth0 lists update and delete, not create: permit-interfaces decides */
    assert_true(write_ok(run, "oper", eth0, MM_NACM_CREATE));
    assert_false(write_ok(run, "oper", eth0, MM_NACM_UPDATE));
    assert_false(write_ok(run, "oper", eth0, MM_NACM_DELETE));
    /* permit-protected lists only update: create falls to default-deny-write */
    const char *prot = "/mamori-nacm-test:settings/protected/value";
    assert_true(write_ok(run, "oper", prot, MM_NACM_UPDATE));
    assert_false(write_ok(run, "oper", prot, MM_NACM_CREATE));
    /* deny-reboot has no access-operations: '*' includes exec */
    assert_false(rpc_ok(run, "mon", "/mamori-nacm-test:reboot"));
    /* an exec-only rule does not affect reads: eth0 reads are permitted for oper */
    struct lyd_node *r = read_as(run, "oper");
    assert_non_null(find(r, "/mamori-nacm-test:settings/interface[name='eth0']/description"));
    lyd_free_all(r);
    /* an invalid op bit is refused */
    assert_false(write_ok(run, "admin", eth0, MM_NACM_READ));
    lyd_free_all(run);
}

/* nacm:default-deny-write / default-deny-all, and explicit permits over them. */
static void test_extensions(void **state)
{
    (void)state;
    struct lyd_node *run = running_with("<nacm xmlns='" NS_NACM "'>"
                                        "<write-default>permit</write-default></nacm>");
    assert_true(write_ok(run, "nobody", "/mamori-nacm-test:settings/hostname", MM_NACM_UPDATE));
    assert_false(write_ok(run, "nobody", "/mamori-nacm-test:settings/motd", MM_NACM_UPDATE));
    assert_false(write_ok(run, "nobody", "/mamori-nacm-test:settings/protected", MM_NACM_DELETE));
    assert_false(write_ok(run, "nobody", "/mamori-nacm-test:settings/hidden/key", MM_NACM_UPDATE));
    /* the nacm container itself is default-deny-all */
    assert_false(write_ok(run, "nobody", "/ietf-netconf-acm:nacm/write-default", MM_NACM_UPDATE));
    assert_false(rpc_ok(run, "nobody", "/mamori-nacm-test:wipe"));
    assert_false(notif_ok(run, "nobody", "/mamori-nacm-test:secret-event"));
    struct lyd_node *r = read_as(run, "nobody");
    assert_null(find(r, "/mamori-nacm-test:settings/hidden"));
    assert_null(find(r, "/ietf-netconf-acm:nacm"));
    assert_non_null(find(r, "/mamori-nacm-test:settings/motd")); /* deny-write only */
    lyd_free_all(r);
    lyd_free_all(run);

    /* an explicit permit rule overrides both extensions */
    run = running_with(policy_xml);
    assert_true(write_ok(run, "admin", "/mamori-nacm-test:settings/hidden/key", MM_NACM_UPDATE));
    assert_true(write_ok(run, "admin", "/mamori-nacm-test:settings/motd", MM_NACM_UPDATE));
    assert_true(rpc_ok(run, "admin", "/mamori-nacm-test:wipe"));
    assert_true(notif_ok(run, "admin", "/mamori-nacm-test:secret-event"));
    r = read_as(run, "admin");
    assert_non_null(find(r, "/mamori-nacm-test:settings/hidden/key"));
    assert_non_null(find(r, "/ietf-netconf-acm:nacm/groups"));
    lyd_free_all(r);
    lyd_free_all(run);
}

/* enable-nacm false: everything is permitted, still audited. */
static void test_disabled(void **state)
{
    (void)state;
    char *xml = NULL;
    assert_true(asprintf(&xml, "<nacm xmlns='" NS_NACM "'><enable-nacm>false</enable-nacm>"
                               "<exec-default>deny</exec-default></nacm>") > 0);
    struct lyd_node *run = running_with(xml);
    free(xml);
    assert_true(rpc_ok(run, "nobody", "/mamori-nacm-test:wipe"));
    assert_true(rpc_ok(run, "nobody", "/mamori-nacm-test:reboot"));
    assert_true(write_ok(run, "nobody", "/mamori-nacm-test:settings/hidden/key", MM_NACM_DELETE));
    assert_true(notif_ok(run, "nobody", "/mamori-nacm-test:secret-event"));
    struct lyd_node *r = read_as(run, "nobody");
    assert_non_null(find(r, "/mamori-nacm-test:settings/hidden/key"));
    assert_non_null(find(r, "/ietf-netconf-acm:nacm"));
    lyd_free_all(r);
    lyd_free_all(run);
}

/* The recovery session bypasses every rule (section 3.4.1). */
static void test_recovery_session(void **state)
{
    (void)state;
    struct lyd_node *run = running_with(policy_xml);
    mm_nacm_req req = {.running = run, .user = "mon", .recovery = true, .session_id = 9};
    struct lyd_node *op = make_op("/ietf-netconf:edit-config");
    assert_true(mm_nacm_rpc_allowed(&req, op));
    free_op(op);
    assert_true(mm_nacm_write_allowed(&req,
                                      find(run, "/ietf-netconf-acm:nacm/rule-list[name="
                                                "'admin-acl']"),
                                      MM_NACM_DELETE));
    op = make_op("/mamori-nacm-test:alarm");
    assert_true(mm_nacm_notification_allowed(&req, op));
    free_op(op);
    struct lyd_node *copy = get_tree(run);
    mm_nacm_filter_read(&req, &copy);
    assert_non_null(find(copy, "/mamori-nacm-test:settings/hidden/key"));
    lyd_free_all(copy);
    lyd_free_all(run);
}

/* close-session is permitted even to a user whose every exec is denied. */
static void test_close_session(void **state)
{
    (void)state;
    struct lyd_node *run =
        running_with("<nacm xmlns='" NS_NACM "'><exec-default>deny</exec-default>"
                     "<groups><group><name>g</name><user-name>u</user-name></group></groups>"
                     "<rule-list><name>l</name><group>g</group>"
                     "<rule><name>deny-all</name><action>deny</action></rule></rule-list></nacm>");
    assert_true(rpc_ok(run, "u", "/ietf-netconf:close-session"));
    assert_true(rpc_ok(run, "nobody", "/ietf-netconf:close-session"));
    assert_false(rpc_ok(run, "u", "/ietf-netconf:get"));
    assert_false(rpc_ok(run, "nobody", "/ietf-netconf:get"));
    /* replayComplete and notificationComplete are always delivered */
    mm_nacm_req req = {.running = run, .user = "u", .session_id = 1};
    struct lyd_node *n = NULL;
    assert_int_equal(lyd_new_opaq2(NULL, ctx, "replayComplete", NULL, NULL,
                                   "urn:ietf:params:xml:ns:netmod:notification", &n),
                     LY_SUCCESS);
    assert_true(mm_nacm_notification_allowed(&req, n));
    lyd_free_all(n);
    assert_false(notif_ok(run, "u", "/mamori-nacm-test:alarm"));
    lyd_free_all(run);
}

/* denied-operations, denied-data-writes and denied-notifications. */
static void test_counters(void **state)
{
    (void)state;
    struct lyd_node *run = running_with(policy_xml);
    mm_nacm_counters c = {0};
    mm_nacm_req req = {.running = run, .user = "mon", .session_id = 4, .counters = &c};
    struct lyd_node *op = make_op("/ietf-netconf:edit-config");
    assert_false(mm_nacm_rpc_allowed(&req, op));
    assert_false(mm_nacm_rpc_allowed(&req, op));
    free_op(op);
    op = make_op("/ietf-netconf:get");
    assert_true(mm_nacm_rpc_allowed(&req, op));
    free_op(op);
    assert_false(mm_nacm_write_allowed(&req, find(run, "/mamori-nacm-test:settings/hostname"),
                                       MM_NACM_UPDATE));
    op = make_op("/mamori-nacm-test:alarm");
    assert_false(mm_nacm_notification_allowed(&req, op));
    free_op(op);
    /* read pruning is silent: no counter */
    struct lyd_node *copy = get_tree(run);
    mm_nacm_filter_read(&req, &copy);
    lyd_free_all(copy);
    assert_int_equal(c.denied_operations, 2);
    assert_int_equal(c.denied_data_writes, 1);
    assert_int_equal(c.denied_notifications, 1);
    lyd_free_all(run);
}

/* Reads prune silently: subtrees, single leaves, top-level nodes; keys stay. */
static void test_read_pruning(void **state)
{
    (void)state;
    struct lyd_node *run = running_with(policy_xml);
    struct lyd_node *r = read_as(run, "mon");
    assert_non_null(r);
    assert_null(find(r, "/ietf-netconf-acm:nacm"));            /* top level, first sibling */
    assert_null(find(r, "/mamori-nacm-test:settings/hidden")); /* default-deny-all */
    assert_null(find(r, "/mamori-nacm-test:settings/interface[name='eth1']/description"));
    assert_non_null(find(r, "/mamori-nacm-test:settings/interface[name='eth1']/mtu"));
    assert_non_null(find(r, "/mamori-nacm-test:settings/interface[name='eth0']/description"));
    assert_non_null(find(r, "/mamori-nacm-test:stats/packets"));
    /* what is left is still a valid tree */
    const struct lys_module *mod = ly_ctx_get_module_implemented(ctx, "mamori-nacm-test");
    assert_int_equal(lyd_validate_module(&r, mod, 0, NULL), LY_SUCCESS);
    lyd_free_all(r);

    /* a read deny on a list key's entry takes the whole entry, key and all */
    struct lyd_node *run2 =
        running_with("<nacm xmlns='" NS_NACM "'>"
                     "<groups><group><name>g</name><user-name>u</user-name></group></groups>"
                     "<rule-list><name>l</name><group>g</group>"
                     "<rule><name>hide-eth0</name><path xmlns:nt='" NS_TEST "'>"
                     "/nt:settings/nt:interface[nt:name='eth0']</path>"
                     "<access-operations>read</access-operations><action>deny</action></rule>"
                     "<rule><name>hide-eth1-name</name><path xmlns:nt='" NS_TEST "'>"
                     "/nt:settings/nt:interface[nt:name='eth1']/nt:name</path>"
                     "<access-operations>read</access-operations><action>deny</action></rule>"
                     "</rule-list></nacm>");
    r = read_as(run2, "u");
    assert_null(find(r, "/mamori-nacm-test:settings/interface[name='eth0']"));
    assert_non_null(find(r, "/mamori-nacm-test:settings/interface[name='eth1']/name"));
    lyd_free_all(r);
    /* an empty tree stays empty */
    struct lyd_node *empty = NULL;
    mm_nacm_req req = {.running = run2, .user = "u"};
    mm_nacm_filter_read(&req, &empty);
    assert_null(empty);
    lyd_free_all(run2);
    lyd_free_all(run);
}

/* Rules are read at every call: a change applies at once. */
static void test_live_changes(void **state)
{
    (void)state;
    struct lyd_node *run = running_with(policy_xml);
    assert_true(rpc_ok(run, "nobody", "/mamori-nacm-test:reboot"));
    struct lyd_node *ed = find(run, "/ietf-netconf-acm:nacm/exec-default");
    assert_non_null(ed);
    assert_int_equal(lyd_change_term(ed, "deny"), LY_SUCCESS);
    assert_false(rpc_ok(run, "nobody", "/mamori-nacm-test:reboot"));
    /* mon leaves its only group: no rule applies any more, exec-default decides */
    struct lyd_node *u = find(run, "/ietf-netconf-acm:nacm/groups/group[name='monitor']"
                                   "/user-name[.='mon']");
    assert_non_null(u);
    lyd_free_tree(u);
    assert_false(rpc_ok(run, "mon", "/ietf-netconf:edit-config"));
    assert_int_equal(lyd_change_term(ed, "permit"), LY_SUCCESS);
    assert_true(rpc_ok(run, "mon", "/ietf-netconf:edit-config"));
    lyd_free_all(run);
}

/* One audit record per decision, naming the rule or default; the chain verifies. */
static void test_audit(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "/tmp/mm-test-nacm-audit-%ld.log", (long)getpid());
    unlink(path);
    mm_audit *a = NULL;
    assert_int_equal(mm_audit_open(path, &a), 0);
    struct lyd_node *run = running_with(policy_xml);
    mm_nacm_req req = {.running = run, .user = "oper", .session_id = 17, .audit = a};
    struct lyd_node *op = make_op("/ietf-netconf:kill-session");
    assert_false(mm_nacm_rpc_allowed(&req, op)); /* 1 */
    free_op(op);
    op = make_op("/ietf-netconf:get");
    assert_true(mm_nacm_rpc_allowed(&req, op)); /* 2 */
    free_op(op);
    assert_false(mm_nacm_write_allowed(&req, find(run, "/mamori-nacm-test:settings/motd"),
                                       MM_NACM_UPDATE)); /* 3 */
    struct lyd_node *copy = get_tree(run);
    mm_nacm_filter_read(&req, &copy); /* 4: nacm, 5: hidden, 6: eth1 description, 7: request */
    lyd_free_all(copy);
    mm_audit_close(a);

    size_t count = 0, bad = 0;
    assert_int_equal(mm_audit_verify(path, &count, &bad), 0);
    assert_int_equal(count, 7);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[16384];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "rule-list=operator-acl rule=deny-kill-session action=deny"));
    assert_non_null(strstr(buf, "ietf-netconf:kill-session"));
    assert_non_null(strstr(buf, "exec-default=permit"));
    assert_non_null(strstr(buf, "default-deny-write"));
    assert_non_null(strstr(buf, "/mamori-nacm-test:settings/motd"));
    assert_non_null(strstr(buf, "default-deny-all"));
    assert_non_null(strstr(buf, "rule-list=everyone rule=hide-eth1-description"));
    assert_non_null(strstr(buf, "pruned=3"));
    assert_non_null(strstr(buf, "\"oper\""));
    assert_non_null(strstr(buf, "\"17\""));
    unlink(path);
    lyd_free_all(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_without_nacm),
        cmocka_unit_test(test_defaults_configured),
        cmocka_unit_test(test_defaults_unvalidated_tree),
        cmocka_unit_test(test_group_matching),
        cmocka_unit_test(test_rule_order),
        cmocka_unit_test(test_rule_types),
        cmocka_unit_test(test_access_operation_bits),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_recovery_session),
        cmocka_unit_test(test_close_session),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_read_pruning),
        cmocka_unit_test(test_live_changes),
        cmocka_unit_test(test_audit),
    };
    if (access(YUMA_IETF_DIR "/ietf-netconf-acm@2018-02-14.yang", R_OK) != 0) {
        printf("SKIP: %s missing (apt-get install libyuma-base)\n", YUMA_IETF_DIR);
        return 77;
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
