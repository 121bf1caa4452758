/*
 * tcp_ao_uapi.h - the Linux TCP-AO (RFC 5925) socket interface, declared here
 * because Debian 12's linux-libc-dev predates it (Linux 6.7 added it; this is
 * the kernel's UAPI ABI, restated from its documented layout, not a copy).
 *
 * THE ONE PLACE mamori defines kernel UAPI for TCP-AO (named MM_* so they
 * never clash with a newer <linux/tcp.h>); the layout is checked by size.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_BGPD_TCP_AO_UAPI_H
#define MAMORI_BGPD_TCP_AO_UAPI_H

#include <stdint.h>
#include <sys/socket.h>

/* setsockopt(IPPROTO_TCP, ...) option numbers (Linux >= 6.7). */
#define MM_TCP_AO_ADD_KEY 38   /* add a Master Key Tuple (MKT) */
#define MM_TCP_AO_DEL_KEY 39   /* delete an MKT */
#define MM_TCP_AO_INFO 40      /* per-socket TCP-AO state and counters */
#define MM_TCP_AO_GET_KEYS 41  /* list MKTs */
#define MM_TCP_AO_REPAIR 42    /* SNEs and ISNs, for repair mode */

#define MM_TCP_AO_MAXKEYLEN 80 /* bytes of key the kernel accepts */

/* keyflags */
#define MM_TCP_AO_KEYF_IFINDEX (1u << 0)     /* ifindex is meaningful (VRF) */
#define MM_TCP_AO_KEYF_EXCLUDE_OPT (1u << 1) /* RFC 5925 §5.1 "TCP options" = exclude */

/*
 * Argument of TCP_AO_ADD_KEY: one MKT (RFC 5925 §3.1) for the peers in
 * addr/prefix. 288 bytes, 8-byte aligned. flags: bit 0 = use as Current_key
 * now, bit 1 = request it as RNext_key; the other bits must be 0.
 */
struct mm_tcp_ao_add {
    struct sockaddr_storage addr; /* peer address (port 0); the kernel's is also 128 bytes */
    char alg_name[64];            /* kernel crypto name: "hmac(sha1)", "cmac(aes128)", ... */
    int32_t ifindex;
    uint32_t flags;
    uint16_t reserved2;           /* 0 */
    uint8_t prefix;               /* prefix length of addr that the key covers */
    uint8_t sndid;                /* KeyID we send (RFC 5925 §2.2) */
    uint8_t rcvid;                /* KeyID we accept from the peer */
    uint8_t maclen;               /* MAC bytes on the wire (12 for the RFC 5926 algorithms) */
    uint8_t keyflags;
    uint8_t keylen;
    uint8_t key[MM_TCP_AO_MAXKEYLEN];
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct sockaddr_storage) == 128, "kernel sockaddr storage is 128 bytes");
_Static_assert(sizeof(struct mm_tcp_ao_add) == 288, "struct tcp_ao_add is 288 bytes");


#endif
