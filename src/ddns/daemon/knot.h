/*
 * The Knot DNS child of mamori-ddnsd (knot.c).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_DDNSD_KNOT_H
#define MM_DDNSD_KNOT_H

#include <stdint.h>

#include <event2/event.h>

#include "mamori/mm_ddns.h"

typedef struct mm_ddnsd_knot mm_ddnsd_knot;

/* The default zone: under home.arpa (RFC 8375), names of a local network. */
#define MM_DDNSD_KNOT_ZONE "dyn.home.arpa"

/*
 * Generate STATE/knot (key, knot.conf, zone file), register zone in store
 * and start knotd on 127.0.0.1@port. MM_ENOENT (logged with a hint) if knotd
 * is not installed: the caller goes on without it.
 */
int mm_ddnsd_knot_start(struct event_base *base, const char *state_dir, uint16_t port,
                        const char *zone, mm_ddns_store *store, mm_ddnsd_knot **out);
void mm_ddnsd_knot_stop(mm_ddnsd_knot *k);

#endif
