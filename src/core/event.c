/* libevent helpers: clean shutdown on signals, timers. SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <stdlib.h>

#include "mamori/mm_core.h"
#include "mamori/mm_event.h"

struct mm_shutdown {
    struct event_base *base;
    struct event *sigint, *sigterm;
    mm_shutdown_cb cb;
    void *arg;
    bool immediate_exit;
    int signo;
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    mm_shutdown *s = arg;
    (void)what;
    if (s->signo) {
        /* Second signal: the user insists. */
        mm_log_warn("shutdown", "signal=%d again=1 action=exit-loop", (int)sig);
        event_base_loopexit(s->base, NULL);
        return;
    }
    s->signo = (int)sig;
    mm_log_info("shutdown", "signal=%d", (int)sig);
    if (s->cb)
        s->cb((int)sig, s->arg);
    if (!s->cb || s->immediate_exit)
        event_base_loopexit(s->base, NULL);
}

mm_shutdown *mm_shutdown_install(struct event_base *base, mm_shutdown_cb cb, void *arg,
                                 bool immediate_exit)
{
    mm_shutdown *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    signal(SIGPIPE, SIG_IGN);
    s->base = base;
    s->cb = cb;
    s->arg = arg;
    s->immediate_exit = immediate_exit;
    s->sigint = evsignal_new(base, SIGINT, on_signal, s);
    s->sigterm = evsignal_new(base, SIGTERM, on_signal, s);
    if (!s->sigint || !s->sigterm || evsignal_add(s->sigint, NULL) < 0 ||
        evsignal_add(s->sigterm, NULL) < 0) {
        mm_shutdown_free(s);
        return NULL;
    }
    return s;
}

void mm_shutdown_free(mm_shutdown *s)
{
    if (!s)
        return;
    if (s->sigint)
        event_free(s->sigint);
    if (s->sigterm)
        event_free(s->sigterm);
    free(s);
}

int mm_shutdown_signal(const mm_shutdown *s) { return s ? s->signo : 0; }

struct timer {
    mm_timer_cb cb;
    void *arg;
};

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct timer *t = arg;
    t->cb(t->arg);
}

static struct timeval ms_to_tv(uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

struct event *mm_timer_new(struct event_base *base, uint32_t ms, bool periodic, mm_timer_cb cb,
                           void *arg)
{
    struct timer *t = malloc(sizeof(*t));
    if (!t)
        return NULL;
    t->cb = cb;
    t->arg = arg;
    struct event *ev = event_new(base, -1, periodic ? EV_PERSIST : 0, on_timer, t);
    if (!ev) {
        free(t);
        return NULL;
    }
    struct timeval tv = ms_to_tv(ms);
    if (event_add(ev, &tv) < 0) {
        event_free(ev);
        free(t);
        return NULL;
    }
    return ev;
}

int mm_timer_arm(struct event *ev, uint32_t ms)
{
    struct timeval tv = ms_to_tv(ms);
    return event_add(ev, &tv) < 0 ? MM_ESYS : 0;
}

void mm_timer_free(struct event *ev)
{
    if (!ev)
        return;
    free(event_get_callback_arg(ev));
    event_free(ev);
}
