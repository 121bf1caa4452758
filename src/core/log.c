/*
 * Structured logging: "<time> <ident>[pid] level=L event=E key=value ...".
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "mamori/mm_core.h"

static struct {
    char ident[32];
    enum mm_log_sink sink;
    enum mm_log_level level;
} g_log = {"mamori", MM_LOG_STDERR, MM_LOG_INFO};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void mm_log_setup(const char *ident, enum mm_log_sink sink, enum mm_log_level level)
{
    snprintf(g_log.ident, sizeof(g_log.ident), "%s", ident ? ident : "mamori");
    g_log.sink = sink;
    g_log.level = level;
    if (sink == MM_LOG_SYSLOG)
        openlog(g_log.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void mm_log_set_level(enum mm_log_level level) { g_log.level = level; }
enum mm_log_level mm_log_get_level(void) { return g_log.level; }

int mm_log_level_parse(const char *name, enum mm_log_level *out)
{
    for (int i = 0; i <= MM_LOG_DEBUG; i++) {
        if (name && strcmp(name, level_names[i]) == 0) {
            *out = (enum mm_log_level)i;
            return 0;
        }
    }
    return MM_EINVAL;
}

void mm_vlog(enum mm_log_level level, const char *event, const char *fmt, va_list ap)
{
    if (level > g_log.level || level < MM_LOG_ERROR)
        return;
    char body[1024];
    int n = snprintf(body, sizeof(body), "level=%s event=%s", level_names[level], event);
    if (n > 0 && (size_t)n < sizeof(body) - 1 && fmt && *fmt) {
        body[n++] = ' ';
        vsnprintf(body + n, sizeof(body) - (size_t)n, fmt, ap);
    }
    if (g_log.sink == MM_LOG_SYSLOG) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        syslog(prio[level], "%s", body);
        return;
    }
    char ts[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %s[%ld] %s\n", ts, now.tv_nsec / 1000000, g_log.ident,
            (long)getpid(), body);
}

void mm_log(enum mm_log_level level, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mm_vlog(level, event, fmt, ap);
    va_end(ap);
}
