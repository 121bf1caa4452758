/*
 * A minimal client of Knot DNS's control socket (the protocol knotc speaks),
 * used for one command: `zone-notify ZONE`.
 *
 * Why: Knot 3.2 plans zone events in whole seconds (time_t). Every applied
 * UPDATE plans the zone's NOTIFY event for "now + 1 s"; when the event worker
 * goes idle, the scheduler timer is armed (planned - now) * 1000 ms ahead.
 * An UPDATE that arrives after the next second boundary is planned for the
 * same second as that NOTIFY, so the zone's "next event time" does not
 * change and the timer is not re-armed: the UPDATE waits for the NOTIFY
 * timer, up to 1 s (measured: 0.99 s, about once per second of continuous
 * updates). A user-triggered event (the control socket) always re-arms the
 * timer, so ddnsd sends `zone-notify` before an UPDATE whenever a second
 * boundary may lie between Knot's last answer and now (ddnsd.c). The
 * NOTIFY was due anyway: secondaries only hear of the change sooner.
 *
 * Wire format (Knot's libknot/control): a unit is a type byte (0 end,
 * 1 data, 2 extra, 3 block) and, for data units, items of
 * code (16 + index) | u16 length | bytes. Index 0 is the command, 2 an
 * error message, 6 the zone. A request is data + block; the server answers
 * with data units (errors) and a block; the client ends with an end unit.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"
#include "mamori/mm_ddns_push.h"

enum { CTL_END = 0, CTL_DATA = 1, CTL_EXTRA = 2, CTL_BLOCK = 3, CTL_ITEM0 = 16 };
enum { CTL_IDX_CMD = 0, CTL_IDX_ERROR = 2, CTL_IDX_ZONE = 6, CTL_IDX_COUNT = 12 };

#define KNOTCTL_TIMEOUT_MS 500

int mm_ddns_knotctl_reply_parse(const uint8_t *p, size_t len, char *err, size_t errlen)
{
    mm_cursor c;
    mm_cursor_init_read(&c, p, len);
    if (err && errlen)
        err[0] = 0;
    bool failed = false;
    while (mm_cursor_remaining(&c) > 0) {
        uint8_t type = mm_cursor_read_u8(&c);
        if (type == CTL_BLOCK || type == CTL_END)
            return failed ? MM_EPROTO : 0;
        if (type != CTL_DATA && type != CTL_EXTRA)
            return MM_EPROTO;
        /* items until the next unit type */
        while (mm_cursor_remaining(&c) > 0 && *mm_cursor_ptr(&c) >= CTL_ITEM0) {
            uint8_t code = mm_cursor_read_u8(&c);
            if (code >= CTL_ITEM0 + CTL_IDX_COUNT)
                return MM_EPROTO;
            uint16_t n = mm_cursor_read_u16(&c);
            if (mm_cursor_error(&c) || mm_cursor_remaining(&c) < n)
                return MM_EAGAIN; /* the item is not complete yet */
            if (code == CTL_ITEM0 + CTL_IDX_ERROR) {
                failed = true;
                if (err && errlen)
                    snprintf(err, errlen, "%.*s", (int)n, (const char *)mm_cursor_ptr(&c));
            }
            mm_cursor_skip(&c, n);
        }
    }
    return MM_EAGAIN;
}

static void put_item(mm_cursor *w, unsigned idx, const char *s)
{
    size_t n = strlen(s);
    mm_cursor_write_u8(w, (uint8_t)(CTL_ITEM0 + idx));
    mm_cursor_write_u16(w, (uint16_t)n);
    mm_cursor_write_bytes(w, (const uint8_t *)s, n);
}

static int wait_fd(int fd, short ev)
{
    struct pollfd pf = {.fd = fd, .events = ev};
    int n;
    do
        n = poll(&pf, 1, KNOTCTL_TIMEOUT_MS);
    while (n < 0 && errno == EINTR);
    return n > 0 ? 0 : n == 0 ? MM_ETIMEOUT : MM_EIO;
}

int mm_ddns_knotctl_zone_notify(const char *sock_path, const char *zone)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!sock_path || strlen(sock_path) >= sizeof(sa.sun_path) || strlen(zone) > 255)
        return MM_EINVAL;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    uint8_t req[320];
    char zname[260];
    snprintf(zname, sizeof(zname), "%s.", zone);
    mm_cursor w;
    mm_cursor_init_write(&w, req, sizeof(req));
    mm_cursor_write_u8(&w, CTL_DATA);
    put_item(&w, CTL_IDX_CMD, "zone-notify");
    put_item(&w, CTL_IDX_ZONE, zname);
    mm_cursor_write_u8(&w, CTL_BLOCK);
    if (mm_cursor_error(&w))
        return MM_EINVAL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return MM_EIO;
    struct timeval tv = {0, KNOTCTL_TIMEOUT_MS * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int rc = MM_EIO;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        send(fd, req, mm_cursor_offset(&w), MSG_NOSIGNAL) != (ssize_t)mm_cursor_offset(&w))
        goto out;
    uint8_t ans[4096];
    size_t have = 0;
    char err[128];
    rc = MM_EAGAIN;
    while (rc == MM_EAGAIN && have < sizeof(ans)) {
        if ((rc = wait_fd(fd, POLLIN)) < 0)
            break;
        ssize_t n = recv(fd, ans + have, sizeof(ans) - have, 0);
        if (n <= 0) {
            rc = MM_EIO;
            break;
        }
        have += (size_t)n;
        rc = mm_ddns_knotctl_reply_parse(ans, have, err, sizeof(err));
    }
    if (rc == MM_EAGAIN)
        rc = MM_EPROTO; /* longer than any answer to this command */
    if (rc == MM_EPROTO && err[0])
        mm_log_warn("ddns-knotctl", "zone=%s err=\"%s\"", zone, err);
    uint8_t end = CTL_END;
    if (send(fd, &end, 1, MSG_NOSIGNAL) != 1 && rc == 0)
        rc = MM_EIO;
out:
    close(fd);
    return rc;
}
