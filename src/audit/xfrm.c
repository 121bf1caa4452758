/*
 * xfrm.c - AH in the kernel's IPsec state: dump SAs (XFRM_MSG_GETSA) and
 * policies (XFRM_MSG_GETPOLICY) over NETLINK_XFRM, in the current network
 * namespace or in a named one (/var/run/netns/NAME, entered with setns).
 *
 * An SA is AH iff xfrm_usersa_info.id.proto == IPPROTO_AH; a policy uses AH
 * iff one of its XFRMA_TMPL templates has id.proto == IPPROTO_AH
 * (<linux/xfrm.h>). SA dumps carry key material in XFRMA_ALG_* attributes:
 * this file never reads SA attributes, so keys are neither parsed nor kept.
 *
 * Netlink messages are in host byte order; they are read through mm_cursor
 * for the bounds and copied into the kernel's structs only after their
 * length is checked.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/utsname.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zlib.h>

#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>

#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"
#include "mamori/mm_cursor.h"

/* Netlink attribute and message alignment (4 octets). */
#define NL_ALIGN(n) (((n) + 3u) & ~(size_t)3u)
/* Bound of one dump (messages), against a kernel with a runaway table. */
#define MAX_DUMP_MESSAGES 1000000

static const char *const dir_names[] = {"in", "out", "fwd"};

static const char *mode_name(uint8_t mode)
{
    switch (mode) {
    case XFRM_MODE_TRANSPORT:
        return "transport";
    case XFRM_MODE_TUNNEL:
        return "tunnel";
    case XFRM_MODE_BEET:
        return "beet";
    default:
        return "other";
    }
}

static uint8_t family_of(uint16_t af) { return af == AF_INET6 ? 6 : 4; }

static void addr_fmt(uint16_t af, const xfrm_address_t *a, char *out, size_t outlen)
{
    mm_ah_addr_format(family_of(af), (const uint8_t *)a, out, outlen);
}

static int on_sa(mm_cursor *body, const char *where, mm_ah_report *r)
{
    struct xfrm_usersa_info sa;
    if (mm_cursor_remaining(body) < sizeof(sa))
        return MM_EMALFORMED;
    mm_cursor_read_bytes(body, (uint8_t *)&sa, sizeof(sa));
    if (sa.id.proto != IPPROTO_AH)
        return 0;
    mm_ah_finding f;
    memset(&f, 0, sizeof(f));
    f.source = MM_AH_SRC_SA;
    f.verdict = MM_AH_IN_USE;
    snprintf(f.where, sizeof(f.where), "%s", where);
    addr_fmt(sa.family, &sa.saddr, f.src, sizeof(f.src));
    addr_fmt(sa.family, &sa.id.daddr, f.dst, sizeof(f.dst));
    f.has_spi = true;
    f.spi = ntohl(sa.id.spi);
    snprintf(f.detail, sizeof(f.detail), "proto ah mode %s reqid %u", mode_name(sa.mode),
             sa.reqid);
    return mm_ah_report_add(r, &f);
}

static void selector_fmt(const struct xfrm_selector *s, char *out, size_t outlen)
{
    char a[64], b[64];
    addr_fmt(s->family ? s->family : AF_INET, &s->saddr, a, sizeof(a));
    addr_fmt(s->family ? s->family : AF_INET, &s->daddr, b, sizeof(b));
    snprintf(out, outlen, "%s/%u -> %s/%u", a, s->prefixlen_s, b, s->prefixlen_d);
}

static int on_policy(mm_cursor *body, const char *where, mm_ah_report *r)
{
    struct xfrm_userpolicy_info pol;
    if (mm_cursor_remaining(body) < sizeof(pol))
        return MM_EMALFORMED;
    mm_cursor_read_bytes(body, (uint8_t *)&pol, sizeof(pol));
    /* The attributes follow the aligned fixed part. */
    size_t pad = NL_ALIGN(sizeof(pol)) - sizeof(pol);
    mm_cursor_skip(body, pad < mm_cursor_remaining(body) ? pad : mm_cursor_remaining(body));
    while (mm_cursor_remaining(body) >= sizeof(struct nlattr)) {
        struct nlattr na;
        mm_cursor_read_bytes(body, (uint8_t *)&na, sizeof(na));
        if (na.nla_len < sizeof(na))
            return MM_EMALFORMED;
        size_t plen = na.nla_len - sizeof(na);
        mm_cursor attr;
        mm_cursor_sub(body, plen, &attr);
        if (mm_cursor_error(body))
            return MM_EMALFORMED;
        size_t pad_a = NL_ALIGN(na.nla_len) - na.nla_len;
        mm_cursor_skip(body, pad_a < mm_cursor_remaining(body) ? pad_a : mm_cursor_remaining(body));
        if ((na.nla_type & NLA_TYPE_MASK) != XFRMA_TMPL)
            continue;
        for (unsigned i = 0; mm_cursor_remaining(&attr) >= sizeof(struct xfrm_user_tmpl); i++) {
            struct xfrm_user_tmpl t;
            mm_cursor_read_bytes(&attr, (uint8_t *)&t, sizeof(t));
            if (t.id.proto != IPPROTO_AH)
                continue;
            mm_ah_finding f;
            memset(&f, 0, sizeof(f));
            f.source = MM_AH_SRC_POLICY;
            f.verdict = MM_AH_IN_USE;
            snprintf(f.where, sizeof(f.where), "%s", where);
            addr_fmt(t.family, &t.saddr, f.src, sizeof(f.src));
            addr_fmt(t.family, &t.id.daddr, f.dst, sizeof(f.dst));
            if (t.id.spi) {
                f.has_spi = true;
                f.spi = ntohl(t.id.spi);
            }
            char sel[160];
            selector_fmt(&pol.sel, sel, sizeof(sel));
            snprintf(f.detail, sizeof(f.detail),
                     "policy %s dir %s index %u, template %u: proto ah mode %s reqid %u%s", sel,
                     pol.dir < 3 ? dir_names[pol.dir] : "?", pol.index, i, mode_name(t.mode),
                     t.reqid, t.optional ? " (optional)" : "");
            MM_GUARD(mm_ah_report_add(r, &f));
        }
    }
    return 0;
}

int mm_ah_xfrm_parse(const uint8_t *buf, size_t len, const char *where, mm_ah_report *r)
{
    mm_cursor c;
    mm_cursor_init_read(&c, buf, len);
    while (mm_cursor_remaining(&c) > 0) {
        struct nlmsghdr nh;
        if (mm_cursor_remaining(&c) < sizeof(nh))
            return MM_EMALFORMED;
        mm_cursor_read_bytes(&c, (uint8_t *)&nh, sizeof(nh));
        if (nh.nlmsg_len < sizeof(nh))
            return MM_EMALFORMED;
        mm_cursor body;
        mm_cursor_sub(&c, nh.nlmsg_len - sizeof(nh), &body);
        if (mm_cursor_error(&c))
            return MM_EMALFORMED;
        size_t pad = NL_ALIGN(nh.nlmsg_len) - nh.nlmsg_len;
        mm_cursor_skip(&c, pad < mm_cursor_remaining(&c) ? pad : mm_cursor_remaining(&c));
        switch (nh.nlmsg_type) {
        case NLMSG_DONE:
            return 1;
        case NLMSG_ERROR: {
            int32_t e = 0;
            if (mm_cursor_remaining(&body) < sizeof(e))
                return MM_EMALFORMED;
            mm_cursor_read_bytes(&body, (uint8_t *)&e, sizeof(e));
            if (e == 0)
                continue; /* an acknowledgement */
            errno = -e;
            return -e == EPERM ? MM_EPERM : MM_ESYS;
        }
        case XFRM_MSG_NEWSA:
            MM_GUARD(on_sa(&body, where, r));
            break;
        case XFRM_MSG_NEWPOLICY:
            MM_GUARD(on_policy(&body, where, r));
            break;
        default:
            break;
        }
    }
    return 0;
}

/* One dump request and its answers. */
static int dump(int fd, uint16_t type, uint32_t seq, const char *where, mm_ah_report *r)
{
    struct {
        struct nlmsghdr nh;
    } req = {.nh = {.nlmsg_len = sizeof(struct nlmsghdr),
                    .nlmsg_type = type,
                    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                    .nlmsg_seq = seq}};
    if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
        return MM_ESYS;
    static uint8_t buf[65536] __attribute__((aligned(4)));
    for (unsigned msgs = 0; msgs < MAX_DUMP_MESSAGES; msgs++) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? MM_ECLOSED : MM_ESYS;
        int rc = mm_ah_xfrm_parse(buf, (size_t)n, where, r);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    return MM_ELIMIT;
}

static int scan_here(const char *where, mm_ah_report *r)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
    if (fd < 0) {
        mm_ah_report_error(r, "%s: NETLINK_XFRM socket: %s", where, strerror(errno));
        return MM_ESYS;
    }
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    int rc = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        mm_ah_report_error(r, "%s: bind netlink: %s", where, strerror(errno));
        rc = MM_ESYS;
    }
    const struct {
        uint16_t type;
        const char *what;
    } dumps[] = {{XFRM_MSG_GETSA, "SA dump"}, {XFRM_MSG_GETPOLICY, "policy dump"}};
    for (size_t i = 0; !rc && i < 2; i++) {
        rc = dump(fd, dumps[i].type, (uint32_t)i + 1, where, r);
        if (rc)
            mm_ah_report_error(r, "%s: %s: %s%s", where, dumps[i].what,
                               rc == MM_ESYS || rc == MM_EPERM ? strerror(errno) : mm_strerror(rc),
                               rc == MM_EPERM ? " (needs CAP_NET_ADMIN)" : "");
    }
    close(fd);
    return rc;
}

int mm_ah_xfrm_scan_nsfile(const char *nsfile, const char *label, mm_ah_report *r)
{
    char where[300];
    snprintf(where, sizeof(where), "xfrm netns %s", label);
    int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = open(nsfile, O_RDONLY | O_CLOEXEC);
    int rc = 0;
    if (self < 0 || target < 0) {
        mm_ah_report_error(r, "%s: %s: %s", where, self < 0 ? "/proc/self/ns/net" : nsfile,
                           strerror(errno));
        rc = MM_ENOENT;
    } else if (setns(target, CLONE_NEWNET) != 0) {
        mm_ah_report_error(r, "%s: setns: %s", where, strerror(errno));
        rc = MM_ESYS;
    } else {
        rc = scan_here(where, r);
        if (setns(self, CLONE_NEWNET) != 0) {
            /* Continuing in the wrong namespace would mislabel every later finding. */
            mm_ah_report_error(r, "%s: cannot return to the original namespace: %s", where,
                               strerror(errno));
            rc = MM_ESYS;
        }
    }
    if (self >= 0)
        close(self);
    if (target >= 0)
        close(target);
    return rc;
}

int mm_ah_xfrm_scan(const char *netns, mm_ah_report *r)
{
    if (!netns)
        return scan_here("xfrm (current network namespace)", r);
    if (!netns[0] || strchr(netns, '/') || !strcmp(netns, ".") || !strcmp(netns, "..")) {
        mm_ah_report_error(r, "xfrm netns %s: not a network namespace name", netns);
        return MM_EINVAL;
    }
    char path[300];
    snprintf(path, sizeof(path), "/var/run/netns/%s", netns);
    return mm_ah_xfrm_scan_nsfile(path, netns, r);
}

/*
 * AH_CAPABLE (spec section 4.2): whether this kernel can do AH at all, from
 * the loaded modules and the build configuration. Reported as a note: the
 * capability alone is not use.
 */
void mm_ah_kernel_note(mm_ah_report *r)
{
    static const char *const mods[] = {"/sys/module/ah4", "/sys/module/ah6"};
    char loaded[64] = "";
    for (size_t i = 0; i < 2; i++)
        if (access(mods[i], F_OK) == 0) {
            strcat(loaded, loaded[0] ? ", " : "");
            strcat(loaded, mods[i] + 12);
        }
    if (loaded[0]) {
        mm_ah_report_note(r, "AH_CAPABLE: kernel AH modules loaded (%s)", loaded);
        return;
    }
    /* The build configuration: /proc/config.gz (CONFIG_IKCONFIG_PROC), else /boot. */
    char path[300] = "/proc/config.gz";
    struct utsname u;
    if (access(path, R_OK) != 0 && uname(&u) == 0)
        snprintf(path, sizeof(path), "/boot/config-%s", u.release);
    gzFile f = gzopen(path, "r"); /* reads plain files as they are */
    if (!f)
        return;
    char line[256];
    bool ah = false;
    while (gzgets(f, line, sizeof(line)))
        ah |= !strncmp(line, "CONFIG_INET_AH=", 15) || !strncmp(line, "CONFIG_INET6_AH=", 16);
    gzclose(f);
    mm_ah_report_note(r, "%s: %s", path,
                      ah ? "AH_CAPABLE: the kernel is built with AH (CONFIG_INET_AH/INET6_AH)"
                         : "kernel built without AH (CONFIG_INET_AH, CONFIG_INET6_AH not set)");
}
