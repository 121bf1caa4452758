/*
 * util.c - yang:date-and-time conversion for eventTime and replay times.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "nc_internal.h"

int64_t nc_now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int nc_time_format(int64_t us, char *buf, size_t len)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    MM_ENSURE(gmtime_r(&t, &tm), MM_EINVAL);
    int n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(us % 1000000));
    return n > 0 && (size_t)n < len ? 0 : MM_ESPACE;
}

/* Fraction digits after the seconds, as microseconds. */
static int64_t fraction_us(const char **p)
{
    int64_t us = 0, scale = 100000;
    if (**p != '.')
        return 0;
    for ((*p)++; **p >= '0' && **p <= '9'; (*p)++) {
        us += (**p - '0') * scale;
        scale /= 10;
    }
    return us;
}

/* RFC 3339 date-and-time (already validated by libyang's type check). */
int nc_time_parse(const char *s, int64_t *us)
{
    struct tm tm = {0};
    int consumed = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 || consumed < 19)
        return MM_EMALFORMED;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const char *p = s + consumed;
    int64_t frac = fraction_us(&p);
    int64_t offset = 0;
    if (*p == '+' || *p == '-') {
        int hh = 0, mm = 0;
        MM_ENSURE(sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2, MM_EMALFORMED);
        offset = (int64_t)(hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
    } else {
        MM_ENSURE(*p == 'Z' || *p == 'z', MM_EMALFORMED);
    }
    time_t t = timegm(&tm);
    *us = ((int64_t)t - offset) * 1000000 + frac;
    return 0;
}
