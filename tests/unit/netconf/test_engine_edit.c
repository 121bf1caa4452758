/* Datastores: edit-config, copy/delete-config, validate, locks, filters. SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "mamori/mm_core.h"
#include "nc_test.h"

#define NCOP "xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\""

typedef struct fx {
    nct_server t;
    nct_conn c;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    if (nct_server_start(&f->t, NULL, "admin") != 0 || nct_open(&f->t, &f->c, "admin", true))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    nct_drop(&f->c);
    nct_server_stop(&f->t, true);
    free(f);
    return 0;
}

static void edit(nct_conn *c, const char *params, const char *config, const char *want)
{
    char op[4096];
    snprintf(op, sizeof(op), "<edit-config><target><running/></target>%s<config>%s</config>"
             "</edit-config>", params, config);
    free(nct_expect(c, op, want));
}

static char *running(nct_conn *c)
{
    return nct_rpc(c, "<get-config><source><running/></source></get-config>");
}

static void test_edit_ops(void **state)
{
    fx *f = *state;
    nct_conn *c = &f->c;
    edit(c, "", "<top " NCT_TNS "><name>a</name><item><id>1</id><value>10</value></item></top>",
         "<ok/>");
    char *r = running(c);
    assert_non_null(strstr(r, "<name>a</name>"));
    assert_non_null(strstr(r, "<value>10</value>"));
    assert_null(strstr(r, "<mtu>")); /* explicit: defaults not reported */
    free(r);
    /* merge changes a leaf, keeps the rest */
    edit(c, "", "<top " NCT_TNS "><item><id>1</id><note>n</note></item></top>", "<ok/>");
    r = running(c);
    assert_non_null(strstr(r, "<value>10</value>"));
    assert_non_null(strstr(r, "<note>n</note>"));
    free(r);
    /* create on existing: data-exists with error-path */
    edit(c, "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"create\"><id>1</id></item></top>",
         "<error-tag>data-exists</error-tag>");
    edit(c, "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"create\"><id>1</id></item></top>",
         "<error-path xmlns:nc-test=\"urn:mamori:test:nc\">/nc-test:top/item[id='1']</error-path>");
    /* delete of missing: data-missing; remove of missing: ok */
    edit(c, "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"delete\"><id>9</id></item></top>",
         "<error-tag>data-missing</error-tag>");
    edit(c, "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"remove\"><id>9</id></item></top>",
         "<ok/>");
    /* replace an entry: its other leaves go */
    edit(c, "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"replace\"><id>1</id>"
         "<value>5</value></item></top>", "<ok/>");
    r = running(c);
    assert_null(strstr(r, "<note>"));
    assert_non_null(strstr(r, "<value>5</value>"));
    free(r);
    /* delete existing */
    edit(c, "", "<top " NCT_TNS " " NCOP "><item nc:operation=\"delete\"><id>1</id></item></top>",
         "<ok/>");
    r = running(c);
    assert_null(strstr(r, "<item>"));
    free(r);
}

static void test_edit_options(void **state)
{
    fx *f = *state;
    nct_conn *c = &f->c;
    edit(c, "", "<top " NCT_TNS "><name>x</name><tag>a</tag></top>", "<ok/>");
    /* default-operation none: missing nodes are data-missing */
    edit(c, "<default-operation>none</default-operation>",
         "<top " NCT_TNS "><sub><x>1</x></sub></top>", "<error-tag>data-missing</error-tag>");
    edit(c, "<default-operation>none</default-operation>",
         "<top " NCT_TNS " " NCOP "><sub nc:operation=\"create\"><x>1</x></sub></top>", "<ok/>");
    /* default-operation replace: the whole datastore is the config */
    edit(c, "<default-operation>replace</default-operation>",
         "<top " NCT_TNS "><name>y</name></top>", "<ok/>");
    char *r = running(c);
    assert_null(strstr(r, "<tag>"));
    assert_null(strstr(r, "<sub>"));
    free(r);
    /* test-only: validated, not applied */
    edit(c, "<test-option>test-only</test-option>", "<top " NCT_TNS "><name>z</name></top>",
         "<ok/>");
    r = running(c);
    assert_non_null(strstr(r, "<name>y</name>"));
    free(r);
    /* validation failure (mandatory leaf) leaves running untouched */
    edit(c, "", "<strict " NCT_TNS "><k>1</k></strict>", "<rpc-error>");
    r = running(c);
    assert_null(strstr(r, "<strict"));
    free(r);
    /* continue-on-error applies the good part and reports the bad one */
    edit(c, "<error-option>continue-on-error</error-option>",
         "<top " NCT_TNS " " NCOP "><item nc:operation=\"delete\"><id>7</id></item>"
         "<name>w</name></top>", "<error-tag>data-missing</error-tag>");
    r = running(c);
    assert_non_null(strstr(r, "<name>w</name>"));
    free(r);
    /* rollback-on-error: nothing applied */
    edit(c, "<error-option>rollback-on-error</error-option>",
         "<top " NCT_TNS " " NCOP "><name>v</name><item nc:operation=\"delete\"><id>7</id>"
         "</item></top>", "<error-tag>data-missing</error-tag>");
    r = running(c);
    assert_non_null(strstr(r, "<name>w</name>"));
    free(r);
    /* unknown element / namespace / state data / bad value */
    edit(c, "", "<top " NCT_TNS "><bogus>1</bogus></top>", "<error-tag>unknown-element</error-tag>");
    edit(c, "", "<zz xmlns=\"urn:nope\"/>", "<error-tag>unknown-namespace</error-tag>");
    edit(c, "", "<top " NCT_TNS "><counter>1</counter></top>", "<error-tag>invalid-value</error-tag>");
    edit(c, "", "<top " NCT_TNS "><mtu>99999</mtu></top>", "<rpc-error>");
}

static void test_copy_delete_validate(void **state)
{
    fx *f = *state;
    nct_conn *c = &f->c;
    edit(c, "", "<top " NCT_TNS "><name>cp</name></top>", "<ok/>");
    nct_ok(c, "<copy-config><target><startup/></target><source><running/></source></copy-config>");
    char *r = nct_rpc(c, "<get-config><source><startup/></source></get-config>");
    assert_non_null(strstr(r, "<name>cp</name>"));
    free(r);
    free(nct_expect(c,
                    "<copy-config><target><running/></target><source><running/></source>"
                    "</copy-config>",
                    "<error-tag>invalid-value</error-tag>"));
    nct_ok(c, "<copy-config><target><candidate/></target><source><config><top " NCT_TNS
              "><name>inline</name></top></config></source></copy-config>");
    r = nct_rpc(c, "<get-config><source><candidate/></source></get-config>");
    assert_non_null(strstr(r, "<name>inline</name>"));
    free(r);
    nct_ok(c, "<delete-config><target><startup/></target></delete-config>");
    r = nct_rpc(c, "<get-config><source><startup/></source></get-config>");
    assert_null(strstr(r, "<name>"));
    free(r);
    free(
        nct_expect(c, "<delete-config><target><running/></target></delete-config>", "<rpc-error>"));
    nct_ok(c, "<validate><source><running/></source></validate>");
    free(nct_expect(c,
                    "<validate><source><config><strict " NCT_TNS "><k>1</k></strict></config>"
                    "</source></validate>",
                    "<rpc-error>"));
    nct_ok(c, "<discard-changes/>");
}

static void test_locks(void **state)
{
    fx *f = *state;
    nct_conn *a = &f->c, b;
    assert_int_equal(nct_open(&f->t, &b, "admin", true), 0);
    nct_ok(a, "<lock><target><running/></target></lock>");
    free(nct_expect(&b, "<lock><target><running/></target></lock>",
                    "<error-tag>lock-denied</error-tag>"));
    edit(&b, "", "<top " NCT_TNS "><name>blocked</name></top>", "<error-tag>in-use</error-tag>");
    free(nct_expect(&b, "<unlock><target><running/></target></unlock>",
                    "<error-tag>operation-failed</error-tag>"));
    edit(a, "", "<top " NCT_TNS "><name>holder</name></top>", "<ok/>");
    nct_ok(a, "<unlock><target><running/></target></unlock>");
    free(nct_expect(a, "<unlock><target><running/></target></unlock>",
                    "<error-tag>operation-failed</error-tag>"));
    /* candidate modified and not committed: lock-denied */
    nct_ok(&b,
           "<edit-config><target><candidate/></target><config><top " NCT_TNS "><name>cand</name>"
           "</top></config></edit-config>");
    free(nct_expect(a, "<lock><target><candidate/></target></lock>",
                    "<error-tag>lock-denied</error-tag>"));
    nct_ok(&b, "<discard-changes/>");
    nct_ok(a, "<lock><target><candidate/></target></lock>");
    /* lost transport releases the lock */
    nct_drop(a);
    nct_ok(&b, "<lock><target><candidate/></target></lock>");
    assert_int_equal(nct_open(&f->t, a, "admin", true), 0);
    nct_drop(&b);
}

static void test_subtree_filters(void **state)
{
    fx *f = *state;
    nct_conn *c = &f->c;
    edit(c, "", "<top " NCT_TNS "><name>f</name><item><id>1</id><value>1</value><note>one</note>"
         "</item><item><id>2</id><value>2</value><note>two</note></item><tag>a</tag><tag>b</tag>"
         "</top>", "<ok/>");
#define GC(filter) "<get-config><source><running/></source><filter type=\"subtree\">" filter \
                   "</filter></get-config>"
    /* selection node */
    char *r = nct_expect(c, GC("<top " NCT_TNS "><name/></top>"), "<name>f</name>");
    assert_null(strstr(r, "<item>"));
    free(r);
    /* content match selects the whole entry when only content-match siblings */
    r = nct_expect(c, GC("<top " NCT_TNS "><item><id>2</id></item></top>"), "<note>two</note>");
    assert_null(strstr(r, "<note>one</note>"));
    free(r);
    /* content match + selection */
    r = nct_expect(c, GC("<top " NCT_TNS "><item><id>1</id><note/></item></top>"),
                   "<note>one</note>");
    assert_null(strstr(r, "<value>"));
    assert_null(strstr(r, "two"));
    free(r);
    /* no match */
    r = nct_expect(c, GC("<top " NCT_TNS "><item><id>3</id></item></top>"), "<data");
    assert_null(strstr(r, "<item>"));
    free(r);
    /* wrong namespace selects nothing */
    r = nct_expect(c, GC("<top xmlns=\"urn:other\"/>"), "<data");
    assert_null(strstr(r, "<top"));
    free(r);
    /* empty filter selects nothing; no filter everything */
    r = nct_expect(c, GC(""), "<data");
    assert_null(strstr(r, "<top"));
    free(r);
    /* union of two subtrees for the same list */
    r = nct_expect(c,
                   GC("<top " NCT_TNS "><item><id>1</id><value/></item></top>"
                      "<top " NCT_TNS "><item><id>2</id><note/></item></top>"),
                   "<note>two</note>");
    assert_non_null(strstr(r, "<value>1</value>"));
    assert_int_equal(nct_count(r, "<top"), 1);
    free(r);
    /* leaf-list content match */
    r = nct_expect(c, GC("<top " NCT_TNS "><tag>b</tag><name/></top>"), "<tag>b</tag>");
    assert_null(strstr(r, "<tag>a</tag>"));
    free(r);
    /* RFC 6241 6.2.2 attribute match: the data has no such attribute, so not selected */
    r = nct_expect(c, GC("<top " NCT_TNS " xmlns:ex=\"urn:example:attr\"><item ex:color=\"red\">"
                         "<id>1</id></item><name/></top>"), "<name>f</name>");
    assert_null(strstr(r, "<item>"));
    free(r);
    r = nct_expect(c, GC("<top " NCT_TNS "><name plain='x'/><tag/></top>"), "<tag>a</tag>");
    assert_null(strstr(r, "<name>"));
    free(r);
    /* the same through a <filter> without a type attribute (subtree is the default) */
    r = nct_expect(c, "<get-config><source><running/></source><filter><top " NCT_TNS ">"
                      "<name a='1'/><tag/></top></filter></get-config>", "<tag>a</tag>");
    assert_null(strstr(r, "<name>"));
    free(r);
    /* ...while namespace declarations are not attributes to match */
    r = nct_expect(c, GC("<t:top xmlns:t=\"urn:mamori:test:nc\"><t:name/></t:top>"),
                   "<name>f</name>");
    free(r);
    /* xpath */
    r = nct_expect(c,
                   "<get-config><source><running/></source><filter type=\"xpath\" "
                   "xmlns:t=\"urn:mamori:test:nc\" select=\"/t:top/t:item[t:id='2']/t:note\"/>"
                   "</get-config>",
                   "<note>two</note>");
    assert_null(strstr(r, "<value>"));
    free(r);
    r = nct_expect(c,
                   "<get><filter type=\"subtree\"><netconf-state xmlns=\"urn:ietf:params:xml:ns:"
                   "yang:ietf-netconf-monitoring\"><sessions/></netconf-state></filter></get>",
                   "<session-id>");
    assert_null(strstr(r, "<schemas>"));
    free(r);
}

static void test_with_defaults(void **state)
{
    fx *f = *state;
    nct_conn *c = &f->c;
    edit(c, "", "<top " NCT_TNS "><name>wd</name><mtu>1500</mtu></top>", "<ok/>");
#define WD(mode) "<get-config><source><running/></source><filter type=\"subtree\"><top " NCT_TNS \
                 "/></filter><with-defaults xmlns=\"urn:ietf:params:xml:ns:yang:" \
                 "ietf-netconf-with-defaults\">" mode "</with-defaults></get-config>"
    char *r = nct_expect(c, WD("report-all"), "<enabled>true</enabled>");
    free(r);
    r = nct_expect(c, WD("explicit"), "<mtu>1500</mtu>");
    assert_null(strstr(r, "<enabled>"));
    free(r);
    r = nct_expect(c, WD("trim"), "<name>wd</name>");
    assert_null(strstr(r, "<mtu>"));
    assert_null(strstr(r, "<enabled>"));
    free(r);
    r = nct_expect(c, WD("report-all-tagged"), "default=\"true\"");
    assert_non_null(strstr(r, "urn:ietf:params:xml:ns:netconf:default:1.0"));
    free(r);
}

static void test_nacm_write_denied(void **state)
{
    fx *f = *state;
    nct_conn g;
    /* RFC 8341 write-default is deny: a non-recovery user cannot write */
    assert_int_equal(nct_open(&f->t, &g, "guest", true), 0);
    edit(&g, "", "<top " NCT_TNS "><name>guest</name></top>", "<error-tag>access-denied</error-tag>");
    char *r = running(&f->c);
    assert_null(strstr(r, "guest"));
    free(r);
    /* reads are permitted by read-default */
    r = running(&g);
    assert_non_null(strstr(r, "<data"));
    free(r);
    nct_drop(&g);
}

#define YANGNS "xmlns:yang=\"urn:ietf:params:xml:ns:yang:1\""

/* The order in which elem values appear under /top in running, e.g. "dcab"; one letter each. */
static void order_of(nct_conn *c, const char *elem, char *out, size_t cap)
{
    char *r = running(c);
    char open[32];
    int n = snprintf(open, sizeof(open), "<%s>", elem);
    size_t o = 0;
    const char *top = strstr(r, "<top"), *end = top ? strstr(top, "</top>") : NULL;
    for (const char *p = top ? strstr(top, open) : NULL; p && p < end && o + 1 < cap;
         p = strstr(p + 1, open))
        out[o++] = p[n];
    out[o] = '\0';
    free(r);
}

static void rule(nct_conn *c, const char *name, const char *attrs, const char *want)
{
    char cfg[512];
    snprintf(cfg, sizeof(cfg), "<top " NCT_TNS " " NCOP " " YANGNS "><rule %s><name>%s</name>"
             "<action>x</action></rule></top>", attrs, name);
    edit(c, "", cfg, want);
}

/* RFC 7950 yang:insert on an ordered-by user list and leaf-list. */
static void test_insert(void **state)
{
    fx *f = *state;
    nct_conn *c = &f->c;
    char order[16];
    rule(c, "a", "", "<ok/>");
    rule(c, "b", "", "<ok/>");
    rule(c, "c", "", "<ok/>");
    order_of(c, "name", order, sizeof(order));
    assert_string_equal(order, "abc"); /* no insert: new entries go last */
    rule(c, "d", "yang:insert=\"first\"", "<ok/>");
    order_of(c, "name", order, sizeof(order));
    assert_string_equal(order, "dabc");
    /* merge with insert moves an existing entry; key with the module's prefix */
    rule(c, "c", "xmlns:t=\"urn:mamori:test:nc\" yang:insert=\"before\" "
                 "yang:key=\"[t:name='a']\"", "<ok/>");
    order_of(c, "name", order, sizeof(order));
    assert_string_equal(order, "dcab");
    /* create after, key without prefix */
    rule(c, "e", "nc:operation=\"create\" yang:insert=\"after\" yang:key=\"[name='d']\"",
         "<ok/>");
    order_of(c, "name", order, sizeof(order));
    assert_string_equal(order, "decab");
    rule(c, "d", "nc:operation=\"replace\" yang:insert=\"last\"", "<ok/>");
    order_of(c, "name", order, sizeof(order));
    assert_string_equal(order, "ecabd");
    /* errors: the reference missing, no key, insert on a system-ordered list */
    rule(c, "f", "yang:insert=\"after\" yang:key=\"[name='zz']\"",
         "<error-app-tag>missing-instance</error-app-tag>");
    rule(c, "f", "yang:insert=\"before\"", "<error-tag>bad-attribute</error-tag>");
    edit(c, "", "<top " NCT_TNS " " YANGNS "><item yang:insert=\"first\"><id>1</id></item></top>",
         "<error-tag>bad-attribute</error-tag>");
    order_of(c, "name", order, sizeof(order));
    assert_string_equal(order, "ecabd"); /* nothing changed by the failed edits */
    /* leaf-list: yang:value names the neighbour */
    edit(c, "", "<top " NCT_TNS "><hop>m</hop><hop>n</hop></top>", "<ok/>");
    edit(c, "", "<top " NCT_TNS " " YANGNS "><hop yang:insert=\"before\" yang:value=\"m\">k</hop>"
         "</top>", "<ok/>");
    order_of(c, "hop", order, sizeof(order));
    assert_string_equal(order, "kmn");
    edit(c, "", "<top " NCT_TNS " " YANGNS "><hop yang:insert=\"last\">k</hop></top>", "<ok/>");
    order_of(c, "hop", order, sizeof(order));
    assert_string_equal(order, "mnk");
    /* The order is part of the datastore: a reload (restart) keeps it. */
    nct_drop(c);
    char dir[256];
    snprintf(dir, sizeof(dir), "%s", f->t.dir);
    nct_server_stop(&f->t, false);
    assert_int_equal(nct_server_start(&f->t, dir, "admin"), 0);
    assert_int_equal(nct_open(&f->t, c, "admin", true), 0);
    order_of(c, "name", order, sizeof(order));
    assert_string_equal(order, "ecabd");
}

/* Moving an entry is an update for NACM: denied where updates are. */
static void test_insert_nacm(void **state)
{
    fx *f = *state;
    nct_conn *c = &f->c;
    rule(c, "a", "", "<ok/>");
    rule(c, "b", "", "<ok/>");
    edit(c, "", "<nacm xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-acm\">"
         "<write-default>permit</write-default>"
         "<groups><group><name>g</name><user-name>guest</user-name></group></groups>"
         "<rule-list><name>rl</name><group>g</group><rule><name>no-update</name>"
         "<module-name>nc-test</module-name><path xmlns:t='urn:mamori:test:nc'>/t:top/t:rule</path>"
         "<access-operations>update</access-operations><action>deny</action></rule>"
         "</rule-list></nacm>", "<ok/>");
    nct_conn g;
    assert_int_equal(nct_open(&f->t, &g, "guest", true), 0);
    char cfg[512];
    snprintf(cfg, sizeof(cfg), "<top " NCT_TNS " " YANGNS "><rule yang:insert=\"first\">"
             "<name>b</name></rule></top>");
    edit(&g, "", cfg, "<error-tag>access-denied</error-tag>");
    char order[16];
    order_of(c, "name", order, sizeof(order));
    assert_string_equal(order, "ab");
    /* creating a new entry in place is a create, which is permitted */
    snprintf(cfg, sizeof(cfg), "<top " NCT_TNS " " YANGNS "><rule yang:insert=\"first\">"
             "<name>c</name></rule></top>");
    edit(&g, "", cfg, "<ok/>");
    order_of(c, "name", order, sizeof(order));
    assert_string_equal(order, "cab");
    nct_drop(&g);
}

#define PLNS "xmlns=\"urn:ietf:params:xml:ns:netconf:partial-lock:1.0\""

static char *plock(nct_conn *c, const char *select, const char *want)
{
    char op[512];
    snprintf(op, sizeof(op), "<partial-lock " PLNS "><select>%s</select></partial-lock>", select);
    return nct_expect(c, op, want);
}

static unsigned lock_id_of(const char *reply)
{
    const char *p = strstr(reply, "<lock-id");
    p = p ? strchr(p, '>') : NULL;
    return p ? (unsigned)strtoul(p + 1, NULL, 10) : 0;
}

/* RFC 5717 partial-lock and partial-unlock between two sessions. */
static void test_partial_lock(void **state)
{
    fx *f = *state;
    nct_conn *a = &f->c, b;
    assert_non_null(strstr(a->hello, "urn:ietf:params:netconf:capability:partial-lock:1.0"));
    rule(a, "a", "", "<ok/>");
    rule(a, "b", "", "<ok/>");
    assert_int_equal(nct_open(&f->t, &b, "admin", true), 0);
    char *r = plock(a, "/nc-test:top/rule[name='a']", "<lock-id");
    assert_non_null(strstr(r, "<locked-node"));
    assert_non_null(strstr(r, "xmlns:nc-test=\"urn:mamori:test:nc\""));
    assert_non_null(strstr(r, "/nc-test:top/rule[name='a']</locked-node>"));
    unsigned ida = lock_id_of(r);
    assert_true(ida > 0);
    free(r);
    /* b may not change the locked entry, anything under it, or delete its ancestor */
    rule(&b, "a", "", "<ok/>"); /* merging what is there changes nothing: no conflict */
    edit(&b, "", "<top " NCT_TNS "><rule><name>a</name><action>changed</action></rule></top>",
         "<error-tag>in-use</error-tag>");
    edit(&b, "", "<top " NCT_TNS " " NCOP " nc:operation=\"delete\"/>",
         "<error-tag>in-use</error-tag>");
    /* ...but the rest of running is writable */
    edit(&b, "", "<top " NCT_TNS "><rule><name>b</name><action>by-b</action></rule></top>",
         "<ok/>");
    /* no global lock while a partial one is held elsewhere; no overlapping partial lock */
    free(nct_expect(&b, "<lock><target><running/></target></lock>",
                    "<error-tag>lock-denied</error-tag>"));
    free(plock(&b, "/nc-test:top/rule[name='a']", "<error-tag>lock-denied</error-tag>"));
    free(plock(&b, "/nc-test:top", "<error-tag>lock-denied</error-tag>"));
    r = plock(&b, "/nc-test:top/rule[name='b']", "<lock-id");
    unsigned idb = lock_id_of(r);
    assert_true(idb > ida);
    free(r);
    /* both locks are listed in ietf-netconf-monitoring */
    r = nct_rpc(a, "<get><filter type=\"subtree\"><netconf-state xmlns=\"urn:ietf:params:xml:"
                   "ns:yang:ietf-netconf-monitoring\"><datastores/></netconf-state></filter></get>");
    char want[128];
    snprintf(want, sizeof(want), "<lock-id>%u</lock-id>", ida);
    assert_non_null(strstr(r, want));
    snprintf(want, sizeof(want), "<lock-id>%u</lock-id>", idb);
    assert_non_null(strstr(r, want));
    /* printed by libyang in XML, with the module's own prefix declared */
    assert_non_null(strstr(r, "<select xmlns:t=\"urn:mamori:test:nc\">/t:top/t:rule[t:name='b']"
                              "</select>"));
    assert_non_null(strstr(r, "<locked-node xmlns:t=\"urn:mamori:test:nc\">/t:top/t:rule"
                              "[t:name='a']</locked-node>"));
    free(r);
    /* the owner writes its own entry; not b's */
    edit(a, "", "<top " NCT_TNS "><rule><name>a</name><action>by-a</action></rule></top>",
         "<ok/>");
    edit(a, "", "<top " NCT_TNS "><rule><name>b</name><action>x</action></rule></top>",
         "<error-tag>in-use</error-tag>");
    /* XML prefixes in select work too (the value is an xpath1.0, converted by libyang) */
    r = nct_expect(a, "<partial-lock " PLNS "><select xmlns:x=\"urn:mamori:test:nc\">"
                      "/x:top/x:rule[x:name='b']</select></partial-lock>",
                   "<error-tag>lock-denied</error-tag>");
    free(r);
    /* empty and invalid selections */
    free(plock(a, "/nc-test:top/rule[name='zz']", "<error-app-tag>no-matches</error-app-tag>"));
    free(plock(a, "/nc-test:top/rule[", "<error-tag>invalid-value</error-tag>"));
    /* only the owner can unlock */
    char op[256];
    snprintf(op, sizeof(op), "<partial-unlock " PLNS "><lock-id>%u</lock-id></partial-unlock>",
             ida);
    free(nct_expect(&b, op, "<error-tag>invalid-value</error-tag>"));
    free(nct_expect(a, op, "<ok/>"));
    rule(&b, "a", "", "<ok/>");
    /* the end of b's session releases its lock */
    nct_drop(&b);
    edit(a, "", "<top " NCT_TNS "><rule><name>b</name><action>after</action></rule></top>",
         "<ok/>");
    free(nct_expect(a, "<lock><target><running/></target></lock>", "<ok/>"));
    free(nct_expect(a, "<unlock><target><running/></target></unlock>", "<ok/>"));
}

/*
 * Issue 10 item 13: an edit of the candidate that changes nothing (remove
 * of an absent node) leaves it unmodified, so another session can lock it.
 */
static void test_noop_edit_keeps_candidate_clean(void **state)
{
    fx *f = *state;
    nct_conn b;
    nct_ok(&f->c, "<edit-config><target><candidate/></target><config><top " NCT_TNS " " NCOP
                  "><item nc:operation=\"remove\"><id>absent</id></item></top></config>"
                  "</edit-config>");
    assert_int_equal(nct_open(&f->t, &b, "admin", true), 0);
    nct_ok(&b, "<lock><target><candidate/></target></lock>");
    nct_ok(&b, "<unlock><target><candidate/></target></unlock>");
    /* a real change still marks it: lock-denied with session-id 0 */
    nct_ok(&f->c, "<edit-config><target><candidate/></target><config><top " NCT_TNS
                  "><name>c</name></top></config></edit-config>");
    char *r = nct_expect(&b, "<lock><target><candidate/></target></lock>",
                         "<error-tag>lock-denied</error-tag>");
    assert_non_null(strstr(r, "<session-id>0</session-id>"));
    free(r);
    nct_drop(&b);
}

static long file_size(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/*
 * Issue 10 item 9 (engine side): when the audit record of a change cannot
 * be written, the change fails with an rpc-error and is not applied. The
 * audit log really fails to grow: RLIMIT_FSIZE at its current size (the
 * datastore files, rewritten from zero and much smaller, still fit).
 */
static void test_audit_failure_fails_change(void **state)
{
    fx *f = *state;
    nct_conn *c = &f->c;
    /* some read records first, so the log is larger than running.xml */
    for (int i = 0; i < 60; i++)
        free(running(c));
    edit(c, "", "<top " NCT_TNS "><name>before</name></top>", "<ok/>");
    long audit = file_size(f->t.dir, "audit.log"), run = file_size(f->t.dir, "running.xml");
    assert_true(run > 0);
    if (audit < 4 * run)
        fail_msg("precondition: audit.log (%ld) must be much larger than running.xml (%ld)",
                 audit, run);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)audit;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    char *r = nct_rpc(c, "<edit-config><target><running/></target><config><top " NCT_TNS
                         "><name>unaudited</name></top></config></edit-config>");
    char *r2 = nct_rpc(c, "<edit-config><target><candidate/></target><config><top " NCT_TNS
                          "><name>unaudited</name></top></config></edit-config>");
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_non_null(r);
    if (strstr(r, "<ok/>") || !strstr(r, "<error-tag>operation-failed</error-tag>"))
        fail_msg("a change without its audit record: %s", r);
    assert_non_null(strstr(r2, "<error-tag>operation-failed</error-tag>"));
    free(r);
    free(r2);
    r = running(c);
    assert_null(strstr(r, "unaudited"));
    assert_non_null(strstr(r, "<name>before</name>"));
    free(r);
    r = nct_rpc(c, "<get-config><source><candidate/></source></get-config>");
    assert_null(strstr(r, "unaudited"));
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_edit_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_delete_validate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subtree_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_with_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nacm_write_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_nacm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_noop_edit_keeps_candidate_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_failure_fails_change, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
