/*
 * walk.c - the packet walker: link layer, IPv4/IPv6 and the IPv6
 * extension-header chain, AH, and the tunnels AH can hide in.
 *
 * AH is never UDP-encapsulated (NAT traversal, RFC 3948, covers ESP only),
 * so it always shows up as protocol / Next Header 51 after an IP header or
 * inside an IPv6 extension chain, possibly inside IP-in-IP (4, 41) or GRE
 * (47). ESP (50) ends the walk: what follows is encrypted or opaque.
 *
 * A problem stops the walk of the frame; what was found before it is kept.
 * "Truncated" means the capture (snaplen) cut the datagram; "malformed"
 * means a header runs past the length its IP header declares.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"

enum {
    ETH_IPV4 = 0x0800,
    ETH_IPV6 = 0x86DD,
    ETH_VLAN = 0x8100,
    ETH_QINQ = 0x88A8,
    ETH_QINQ_OLD = 0x9100,
    ETH_TEB = 0x6558, /* transparent Ethernet bridging (GRE, RFC 1701) */
    MAX_VLAN_TAGS = 4,
};

enum {
    IPP_HOPOPTS = 0,
    IPP_IPIP = 4,
    IPP_ROUTING = 43,
    IPP_FRAGMENT = 44,
    IPP_IPV6 = 41,
    IPP_GRE = 47,
    IPP_ESP = 50,
    IPP_AH = 51,
    IPP_NONE = 59,
    IPP_DSTOPTS = 60,
    IPP_MOBILITY = 135,
    IPP_HIP = 139,
    IPP_SHIM6 = 140,
};

/* The IP header a chain belongs to. */
struct ip_ctx {
    uint8_t family;
    uint8_t src[16];
    uint8_t dst[16];
    uint8_t depth;
    bool snapped;  /* the capture holds less than the header declares */
    bool fragment; /* first fragment: running out of data is expected */
};

struct walk {
    mm_ah_walk_result *r;
    const uint8_t *frame;
};

static void walk_ether(struct walk *w, mm_cursor *c, uint8_t depth);
static void walk_ip(struct walk *w, mm_cursor *c, uint8_t depth, int want_version);

/* Record the first problem (later ones are consequences). */
static void problem(struct walk *w, int status, const char *reason, const mm_cursor *c)
{
    if (w->r->status)
        return;
    w->r->status = status;
    w->r->reason = reason;
    w->r->offset = (size_t)(c->base - w->frame) + c->pos;
}

/* A read inside an IP payload failed: decide what that means. */
static void ran_out(struct walk *w, const struct ip_ctx *ip, const mm_cursor *c, const char *what)
{
    if (ip->fragment)
        return; /* the rest is in later fragments */
    problem(w, ip->snapped ? MM_ETRUNC : MM_EMALFORMED, what, c);
}

bool mm_ah_linktype_supported(int linktype)
{
    switch (linktype) {
    case MM_AH_LINK_NULL:
    case MM_AH_LINK_ETHERNET:
    case MM_AH_LINK_RAW_DLT:
    case MM_AH_LINK_RAW:
    case MM_AH_LINK_LOOP:
    case MM_AH_LINK_SLL:
    case MM_AH_LINK_IPV4:
    case MM_AH_LINK_IPV6:
    case MM_AH_LINK_SLL2:
        return true;
    default:
        return false;
    }
}

/* RFC 4302 section 2: Next Header, Payload Len, Reserved, SPI, Sequence, ICV. */
static bool walk_ah(struct walk *w, mm_cursor *c, const struct ip_ctx *ip, uint8_t *next)
{
    mm_ah_hit h;
    memset(&h, 0, sizeof(h));
    h.family = ip->family;
    memcpy(h.src, ip->src, sizeof(h.src));
    memcpy(h.dst, ip->dst, sizeof(h.dst));
    h.depth = ip->depth;

    /* Take what is there of the 12 fixed octets, so a cut header still counts. */
    uint8_t fixed[12] = {0};
    size_t avail = mm_cursor_remaining(c);
    size_t have = avail < sizeof(fixed) ? avail : sizeof(fixed);
    mm_cursor_read_bytes(c, fixed, have);
    mm_cursor f;
    mm_cursor_init_read(&f, fixed, sizeof(fixed));
    h.next_header = mm_cursor_read_u8(&f);
    uint8_t plen = mm_cursor_read_u8(&f);
    mm_cursor_skip(&f, 2);
    h.spi = mm_cursor_read_u32(&f);
    h.seq = mm_cursor_read_u32(&f);
    h.truncated = have < sizeof(fixed);

    mm_ah_walk_result *r = w->r;
    mm_ah_hit *hp = NULL;
    if (r->nhits < MM_AH_MAX_HITS) {
        r->hits[r->nhits] = h;
        hp = &r->hits[r->nhits++];
    } else {
        problem(w, MM_ELIMIT, "more than 8 AH headers in one frame (the rest not counted)", c);
    }
    if (h.truncated) {
        /* Proto 51 alone is proof of AH; a first fragment may end here legitimately. */
        ran_out(w, ip, c, "AH header cut short");
        return false;
    }
    /* Payload Len is the AH length in 32-bit words minus 2; 12 octets at least. */
    if (plen < 1) {
        problem(w, MM_EMALFORMED, "AH Payload Len below the 3-word minimum", c);
        return false;
    }
    size_t total = ((size_t)plen + 2) * 4;
    if (hp)
        hp->icv_len = (uint16_t)(total - 12);
    /* RFC 4302 section 2.6: the ICV pads the header to 64 bits in IPv6. */
    if (ip->family == 6 && total % 8)
        problem(w, MM_EMALFORMED, "AH length not a multiple of 8 octets in IPv6", c);
    if (mm_cursor_remaining(c) < total - 12) {
        ran_out(w, ip, c, "AH ICV runs past the data");
        if (hp && ip->snapped)
            hp->truncated = true;
        return false;
    }
    mm_cursor_skip(c, total - 12);
    *next = h.next_header;
    return true;
}

/* RFC 2784 / RFC 2890: C, K, S flags add 4 octets each; version 0 only. */
static void walk_gre(struct walk *w, mm_cursor *c, const struct ip_ctx *ip)
{
    uint16_t flags = mm_cursor_read_u16(c);
    uint16_t proto = mm_cursor_read_u16(c);
    if (mm_cursor_error(c)) {
        ran_out(w, ip, c, "GRE header cut short");
        return;
    }
    if ((flags & 0x7) != 0)
        return; /* version 1 is PPTP's enhanced GRE: PPP inside, no IP chain */
    if (flags & 0x4000) {
        problem(w, MM_EUNSUPPORTED, "GRE with source routing (RFC 1701) not decoded", c);
        return;
    }
    size_t opt = ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
    if (mm_cursor_remaining(c) < opt) {
        ran_out(w, ip, c, "GRE optional fields cut short");
        return;
    }
    mm_cursor_skip(c, opt);
    if (proto == ETH_IPV4)
        walk_ip(w, c, (uint8_t)(ip->depth + 1), 4);
    else if (proto == ETH_IPV6)
        walk_ip(w, c, (uint8_t)(ip->depth + 1), 6);
    else if (proto == ETH_TEB)
        walk_ether(w, c, (uint8_t)(ip->depth + 1));
}

static bool is_ipv6_ext(uint8_t p)
{
    return p == IPP_HOPOPTS || p == IPP_ROUTING || p == IPP_DSTOPTS || p == IPP_MOBILITY ||
           p == IPP_HIP || p == IPP_SHIM6;
}

/*
 * Follow the protocol chain after an IP header. In IPv6 the extension
 * headers of RFC 8200 section 4 share the (Next Header, Hdr Ext Len) layout
 * in 8-octet units, except Fragment (fixed 8 octets) and AH (4-octet units).
 */
static void walk_chain(struct walk *w, mm_cursor *c, struct ip_ctx *ip, uint8_t proto)
{
    for (unsigned n = 0;; n++) {
        if (n >= MM_AH_MAX_EXTHDRS) {
            problem(w, MM_ELIMIT, "more than 32 extension headers", c);
            return;
        }
        if (proto == IPP_AH) {
            if (!walk_ah(w, c, ip, &proto))
                return;
            continue;
        }
        if (ip->family == 6 && is_ipv6_ext(proto)) {
            uint8_t next = mm_cursor_read_u8(c);
            uint8_t len = mm_cursor_read_u8(c);
            size_t rest = (size_t)len * 8 + 6;
            if (mm_cursor_error(c) || mm_cursor_remaining(c) < rest) {
                ran_out(w, ip, c, "IPv6 extension header runs past the data");
                return;
            }
            mm_cursor_skip(c, rest);
            proto = next;
            continue;
        }
        if (ip->family == 6 && proto == IPP_FRAGMENT) {
            uint8_t next = mm_cursor_read_u8(c);
            mm_cursor_skip(c, 1);
            uint16_t off = mm_cursor_read_u16(c);
            mm_cursor_skip(c, 4);
            if (mm_cursor_error(c)) {
                ran_out(w, ip, c, "IPv6 Fragment header cut short");
                return;
            }
            if (off >> 3)
                return; /* not the first fragment: no headers here */
            ip->fragment = (off & 1) != 0;
            proto = next;
            continue;
        }
        switch (proto) {
        case IPP_IPIP:
            walk_ip(w, c, (uint8_t)(ip->depth + 1), 4);
            return;
        case IPP_IPV6:
            walk_ip(w, c, (uint8_t)(ip->depth + 1), 6);
            return;
        case IPP_GRE:
            walk_gre(w, c, ip);
            return;
        case IPP_ESP:
            w->r->esp = true;
            return;
        default:
            return; /* a transport protocol or No Next Header (59) */
        }
    }
}

/* Restrict the cursor to the declared payload; note whether the capture cut it. */
static void ip_payload(mm_cursor *c, size_t declared, struct ip_ctx *ip, mm_cursor *payload)
{
    size_t avail = mm_cursor_remaining(c);
    ip->snapped = declared > avail;
    mm_cursor_sub(c, ip->snapped ? avail : declared, payload);
}

static void walk_ipv4(struct walk *w, mm_cursor *c, struct ip_ctx *ip)
{
    size_t start = mm_cursor_remaining(c);
    uint8_t vihl = mm_cursor_read_u8(c);
    mm_cursor_skip(c, 1);
    uint16_t total = mm_cursor_read_u16(c);
    mm_cursor_skip(c, 2);
    uint16_t frag = mm_cursor_read_u16(c);
    mm_cursor_skip(c, 1);
    uint8_t proto = mm_cursor_read_u8(c);
    mm_cursor_skip(c, 2);
    mm_cursor_read_bytes(c, ip->src, 4);
    mm_cursor_read_bytes(c, ip->dst, 4);
    if (mm_cursor_error(c)) {
        problem(w, MM_ETRUNC, "IPv4 header cut short", c);
        return;
    }
    size_t hlen = (size_t)(vihl & 0xF) * 4;
    if (hlen < 20 || total < hlen) {
        problem(w, MM_EMALFORMED, "IPv4 header length inconsistent", c);
        return;
    }
    if (start < hlen) {
        problem(w, MM_ETRUNC, "IPv4 options cut short", c);
        return;
    }
    mm_cursor_skip(c, hlen - 20);
    if (frag & 0x1FFF)
        return; /* not the first fragment: no protocol header here */
    ip->fragment = (frag & 0x2000) != 0;
    mm_cursor payload;
    ip_payload(c, total - hlen, ip, &payload);
    walk_chain(w, &payload, ip, proto);
}

static void walk_ipv6(struct walk *w, mm_cursor *c, struct ip_ctx *ip)
{
    mm_cursor_skip(c, 4);
    uint16_t plen = mm_cursor_read_u16(c);
    uint8_t next = mm_cursor_read_u8(c);
    mm_cursor_skip(c, 1);
    mm_cursor_read_bytes(c, ip->src, 16);
    mm_cursor_read_bytes(c, ip->dst, 16);
    if (mm_cursor_error(c)) {
        problem(w, MM_ETRUNC, "IPv6 header cut short", c);
        return;
    }
    mm_cursor payload;
    /* Payload Length 0 with Hop-by-Hop: a jumbogram (RFC 2675); take what is there. */
    size_t declared = (plen == 0 && next == IPP_HOPOPTS) ? mm_cursor_remaining(c) : plen;
    ip_payload(c, declared, ip, &payload);
    walk_chain(w, &payload, ip, next);
}

/* An IP header; want_version 0 takes either (version nibble decides). */
static void walk_ip(struct walk *w, mm_cursor *c, uint8_t depth, int want_version)
{
    if (w->r->ip_layers >= MM_AH_MAX_LAYERS) {
        problem(w, MM_ELIMIT, "more than 8 nested IP headers", c);
        return;
    }
    if (mm_cursor_remaining(c) < 1) {
        problem(w, MM_ETRUNC, "IP header missing", c);
        return;
    }
    int version = mm_cursor_ptr(c)[0] >> 4;
    if ((version != 4 && version != 6) || (want_version && version != want_version)) {
        problem(w, MM_EMALFORMED, "IP version does not match its encapsulation", c);
        return;
    }
    struct ip_ctx ip;
    memset(&ip, 0, sizeof(ip));
    ip.family = (uint8_t)version;
    ip.depth = depth;
    w->r->ip_layers++;
    if (version == 4)
        walk_ipv4(w, c, &ip);
    else
        walk_ipv6(w, c, &ip);
}

static void walk_ethertype(struct walk *w, mm_cursor *c, uint16_t type, uint8_t depth)
{
    if (type == ETH_IPV4)
        walk_ip(w, c, depth, 4);
    else if (type == ETH_IPV6)
        walk_ip(w, c, depth, 6);
}

static void walk_ether(struct walk *w, mm_cursor *c, uint8_t depth)
{
    mm_cursor_skip(c, 12);
    uint16_t type = mm_cursor_read_u16(c);
    for (int tags = 0; (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD); tags++) {
        if (tags == MAX_VLAN_TAGS) {
            problem(w, MM_ELIMIT, "more than 4 VLAN tags", c);
            return;
        }
        mm_cursor_skip(c, 2);
        type = mm_cursor_read_u16(c);
    }
    if (mm_cursor_error(c)) {
        problem(w, MM_ETRUNC, "Ethernet header cut short", c);
        return;
    }
    walk_ethertype(w, c, type, depth);
}

/* Address families of the BSD/Linux loopback headers (AF_INET6 differs per OS). */
static int loop_family(uint32_t af)
{
    if (af == 2)
        return 4;
    if (af == 10 || af == 24 || af == 28 || af == 30)
        return 6;
    return 0;
}

static void walk_loopback(struct walk *w, mm_cursor *c, bool host_order)
{
    uint8_t b[4];
    mm_cursor_read_bytes(c, b, 4);
    if (mm_cursor_error(c)) {
        problem(w, MM_ETRUNC, "loopback header cut short", c);
        return;
    }
    uint32_t be = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    uint32_t le = (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
    /* DLT_NULL is in the capturing host's order, which the file does not say. */
    int fam = loop_family(be);
    if (!fam && host_order)
        fam = loop_family(le);
    if (fam)
        walk_ip(w, c, 0, fam);
}

int mm_ah_walk(int linktype, const uint8_t *frame, size_t caplen, mm_ah_walk_result *r)
{
    memset(r, 0, sizeof(*r));
    struct walk w = {.r = r, .frame = frame};
    mm_cursor c;
    mm_cursor_init_read(&c, frame, caplen);
    switch (linktype) {
    case MM_AH_LINK_ETHERNET:
        walk_ether(&w, &c, 0);
        break;
    case MM_AH_LINK_RAW_DLT:
    case MM_AH_LINK_RAW:
        walk_ip(&w, &c, 0, 0);
        break;
    case MM_AH_LINK_IPV4:
        walk_ip(&w, &c, 0, 4);
        break;
    case MM_AH_LINK_IPV6:
        walk_ip(&w, &c, 0, 6);
        break;
    case MM_AH_LINK_NULL:
        walk_loopback(&w, &c, true);
        break;
    case MM_AH_LINK_LOOP:
        walk_loopback(&w, &c, false);
        break;
    case MM_AH_LINK_SLL: {
        /* packet type, ARPHRD type, address length, 8 address octets, protocol */
        mm_cursor_skip(&c, 14);
        uint16_t type = mm_cursor_read_u16(&c);
        if (mm_cursor_error(&c)) {
            problem(&w, MM_ETRUNC, "Linux cooked header cut short", &c);
            break;
        }
        walk_ethertype(&w, &c, type, 0);
        break;
    }
    case MM_AH_LINK_SLL2: {
        /* protocol, reserved, ifindex, ARPHRD type, packet type, addr len, 8 addr octets */
        uint16_t type = mm_cursor_read_u16(&c);
        mm_cursor_skip(&c, 18);
        if (mm_cursor_error(&c)) {
            problem(&w, MM_ETRUNC, "Linux cooked v2 header cut short", &c);
            break;
        }
        walk_ethertype(&w, &c, type, 0);
        break;
    }
    default:
        problem(&w, MM_EUNSUPPORTED, "link type not supported", &c);
        break;
    }
    return r->status;
}
