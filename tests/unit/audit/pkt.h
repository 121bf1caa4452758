/*
 * pkt.h - build test frames inside out: start with a payload, then wrap it
 * in AH, extension headers, IP headers, tunnels and a link layer. Each wrap
 * prepends one header whose length fields cover what is already there.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_TEST_AUDIT_PKT_H
#define MM_TEST_AUDIT_PKT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct pkt {
    uint8_t b[4096];
    size_t n;
} pkt;

static inline void pkt_prepend(pkt *p, const uint8_t *h, size_t n)
{
    if (p->n + n > sizeof(p->b))
        abort();
    memmove(p->b + n, p->b, p->n);
    memcpy(p->b, h, n);
    p->n += n;
}

static inline void pkt_payload(pkt *p, size_t n, uint8_t fill)
{
    p->n = n;
    memset(p->b, fill, n);
}

static inline void be16(uint8_t *o, uint16_t v) { o[0] = (uint8_t)(v >> 8); o[1] = (uint8_t)v; }
static inline void be32(uint8_t *o, uint32_t v)
{
    be16(o, (uint16_t)(v >> 16));
    be16(o + 2, (uint16_t)v);
}

/* AH with icv octets of ICV (12 + icv must be a multiple of 4). */
static inline void wrap_ah(pkt *p, uint8_t next, uint32_t spi, uint32_t seq, size_t icv)
{
    uint8_t h[12 + 64] = {0};
    size_t len = 12 + icv;
    h[0] = next;
    h[1] = (uint8_t)(len / 4 - 2);
    be32(h + 4, spi);
    be32(h + 8, seq);
    memset(h + 12, 0xA5, icv);
    pkt_prepend(p, h, len);
}

/* Generic IPv6 extension header (hop-by-hop, routing, destination options) of 8*(units+1). */
static inline void wrap_ext6(pkt *p, uint8_t next, uint8_t units)
{
    uint8_t h[8 * 4] = {0};
    size_t len = (size_t)(units + 1) * 8;
    h[0] = next;
    h[1] = units;
    h[2] = 1; /* PadN option filling the rest */
    h[3] = (uint8_t)(len - 4);
    pkt_prepend(p, h, len);
}

static inline void wrap_frag6(pkt *p, uint8_t next, uint16_t offset8, int more)
{
    uint8_t h[8] = {next, 0, 0, 0, 0x12, 0x34, 0x56, 0x78};
    be16(h + 2, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
    pkt_prepend(p, h, 8);
}

static inline void wrap_ipv4(pkt *p, uint8_t proto, uint32_t src, uint32_t dst)
{
    uint8_t h[20] = {0x45, 0};
    be16(h + 2, (uint16_t)(20 + p->n));
    h[8] = 64;
    h[9] = proto;
    be32(h + 12, src);
    be32(h + 16, dst);
    pkt_prepend(p, h, 20);
}

static inline void wrap_ipv6(pkt *p, uint8_t next, uint8_t src_last, uint8_t dst_last)
{
    uint8_t h[40] = {0x60, 0};
    be16(h + 4, (uint16_t)p->n);
    h[6] = next;
    h[7] = 64;
    h[8] = 0xfd;
    h[23] = src_last;
    h[24] = 0xfd;
    h[39] = dst_last;
    pkt_prepend(p, h, 40);
}

/* GRE with optional key and sequence number (RFC 2890). */
static inline void wrap_gre(pkt *p, uint16_t proto, int key, int seq)
{
    uint8_t h[12] = {0};
    size_t n = 4;
    uint16_t flags = (uint16_t)((key ? 0x2000 : 0) | (seq ? 0x1000 : 0));
    be16(h, flags);
    be16(h + 2, proto);
    if (key)
        be32(h + n, 0x1234), n += 4;
    if (seq)
        be32(h + n, 7), n += 4;
    pkt_prepend(p, h, n);
}

static inline void wrap_eth(pkt *p, uint16_t type, int vlan)
{
    uint8_t h[18] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    size_t n = 12;
    if (vlan) {
        be16(h + 12, 0x8100);
        be16(h + 14, 42);
        n = 16;
    }
    be16(h + n, type);
    pkt_prepend(p, h, n + 2);
}

static inline void wrap_sll(pkt *p, uint16_t type)
{
    uint8_t h[16] = {0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
    be16(h + 14, type);
    pkt_prepend(p, h, 16);
}

static inline void wrap_sll2(pkt *p, uint16_t type)
{
    uint8_t h[20] = {0};
    be16(h, type);
    be32(h + 4, 3);
    be16(h + 8, 1);
    h[11] = 6;
    pkt_prepend(p, h, 20);
}

/* BSD loopback header; little-endian when le (a capture taken on x86). */
static inline void wrap_null(pkt *p, uint32_t af, int le)
{
    uint8_t h[4];
    if (le) {
        h[0] = (uint8_t)af, h[1] = (uint8_t)(af >> 8), h[2] = (uint8_t)(af >> 16);
        h[3] = (uint8_t)(af >> 24);
    } else {
        be32(h, af);
    }
    pkt_prepend(p, h, 4);
}

#endif
