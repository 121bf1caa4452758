/*
 * Fixed-window rate limiter (spec section 9): per key, a count within the
 * current window; at most max_keys keys are tracked, the entry whose window
 * started first is evicted (bounded memory whatever the peers send).
 * Open addressing with linear probing; a full table replaces the oldest.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

#define KEY_MAX 80

struct entry {
    char key[KEY_MAX];
    int64_t start; /* window start, Unix seconds; 0 = free */
    uint32_t count;
};

struct mm_ddns_rl {
    struct entry *e;
    size_t cap;
};

mm_ddns_rl *mm_ddns_rl_new(size_t max_keys)
{
    mm_ddns_rl *rl = calloc(1, sizeof(*rl));
    if (!rl || max_keys == 0)
        return free(rl), NULL;
    rl->e = calloc(max_keys, sizeof(*rl->e));
    if (!rl->e)
        return free(rl), NULL;
    rl->cap = max_keys;
    return rl;
}

void mm_ddns_rl_free(mm_ddns_rl *rl)
{
    if (rl)
        free(rl->e);
    free(rl);
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* The entry of key (claiming a free or the oldest slot among 8 probes). */
static struct entry *find(mm_ddns_rl *rl, const char *key, bool create)
{
    size_t i0 = (size_t)(hash(key) % rl->cap);
    struct entry *victim = NULL;
    for (size_t k = 0; k < 8 && k < rl->cap; k++) {
        struct entry *e = &rl->e[(i0 + k) % rl->cap];
        if (e->start && strncmp(e->key, key, KEY_MAX - 1) == 0)
            return e;
        if (!e->start) {
            if (!victim || victim->start)
                victim = e; /* a free slot beats any used one */
        } else if (!victim || (victim->start && e->start < victim->start)) {
            victim = e;
        }
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    strncpy(victim->key, key, KEY_MAX - 1);
    return victim;
}

int mm_ddns_rl_hit(mm_ddns_rl *rl, const char *key, uint32_t limit, uint32_t window_s,
                   int64_t now_s, mm_ddns_rl_result *res)
{
    struct entry *e = find(rl, key, true);
    if (window_s == 0)
        window_s = 60;
    if (!e->start || now_s >= e->start + window_s) {
        e->start = now_s - now_s % window_s;
        if (e->start == 0)
            e->start = 1;
        e->count = 0;
    }
    int64_t reset = e->start + window_s;
    res->limit = limit;
    res->reset = reset;
    res->retry_after = 0;
    if (e->count >= limit) {
        res->remaining = 0;
        res->retry_after = (uint32_t)(reset - now_s > 0 ? reset - now_s : 1);
        return MM_EAGAIN;
    }
    e->count++;
    res->remaining = limit - e->count;
    return 0;
}

uint32_t mm_ddns_rl_peek(mm_ddns_rl *rl, const char *key, uint32_t window_s, int64_t now_s)
{
    struct entry *e = find(rl, key, false);
    if (!e || now_s >= e->start + (window_s ? window_s : 60))
        return 0;
    return e->count;
}
