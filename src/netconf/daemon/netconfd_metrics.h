/*
 * netconfd_metrics.h - Prometheus /metrics for mamori-netconfd (issue 17 #5).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_NETCONFD_METRICS_H
#define MAMORI_NETCONFD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "mamori/mm_netconf.h"

/* Output not known for a transport: its queued-bytes gauge is not exported. */
#define MM_NETCONFD_QUEUED_UNKNOWN ((size_t)-1)

/* Open sessions and unsent output bytes of one transport; negative if it is not running. */
typedef int (*mm_netconfd_session_counter)(const char *transport, size_t *sessions, size_t *queued,
                                           void *arg);

typedef struct mm_netconfd_metrics mm_netconfd_metrics;

/* Serve GET /metrics on addr:port (loopback only; port 0: any free port). */
int mm_netconfd_metrics_start(mm_nc_server *engine, struct event_base *base, const char *addr,
                              uint16_t port, mm_netconfd_session_counter counter, void *counter_arg,
                              mm_netconfd_metrics **out);
uint16_t mm_netconfd_metrics_bound_port(const mm_netconfd_metrics *x);
void mm_netconfd_metrics_free(mm_netconfd_metrics *x);

#endif
