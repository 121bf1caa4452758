/*
 * conf.c - AH in IKE daemon configuration.
 *
 *  - strongSwan swanctl.conf: `connections.<conn>.children.<child>.ah_proposals`
 *    makes the CHILD_SA use AH (esp_proposals is the ESP counterpart).
 *  - ipsec.conf (strongSwan starter and libreswan share the layout: `conn NAME`
 *    at column 0, indented `key=value`): strongSwan uses AH when `ah=` is set;
 *    libreswan uses AH when `phase2=ah` (its `ah=` is only the proposal list);
 *    `auth=ah` is the old FreeS/WAN spelling. A conn inherits from `also=`
 *    conns and from `conn %default`.
 *
 * Both follow `include` (glob relative to the including file; depth and file
 * count bounded). Lines are cut from the file through mm_cursor.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"

#define MAX_FILE_SIZE (16u << 20)
#define MAX_LINE 4096
#define MAX_INCLUDE_DEPTH 8
#define MAX_FILES 256
#define MAX_SECTION_DEPTH 16
#define MAX_ALSO 4
#define VAL 256

/* ---------------------------------------------------------------- common */

struct scan {
    mm_ah_report *r;
    enum mm_ah_conf_kind kind;
    bool no_include; /* scanning a buffer: includes are reported, not followed */
    unsigned files;
    /* swanctl.conf */
    char stack[MAX_SECTION_DEPTH][128];
    unsigned depth;
    char pending[128]; /* a section name whose `{` is on the next line */
    /* ipsec.conf */
    struct conn *conns;
    size_t nconns, capconns;
    struct conn *cur;
};

static int scan_file(struct scan *s, const char *path, unsigned depth);

/* Next line of the text (without the newline) into line; false at the end. */
static bool next_line(mm_cursor *c, char *line, size_t cap, bool *too_long)
{
    size_t left = mm_cursor_remaining(c);
    if (!left)
        return false;
    const uint8_t *p = mm_cursor_ptr(c);
    const uint8_t *nl = memchr(p, '\n', left);
    size_t n = nl ? (size_t)(nl - p) : left;
    *too_long = n >= cap;
    size_t take = *too_long ? cap - 1 : n;
    mm_cursor_read_bytes(c, (uint8_t *)line, take);
    line[take] = '\0';
    mm_cursor_skip(c, n - take + (nl ? 1 : 0));
    /* NULs inside a line end it; CR before LF is dropped. */
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r')
        line[len - 1] = '\0';
    return true;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Cut a `#` comment (outside double quotes). */
static void strip_comment(char *s)
{
    bool q = false;
    for (; *s; s++) {
        if (*s == '"')
            q = !q;
        else if (*s == '#' && !q) {
            *s = '\0';
            return;
        }
    }
}

static void unquote(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = '\0';
    }
}

static void include_glob(struct scan *s, const char *from, unsigned line, const char *pattern,
                         unsigned depth)
{
    char pat[1024];
    if (pattern[0] == '/') {
        snprintf(pat, sizeof(pat), "%s", pattern);
    } else {
        char tmp[1024];
        snprintf(tmp, sizeof(tmp), "%s", from);
        snprintf(pat, sizeof(pat), "%s/%s", dirname(tmp), pattern);
    }
    if (s->no_include) {
        mm_ah_report_note(s->r, "%s:%u: include %s not followed", from, line, pattern);
        return;
    }
    if (depth + 1 > MAX_INCLUDE_DEPTH) {
        mm_ah_report_error(s->r, "%s:%u: include nesting deeper than %d", from, line,
                           MAX_INCLUDE_DEPTH);
        return;
    }
    glob_t g;
    int rc = glob(pat, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        mm_ah_report_note(s->r, "%s:%u: include %s matches no file", from, line, pattern);
        return;
    }
    if (rc != 0) {
        mm_ah_report_error(s->r, "%s:%u: include %s: cannot expand", from, line, pattern);
        return;
    }
    for (size_t i = 0; i < g.gl_pathc; i++)
        (void)scan_file(s, g.gl_pathv[i], depth + 1);
    globfree(&g);
}

static void config_finding(struct scan *s, const char *where, const char *src, const char *dst,
                           const char *detail)
{
    mm_ah_finding f;
    memset(&f, 0, sizeof(f));
    f.source = MM_AH_SRC_CONFIG;
    f.verdict = MM_AH_CONFIGURED;
    snprintf(f.where, sizeof(f.where), "%s", where);
    snprintf(f.src, sizeof(f.src), "%s", src ? src : "");
    snprintf(f.dst, sizeof(f.dst), "%s", dst ? dst : "");
    snprintf(f.detail, sizeof(f.detail), "%s", detail);
    (void)mm_ah_report_add(s->r, &f);
}

/* ---------------------------------------------------------------- swanctl.conf */

/* Fill the peers of ah_proposals findings once the whole connection is known. */
struct swan_conn {
    char name[128];
    char local[64], remote[64];
};

static void swan_assign(struct scan *s, const char *file, unsigned line, const char *key,
                        char *value)
{
    unquote(value);
    if (strcmp(key, "ah_proposals") != 0)
        return;
    char path[600] = "";
    for (unsigned i = 0; i < s->depth; i++) {
        strncat(path, s->stack[i], sizeof(path) - strlen(path) - 2);
        strcat(path, ".");
    }
    char where[320];
    snprintf(where, sizeof(where), "%s:%u %.200s", file, line, path);
    bool child = s->depth == 4 && !strcmp(s->stack[0], "connections") &&
                 !strcmp(s->stack[2], "children");
    char detail[VAL + 64];
    if (child)
        snprintf(detail, sizeof(detail), "swanctl CHILD_SA uses AH: ah_proposals = %s", value);
    else
        snprintf(detail, sizeof(detail), "ah_proposals = %s (not in a children section)", value);
    config_finding(s, where, NULL, NULL, detail);
    /* Remember which connection, to add its peers after the file is read. */
    if (child)
        snprintf(s->r->f[s->r->n - 1].src, sizeof(s->r->f[0].src), "conn:%.58s", s->stack[1]);
}

static void swan_peers(struct scan *s, size_t first, struct swan_conn *cs, size_t ncs)
{
    for (size_t i = first; i < s->r->n; i++) {
        mm_ah_finding *f = &s->r->f[i];
        if (strncmp(f->src, "conn:", 5) != 0)
            continue;
        const char *name = f->src + 5;
        f->src[0] = f->dst[0] = '\0';
        for (size_t j = 0; j < ncs; j++)
            if (!strcmp(cs[j].name, name)) {
                snprintf(f->src, sizeof(f->src), "%s", cs[j].local);
                snprintf(f->dst, sizeof(f->dst), "%s", cs[j].remote);
            }
    }
}

static bool open_section(struct scan *s, const char *file, unsigned lno)
{
    if (s->depth >= MAX_SECTION_DEPTH) {
        mm_ah_report_error(s->r, "%s:%u: sections nested deeper than %d", file, lno,
                           MAX_SECTION_DEPTH);
        return false;
    }
    snprintf(s->stack[s->depth++], sizeof(s->stack[0]), "%s", s->pending);
    s->pending[0] = '\0';
    return true;
}

static void swan_line(struct scan *s, const char *file, unsigned lno, char *line, unsigned depth,
                      struct swan_conn *cs, size_t *ncs, size_t maxcs)
{
    char *p = line;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            return;
        if (*p == '}') {
            if (!s->depth)
                mm_ah_report_note(s->r, "%s:%u: unbalanced '}'", file, lno);
            else
                s->depth--;
            p++;
            continue;
        }
        if (*p == '{') {
            if (!s->pending[0])
                mm_ah_report_note(s->r, "%s:%u: '{' without a section name", file, lno);
            else if (!open_section(s, file, lno))
                return;
            p++;
            continue;
        }
        char word[128];
        size_t n = 0;
        while (*p && !isspace((unsigned char)*p) && *p != '{' && *p != '}' && *p != '=') {
            if (n + 1 < sizeof(word))
                word[n++] = *p;
            p++;
        }
        word[n] = '\0';
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '=') {
            /* The value runs to the end of the line or to a `}` outside quotes. */
            char value[VAL];
            size_t vn = 0;
            bool q = false;
            for (p++; *p && (q || *p != '}'); p++) {
                if (*p == '"')
                    q = !q;
                if (vn + 1 < sizeof(value))
                    value[vn++] = *p;
            }
            value[vn] = '\0';
            char *v = trim(value);
            swan_assign(s, file, lno, word, v);
            /* Peers of connections.<conn>: local_addrs / remote_addrs. */
            if (s->depth == 2 && !strcmp(s->stack[0], "connections") &&
                (!strcmp(word, "local_addrs") || !strcmp(word, "remote_addrs"))) {
                size_t j = 0;
                while (j < *ncs && strcmp(cs[j].name, s->stack[1]))
                    j++;
                if (j == *ncs && *ncs < maxcs)
                    snprintf(cs[(*ncs)++].name, sizeof(cs[0].name), "%s", s->stack[1]);
                if (j < *ncs) {
                    unquote(v);
                    char *dst = word[0] == 'l' ? cs[j].local : cs[j].remote;
                    snprintf(dst, sizeof(cs[j].local), "%s", v);
                }
            }
            continue;
        }
        if (!strcmp(word, "include") && *p) {
            char pattern[MAX_LINE];
            snprintf(pattern, sizeof(pattern), "%s", p);
            char *pt = trim(pattern);
            unquote(pt);
            include_glob(s, file, lno, pt, depth);
            return;
        }
        unquote(word);
        snprintf(s->pending, sizeof(s->pending), "%s", word);
        if (*p != '{')
            return; /* `{` on a later line */
        if (!open_section(s, file, lno))
            return;
        p++;
    }
}

static void scan_swanctl(struct scan *s, mm_cursor *c, const char *file, unsigned depth)
{
    enum { MAX_CONNS = 256 };
    struct swan_conn *cs = calloc(MAX_CONNS, sizeof(*cs));
    if (!cs) {
        mm_ah_report_error(s->r, "%s: out of memory", file);
        return;
    }
    size_t ncs = 0, first = s->r->n;
    unsigned saved_depth = s->depth;
    s->depth = 0;
    s->pending[0] = '\0';
    char line[MAX_LINE];
    bool too_long;
    for (unsigned lno = 1; next_line(c, line, sizeof(line), &too_long); lno++) {
        if (too_long)
            mm_ah_report_note(s->r, "%s:%u: line longer than %d octets cut", file, lno, MAX_LINE);
        strip_comment(line);
        swan_line(s, file, lno, line, depth, cs, &ncs, MAX_CONNS);
    }
    if (s->depth)
        mm_ah_report_note(s->r, "%s: %u section(s) not closed at the end", file, s->depth);
    swan_peers(s, first, cs, ncs);
    s->depth = saved_depth;
    free(cs);
}

/* ---------------------------------------------------------------- ipsec.conf */

struct conn {
    char name[128];
    char file[256];
    unsigned line;
    char ah[VAL], phase2[VAL], auth[VAL], left[64], right[64], autov[32];
    char also[MAX_ALSO][128];
    unsigned nalso;
};

static struct conn *conn_find(struct scan *s, const char *name)
{
    for (size_t i = 0; i < s->nconns; i++)
        if (!strcmp(s->conns[i].name, name))
            return &s->conns[i];
    return NULL;
}

static struct conn *conn_new(struct scan *s, const char *name, const char *file, unsigned line)
{
    if (s->nconns == s->capconns) {
        size_t cap = s->capconns ? s->capconns * 2 : 16;
        if (cap > 65536)
            return NULL;
        struct conn *nc = realloc(s->conns, cap * sizeof(*nc));
        if (!nc)
            return NULL;
        s->conns = nc;
        s->capconns = cap;
    }
    struct conn *c = &s->conns[s->nconns++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    snprintf(c->file, sizeof(c->file), "%s", file);
    c->line = line;
    return c;
}

static void ipsec_line(struct scan *s, const char *file, unsigned lno, char *line, unsigned depth)
{
    strip_comment(line);
    bool indented = isspace((unsigned char)line[0]);
    char *t = trim(line);
    if (!*t)
        return;
    if (!indented) {
        s->cur = NULL;
        if (!strncmp(t, "conn", 4) && isspace((unsigned char)t[4])) {
            char *name = trim(t + 4);
            s->cur = conn_new(s, name, file, lno);
            if (!s->cur)
                mm_ah_report_error(s->r, "%s:%u: too many conns", file, lno);
        } else if (!strncmp(t, "include", 7) && isspace((unsigned char)t[7])) {
            char *pt = trim(t + 7);
            unquote(pt);
            include_glob(s, file, lno, pt, depth);
        }
        return; /* config setup, ca NAME, version 2 ... */
    }
    if (!s->cur)
        return;
    char *eq = strchr(t, '=');
    if (!eq)
        return;
    *eq = '\0';
    char *key = trim(t), *val = trim(eq + 1);
    unquote(val);
    struct conn *c = s->cur;
    struct {
        const char *key;
        char *dst;
        size_t cap;
    } keys[] = {
        {"ah", c->ah, sizeof(c->ah)},         {"phase2", c->phase2, sizeof(c->phase2)},
        {"auth", c->auth, sizeof(c->auth)},   {"left", c->left, sizeof(c->left)},
        {"right", c->right, sizeof(c->right)}, {"auto", c->autov, sizeof(c->autov)},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!strcmp(key, keys[i].key)) {
            snprintf(keys[i].dst, keys[i].cap, "%s", val);
            return;
        }
    if (!strcmp(key, "also") && c->nalso < MAX_ALSO)
        snprintf(c->also[c->nalso++], sizeof(c->also[0]), "%s", val);
}

/* A key's value for conn c: its own, else via also= (depth-bounded), else %default. */
static const char *conn_get(struct scan *s, const struct conn *c, size_t off, unsigned depth)
{
    const char *v = (const char *)c + off;
    if (*v)
        return v;
    if (depth < 8)
        for (unsigned i = 0; i < c->nalso; i++) {
            const struct conn *a = conn_find(s, c->also[i]);
            if (a && a != c) {
                const char *av = conn_get(s, a, off, depth + 1);
                if (av)
                    return av;
            }
        }
    if (depth == 0 && strcmp(c->name, "%default")) {
        const struct conn *d = conn_find(s, "%default");
        if (d && *((const char *)d + off))
            return (const char *)d + off;
    }
    return NULL;
}

#define CONN_GET(s, c, field) conn_get((s), (c), offsetof(struct conn, field), 0)

static void ipsec_evaluate(struct scan *s, size_t first)
{
    for (size_t i = first; i < s->nconns; i++) {
        const struct conn *c = &s->conns[i];
        const char *ah = CONN_GET(s, c, ah), *phase2 = CONN_GET(s, c, phase2);
        const char *auth = CONN_GET(s, c, auth), *autov = CONN_GET(s, c, autov);
        const char *left = CONN_GET(s, c, left), *right = CONN_GET(s, c, right);
        char where[320];
        snprintf(where, sizeof(where), "%.250s:%u conn %.60s", c->file, c->line, c->name);
        const char *note = autov && !strcmp(autov, "ignore") ? " (auto=ignore: not loaded)" : "";
        char detail[VAL + 96];
        if (phase2 && !strcasecmp(phase2, "ah")) {
            snprintf(detail, sizeof(detail), "libreswan phase2=ah (AH for the IPsec SA), ah=%s%s",
                     ah ? ah : "default", note);
            config_finding(s, where, left, right, detail);
        } else if (auth && !strcasecmp(auth, "ah")) {
            snprintf(detail, sizeof(detail), "auth=ah (FreeS/WAN spelling)%s", note);
            config_finding(s, where, left, right, detail);
        } else if (ah && !phase2) {
            snprintf(detail, sizeof(detail), "ah=%s (strongSwan: the CHILD_SA uses AH)%s", ah,
                     note);
            config_finding(s, where, left, right, detail);
        } else if (ah) {
            mm_ah_report_note(s->r, "%s: ah=%s has no effect with phase2=%s", where, ah, phase2);
        }
    }
}

static void scan_ipsec(struct scan *s, mm_cursor *c, const char *file, unsigned depth)
{
    char line[MAX_LINE];
    bool too_long;
    for (unsigned lno = 1; next_line(c, line, sizeof(line), &too_long); lno++) {
        if (too_long)
            mm_ah_report_note(s->r, "%s:%u: line longer than %d octets cut", file, lno, MAX_LINE);
        ipsec_line(s, file, lno, line, depth);
    }
    s->cur = NULL;
}

/* ---------------------------------------------------------------- entry points */

static enum mm_ah_conf_kind detect(const char *text, size_t len)
{
    /* swanctl.conf has brace sections; ipsec.conf never does. */
    return memchr(text, '{', len) ? MM_AH_CONF_SWANCTL : MM_AH_CONF_IPSEC;
}

static void scan_text(struct scan *s, const char *text, size_t len, const char *name,
                      unsigned depth)
{
    mm_cursor c;
    mm_cursor_init_read(&c, (const uint8_t *)text, len);
    enum mm_ah_conf_kind k = s->kind == MM_AH_CONF_AUTO ? detect(text, len) : s->kind;
    if (k == MM_AH_CONF_SWANCTL)
        scan_swanctl(s, &c, name, depth);
    else
        scan_ipsec(s, &c, name, depth);
}

static int scan_file(struct scan *s, const char *path, unsigned depth)
{
    if (++s->files > MAX_FILES) {
        mm_ah_report_error(s->r, "%s: more than %d config files", path, MAX_FILES);
        return MM_ELIMIT;
    }
    FILE *fp = fopen(path, "rb");
    struct stat st;
    if (!fp || fstat(fileno(fp), &st) != 0) {
        mm_ah_report_error(s->r, "%s: cannot read: %s", path, strerror(errno));
        if (fp)
            fclose(fp);
        return MM_EIO;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_FILE_SIZE) {
        mm_ah_report_error(s->r, "%s: not a regular file of at most 16 MiB", path);
        fclose(fp);
        return MM_ELIMIT;
    }
    char *text = malloc((size_t)st.st_size + 1);
    size_t n = text ? fread(text, 1, (size_t)st.st_size, fp) : 0;
    int err = ferror(fp);
    fclose(fp);
    if (!text || err) {
        mm_ah_report_error(s->r, "%s: cannot read: %s", path, text ? "I/O error" : "out of memory");
        free(text);
        return MM_EIO;
    }
    scan_text(s, text, n, path, depth);
    free(text);
    return 0;
}

static int finish(struct scan *s, int rc)
{
    ipsec_evaluate(s, 0);
    free(s->conns);
    return rc;
}

int mm_ah_conf_scan_file(const char *path, enum mm_ah_conf_kind kind, mm_ah_report *r)
{
    struct scan s = {.r = r, .kind = kind};
    return finish(&s, scan_file(&s, path, 0));
}

int mm_ah_conf_scan_buf(const char *text, size_t len, const char *name, enum mm_ah_conf_kind kind,
                        mm_ah_report *r)
{
    struct scan s = {.r = r, .kind = kind, .no_include = true};
    scan_text(&s, text, len, name, 0);
    return finish(&s, 0);
}
