/*
 * mm_event.h - small helpers over libevent 2.1 shared by every daemon.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_EVENT_H
#define MAMORI_MM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called once when SIGINT or SIGTERM arrives; the loop exits after it returns. */
typedef void (*mm_shutdown_cb)(int signo, void *arg);

typedef struct mm_shutdown mm_shutdown;

/*
 * Install SIGINT/SIGTERM handlers on base for a clean shutdown (SIGPIPE is
 * ignored process-wide). If cb is NULL the loop simply exits. If
 * immediate_exit is false, cb is responsible for ending the loop later
 * (e.g. after children have stopped); a second signal always exits the loop.
 */
mm_shutdown *mm_shutdown_install(struct event_base *base, mm_shutdown_cb cb, void *arg,
                                 bool immediate_exit);
void mm_shutdown_free(mm_shutdown *s);
/* Signal number that triggered the shutdown, 0 if none yet. */
int mm_shutdown_signal(const mm_shutdown *s);

typedef void (*mm_timer_cb)(void *arg);

/*
 * A timer firing after ms milliseconds, then every ms if periodic.
 * Free with mm_timer_free().
 */
struct event *mm_timer_new(struct event_base *base, uint32_t ms, bool periodic, mm_timer_cb cb,
                           void *arg);
void mm_timer_free(struct event *ev);
/* (Re)arm a one-shot timer made by mm_timer_new() to fire in ms milliseconds. */
int mm_timer_arm(struct event *ev, uint32_t ms);

#ifdef __cplusplus
}
#endif
#endif
