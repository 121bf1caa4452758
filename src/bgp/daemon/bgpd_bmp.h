/*
 * bgpd_bmp.h - mamori-bgpd's BMP sender (bmp_out.c).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_BGPD_BMP_H
#define MAMORI_BGPD_BMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

typedef struct bgpd_bmp bgpd_bmp;

/* What the per-peer header needs to know of a BGP neighbor. */
typedef struct bgpd_bmp_peer {
    struct sockaddr_storage addr;
    uint32_t as;
    uint32_t bgp_id; /* host order */
    bool as4;
} bgpd_bmp_peer;

#define BGPD_BMP_NFAM 4
typedef struct bgpd_bmp_counts {
    uint64_t rejected;          /* type 0 */
    uint64_t adj_rib_in;        /* type 7 */
    uint64_t treat_as_withdraw; /* type 11 */
    struct { bool present; uint16_t afi; uint8_t safi; uint64_t routes; } fam[BGPD_BMP_NFAM]; /* type 9 */
} bgpd_bmp_counts;

/* Called when a collector (re)connects, after the Initiation. */
typedef void (*bgpd_bmp_resync_cb)(void *arg, bgpd_bmp *b);

int bgpd_bmp_new(struct event_base *base, const char *addr, uint16_t port, uint32_t retry_s,
                 bgpd_bmp_resync_cb resync, void *arg, bgpd_bmp **out);
void bgpd_bmp_free(bgpd_bmp *b);
bool bgpd_bmp_is_up(const bgpd_bmp *b);
void bgpd_bmp_route_monitoring(bgpd_bmp *b, const bgpd_bmp_peer *p, bool post, const uint8_t *msg,
                               size_t n);
void bgpd_bmp_peer_up(bgpd_bmp *b, const bgpd_bmp_peer *p, const struct sockaddr_storage *local,
                      uint16_t local_port, uint16_t remote_port, const uint8_t *open_sent,
                      size_t sent_len, const uint8_t *open_recv, size_t recv_len);
/* reason: 1 local NOTIFICATION, 2 local without (fsm_event), 3 remote NOTIFICATION, 4 remote close. */
void bgpd_bmp_peer_down(bgpd_bmp *b, const bgpd_bmp_peer *p, uint8_t reason, const uint8_t *notif,
                        size_t notif_len, uint16_t fsm_event);
void bgpd_bmp_stats(bgpd_bmp *b, const bgpd_bmp_peer *p, const bgpd_bmp_counts *c);

#endif
