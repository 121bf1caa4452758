/*
 * ah_send - put AH (and ESP) packets on the wire with raw sockets, for the
 * namespace test when the kernel cannot make them itself (no
 * CONFIG_INET_AH). The kernel still builds the outer IP header, extension
 * headers and Ethernet framing; only the AH header and what it carries is
 * written here.
 *
 * usage: ah_send KIND DST SPI COUNT
 *   ah4   IPv4, protocol 51
 *   ah6x  IPv6 with Hop-by-Hop and Destination Options headers, then AH
 *   ipip  IPv4 in IPv4 (protocol 4), the inner packet carries AH
 *   gre   GRE with a key (protocol 47) carrying IPv4 + AH
 *   6in6  IPv6 in IPv6 (protocol 41), the inner packet carries AH
 *   esp4  IPv4, protocol 50 (ESP: must not be reported)
 * Sequence numbers run 1..COUNT.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static size_t put_ah(uint8_t *p, uint8_t next, uint32_t spi, uint32_t seq)
{
    /* 12 fixed octets + 12 octets ICV (HMAC-SHA-256-96 size) = 24, 64-bit aligned. */
    memset(p, 0, 24 + 8);
    p[0] = next;
    p[1] = 24 / 4 - 2;
    uint32_t nspi = htonl(spi), nseq = htonl(seq);
    memcpy(p + 4, &nspi, 4);
    memcpy(p + 8, &nseq, 4);
    memset(p + 12, 0xA5, 12);
    memset(p + 24, 0x5A, 8); /* 8 octets of "payload" */
    return 32;
}

static size_t put_ipv4(uint8_t *p, uint8_t proto, const char *src, const char *dst, size_t plen)
{
    memset(p, 0, 20);
    p[0] = 0x45;
    uint16_t tot = htons((uint16_t)(20 + plen));
    memcpy(p + 2, &tot, 2);
    p[8] = 64;
    p[9] = proto;
    inet_pton(AF_INET, src, p + 12);
    inet_pton(AF_INET, dst, p + 16);
    /* Header checksum (RFC 791): receivers drop the inner packet otherwise. */
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    p[10] = (uint8_t)(~sum >> 8);
    p[11] = (uint8_t)~sum;
    return 20;
}

static size_t put_ipv6(uint8_t *p, uint8_t next, const char *src, const char *dst, size_t plen)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    p[4] = (uint8_t)(plen >> 8);
    p[5] = (uint8_t)plen;
    p[6] = next;
    p[7] = 64;
    inet_pton(AF_INET6, src, p + 8);
    inet_pton(AF_INET6, dst, p + 24);
    return 40;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: ah_send ah4|ah6x|ipip|gre|6in6|esp4 DST SPI COUNT\n");
        return 2;
    }
    const char *kind = argv[1], *dst = argv[2];
    uint32_t spi = (uint32_t)strtoul(argv[3], NULL, 0);
    int count = atoi(argv[4]);
    bool v6 = strchr(dst, ':') != NULL;
    int proto = !strcmp(kind, "ah4") || !strcmp(kind, "ah6x") ? 51
                : !strcmp(kind, "ipip")                        ? 4
                : !strcmp(kind, "gre")                         ? 47
                : !strcmp(kind, "6in6")                        ? 41
                : !strcmp(kind, "esp4")                        ? 50
                                                               : -1;
    if (proto < 0) {
        fprintf(stderr, "ah_send: unknown kind %s\n", kind);
        return 2;
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, proto);
    if (fd < 0) {
        perror("ah_send: socket");
        return 1;
    }
    if (!strcmp(kind, "ah6x")) {
        /* Sticky Hop-by-Hop and Destination Options headers, each a PadN option. */
        uint8_t opt[8] = {0, 0, 1, 4, 0, 0, 0, 0};
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, opt, sizeof(opt)) != 0 ||
            setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS, opt, sizeof(opt)) != 0) {
            perror("ah_send: extension headers");
            return 1;
        }
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, dst, &s6->sin6_addr);
        sl = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, dst, &s4->sin_addr);
        sl = sizeof(*s4);
    }
    for (int i = 1; i <= count; i++) {
        uint8_t pkt[256];
        size_t n = 0;
        if (proto == 51) {
            n = put_ah(pkt, v6 ? 59 : 6, spi, (uint32_t)i);
        } else if (proto == 50) {
            uint32_t nspi = htonl(spi), nseq = htonl((uint32_t)i);
            memcpy(pkt, &nspi, 4);
            memcpy(pkt + 4, &nseq, 4);
            memset(pkt + 8, 0x3C, 40);
            n = 48;
        } else if (proto == 4) {
            uint8_t ah[64];
            size_t al = put_ah(ah, 6, spi, (uint32_t)i);
            n = put_ipv4(pkt, 51, "10.1.0.1", "10.2.0.1", al);
            memcpy(pkt + n, ah, al);
            n += al;
        } else if (proto == 47) {
            uint8_t gre[8] = {0x20, 0x00, 0x08, 0x00, 0, 0, 0x12, 0x34};
            memcpy(pkt, gre, 8);
            uint8_t ah[64];
            size_t al = put_ah(ah, 6, spi, (uint32_t)i);
            n = 8 + put_ipv4(pkt + 8, 51, "10.1.0.1", "10.2.0.1", al);
            memcpy(pkt + n, ah, al);
            n += al;
        } else if (proto == 41) {
            uint8_t ah[64];
            size_t al = put_ah(ah, 59, spi, (uint32_t)i);
            n = put_ipv6(pkt, 51, "fd01::1", "fd02::1", al);
            memcpy(pkt + n, ah, al);
            n += al;
        }
        if (sendto(fd, pkt, n, 0, (struct sockaddr *)&ss, sl) != (ssize_t)n) {
            perror("ah_send: sendto");
            return 1;
        }
    }
    close(fd);
    return 0;
}
