/* File-system helpers. SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "mamori/mm_core.h"

int mm_mkdir_p(const char *path, unsigned int mode)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s", path ? path : "");
    MM_ENSURE(n > 0 && (size_t)n < sizeof(tmp), MM_EINVAL);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
            return MM_ESYS;
        *p = '/';
    }
    if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
        return MM_ESYS;
    return 0;
}
