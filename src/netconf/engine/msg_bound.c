/*
 * msg_bound.c - the cost of one NETCONF message, bounded before libyang
 * sees it (issue 10 item 3). libyang's parser of an <rpc> grows worse than
 * linearly with sibling elements and attributes, so one message of a few
 * megabytes could hold the single event loop (and every other session) for
 * tens of seconds. One linear pass over the text counts start tags,
 * attributes per start tag and nesting depth; a message over a limit is
 * answered with an rpc-error without being parsed.
 *
 * The scan is not an XML parser: it only has to be sure never to count
 * less than libyang will build. Comments, CDATA sections, processing
 * instructions and declarations are skipped; attribute values are skipped
 * by their quotes, so a '>' or '=' inside one is not miscounted.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "mamori/mm_cursor.h"
#include "nc_internal.h"

/* Does the unread input start with lit? */
static bool at(const mm_cursor *c, const char *lit)
{
    size_t n = strlen(lit);
    return mm_cursor_remaining(c) >= n && memcmp(mm_cursor_ptr(c), lit, n) == 0;
}

/* Skip past the first occurrence of end (or to the end of the input). */
static void skip_past(mm_cursor *c, const char *end)
{
    size_t n = strlen(end);
    const uint8_t *p = mm_cursor_ptr(c);
    size_t left = mm_cursor_remaining(c);
    const uint8_t *hit = left >= n ? memmem(p, left, end, n) : NULL;
    mm_cursor_skip(c, hit ? (size_t)(hit - p) + n : left);
}

static bool name_char(uint8_t b)
{
    return b != '=' && b != '>' && b != '/' && b != '"' && b != '\'' && b != ' ' &&
           b != '\t' && b != '\r' && b != '\n' && b != '<';
}

/* The message-id attribute of the root start tag, if its value is plain text. */
static void take_message_id(nc_msg_scan *sc, const uint8_t *name_end, size_t name_len,
                            const uint8_t *val, size_t val_len)
{
    static const char mid[] = "message-id";
    if (sc->message_id[0] || name_len != sizeof(mid) - 1 ||
        memcmp(name_end - name_len, mid, name_len) != 0 || val_len >= sizeof(sc->message_id))
        return;
    /* An entity or markup in the value: leave it out rather than echo it wrong. */
    if (memchr(val, '&', val_len) || memchr(val, '<', val_len))
        return;
    memcpy(sc->message_id, val, val_len);
    sc->message_id[val_len] = '\0';
}

/*
 * One start tag, the cursor just past '<'. Counts its attributes (every
 * '=' outside a quoted value); returns true if it was an empty-element tag.
 */
static bool start_tag(mm_cursor *c, nc_msg_scan *sc, bool root)
{
    uint32_t attrs = 0;
    size_t name_len = 0; /* length of the name run just before the cursor */
    const uint8_t *name_end = NULL, *attr_end = NULL;
    size_t attr_len = 0;
    uint8_t prev = 0;
    while (mm_cursor_remaining(c) > 0) {
        const uint8_t *p = mm_cursor_ptr(c);
        uint8_t b = mm_cursor_read_u8(c);
        if (b == '>') {
            if (attrs > sc->max_attrs)
                sc->max_attrs = attrs;
            return prev == '/';
        }
        if (b == '"' || b == '\'') {
            const uint8_t *v = mm_cursor_ptr(c);
            size_t left = mm_cursor_remaining(c);
            const uint8_t *q = memchr(v, b, left);
            size_t vlen = q ? (size_t)(q - v) : left;
            mm_cursor_skip(c, q ? vlen + 1 : vlen);
            if (root && attr_end)
                take_message_id(sc, attr_end, attr_len, v, vlen);
            attr_end = NULL;
            prev = b;
            continue;
        }
        if (b == '=') {
            attrs++;
            attr_end = name_end;
            attr_len = name_len;
        } else if (name_char(b)) {
            name_len = name_char(prev) ? name_len + 1 : 1;
            name_end = p + 1;
        }
        prev = b;
    }
    if (attrs > sc->max_attrs)
        sc->max_attrs = attrs;
    return false;
}

int nc_msg_scan_run(const char *msg, size_t len, const nc_msg_limits *lim, nc_msg_scan *sc)
{
    memset(sc, 0, sizeof(*sc));
    mm_cursor c;
    mm_cursor_init_read(&c, (const uint8_t *)msg, len);
    uint32_t depth = 0;
    while (mm_cursor_remaining(&c) > 0) {
        const uint8_t *p = mm_cursor_ptr(&c);
        const uint8_t *lt = memchr(p, '<', mm_cursor_remaining(&c));
        if (!lt)
            break;
        mm_cursor_skip(&c, (size_t)(lt - p) + 1);
        if (at(&c, "!--")) {
            skip_past(&c, "-->");
        } else if (at(&c, "![CDATA[")) {
            skip_past(&c, "]]>");
        } else if (at(&c, "?")) {
            skip_past(&c, "?>");
        } else if (at(&c, "!")) {
            skip_past(&c, ">"); /* a declaration (libyang refuses a DTD anyway) */
        } else if (at(&c, "/")) {
            skip_past(&c, ">");
            depth = depth ? depth - 1 : 0;
        } else {
            sc->elements++;
            if (!start_tag(&c, sc, sc->elements == 1)) {
                depth++;
                if (depth > sc->max_depth)
                    sc->max_depth = depth;
            }
        }
        if (sc->elements > lim->elements) {
            sc->limit = "elements";
            return MM_ELIMIT;
        }
        if (sc->max_attrs > lim->attributes) {
            sc->limit = "attributes";
            return MM_ELIMIT;
        }
        if (sc->max_depth > lim->depth) {
            sc->limit = "depth";
            return MM_ELIMIT;
        }
    }
    return 0;
}
