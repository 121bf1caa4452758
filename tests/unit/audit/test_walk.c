/*
 * Unit tests of the AH packet walker on frames built in the test.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>

#include <cmocka.h>

#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"
#include "pkt.h"

#define A4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static mm_ah_walk_result res;

static int walk(int lt, const pkt *p) { return mm_ah_walk(lt, p->b, p->n, &res); }

static void ipv4_ah(pkt *p, uint32_t spi, uint32_t seq)
{
    pkt_payload(p, 20, 0x11); /* a TCP header's worth */
    wrap_ah(p, 6, spi, seq, 12);
    wrap_ipv4(p, 51, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
}

static void test_ipv4_transport(void **state)
{
    pkt p;
    ipv4_ah(&p, 0x1001, 7);
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].family, 4);
    assert_int_equal(res.hits[0].spi, 0x1001);
    assert_int_equal(res.hits[0].seq, 7);
    assert_int_equal(res.hits[0].next_header, 6);
    assert_int_equal(res.hits[0].icv_len, 12);
    assert_int_equal(res.hits[0].depth, 0);
    assert_false(res.hits[0].truncated);
    uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
    assert_memory_equal(res.hits[0].src, src, 4);
    assert_memory_equal(res.hits[0].dst, dst, 4);
    /* The same frame as LINKTYPE_IPV4 and DLT_RAW. */
    assert_int_equal(walk(MM_AH_LINK_IPV4, &p), 0);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(walk(MM_AH_LINK_RAW_DLT, &p), 0);
    assert_int_equal(res.nhits, 1);
    /* ...but not as LINKTYPE_IPV6. */
    assert_int_equal(walk(MM_AH_LINK_IPV6, &p), MM_EMALFORMED);
    assert_int_equal(res.nhits, 0);
}

static void test_ipv4_options(void **state)
{
    pkt p;
    ipv4_ah(&p, 0x42, 1);
    /* Grow the header to IHL 6 with a 4-octet NOP option. */
    uint8_t hdr[20];
    memcpy(hdr, p.b, 20);
    memmove(p.b + 24, p.b + 20, p.n - 20);
    memcpy(p.b, hdr, 20);
    memset(p.b + 20, 1, 4);
    p.n += 4;
    p.b[0] = 0x46;
    be16(p.b + 2, (uint16_t)p.n);
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].spi, 0x42);
}

/* RFC 8200 section 4.1 order: Hop-by-Hop, Routing, Fragment, Destination, AH. */
static void test_ipv6_chain(void **state)
{
    pkt p;
    pkt_payload(&p, 8, 0x22);
    wrap_ah(&p, 17, 0xabcdef01, 99, 12);
    wrap_ext6(&p, 51, 1);  /* destination options, 16 octets */
    wrap_frag6(&p, 60, 0, 1);
    wrap_ext6(&p, 44, 2);  /* routing, 24 octets */
    wrap_ext6(&p, 43, 0);  /* hop-by-hop */
    wrap_ipv6(&p, 0, 1, 2);
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].family, 6);
    assert_int_equal(res.hits[0].spi, 0xabcdef01);
    assert_int_equal(res.hits[0].seq, 99);
    assert_int_equal(res.hits[0].next_header, 17);
    assert_int_equal(res.hits[0].src[15], 1);
    assert_int_equal(res.hits[0].dst[15], 2);
    /* A later fragment carries no headers: AH as its Next Header is not a hit. */
    pkt q;
    pkt_payload(&q, 64, 0x33);
    wrap_frag6(&q, 51, 100, 0);
    wrap_ipv6(&q, 44, 1, 2);
    assert_int_equal(walk(MM_AH_LINK_RAW, &q), 0);
    assert_int_equal(res.nhits, 0);
}

static void test_tunnels(void **state)
{
    pkt p;
    /* IPv4 in IPv4. */
    ipv4_ah(&p, 0x10, 1);
    wrap_ipv4(&p, 4, A4(192, 0, 2, 1), A4(192, 0, 2, 2));
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].depth, 1);
    assert_int_equal(res.hits[0].src[0], 10);
    /* IPv6 in IPv6 (41) behind a destination options header. */
    pkt_payload(&p, 8, 0);
    wrap_ah(&p, 58, 0x20, 2, 12);
    wrap_ipv6(&p, 51, 3, 4);
    wrap_ext6(&p, 41, 0);
    wrap_ipv6(&p, 60, 5, 6);
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].spi, 0x20);
    assert_int_equal(res.hits[0].depth, 1);
    assert_int_equal(res.hits[0].src[15], 3);
    /* IPv6 in IPv4 (6in4). */
    pkt_payload(&p, 8, 0);
    wrap_ah(&p, 58, 0x30, 3, 12);
    wrap_ipv6(&p, 51, 3, 4);
    wrap_ipv4(&p, 41, A4(192, 0, 2, 1), A4(192, 0, 2, 2));
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].family, 6);
    /* GRE with key and sequence number carrying IPv4 + AH. */
    ipv4_ah(&p, 0x40, 4);
    wrap_gre(&p, 0x0800, 1, 1);
    wrap_ipv4(&p, 47, A4(192, 0, 2, 1), A4(192, 0, 2, 2));
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].spi, 0x40);
    /* GRE transparent Ethernet bridging (gretap) over IPv6. */
    ipv4_ah(&p, 0x50, 5);
    wrap_eth(&p, 0x0800, 0);
    wrap_gre(&p, 0x6558, 0, 0);
    wrap_ipv6(&p, 47, 1, 2);
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].spi, 0x50);
    assert_int_equal(res.hits[0].depth, 1);
}

/* AH tunnel mode: AH's Next Header is IPv4 (4), and the inner packet has its own AH. */
static void test_ah_tunnel_mode_nested(void **state)
{
    pkt p;
    ipv4_ah(&p, 0x2222, 9);
    wrap_ah(&p, 4, 0x1111, 8, 12);
    wrap_ipv4(&p, 51, A4(192, 0, 2, 1), A4(192, 0, 2, 2));
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 2);
    assert_int_equal(res.hits[0].spi, 0x1111);
    assert_int_equal(res.hits[0].depth, 0);
    assert_int_equal(res.hits[1].spi, 0x2222);
    assert_int_equal(res.hits[1].depth, 1);
}

static void test_esp_is_not_ah(void **state)
{
    pkt p;
    pkt_payload(&p, 64, 0x77);
    wrap_ipv4(&p, 50, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 0);
    assert_true(res.esp);
    /* Bytes after ESP that look like AH are encrypted payload, not headers. */
    pkt_payload(&p, 8, 0);
    wrap_ah(&p, 6, 0x99, 1, 12);
    wrap_ipv6(&p, 50, 1, 2);
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), 0);
    assert_int_equal(res.nhits, 0);
}

static void test_link_types(void **state)
{
    pkt base, p;
    ipv4_ah(&base, 0x77, 1);
    p = base;
    wrap_eth(&p, 0x0800, 1);
    assert_int_equal(walk(MM_AH_LINK_ETHERNET, &p), 0);
    assert_int_equal(res.nhits, 1);
    p = base;
    wrap_sll(&p, 0x0800);
    assert_int_equal(walk(MM_AH_LINK_SLL, &p), 0);
    assert_int_equal(res.nhits, 1);
    p = base;
    wrap_sll2(&p, 0x0800);
    assert_int_equal(walk(MM_AH_LINK_SLL2, &p), 0);
    assert_int_equal(res.nhits, 1);
    p = base;
    wrap_null(&p, 2, 1);
    assert_int_equal(walk(MM_AH_LINK_NULL, &p), 0);
    assert_int_equal(res.nhits, 1);
    p = base;
    wrap_null(&p, 2, 0);
    assert_int_equal(walk(MM_AH_LINK_LOOP, &p), 0);
    assert_int_equal(res.nhits, 1);
    /* ARP over Ethernet: nothing to find, nothing wrong. */
    p = base;
    wrap_eth(&p, 0x0806, 0);
    assert_int_equal(walk(MM_AH_LINK_ETHERNET, &p), 0);
    assert_int_equal(res.nhits, 0);
    /* A link type the walker does not know is reported, not guessed. */
    assert_int_equal(walk(147, &base), MM_EUNSUPPORTED);
    assert_non_null(res.reason);
    assert_false(mm_ah_linktype_supported(147));
    assert_true(mm_ah_linktype_supported(MM_AH_LINK_SLL2));
}

static void test_malformed_ext_headers(void **state)
{
    pkt p;
    /* A destination options header claiming 64 octets in a complete 24-octet payload. */
    pkt_payload(&p, 16, 0);
    wrap_ext6(&p, 51, 0);
    p.b[1] = 7;
    wrap_ipv6(&p, 60, 1, 2);
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), MM_EMALFORMED);
    assert_int_equal(res.nhits, 0);
    assert_int_equal(res.offset, 40 + 2);
    /* AH Payload Len 0 (below 12 octets): still AH, and reported malformed. */
    pkt_payload(&p, 20, 0);
    wrap_ah(&p, 6, 0x5, 1, 12);
    p.b[1] = 0;
    wrap_ipv4(&p, 51, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), MM_EMALFORMED);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].spi, 0x5);
    /* IPv6 AH of 20 octets breaks the 64-bit alignment (RFC 4302 section 2.6). */
    pkt_payload(&p, 8, 0);
    wrap_ah(&p, 59, 0x6, 1, 8);
    wrap_ipv6(&p, 51, 1, 2);
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), MM_EMALFORMED);
    assert_int_equal(res.nhits, 1);
    /* 40 destination options headers in a row: the walk is bounded. */
    pkt_payload(&p, 8, 0);
    for (int i = 0; i < 40; i++)
        wrap_ext6(&p, i ? 60 : 59, 0);
    wrap_ipv6(&p, 60, 1, 2);
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), MM_ELIMIT);
    /* Ten nested IPv4 tunnels: the walk is bounded. */
    ipv4_ah(&p, 0x7, 1);
    for (int i = 0; i < 10; i++)
        wrap_ipv4(&p, 4, A4(192, 0, 2, 1), A4(192, 0, 2, 2));
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), MM_ELIMIT);
    assert_int_equal(res.nhits, 0);
    /* Ten AH headers in a row: eight are reported, the limit is named. */
    pkt_payload(&p, 8, 0);
    for (int i = 0; i < 10; i++)
        wrap_ah(&p, i ? 51 : 59, 0x100 + (uint32_t)i, 1, 12);
    wrap_ipv4(&p, 51, A4(10, 0, 0, 1), A4(10, 0, 0, 2));
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), MM_ELIMIT);
    assert_int_equal(res.nhits, MM_AH_MAX_HITS);
    assert_int_equal(res.hits[0].spi, 0x109);
    /* IHL below 5. */
    ipv4_ah(&p, 0x8, 1);
    p.b[0] = 0x44;
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), MM_EMALFORMED);
    /* GRE with the routing bit is named, not guessed. */
    ipv4_ah(&p, 0x9, 1);
    wrap_gre(&p, 0x0800, 0, 0);
    p.b[0] |= 0x40;
    wrap_ipv4(&p, 47, A4(192, 0, 2, 1), A4(192, 0, 2, 2));
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), MM_EUNSUPPORTED);
    /* Unknown IP version. */
    ipv4_ah(&p, 0xa, 1);
    p.b[0] = 0x55;
    assert_int_equal(walk(MM_AH_LINK_RAW, &p), MM_EMALFORMED);
}

static void test_truncated(void **state)
{
    pkt p;
    ipv4_ah(&p, 0xdeadbeef, 3);
    /* Capture cut inside the ICV: the hit counts, the frame is reported truncated. */
    assert_int_equal(mm_ah_walk(MM_AH_LINK_RAW, p.b, 20 + 14, &res), MM_ETRUNC);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].spi, 0xdeadbeef);
    assert_true(res.hits[0].truncated);
    /* Cut after the SPI: the SPI is still known. */
    assert_int_equal(mm_ah_walk(MM_AH_LINK_RAW, p.b, 20 + 8, &res), MM_ETRUNC);
    assert_int_equal(res.nhits, 1);
    assert_int_equal(res.hits[0].spi, 0xdeadbeef);
    assert_true(res.hits[0].truncated);
    /* Cut inside the IPv4 header. */
    assert_int_equal(mm_ah_walk(MM_AH_LINK_RAW, p.b, 12, &res), MM_ETRUNC);
    assert_int_equal(res.nhits, 0);
    /* Every prefix of an IPv6 chain frame: no crash, never a hit before the AH. */
    pkt q;
    pkt_payload(&q, 8, 0);
    wrap_ah(&q, 17, 0x1234, 1, 12);
    wrap_ext6(&q, 51, 1);
    wrap_ext6(&q, 60, 0);
    wrap_ipv6(&q, 0, 1, 2);
    size_t ah_at = 40 + 8 + 16;
    for (size_t n = 0; n < q.n; n++) {
        int rc = mm_ah_walk(MM_AH_LINK_RAW, q.b, n, &res);
        assert_int_equal(res.nhits, n >= ah_at ? 1 : 0);
        assert_int_equal(rc, n < q.n - 8 ? MM_ETRUNC : 0);
    }
    /* Empty frames. */
    assert_int_equal(mm_ah_walk(MM_AH_LINK_ETHERNET, q.b, 0, &res), MM_ETRUNC);
    assert_int_equal(mm_ah_walk(MM_AH_LINK_RAW, q.b, 0, &res), MM_ETRUNC);
}

/*
 * The fuzz seeds (tests/fuzz/corpus/audit_walk) must reach the AH detection:
 * decode each as the harness does (first byte picks the link type).
 */
static void test_fuzz_seeds_reach_ah(void **state)
{
    static const int linktypes[] = {
        MM_AH_LINK_ETHERNET, MM_AH_LINK_RAW, MM_AH_LINK_SLL, MM_AH_LINK_SLL2,
        MM_AH_LINK_NULL,     MM_AH_LINK_LOOP, MM_AH_LINK_IPV4, MM_AH_LINK_IPV6,
    };
    const char *root = getenv("MM_SOURCE_ROOT");
    if (!root)
        skip();
    char dpath[512];
    snprintf(dpath, sizeof(dpath), "%s/tests/fuzz/corpus/audit_walk", root);
    DIR *d = opendir(dpath);
    assert_non_null(d);
    unsigned seeds = 0, with_ah = 0, tunnelled = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char fpath[800];
        snprintf(fpath, sizeof(fpath), "%s/%s", dpath, e->d_name);
        FILE *fp = fopen(fpath, "rb");
        assert_non_null(fp);
        uint8_t buf[4096];
        size_t n = fread(buf, 1, sizeof(buf), fp);
        fclose(fp);
        assert_true(n >= 1);
        seeds++;
        mm_ah_walk(linktypes[buf[0] % 8], buf + 1, n - 1, &res);
        with_ah += res.nhits > 0;
        for (size_t i = 0; i < res.nhits; i++)
            tunnelled += res.hits[i].depth > 0;
    }
    closedir(d);
    print_message("%u seeds, %u reach AH, %u AH hits inside tunnels\n", seeds, with_ah, tunnelled);
    assert_true(seeds >= 10);
    assert_true(with_ah >= 12);
    assert_true(tunnelled >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_transport),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv6_chain),
        cmocka_unit_test(test_tunnels),
        cmocka_unit_test(test_ah_tunnel_mode_nested),
        cmocka_unit_test(test_esp_is_not_ah),
        cmocka_unit_test(test_link_types),
        cmocka_unit_test(test_malformed_ext_headers),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_fuzz_seeds_reach_ah),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
