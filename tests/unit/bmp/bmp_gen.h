/*
 * bmp_gen.h - synthetic BMP messages built with the library's encoders,
 * for the unit tests, the daemon's bad-input test and the benchmark feed.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef BMP_GEN_H
#define BMP_GEN_H

#include "mamori/mm_bmp.h"

/* A per-peer header for IPv4 peer 192.0.2.<n>, AS 65000+n; flags as given. */
void bmp_gen_peer(mm_bmp_peer_hdr *p, uint8_t type, uint8_t flags, unsigned n);

int bmp_gen_initiation(mm_cursor *w, const char *sysname, const char *sysdescr);
int bmp_gen_termination(mm_cursor *w, uint16_t reason);
/* Peer Up with OPENs announcing 4-octet AS and IPv4+IPv6 unicast; table name TLV if non-NULL. */
int bmp_gen_peer_up(mm_cursor *w, const mm_bmp_peer_hdr *p, const char *table_name);
/* The same with Add-Path (RFC 7911) for IPv4 unicast: Send/Receive of the router's (sent) and
 * the peer's (received) OPEN, 0 for no capability. */
int bmp_gen_peer_up_addpath(mm_cursor *w, const mm_bmp_peer_hdr *p, const char *table_name,
                            uint8_t sent_sr, uint8_t recv_sr);
/* Peer Down with reason 1/3 (NOTIFICATION 6/2), 2 (FSM event 7), 4, 5 or 6 (table name TLV). */
int bmp_gen_peer_down(mm_cursor *w, const mm_bmp_peer_hdr *p, uint8_t reason);
/* Route Monitoring: IPv4 prefix 10.<n>.0.0/16 with AS_PATH, communities, ext and large comms. */
int bmp_gen_route_monitoring_v4(mm_cursor *w, const mm_bmp_peer_hdr *p, unsigned n);
/* The same prefix once per path id (NLRI with RFC 7911 Path Identifiers). */
int bmp_gen_route_monitoring_v4_ap(mm_cursor *w, const mm_bmp_peer_hdr *p, unsigned n,
                                   const uint32_t *path_ids, size_t n_ids);
/* Route Monitoring: MP_REACH IPv6 unicast 2001:db8:<n>::/48. */
int bmp_gen_route_monitoring_v6(mm_cursor *w, const mm_bmp_peer_hdr *p, unsigned n);
/* Statistics Report with every built-in registry row; the value of type t is base + t. */
int bmp_gen_stats_all(mm_cursor *w, const mm_bmp_peer_hdr *p, uint64_t base);
/* Route Mirroring carrying a KEEPALIVE and an information TLV (code 1, messages lost). */
int bmp_gen_route_mirroring(mm_cursor *w, const mm_bmp_peer_hdr *p);

#endif
