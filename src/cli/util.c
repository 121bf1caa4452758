/* Helpers shared by the nouns of the `mamori` command. SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool mm_cli_is_help(const char *s)
{
    return s && (!strcmp(s, "help") || !strcmp(s, "-h") || !strcmp(s, "--help"));
}

int mm_cli_usage_error(const char *noun, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mamori %s: ", noun);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\ntry: mamori %s help\n", noun);
    va_end(ap);
    return MM_CLI_EXIT_USAGE;
}

int mm_cli_fail(const char *noun, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mamori %s: ", noun);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return MM_CLI_EXIT_FAIL;
}

void mm_cli_json_print(json_t *obj)
{
    if (!obj)
        return;
    char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (s)
        puts(s);
    free(s);
    json_decref(obj);
}
