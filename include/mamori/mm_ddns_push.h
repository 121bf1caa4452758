/*
 * mm_ddns_push.h - RFC 2136 UPDATE, signed with TSIG (RFC 8945), of one
 * queued ApertoDNS change to the zone's primary (ldns).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_DDNS_PUSH_H
#define MAMORI_MM_DDNS_PUSH_H

#include "mamori/mm_ddns.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A TCP connection to a primary kept across updates (one per pushing thread). */
typedef struct mm_ddns_push_conn mm_ddns_push_conn;
mm_ddns_push_conn *mm_ddns_push_conn_new(void);
void mm_ddns_push_conn_free(mm_ddns_push_conn *c);

/*
 * Send item as one UPDATE message (atomic) to z's primary over TCP (on c,
 * reconnecting as needed; c NULL: a connection of its own) and wait for the
 * answer, whose TSIG is verified. 0 on NOERROR; MM_EPROTO when the server
 * refused (RCODE, bad TSIG); MM_EIO when it could not be reached (retry later).
 */
int mm_ddns_push_send(mm_ddns_push_conn *c, const mm_ddns_zone *z, const mm_ddns_push_item *item);

/*
 * Knot DNS control socket (knotctl.c): `zone-notify ZONE` on the server's
 * control socket sock_path. Sent before an UPDATE when a second boundary may
 * separate it from the previous answer: it re-arms Knot 3.2's event timer,
 * which otherwise holds such an UPDATE up to 1 s (see knotctl.c). 0, or
 * MM_EIO/MM_ETIMEOUT (unreachable), MM_EPROTO (Knot answered an error).
 */
int mm_ddns_knotctl_zone_notify(const char *sock_path, const char *zone);
/* Parse Knot's answer up to its block end: 0, MM_EAGAIN (incomplete),
 * MM_EPROTO (an error item, copied to err, or malformed). */
int mm_ddns_knotctl_reply_parse(const uint8_t *p, size_t len, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
