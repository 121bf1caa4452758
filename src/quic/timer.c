/*
 * timer.c - ngtcp2's clock and expiry timer on libevent.
 *
 * ngtcp2 never reads a clock: every call takes a timestamp in nanoseconds,
 * and ngtcp2_conn_get_expiry() says when it next needs to run (loss
 * detection, ACK delay, idle timeout, keep-alive, closing period).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <time.h>

#include <event2/event.h>

#include "quic_internal.h"

ngtcp2_tstamp mm_quic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ngtcp2_tstamp)ts.tv_sec * NGTCP2_SECONDS + (ngtcp2_tstamp)ts.tv_nsec;
}

void mm_quic_timer_arm(struct event *ev, ngtcp2_tstamp expiry)
{
    if (expiry == UINT64_MAX) {
        event_del(ev);
        return;
    }
    ngtcp2_tstamp now = mm_quic_now();
    ngtcp2_duration d = expiry > now ? expiry - now : 0;
    struct timeval tv = {
        .tv_sec = (time_t)(d / NGTCP2_SECONDS),
        .tv_usec = (suseconds_t)((d % NGTCP2_SECONDS) / NGTCP2_MICROSECONDS),
    };
    evtimer_add(ev, &tv);
}
