/*
 * bench-audit-walk: frames per second of the AH packet walker against
 * libpcap's BPF interpreter running the classic AH filter
 * (`ip proto 51 or ip6 protochain 51`, what tcpdump would use) over the same
 * frames in memory, measured in the same run. The walker does more (link
 * types, tunnels, hits with SPI and sequence); the ratio says what that
 * costs. Numbers only, no pass/fail.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "../../tests/unit/audit/pkt.h"
#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"

#define NFRAMES 4096
#define ROUNDS 200

static pkt frames[NFRAMES];

static void build(void)
{
    for (int i = 0; i < NFRAMES; i++) {
        pkt *p = &frames[i];
        switch (i % 4) {
        case 0: /* IPv4 AH transport */
            pkt_payload(p, 40, 0x11);
            wrap_ah(p, 6, 0x1000 + (uint32_t)(i % 16), (uint32_t)i, 12);
            wrap_ipv4(p, 51, 0x0a000001, 0x0a000002);
            break;
        case 1: /* IPv6 with hop-by-hop and destination options, then AH */
            pkt_payload(p, 40, 0x22);
            wrap_ah(p, 17, 0x2000, (uint32_t)i, 12);
            wrap_ext6(p, 51, 0);
            wrap_ext6(p, 60, 0);
            wrap_ipv6(p, 0, 1, 2);
            break;
        case 2: /* ESP */
            pkt_payload(p, 1200, 0x33);
            wrap_ipv4(p, 50, 0x0a000001, 0x0a000002);
            break;
        default: /* TCP */
            pkt_payload(p, 600, 0x44);
            wrap_ipv4(p, 6, 0x0a000001, 0x0a000002);
            break;
        }
        wrap_eth(p, (i % 4) == 1 ? 0x86DD : 0x0800, 0);
    }
}

int main(void)
{
    build();
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    struct bpf_program prog;
    if (!dead || pcap_compile(dead, &prog, "ip proto 51 or ip6 protochain 51", 1,
                              PCAP_NETMASK_UNKNOWN) != 0) {
        fprintf(stderr, "bench-audit-walk: cannot compile the BPF filter\n");
        return 1;
    }
    unsigned long hits = 0, matches = 0;
    int64_t t0 = mm_monotonic_us();
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < NFRAMES; i++) {
            mm_ah_walk_result w;
            mm_ah_walk(MM_AH_LINK_ETHERNET, frames[i].b, frames[i].n, &w);
            hits += w.nhits;
        }
    int64_t t1 = mm_monotonic_us();
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < NFRAMES; i++) {
            struct pcap_pkthdr h = {.caplen = (bpf_u_int32)frames[i].n,
                                    .len = (bpf_u_int32)frames[i].n};
            matches += pcap_offline_filter(&prog, &h, frames[i].b) != 0;
        }
    int64_t t2 = mm_monotonic_us();
    double n = (double)NFRAMES * ROUNDS;
    double walk = n / ((double)(t1 - t0) / 1e6), bpf = n / ((double)(t2 - t1) / 1e6);
    printf("frames: %.0f (half of them AH); AH found: walker %lu, BPF %lu\n", n, hits, matches);
    printf("mm_ah_walk:          %10.0f frames/s\n", walk);
    printf("pcap_offline_filter: %10.0f frames/s (BPF `ip proto 51 or ip6 protochain 51`)\n", bpf);
    printf("ratio walker/BPF:    %10.2f\n", walk / bpf);
    pcap_freecode(&prog);
    pcap_close(dead);
    return hits == matches ? 0 : 1;
}
