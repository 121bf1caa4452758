/*
 * zt_discover.c - find the running mamori installation: processes whose
 * executable is mamori-*, their uid, the directories and CRL on their
 * command line, and their listening sockets (socket inodes of
 * /proc/PID/fd matched against /proc/PID/net/{tcp,tcp6,udp,udp6}).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/mm_core.h"
#include "zt.h"

#define MAX_SOCKETS 256

static bool read_small(const char *path, char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    *len = fread(buf, 1, cap - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return true;
}

/* Relative paths on a command line are relative to the process's cwd. */
static void abs_path(pid_t pid, const char *p, char *out, size_t cap)
{
    if (p[0] == '/') {
        snprintf(out, cap, "%s", p);
        return;
    }
    char link[64], cwd[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
    ssize_t n = readlink(link, cwd, sizeof(cwd) - 1);
    if (n <= 0) {
        snprintf(out, cap, "%s", p);
        return;
    }
    cwd[n] = '\0';
    snprintf(out, cap, "%s/%s", cwd, p);
}

static void parse_cmdline(mm_zt_daemon *d)
{
    char path[64], buf[8192];
    size_t len;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)d->pid);
    if (!read_small(path, buf, sizeof(buf), &len))
        return;
    const struct {
        const char *opt;
        char *dst;
        size_t cap;
    } opts[] = {{"--state-dir", d->state_dir, sizeof(d->state_dir)},
                {"--pki-dir", d->pki_dir, sizeof(d->pki_dir)},
                {"--crl", d->crl, sizeof(d->crl)}};
    const char *prev = NULL;
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
        const char *arg = buf + i;
        for (size_t k = 0; k < 3; k++) {
            size_t ol = strlen(opts[k].opt);
            if (prev && !strcmp(prev, opts[k].opt))
                abs_path(d->pid, arg, opts[k].dst, opts[k].cap);
            else if (!strncmp(arg, opts[k].opt, ol) && arg[ol] == '=')
                abs_path(d->pid, arg + ol + 1, opts[k].dst, opts[k].cap);
        }
        prev = arg;
    }
}

static void read_uids(mm_zt_daemon *d)
{
    char path[64], buf[4096];
    size_t len;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
    if (!read_small(path, buf, sizeof(buf), &len))
        return;
    const char *u = strstr(buf, "\nUid:");
    unsigned r = 0, e = 0;
    if (u && sscanf(u, "\nUid: %u %u", &r, &e) == 2) {
        d->ruid = r;
        d->euid = e;
    }
}

static size_t socket_inodes(pid_t pid, unsigned long *inodes, size_t max)
{
    char dpath[64];
    snprintf(dpath, sizeof(dpath), "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(dpath);
    if (!dir)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n < max) {
        char lpath[320], target[64];
        snprintf(lpath, sizeof(lpath), "%s/%s", dpath, e->d_name);
        ssize_t l = readlink(lpath, target, sizeof(target) - 1);
        if (l <= 0)
            continue;
        target[l] = '\0';
        unsigned long ino;
        if (sscanf(target, "socket:[%lu]", &ino) == 1)
            inodes[n++] = ino;
    }
    closedir(dir);
    return n;
}

/* /proc/net/tcp stores addresses as host-order 32-bit words in hex. */
static void proc_addr(const char *hex, bool v6, char *out, size_t cap)
{
    uint8_t a[16] = {0};
    size_t words = v6 ? 4 : 1;
    for (size_t w = 0; w < words; w++) {
        char part[9] = {0};
        memcpy(part, hex + w * 8, 8);
        uint32_t v = (uint32_t)strtoul(part, NULL, 16);
        memcpy(a + w * 4, &v, 4);
    }
    inet_ntop(v6 ? AF_INET6 : AF_INET, a, out, (socklen_t)cap);
}

static void scan_net(mm_zt_target *t, const mm_zt_daemon *d, const char *file, bool v6, bool udp,
                     const unsigned long *inodes, size_t ninodes)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)d->pid, file);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char local[64];
        unsigned port, state;
        unsigned long ino;
        if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
                   local, &port, &state, &ino) != 4)
            continue;
        /* TCP LISTEN is 0x0A; a bound, unconnected UDP socket shows 0x07. */
        if ((!udp && state != 0x0A) || (udp && state != 0x07))
            continue;
        bool mine = false;
        for (size_t i = 0; i < ninodes; i++)
            mine |= inodes[i] == ino;
        if (!mine || t->nendpoints >= MM_ZT_MAX_ENDPOINTS)
            continue;
        mm_zt_endpoint *ep = &t->endpoints[t->nendpoints++];
        memset(ep, 0, sizeof(*ep));
        proc_addr(local, v6, ep->addr, sizeof(ep->addr));
        ep->port = (uint16_t)port;
        ep->udp = udp;
        snprintf(ep->owner, sizeof(ep->owner), "%s", d->name);
        ep->pid = d->pid;
    }
    fclose(f);
}

int mm_zt_discover(mm_zt_target *t, const pid_t *pids, size_t npids)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return MM_ESYS;
    struct dirent *e;
    pid_t self = getpid();
    while ((e = readdir(proc)) && t->ndaemons < MM_ZT_MAX_DAEMONS) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid == self)
            continue;
        bool wanted = npids == 0;
        for (size_t i = 0; i < npids; i++)
            wanted |= pids[i] == pid;
        if (!wanted)
            continue;
        char link[64], exe[PATH_MAX];
        snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
        ssize_t n = readlink(link, exe, sizeof(exe) - 1);
        if (n <= 0)
            continue;
        exe[n] = '\0';
        const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
        /* The daemons only: mamori-<x>d (not the `mamori` CLI or the supervisor). */
        size_t bl = strlen(base);
        if (strncmp(base, "mamori-", 7) != 0 || bl < 9 || base[bl - 1] != 'd')
            continue;
        mm_zt_daemon *d = &t->daemons[t->ndaemons++];
        memset(d, 0, sizeof(*d));
        d->pid = pid;
        snprintf(d->name, sizeof(d->name), "%.63s", base);
        read_uids(d);
        parse_cmdline(d);
        unsigned long inodes[MAX_SOCKETS];
        size_t ni = socket_inodes(pid, inodes, MAX_SOCKETS);
        scan_net(t, d, "tcp", false, false, inodes, ni);
        scan_net(t, d, "tcp6", true, false, inodes, ni);
        scan_net(t, d, "udp", false, true, inodes, ni);
        scan_net(t, d, "udp6", true, true, inodes, ni);
    }
    closedir(proc);
    return 0;
}

int mm_zt_add_endpoint(mm_zt_target *t, const char *hostport)
{
    if (t->nendpoints >= MM_ZT_MAX_ENDPOINTS)
        return MM_ELIMIT;
    char host[64];
    const char *colon;
    if (hostport[0] == '[') {
        const char *close = strchr(hostport, ']');
        if (!close || close[1] != ':' || (size_t)(close - hostport - 1) >= sizeof(host))
            return MM_EINVAL;
        memcpy(host, hostport + 1, (size_t)(close - hostport - 1));
        host[close - hostport - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(hostport, ':');
        if (!colon || (size_t)(colon - hostport) >= sizeof(host))
            return MM_EINVAL;
        memcpy(host, hostport, (size_t)(colon - hostport));
        host[colon - hostport] = '\0';
    }
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    uint8_t tmp[16];
    if (!colon[1] || *end || port == 0 || port > 65535 ||
        (inet_pton(AF_INET, host, tmp) != 1 && inet_pton(AF_INET6, host, tmp) != 1))
        return MM_EINVAL;
    mm_zt_endpoint *ep = &t->endpoints[t->nendpoints++];
    memset(ep, 0, sizeof(*ep));
    snprintf(ep->addr, sizeof(ep->addr), "%s", host);
    ep->port = (uint16_t)port;
    snprintf(ep->owner, sizeof(ep->owner), "--endpoint");
    return 0;
}
