/*
 * metrics.c - counters and gauges with labels, Prometheus text exposition
 * (format 0.0.4) and a loopback-only evhttp endpoint. See mm_metrics.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <math.h> /* isnan/isinf are macros: no libm needed */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "mamori/mm_core.h"
#include "mamori/mm_metrics.h"

#define MAX_LABELS 16

struct mm_metric {
    char *key;     /* "name{k=\"v\",...}" : the exposition line's left side */
    size_t family; /* index into families */
    double value;
    struct mm_metric *hnext; /* hash chain */
    struct mm_metric *next;  /* family order */
};

struct family {
    char *name;
    char *help;
    enum mm_metric_type type;
    struct mm_metric *head, *last;
};

struct mm_metrics {
    struct family *fam;
    size_t n_fam, cap_fam;
    struct mm_metric **buckets;
    size_t n_buckets;
    size_t n_series, max_series;
    uint64_t dropped;
    size_t last_fam;
    mm_buf keybuf;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static bool valid_name(const char *s, bool colon_ok)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (colon_ok && *s == ':')))
            return false;
    return true;
}

mm_metrics *mm_metrics_new(size_t max_series)
{
    mm_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->n_buckets = 1024;
    m->buckets = calloc(m->n_buckets, sizeof(*m->buckets));
    if (!m->buckets) {
        free(m);
        return NULL;
    }
    m->max_series = max_series ? max_series : 100000;
    mm_buf_init(&m->keybuf, 64 * 1024);
    return m;
}

static void series_free(struct mm_metric *s)
{
    free(s->key);
    free(s);
}

void mm_metrics_free(mm_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_fam; i++) {
        for (struct mm_metric *s = m->fam[i].head, *n; s; s = n) {
            n = s->next;
            series_free(s);
        }
        free(m->fam[i].name);
        free(m->fam[i].help);
    }
    free(m->fam);
    free(m->buckets);
    mm_buf_free(&m->keybuf);
    free(m);
}

static struct family *family_find(const mm_metrics *m, const char *name, size_t *idx)
{
    /* Callers tend to hit the same family many times in a row. */
    size_t h = m->last_fam;
    if (h < m->n_fam && strcmp(m->fam[h].name, name) == 0) {
        if (idx)
            *idx = h;
        return &m->fam[h];
    }
    for (size_t i = 0; i < m->n_fam; i++)
        if (strcmp(m->fam[i].name, name) == 0) {
            if (idx)
                *idx = i;
            ((mm_metrics *)m)->last_fam = i;
            return &m->fam[i];
        }
    return NULL;
}

int mm_metrics_family(mm_metrics *m, const char *name, enum mm_metric_type type, const char *help)
{
    struct family *f = family_find(m, name, NULL); /* known names were validated when added */
    if (f)
        return f->type == type ? 0 : MM_EEXIST;
    if (!valid_name(name, true))
        return MM_EINVAL;
    if (m->n_fam == m->cap_fam) {
        size_t cap = m->cap_fam ? m->cap_fam * 2 : 16;
        struct family *nf = realloc(m->fam, cap * sizeof(*nf));
        if (!nf)
            return MM_ENOMEM;
        m->fam = nf;
        m->cap_fam = cap;
    }
    f = &m->fam[m->n_fam];
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    if (!f->name || !f->help) {
        free(f->name);
        free(f->help);
        return MM_ENOMEM;
    }
    f->type = type;
    f->head = f->last = NULL;
    m->n_fam++;
    return 0;
}

/* Label values escaped per the exposition format: backslash, quote, newline. */
static int append_escaped(mm_buf *b, const char *v)
{
    if (!v[strcspn(v, "\\\"\n")])
        return mm_buf_append_str(b, v); /* nothing to escape: the usual case */
    for (; *v; v++) {
        if (*v == '\\')
            MM_GUARD(mm_buf_append(b, "\\\\", 2));
        else if (*v == '"')
            MM_GUARD(mm_buf_append(b, "\\\"", 2));
        else if (*v == '\n')
            MM_GUARD(mm_buf_append(b, "\\n", 2));
        else
            MM_GUARD(mm_buf_append(b, v, 1));
    }
    return 0;
}

static int series_key(const char *name, const char *const *labels, mm_buf *k)
{
    MM_GUARD(mm_buf_append_str(k, name));
    if (!labels || !labels[0])
        return 0;
    MM_GUARD(mm_buf_append(k, "{", 1));
    for (size_t i = 0; labels[i]; i += 2) {
        if (i / 2 >= MAX_LABELS || !labels[i + 1] || !valid_name(labels[i], false))
            return MM_EINVAL;
        if (i)
            MM_GUARD(mm_buf_append(k, ",", 1));
        MM_GUARD(mm_buf_append_str(k, labels[i]));
        MM_GUARD(mm_buf_append(k, "=\"", 2));
        MM_GUARD(append_escaped(k, labels[i + 1]));
        MM_GUARD(mm_buf_append(k, "\"", 1));
    }
    return mm_buf_append(k, "}", 1);
}

mm_metric *mm_metrics_get(mm_metrics *m, const char *name, const char *const *labels)
{
    size_t fi;
    struct family *f = family_find(m, name, &fi);
    if (!f)
        return NULL;
    mm_buf *kb = &m->keybuf; /* reused: no allocation per lookup once warm */
    mm_buf_reset(kb);
    if (series_key(name, labels, kb) < 0)
        return NULL;
    const char *key = mm_buf_cstr(kb);
    uint64_t h = fnv1a(key) % m->n_buckets;
    for (struct mm_metric *s = m->buckets[h]; s; s = s->hnext)
        if (strcmp(s->key, key) == 0)
            return s;
    if (m->n_series >= m->max_series) {
        m->dropped++;
        return NULL;
    }
    struct mm_metric *s = calloc(1, sizeof(*s));
    if (!s || !(s->key = strdup(key))) {
        free(s);
        return NULL;
    }
    s->family = fi;
    s->hnext = m->buckets[h];
    m->buckets[h] = s;
    if (f->last)
        f->last->next = s;
    else
        f->head = s;
    f->last = s;
    m->n_series++;
    return s;
}

mm_metric *mm_metrics_getv(mm_metrics *m, const char *name, ...)
{
    const char *labels[2 * MAX_LABELS + 2];
    size_t n = 0;
    va_list ap;
    va_start(ap, name);
    const char *s;
    while ((s = va_arg(ap, const char *)) != NULL) {
        if (n == 2 * MAX_LABELS) {
            va_end(ap);
            return NULL;
        }
        labels[n++] = s;
    }
    va_end(ap);
    labels[n] = NULL;
    return mm_metrics_get(m, name, labels);
}

void mm_metric_add(mm_metric *s, double v)
{
    if (s && v >= 0)
        s->value += v;
}

void mm_metric_set(mm_metric *s, double v)
{
    if (s)
        s->value = v;
}

double mm_metric_value(const mm_metric *s)
{
    return s ? s->value : 0;
}

size_t mm_metrics_remove_label(mm_metrics *m, const char *key, const char *value)
{
    mm_buf needle;
    mm_buf_init(&needle, 64 * 1024);
    const char *kv[] = {key, value, NULL};
    /* The rendered pair k="v" appears in the key after '{' or ','. */
    if (series_key("", kv, &needle) < 0) {
        mm_buf_free(&needle);
        return 0;
    }
    char *pair = (char *)mm_buf_cstr(&needle) + 1; /* skip '{' */
    pair[strlen(pair) - 1] = 0;                    /* drop '}' */
    size_t plen = strlen(pair), removed = 0;
    for (size_t b = 0; b < m->n_buckets; b++) {
        for (struct mm_metric **pp = &m->buckets[b]; *pp;) {
            struct mm_metric *s = *pp;
            const char *hit = strstr(s->key, pair);
            bool match =
                hit && (hit[-1] == '{' || hit[-1] == ',') && (hit[plen] == ',' || hit[plen] == '}');
            if (!match) {
                pp = &s->hnext;
                continue;
            }
            *pp = s->hnext;
            /* Unlink from the family list (removal is rare: a walk is fine). */
            struct family *f = &m->fam[s->family];
            struct mm_metric *prev = NULL;
            for (struct mm_metric *t = f->head; t != s; t = t->next)
                prev = t;
            if (prev)
                prev->next = s->next;
            else
                f->head = s->next;
            if (f->last == s)
                f->last = prev;
            series_free(s);
            m->n_series--;
            removed++;
        }
    }
    mm_buf_free(&needle);
    return removed;
}

size_t mm_metrics_series_count(const mm_metrics *m)
{
    return m->n_series;
}

uint64_t mm_metrics_dropped(const mm_metrics *m)
{
    return m->dropped;
}

static int append_value(mm_buf *b, double v)
{
    if (isnan(v))
        return mm_buf_append_str(b, "NaN");
    if (isinf(v))
        return mm_buf_append_str(b, v > 0 ? "+Inf" : "-Inf");
    if (v >= 0 && v < 18446744073709551616.0 && v == (double)(uint64_t)v)
        return mm_buf_append_u64(b, (uint64_t)v);
    return mm_buf_printf(b, "%.17g", v);
}

int mm_metrics_render(const mm_metrics *m, mm_buf *out)
{
    for (size_t i = 0; i < m->n_fam; i++) {
        const struct family *f = &m->fam[i];
        MM_GUARD(mm_buf_printf(out, "# HELP %s ", f->name));
        for (const char *h = f->help; *h; h++) /* HELP escapes backslash and newline */
            MM_GUARD(*h == '\\'   ? mm_buf_append(out, "\\\\", 2)
                     : *h == '\n' ? mm_buf_append(out, "\\n", 2)
                                  : mm_buf_append(out, h, 1));
        MM_GUARD(mm_buf_printf(out, "\n# TYPE %s %s\n", f->name,
                               f->type == MM_METRIC_COUNTER ? "counter" : "gauge"));
        for (const struct mm_metric *s = f->head; s; s = s->next) {
            MM_GUARD(mm_buf_append_str(out, s->key));
            MM_GUARD(mm_buf_append(out, " ", 1));
            MM_GUARD(append_value(out, s->value));
            MM_GUARD(mm_buf_append(out, "\n", 1));
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- HTTP */

struct mm_metrics_http {
    struct evhttp *http;
    mm_metrics *m;
};

static void http_metrics(struct evhttp_request *req, void *arg)
{
    mm_metrics_http *h = arg;
    mm_buf b;
    mm_buf_init(&b, 256u << 20);
    if (mm_metrics_render(h->m, &b) < 0) {
        mm_buf_free(&b);
        evhttp_send_error(req, HTTP_INTERNAL, "metrics too large");
        return;
    }
    struct evbuffer *body = evbuffer_new();
    if (!body) {
        mm_buf_free(&b);
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evbuffer_add(body, b.data ? (const void *)b.data : "", b.len);
    mm_buf_free(&b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, HTTP_OK, "OK", body);
    evbuffer_free(body);
}

static void http_other(struct evhttp_request *req, void *arg)
{
    (void)arg;
    evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

static bool is_loopback(const char *addr)
{
    uint8_t a[16];
    if (inet_pton(AF_INET, addr, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, addr, a) == 1) {
        static const uint8_t one[16] = {[15] = 1};
        return memcmp(a, one, 16) == 0;
    }
    return false;
}

int mm_metrics_http_start(mm_metrics *m, struct event_base *base, const char *addr, uint16_t port,
                          mm_metrics_http **out, uint16_t *bound_port)
{
    if (!is_loopback(addr))
        return MM_EPERM;
    mm_metrics_http *h = calloc(1, sizeof(*h));
    if (!h)
        return MM_ENOMEM;
    h->m = m;
    h->http = evhttp_new(base);
    if (!h->http) {
        free(h);
        return MM_ENOMEM;
    }
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET);
    evhttp_set_max_headers_size(h->http, 8192);
    evhttp_set_max_body_size(h->http, 0);
    evhttp_set_timeout(h->http, 10);
    evhttp_set_cb(h->http, "/metrics", http_metrics, h);
    evhttp_set_gencb(h->http, http_other, h);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(h->http, addr, port);
    if (!bs) {
        evhttp_free(h->http);
        free(h);
        return MM_ESYS;
    }
    if (bound_port) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        *bound_port = port;
        if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
            *bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                         : ((struct sockaddr_in *)&ss)->sin_port);
    }
    *out = h;
    return 0;
}

void mm_metrics_http_stop(mm_metrics_http *h)
{
    if (!h)
        return;
    evhttp_free(h->http);
    free(h);
}
