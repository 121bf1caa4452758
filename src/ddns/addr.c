/*
 * Addresses: strict parsing, canonical text, and the special-purpose
 * ranges a dynamic DNS server must not publish (spec section 10, from the
 * RFC 6890 registries as -02 lists them). Classifying is one table walk;
 * adding a range is adding a row. The most specific (longest) match wins.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

struct range {
    int family;
    uint8_t prefix[16];
    unsigned bits;
    enum mm_ddns_addr_class cls;
};

#define V4(a, b, c, d) {a, b, c, d}
static const struct range ranges[] = {
    {AF_INET, V4(0, 0, 0, 0), 8, MM_DDNS_ADDR_UNSPECIFIED},       /* RFC 1122 "this network" */
    {AF_INET, V4(10, 0, 0, 0), 8, MM_DDNS_ADDR_PRIVATE},          /* RFC 1918 */
    {AF_INET, V4(100, 64, 0, 0), 10, MM_DDNS_ADDR_SHARED},        /* RFC 6598 CGN */
    {AF_INET, V4(127, 0, 0, 0), 8, MM_DDNS_ADDR_LOOPBACK},        /* RFC 1122 */
    {AF_INET, V4(169, 254, 0, 0), 16, MM_DDNS_ADDR_LINK_LOCAL},   /* RFC 3927 */
    {AF_INET, V4(172, 16, 0, 0), 12, MM_DDNS_ADDR_PRIVATE},       /* RFC 1918 */
    {AF_INET, V4(192, 0, 0, 0), 24, MM_DDNS_ADDR_RESERVED},       /* RFC 6890 IETF protocol */
    {AF_INET, V4(192, 0, 2, 0), 24, MM_DDNS_ADDR_DOCUMENTATION},  /* RFC 5737 TEST-NET-1 */
    {AF_INET, V4(192, 168, 0, 0), 16, MM_DDNS_ADDR_PRIVATE},      /* RFC 1918 */
    {AF_INET, V4(198, 18, 0, 0), 15, MM_DDNS_ADDR_BENCHMARK},     /* RFC 2544 */
    {AF_INET, V4(198, 51, 100, 0), 24, MM_DDNS_ADDR_DOCUMENTATION}, /* TEST-NET-2 */
    {AF_INET, V4(203, 0, 113, 0), 24, MM_DDNS_ADDR_DOCUMENTATION},  /* TEST-NET-3 */
    {AF_INET, V4(224, 0, 0, 0), 4, MM_DDNS_ADDR_MULTICAST},       /* RFC 5771 */
    {AF_INET, V4(240, 0, 0, 0), 4, MM_DDNS_ADDR_RESERVED},        /* RFC 1112 */
    {AF_INET, V4(255, 255, 255, 255), 32, MM_DDNS_ADDR_BROADCAST},
    {AF_INET6, {0}, 128, MM_DDNS_ADDR_UNSPECIFIED},               /* ::/128 */
    {AF_INET6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, MM_DDNS_ADDR_LOOPBACK},
    {AF_INET6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, MM_DDNS_ADDR_TRANSLATION}, /* mapped */
    {AF_INET6, {0, 0x64, 0xff, 0x9b}, 96, MM_DDNS_ADDR_TRANSLATION}, /* RFC 6052 */
    {AF_INET6, {0x01, 0x00}, 64, MM_DDNS_ADDR_RESERVED},             /* RFC 6666 discard */
    {AF_INET6, {0x20, 0x01, 0x0d, 0xb8}, 32, MM_DDNS_ADDR_DOCUMENTATION}, /* RFC 3849 */
    {AF_INET6, {0xfc}, 7, MM_DDNS_ADDR_ULA},                         /* RFC 4193 */
    {AF_INET6, {0xfe, 0x80}, 10, MM_DDNS_ADDR_LINK_LOCAL},           /* RFC 4291 */
    {AF_INET6, {0xff}, 8, MM_DDNS_ADDR_MULTICAST},                   /* RFC 4291 */
};

static const char *class_names[] = {
#define MM_DDNS_AC_NAME(sym, name) [sym] = name,
    MM_DDNS_ADDR_CLASS_TABLE(MM_DDNS_AC_NAME)
#undef MM_DDNS_AC_NAME
};

int mm_ddns_addr_parse(const char *s, size_t len, mm_ddns_addr *out)
{
    char tmp[64];
    memset(out, 0, sizeof(*out));
    if (!s || len == 0 || len >= sizeof(tmp) || memchr(s, 0, len))
        return MM_EMALFORMED;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    /* inet_pton(AF_INET) takes only four decimal parts without leading-zero octal forms. */
    if (inet_pton(AF_INET, tmp, out->a) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (strchr(tmp, '%') == NULL && inet_pton(AF_INET6, tmp, out->a) == 1) {
        out->family = AF_INET6;
        return 0;
    }
    return MM_EMALFORMED;
}

void mm_ddns_addr_format(const mm_ddns_addr *a, char *out, size_t outlen)
{
    if (!a->family || !inet_ntop(a->family, a->a, out, (socklen_t)outlen))
        snprintf(out, outlen, "%s", "");
}

void mm_ddns_addr_unmap(mm_ddns_addr *a)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->family == AF_INET6 && memcmp(a->a, mapped, 12) == 0) {
        memmove(a->a, a->a + 12, 4);
        memset(a->a + 4, 0, 12);
        a->family = AF_INET;
    }
}

static bool prefix_match(const uint8_t *addr, const uint8_t *prefix, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(addr, prefix, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (addr[full] & mask) == (prefix[full] & mask);
}

enum mm_ddns_addr_class mm_ddns_addr_classify(const mm_ddns_addr *a)
{
    const struct range *best = NULL;
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        const struct range *r = &ranges[i];
        if (r->family == a->family && prefix_match(a->a, r->prefix, r->bits) &&
            (!best || r->bits > best->bits))
            best = r;
    }
    return best ? best->cls : MM_DDNS_ADDR_PUBLIC;
}

const char *mm_ddns_addr_class_name(enum mm_ddns_addr_class c)
{
    return (unsigned)c < sizeof(class_names) / sizeof(class_names[0]) ? class_names[c] : "?";
}

bool mm_ddns_addr_publishable(const mm_ddns_addr *a, bool allow_doc)
{
    enum mm_ddns_addr_class c = mm_ddns_addr_classify(a);
    return c == MM_DDNS_ADDR_PUBLIC || (allow_doc && c == MM_DDNS_ADDR_DOCUMENTATION);
}
