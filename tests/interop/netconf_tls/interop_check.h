/*
 * interop_check.h - the "ok / FAIL" line and failure count the interop
 * programs print for the shell tests around them. Include once per program.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_INTEROP_CHECK_H
#define MAMORI_INTEROP_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int failures;

__attribute__((format(printf, 2, 3))) static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures += !ok;
}

#endif
