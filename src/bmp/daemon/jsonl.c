/*
 * jsonl.c - the JSON Lines output of mamori-bmpd: appended with write(2)
 * once per input burst (so what was written survives kill -9), rotated by
 * size to PATH.1 .. PATH.<keep>.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmpd.h"
#include "mamori/mm_core.h"

struct bmpd_jsonl {
    int fd;
    bool is_stdout;
    char *path;
    uint64_t size, rotate;
    unsigned keep;
};

static int jsonl_reopen(bmpd_jsonl *j)
{
    j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (j->fd < 0) {
        mm_log_error("jsonl-open", "path=%s error=\"%s\"", j->path, strerror(errno));
        return MM_EIO;
    }
    struct stat st;
    j->size = fstat(j->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return 0;
}

int bmpd_jsonl_open(const char *path, uint64_t rotate_bytes, unsigned keep, bmpd_jsonl **out)
{
    bmpd_jsonl *j = calloc(1, sizeof(*j));
    if (!j)
        return MM_ENOMEM;
    j->rotate = rotate_bytes;
    j->keep = keep ? keep : 1;
    if (strcmp(path, "-") == 0) {
        j->fd = STDOUT_FILENO;
        j->is_stdout = true;
    } else if (!(j->path = strdup(path)) || jsonl_reopen(j) < 0) {
        free(j->path);
        free(j);
        return MM_EIO;
    }
    *out = j;
    return 0;
}

/* PATH.(k-1) -> PATH.k for k = keep..2, then PATH -> PATH.1. */
static int jsonl_rotate(bmpd_jsonl *j)
{
    size_t n = strlen(j->path) + 16;
    char *from = malloc(n), *to = malloc(n);
    if (!from || !to) {
        free(from);
        free(to);
        return MM_ENOMEM;
    }
    for (unsigned k = j->keep; k >= 2; k--) {
        snprintf(from, n, "%s.%u", j->path, k - 1);
        snprintf(to, n, "%s.%u", j->path, k);
        rename(from, to);
    }
    snprintf(to, n, "%s.1", j->path);
    close(j->fd);
    int rc = rename(j->path, to) == 0 ? 0 : MM_EIO;
    free(from);
    free(to);
    MM_GUARD(jsonl_reopen(j));
    return rc;
}

/*
 * Append whole lines. With rotation, a burst is split at line boundaries so
 * that no file grows past the limit (a single line longer than the limit
 * gets a file of its own).
 */
int bmpd_jsonl_write(bmpd_jsonl *j, const void *data, size_t len)
{
    if (!j || len == 0)
        return 0;
    const char *p = data;
    bool rotate = !j->is_stdout && j->rotate;
    while (len > 0) {
        size_t n = len;
        if (rotate) {
            uint64_t room = j->size < j->rotate ? j->rotate - j->size : 0;
            if (n > room) {
                /* The longest run of whole lines that fits. */
                const char *cut = room ? memrchr(p, '\n', (size_t)room) : NULL;
                if (cut) {
                    n = (size_t)(cut - p) + 1;
                } else if (j->size > 0) {
                    if (jsonl_rotate(j) < 0) {
                        mm_log_warn("jsonl-rotate", "path=%s error=\"rotation failed, appending\"",
                                    j->path);
                        rotate = false; /* keep every line: append to the current file */
                    }
                    continue;
                } else {
                    const char *nl = memchr(p, '\n', len); /* one over-long line: alone */
                    n = nl ? (size_t)(nl - p) + 1 : len;
                }
            }
        }
        MM_GUARD(mm_write_all(j->fd, p, n));
        j->size += n;
        p += n;
        len -= n;
    }
    return 0;
}

void bmpd_jsonl_close(bmpd_jsonl *j)
{
    if (!j)
        return;
    if (!j->is_stdout)
        close(j->fd);
    free(j->path);
    free(j);
}
