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
 * Coalescing (RFC 2136 2.5: one message carries many RR changes; the server
 * applies them in order, all or none, 3.4.2). Knot commits its journal once
 * per message (~10 ms), so one message per change caps the push at ~100
 * changes/s; a backlog goes out as few messages instead.
 * MM_DDNS_PUSH_BATCH_MAX: queued changes per message at most;
 * MM_DDNS_PUSH_MSG_MAX: bound of the message (well under TCP's 64 KiB with
 * room for TSIG).
 */
#define MM_DDNS_PUSH_BATCH_MAX 256
#define MM_DDNS_PUSH_MSG_MAX 32768
/* How many of items (consecutive, from the first) fit one message: >= 1 if n >= 1. */
size_t mm_ddns_push_fit(const mm_ddns_push_item *items, size_t n);
/*
 * items[0..n) (one zone, queue order) as ONE UPDATE message: a change
 * superseded by a later set/delete of the same name and type is left out
 * (only the final state matters). *rrs (if not NULL): RRs sent. Results as
 * mm_ddns_push_send; a refusal (MM_EPROTO) concerns the message as a whole.
 */
int mm_ddns_push_send_many(mm_ddns_push_conn *c, const mm_ddns_zone *z,
                           const mm_ddns_push_item *items, size_t n, size_t *rrs);

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
