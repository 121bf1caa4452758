/*
 * delayline.c - see delayline.h.
 *
 * One AF_PACKET socket per interface; each frame read is stamped with its
 * release time and queued for the other side; a poll() loop sends frames
 * whose time has come. A queue is a ring of fixed slots: if it fills (a
 * bandwidth-delay product above the ring), frames are dropped, as a router
 * would.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "delayline.h"

#define SLOTS 8192
#define FRAME_MAX 2048

typedef struct frame {
    uint64_t due_us;
    uint16_t len;
    uint8_t data[FRAME_MAX];
} frame;

typedef struct ring {
    frame *f;
    size_t head, count;
} ring;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int open_if(const char *name, int *ifindex)
{
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
    if (fd < 0)
        return -1;
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
    sll.sll_ifindex = (int)if_nametoindex(name);
    if (sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
        close(fd);
        return -1;
    }
    /* Frames of other hosts too: this is a bridge. */
    struct packet_mreq mr = {.mr_ifindex = sll.sll_ifindex, .mr_type = PACKET_MR_PROMISC};
    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
    *ifindex = sll.sll_ifindex;
    return fd;
}

/* Read everything pending on fd into r (frames we sent ourselves are skipped). */
static void drain_in(int fd, ring *r, unsigned delay_ms)
{
    for (;;) {
        uint8_t buf[FRAME_MAX];
        struct sockaddr_ll from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n <= 0)
            return;
        if (from.sll_pkttype == PACKET_OUTGOING)
            continue;
        if (r->count == SLOTS)
            continue; /* queue full: tail drop */
        frame *f = &r->f[(r->head + r->count) % SLOTS];
        f->due_us = now_us() + (uint64_t)delay_ms * 1000u;
        f->len = (uint16_t)n;
        memcpy(f->data, buf, (size_t)n);
        r->count++;
    }
}

static void drain_out(int fd, ring *r, uint64_t now)
{
    while (r->count > 0 && r->f[r->head].due_us <= now) {
        frame *f = &r->f[r->head];
        (void)send(fd, f->data, f->len, 0);
        r->head = (r->head + 1) % SLOTS;
        r->count--;
    }
}

static int next_wait_ms(const ring *a, const ring *b, uint64_t now)
{
    uint64_t due = UINT64_MAX;
    if (a->count > 0)
        due = a->f[a->head].due_us;
    if (b->count > 0 && b->f[b->head].due_us < due)
        due = b->f[b->head].due_us;
    if (due == UINT64_MAX)
        return 5;
    return due <= now ? 0 : (int)((due - now + 999) / 1000);
}

int mm_delayline_no_offload(const char *ifname)
{
    /* veth hands frames on with checksums still to be filled in (offload);
     * a frame copied through AF_PACKET would arrive with a bad checksum. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    struct ethtool_value ev = {.cmd = ETHTOOL_STXCSUM, .data = 0};
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    ifr.ifr_data = (char *)&ev;
    int rc = ioctl(fd, SIOCETHTOOL, &ifr);
    close(fd);
    return rc < 0 ? -1 : 0;
}

int mm_delayline_run(const char *ifa, const char *ifb, unsigned delay_ms, volatile bool *stop)
{
    int ia, ib;
    int fa = open_if(ifa, &ia), fb = open_if(ifb, &ib);
    ring ab = {.f = calloc(SLOTS, sizeof(frame))}, ba = {.f = calloc(SLOTS, sizeof(frame))};
    int rc = -1;
    if (fa < 0 || fb < 0 || ab.f == NULL || ba.f == NULL)
        goto out;
    rc = 0;
    while (!*stop) {
        uint64_t now = now_us();
        int wait = next_wait_ms(&ab, &ba, now);
        if (wait > 5)
            wait = 5;
        struct pollfd p[2] = {{.fd = fa, .events = POLLIN}, {.fd = fb, .events = POLLIN}};
        poll(p, 2, wait);
        drain_in(fa, &ab, delay_ms);
        drain_in(fb, &ba, delay_ms);
        now = now_us();
        drain_out(fb, &ab, now);
        drain_out(fa, &ba, now);
    }
out:
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    free(ab.f);
    free(ba.f);
    return rc;
}
