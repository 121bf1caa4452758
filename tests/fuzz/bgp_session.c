/*
 * libFuzzer harness: a byte stream from a peer fed to an Established
 * session (the bytes after our OPEN/KEEPALIVE exchange): framing, header
 * checks, OPEN/NOTIFICATION/ROUTE-REFRESH handling and the RFC 7606
 * judging of every UPDATE, as the daemon runs them.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_bgp_speaker.h"

static uint8_t peer_open[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff, 0, 45, 1, 4, 0xfd, 0xe9, 0, 90, 10,
                              0, 0, 1, 16, 2, 14, 1, 4, 0, 1, 0, 133, 65, 4, 0, 0, 0xfd, 0xe9, 6, 0};
static uint8_t keepalive[19] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 19, 4};

static int nop_send(void *arg, const uint8_t *p, size_t n) { return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_bgp_session_config cfg = {.local_as = 65002, .peer_as = 65001, .router_id = 0x0a000002,
                                 .hold_time = 90, .fam_flow4 = true, .fam_flow6 = true,
                                 .fam_v4_unicast = true, .ext_msg = true};
    mm_bgp_session_ops ops = {.send = nop_send};
    mm_bgp_session *s;
    if (mm_bgp_session_new(&cfg, &ops, NULL, &s) < 0)
        return 0;
    mm_bgp_session_event(s, MM_BGP_EV_MANUAL_START_PASSIVE);
    mm_bgp_session_event(s, MM_BGP_EV_TCP_CONFIRMED);
    mm_bgp_session_input(s, peer_open, sizeof(peer_open));
    mm_bgp_session_input(s, keepalive, sizeof(keepalive));
    if (mm_bgp_session_state(s) != MM_BGP_ST_ESTABLISHED)
        abort();
    /* Split the input in two to exercise partial-message buffering. */
    size_t half = size / 2;
    if (mm_bgp_session_input(s, data, half) == 0)
        mm_bgp_session_input(s, data + half, size - half);
    mm_bgp_session_free(s);
    return 0;
}
