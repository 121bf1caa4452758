/* File-system and clock helpers. SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mamori/mm_core.h"

int mm_write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        MM_ENSURE(w > 0, MM_EIO);
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

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

int64_t mm_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int mm_deadline_left_ms(int64_t deadline_ms)
{
    if (deadline_ms < 0)
        return -1;
    int64_t left = deadline_ms - mm_monotonic_ms();
    return left <= 0 ? 0 : (left > INT32_MAX ? INT32_MAX : (int)left);
}
