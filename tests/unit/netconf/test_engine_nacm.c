/*
 * NACM through the engine's session interface (RFC 8341): filters see only
 * readable data (section 3.4.5), netconf-config-change is pruned per
 * subscriber (section 3.4.6), the counters are readable with <get>.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mamori/mm_core.h"
#include "nc_test.h"

#define ACM "xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-acm\""
#define NMDA "xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-nmda\" " \
             "xmlns:ds=\"urn:ietf:params:xml:ns:yang:ietf-datastores\""
#define NN "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
#define SUB "<create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\">"

typedef struct fx {
    nct_server t;
    nct_conn admin, guest;
} fx;

/* guest (group g) may not read /top/item/note; everything else is readable. */
static const char nacm_deny_note[] =
    "<nacm " ACM "><groups><group><name>g</name><user-name>guest</user-name></group></groups>"
    "<rule-list><name>rl</name><group>g</group><rule><name>no-note</name>"
    "<module-name>nc-test</module-name><path xmlns:t=\"urn:mamori:test:nc\">/t:top/t:item/t:note"
    "</path><access-operations>read</access-operations><action>deny</action></rule>"
    "</rule-list></nacm>";

static void edit_running(nct_conn *c, const char *config)
{
    char *op = NULL;
    assert_true(asprintf(&op, "<edit-config><target><running/></target><config>%s</config>"
                              "</edit-config>", config) > 0);
    nct_ok(c, op);
    free(op);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    if (!f || nct_server_start(&f->t, NULL, "admin") != 0 ||
        nct_open(&f->t, &f->admin, "admin", true) || nct_open(&f->t, &f->guest, "guest", true))
        return -1;
    edit_running(&f->admin, nacm_deny_note);
    edit_running(&f->admin, "<top " NCT_TNS "><item><id>1</id><value>7</value>"
                            "<note>secret</note></item><item><id>2</id><value>8</value></item>"
                            "</top>");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    nct_drop(&f->guest);
    nct_drop(&f->admin);
    nct_server_stop(&f->t, true);
    free(f);
    return 0;
}

/* The reply without its message-id: everything from the first child on. */
static char *body_of(char *reply)
{
    assert_non_null(reply);
    char *gt = strchr(reply, '>');
    assert_non_null(gt);
    char *b = strdup(gt + 1);
    free(reply);
    return b;
}

/* tmpl with its one GUESS replaced by value, into out. */
static void guess(const char *tmpl, const char *value, char *out, size_t cap)
{
    const char *at = strstr(tmpl, "GUESS");
    assert_non_null(at);
    snprintf(out, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, value, at + 5);
}

/*
 * op_fmt has one GUESS for the guessed note value. The replies to a right
 * and a wrong guess must be the same, and must not show the note.
 */
static void same_reply(nct_conn *c, const char *op_fmt)
{
    char op[2048];
    guess(op_fmt, "secret", op, sizeof(op));
    char *right = body_of(nct_rpc(c, op));
    guess(op_fmt, "wrong", op, sizeof(op));
    char *wrong = body_of(nct_rpc(c, op));
    if (strcmp(right, wrong) != 0)
        fail_msg("a filter on a denied node tells right from wrong guesses\nop %s\n"
                 "right: %s\nwrong: %s", op_fmt, right, wrong);
    assert_null(strstr(right, "secret"));
    assert_null(strstr(right, "rpc-error"));
    free(right);
    free(wrong);
}

#define SUBTREE_NOTE "<top " NCT_TNS "><item><note>GUESS</note></item></top>"
#define XPATH_NOTE "/t:top/t:item[t:note='GUESS']"

/* RFC 8341 3.4.5: filters of get, get-config and get-data see only readable data. */
static void test_filter_no_read_leak(void **state)
{
    fx *f = *state;
    nct_conn *g = &f->guest;
    /* the guest reads the rest of the entry, never the note */
    char *r = nct_expect(g, "<get-config><source><running/></source></get-config>",
                         "<value>7</value>");
    assert_null(strstr(r, "secret"));
    free(r);
    same_reply(g, "<get><filter type=\"subtree\">" SUBTREE_NOTE "</filter></get>");
    same_reply(g, "<get-config><source><running/></source><filter type=\"subtree\">"
                  SUBTREE_NOTE "</filter></get-config>");
    same_reply(g, "<get><filter type=\"xpath\" xmlns:t=\"urn:mamori:test:nc\" select=\""
                  XPATH_NOTE "\"/></get>");
    same_reply(g, "<get-config><source><running/></source><filter type=\"xpath\" "
                  "xmlns:t=\"urn:mamori:test:nc\" select=\"" XPATH_NOTE "\"/></get-config>");
    same_reply(g, "<get-data " NMDA "><datastore>ds:running</datastore><subtree-filter>"
                  SUBTREE_NOTE "</subtree-filter></get-data>");
    same_reply(g, "<get-data " NMDA "><datastore>ds:operational</datastore><subtree-filter>"
                  SUBTREE_NOTE "</subtree-filter></get-data>");
    same_reply(g, "<get-data " NMDA " xmlns:t=\"urn:mamori:test:nc\"><datastore>ds:running"
                  "</datastore><xpath-filter>" XPATH_NOTE "</xpath-filter></get-data>");
    /* a content match on a readable leaf selects the entry, its note withheld */
    r = nct_expect(g, "<get-config><source><running/></source><filter type=\"subtree\"><top "
                      NCT_TNS "><item><value>7</value></item></top></filter></get-config>",
                   "<id>1</id>");
    assert_null(strstr(r, "secret"));
    assert_null(strstr(r, "<id>2</id>"));
    free(r);
    r = nct_expect(g, "<get><filter type=\"subtree\"><top " NCT_TNS "><item><id>1</id><note/>"
                      "</item></top></filter></get>", "<data");
    assert_null(strstr(r, "secret"));
    free(r);
    /* the same filters work for a user who may read the note */
    r = nct_expect(&f->admin, "<get-config><source><running/></source><filter type=\"subtree\">"
                              "<top " NCT_TNS "><item><note>secret</note></item></top></filter>"
                              "</get-config>", "<id>1</id>");
    assert_null(strstr(r, "<id>2</id>"));
    free(r);
}

/* RFC 8341 3.4.6 / RFC 6470: a subscriber sees only the edits it may read. */
static void test_config_change_pruned(void **state)
{
    fx *f = *state;
    nct_conn a2;
    assert_int_equal(nct_open(&f->t, &a2, "admin", true), 0);
    nct_ok(&f->guest, SUB "</create-subscription>");
    nct_ok(&a2, SUB "</create-subscription>");
    edit_running(&f->admin, "<top " NCT_TNS "><item><id>1</id><note>changed</note></item>"
                            "<item><id>2</id><value>9</value></item></top>");
    char *n = nct_recv(&f->guest);
    assert_non_null(n);
    assert_non_null(strstr(n, "<netconf-config-change"));
    assert_non_null(strstr(n, "t:item[t:id='2']/t:value</target>"));
    if (strstr(n, "note"))
        fail_msg("the guest was told about the note: %s", n);
    free(n);
    n = nct_recv(&a2); /* the admin may read both edits */
    assert_non_null(n);
    assert_non_null(strstr(n, "t:item[t:id='2']/t:value</target>"));
    assert_non_null(strstr(n, "t:item[t:id='1']/t:note</target>"));
    free(n);
    nct_drop(&a2);
    /* a replay is pruned the same way */
    nct_conn g2;
    assert_int_equal(nct_open(&f->t, &g2, "guest", true), 0);
    nct_ok(&g2, SUB "<startTime>2000-01-01T00:00:00Z</startTime></create-subscription>");
    bool seen = false;
    for (char *m; (m = nct_recv(&g2)) != NULL; free(m)) {
        assert_null(strstr(m, "note"));
        seen = seen || strstr(m, "t:item[t:id='2']/t:value</target>");
    }
    assert_true(seen);
    nct_drop(&g2);
}

/*
 * RFC 8341 3.4.5 for subscription filters: a filter that matches only the
 * edit of a node the subscriber may not read selects nothing, like a filter
 * on a target that never changed; one on a readable edit does select.
 */
static void test_subscription_filter_no_read_leak(void **state)
{
    fx *f = *state;
    static const char *const targets[] = {
        "/nc-test:top/item[id='1']/note",  /* changed, not readable */
        "/nc-test:top/item[id='1']/value", /* readable, not changed */
        "/nc-test:top/item[id='2']/value", /* readable and changed */
    };
    nct_conn s[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nct_open(&f->t, &s[i], "guest", true), 0);
        char op[1024];
        snprintf(op, sizeof(op), SUB "<filter type=\"subtree\"><netconf-config-change "
                 "xmlns=\"" NN "\"><edit><target xmlns:nc-test=\"urn:mamori:test:nc\">%s"
                 "</target></edit></netconf-config-change></filter></create-subscription>",
                 targets[i]);
        nct_ok(&s[i], op);
    }
    edit_running(&f->admin, "<top " NCT_TNS "><item><id>1</id><note>changed</note></item>"
                            "<item><id>2</id><value>9</value></item></top>");
    char *got[3];
    for (int i = 0; i < 3; i++)
        got[i] = nct_recv(&s[i]);
    if (got[0])
        fail_msg("a filter on the denied note selected: %s", got[0]);
    assert_null(got[1]);
    assert_non_null(got[2]);
    assert_null(strstr(got[2], "note"));
    free(got[2]);
    for (int i = 0; i < 3; i++)
        nct_drop(&s[i]);
}

/* The value of counter name in a <get> of /nacm by the admin (-1 if absent). */
static long counter(nct_conn *admin, const char *name)
{
    char *r = nct_expect(admin, "<get><filter type=\"subtree\"><nacm " ACM "/></filter></get>",
                         "<data");
    char open[64];
    snprintf(open, sizeof(open), "<%s>", name);
    const char *p = strstr(r, open);
    long v = p ? strtol(p + strlen(open), NULL, 10) : -1;
    free(r);
    return v;
}

/* Issue 10 item 12: the RFC 8341 counters are in <get> (and get-data operational). */
static void test_counters_in_get(void **state)
{
    fx *f = *state;
    long ops = counter(&f->admin, "denied-operations");
    long writes = counter(&f->admin, "denied-data-writes");
    long notifs = counter(&f->admin, "denied-notifications");
    if (ops < 0 || writes < 0 || notifs < 0)
        fail_msg("counters missing: %ld %ld %ld", ops, writes, notifs);
    /* one /nacm: the counters beside the configured rules */
    char *all = nct_expect(&f->admin, "<get/>", "<denied-operations>");
    assert_int_equal(nct_count(all, "<nacm "), 1);
    assert_non_null(strstr(all, "<name>no-note</name>"));
    free(all);
    /* one of each denial by the guest */
    free(nct_expect(&f->guest, "<kill-session><session-id>1</session-id></kill-session>",
                    "<error-tag>access-denied</error-tag>"));
    free(nct_expect(&f->guest, "<edit-config><target><running/></target><config><top "
                               NCT_TNS "><name>g</name></top></config></edit-config>",
                    "<error-tag>access-denied</error-tag>"));
    edit_running(&f->admin, "<nacm " ACM "><rule-list><name>rl</name><rule><name>no-start"
                            "</name><notification-name>netconf-session-start</notification-name>"
                            "<action>deny</action></rule></rule-list></nacm>");
    nct_ok(&f->guest, SUB "</create-subscription>");
    nct_conn other;
    assert_int_equal(nct_open(&f->t, &other, "admin", true), 0); /* a session-start event */
    assert_null(nct_recv(&f->guest));
    nct_drop(&other);
    free(nct_recv(&f->guest)); /* its session-end is permitted */
    assert_int_equal(counter(&f->admin, "denied-operations"), ops + 1);
    assert_int_equal(counter(&f->admin, "denied-data-writes"), writes + 1);
    assert_int_equal(counter(&f->admin, "denied-notifications"), notifs + 1);
    /* get-data of operational has them too; the guest may not read /nacm at all */
    free(nct_expect(&f->admin, "<get-data " NMDA "><datastore>ds:operational</datastore>"
                               "<subtree-filter><nacm " ACM "/></subtree-filter></get-data>",
                    "<denied-data-writes>"));
    char *r = nct_expect(&f->guest, "<get/>", "<data");
    assert_null(strstr(r, "denied-"));
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_filter_no_read_leak, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_change_pruned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_in_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_filter_no_read_leak, setup, teardown),
    };
    return cmocka_run_group_tests_name("netconf_engine_nacm", tests, NULL, NULL);
}
