/*
 * XFRM dump parsing on netlink messages built here with the kernel's
 * structs (<linux/xfrm.h>). The test kernel may lack CONFIG_INET_AH, so AH
 * SAs cannot always be created for real; the netns test covers policies
 * (and SAs where the kernel allows them) end to end.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"

static uint8_t buf[8192] __attribute__((aligned(4)));
static size_t used;

static uint8_t *msg_add(uint16_t type, size_t body)
{
    size_t len = NLMSG_LENGTH(body);
    assert_true(used + NLMSG_ALIGN(len) <= sizeof(buf));
    uint8_t *m = buf + used;
    memset(m, 0, NLMSG_ALIGN(len));
    struct nlmsghdr nh = {.nlmsg_len = (uint32_t)len, .nlmsg_type = type};
    memcpy(m, &nh, sizeof(nh));
    used += NLMSG_ALIGN(len);
    return m + NLMSG_HDRLEN;
}

/* Netlink buffers are only 4-aligned: build each struct aside and copy it in. */
static void add_sa(uint8_t proto, uint32_t spi, const char *src, const char *dst, uint8_t mode)
{
    /* The SA carries an (unread) key attribute, as real dumps do. */
    size_t keyattr = NLA_ALIGN(NLA_HDRLEN + sizeof(struct xfrm_algo) + 32);
    struct xfrm_usersa_info sa;
    memset(&sa, 0, sizeof(sa));
    sa.family = AF_INET;
    sa.id.proto = proto;
    sa.id.spi = htonl(spi);
    sa.mode = mode;
    sa.reqid = 7;
    inet_pton(AF_INET, src, &sa.saddr);
    inet_pton(AF_INET, dst, &sa.id.daddr);
    uint8_t *body = msg_add(XFRM_MSG_NEWSA, NLA_ALIGN(sizeof(sa)) + keyattr);
    memcpy(body, &sa, sizeof(sa));
    struct nlattr na = {.nla_type = XFRMA_ALG_AUTH,
                        .nla_len = (uint16_t)(NLA_HDRLEN + sizeof(struct xfrm_algo) + 32)};
    memcpy(body + NLA_ALIGN(sizeof(sa)), &na, sizeof(na));
}

static void add_policy(const uint8_t *protos, size_t n, const char *tsrc, const char *tdst)
{
    size_t tl = n * sizeof(struct xfrm_user_tmpl);
    struct xfrm_userpolicy_info p;
    memset(&p, 0, sizeof(p));
    p.sel.family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::1", &p.sel.saddr);
    inet_pton(AF_INET6, "2001:db8::2", &p.sel.daddr);
    p.sel.prefixlen_s = p.sel.prefixlen_d = 128;
    p.dir = XFRM_POLICY_OUT;
    p.index = 42;
    uint8_t *body = msg_add(XFRM_MSG_NEWPOLICY, NLA_ALIGN(sizeof(p)) + NLA_HDRLEN + tl);
    memcpy(body, &p, sizeof(p));
    struct nlattr na = {.nla_type = XFRMA_TMPL, .nla_len = (uint16_t)(NLA_HDRLEN + tl)};
    uint8_t *ap = body + NLA_ALIGN(sizeof(p));
    memcpy(ap, &na, sizeof(na));
    for (size_t i = 0; i < n; i++) {
        struct xfrm_user_tmpl t;
        memset(&t, 0, sizeof(t));
        t.family = AF_INET6;
        t.id.proto = protos[i];
        t.mode = XFRM_MODE_TUNNEL;
        inet_pton(AF_INET6, tsrc, &t.saddr);
        inet_pton(AF_INET6, tdst, &t.id.daddr);
        memcpy(ap + NLA_HDRLEN + i * sizeof(t), &t, sizeof(t));
    }
}

static void test_sa_dump(void **state)
{
    used = 0;
    add_sa(51, 0x1000, "10.0.0.1", "10.0.0.2", XFRM_MODE_TRANSPORT);
    add_sa(50, 0x2000, "10.0.0.1", "10.0.0.2", XFRM_MODE_TRANSPORT);
    add_sa(51, 0x3000, "10.0.0.2", "10.0.0.1", XFRM_MODE_TUNNEL);
    mm_ah_report r;
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_xfrm_parse(buf, used, "netns x", &r), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.f[0].source, MM_AH_SRC_SA);
    assert_int_equal(r.f[0].spi, 0x1000);
    assert_string_equal(r.f[0].src, "10.0.0.1");
    assert_string_equal(r.f[0].dst, "10.0.0.2");
    assert_non_null(strstr(r.f[0].detail, "mode transport reqid 7"));
    assert_int_equal(r.f[1].spi, 0x3000);
    assert_non_null(strstr(r.f[1].detail, "mode tunnel"));
    /* DONE ends the dump. */
    used = 0;
    msg_add(NLMSG_DONE, 4);
    assert_int_equal(mm_ah_xfrm_parse(buf, used, "netns x", &r), 1);
    mm_ah_report_free(&r);
}

static void test_policy_dump(void **state)
{
    used = 0;
    const uint8_t bundle[] = {50, 51};
    add_policy(bundle, 2, "2001:db8::a", "2001:db8::b");
    const uint8_t esp[] = {50};
    add_policy(esp, 1, "2001:db8::c", "2001:db8::d");
    mm_ah_report r;
    mm_ah_report_init(&r);
    assert_int_equal(mm_ah_xfrm_parse(buf, used, "here", &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.f[0].source, MM_AH_SRC_POLICY);
    assert_string_equal(r.f[0].src, "2001:db8::a");
    assert_string_equal(r.f[0].dst, "2001:db8::b");
    assert_non_null(strstr(r.f[0].detail, "2001:db8::1/128 -> 2001:db8::2/128 dir out index 42"));
    assert_non_null(strstr(r.f[0].detail, "template 1: proto ah mode tunnel"));
    mm_ah_report_free(&r);
}

static void test_malformed_and_errors(void **state)
{
    mm_ah_report r;
    mm_ah_report_init(&r);
    used = 0;
    add_sa(51, 1, "10.0.0.1", "10.0.0.2", 0);
    /* Every cut of the message is rejected or yields nothing, never a crash. */
    for (size_t n = 1; n < used; n++) {
        int rc = mm_ah_xfrm_parse(buf, n, "cut", &r);
        assert_int_equal(rc, MM_EMALFORMED);
    }
    assert_int_equal(r.n, 0);
    /* nlmsg_len shorter than the header. */
    uint32_t short_len = 4;
    memcpy(buf, &short_len, sizeof(short_len)); /* nlmsg_len */
    assert_int_equal(mm_ah_xfrm_parse(buf, used, "bad", &r), MM_EMALFORMED);
    /* A policy attribute whose length runs past the message. */
    used = 0;
    const uint8_t ah[] = {51};
    add_policy(ah, 1, "::1", "::2");
    uint8_t *na = buf + NLMSG_HDRLEN + NLA_ALIGN(sizeof(struct xfrm_userpolicy_info));
    uint16_t len = 2000;
    memcpy(na, &len, sizeof(len)); /* nla_len */
    assert_int_equal(mm_ah_xfrm_parse(buf, used, "bad", &r), MM_EMALFORMED);
    len = 2;
    memcpy(na, &len, sizeof(len));
    assert_int_equal(mm_ah_xfrm_parse(buf, used, "bad", &r), MM_EMALFORMED);
    /* A netlink error (EPERM without CAP_NET_ADMIN). */
    used = 0;
    struct nlmsgerr e = {.error = -1};
    memcpy(msg_add(NLMSG_ERROR, sizeof(e)), &e, sizeof(e));
    assert_int_equal(mm_ah_xfrm_parse(buf, used, "x", &r), MM_EPERM);
    assert_int_equal(r.n, 0);
    mm_ah_report_free(&r);
}

static size_t read_seed(const char *name)
{
    const char *root = getenv("MM_SOURCE_ROOT");
    assert_non_null(root);
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/audit_xfrm/%s", root, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    return n;
}

/*
 * The fuzz seeds reach the AH paths. kernel_policy_dump is a policy dump
 * recorded from a real kernel (ip xfrm policy: one AH transport template,
 * one ESP+AH tunnel bundle; one recv() worth); sa_ah_done is an AH SA message plus DONE.
 */
static void test_seeds(void **state)
{
    mm_ah_report r;
    mm_ah_report_init(&r);
    size_t n = read_seed("kernel_policy_dump");
    assert_int_equal(mm_ah_xfrm_parse(buf, n, "recorded", &r), 0); /* DONE comes in the next datagram */
    assert_int_equal(r.n, 2);
    size_t tunnel = r.f[0].dst[0] == 'f' ? 0 : 1;
    assert_string_equal(r.f[tunnel].dst, "fd01::1");
    assert_non_null(strstr(r.f[tunnel].detail, "dir in"));
    assert_non_null(strstr(r.f[tunnel].detail, "template 1: proto ah mode tunnel"));
    assert_string_equal(r.f[1 - tunnel].dst, "10.0.0.2");
    assert_non_null(strstr(r.f[1 - tunnel].detail, "dir out"));
    n = read_seed("sa_ah_done");
    assert_int_equal(mm_ah_xfrm_parse(buf, n, "seed", &r), 1);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.f[2].source, MM_AH_SRC_SA);
    assert_int_equal(r.f[2].spi, 0x1234);
    mm_ah_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sa_dump),
        cmocka_unit_test(test_policy_dump),
        cmocka_unit_test(test_malformed_and_errors),
        cmocka_unit_test(test_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
