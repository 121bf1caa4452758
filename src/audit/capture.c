/*
 * capture.c - feed frames from pcap/pcapng files (one streaming pass, a
 * progress line for big files) or from a live interface (BPF prefilter) to
 * the walker, and count AH hits in the report.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "mamori/mm_ahaudit.h"
#include "mamori/mm_core.h"

/*
 * The prefilter passes AH and the tunnels the walker looks into: IPv4
 * protocol 51, 4, 41, 47; IPv6 whose first Next Header is one of those or
 * an extension header (0 Hop-by-Hop, 43 Routing, 44 Fragment, 60
 * Destination Options, 135 Mobility), since AH can sit behind them. Not
 * `ip6 protochain 51`: libpcap compiles protochain into a loop (a backward
 * jump), which the kernel's classic BPF verifier rejects, and libpcap would
 * fall back to filtering every packet in user space. The walker makes the
 * final decision. Numbers, not names: `ah` is a keyword.
 */
#define V4 "ip proto 51 or ip proto 4 or ip proto 41 or ip proto 47"
#define V6                                                                               \
    "ip6 proto 51 or ip6 proto 4 or ip6 proto 41 or ip6 proto 47 or ip6 proto 0 "         \
    "or ip6 proto 43 or ip6 proto 44 or ip6 proto 60 or ip6 proto 135"
const char mm_ah_bpf_filter[] = V4 " or " V6 " or (vlan and (" V4 " or " V6 "))";

/* Problems per capture quoted in notes; the rest are only counted. */
#define MAX_FRAME_NOTES 10

struct feed {
    mm_ah_report *r;
    const char *where;
    int linktype;
    uint64_t frame;
    uint64_t ah_frames;
    unsigned noted;
};

static void feed_frame(struct feed *fd, const uint8_t *data, size_t caplen, size_t wirelen)
{
    mm_ah_walk_result w;
    fd->frame++;
    fd->r->frames++;
    int rc = mm_ah_walk(fd->linktype, data, caplen, &w);
    for (size_t i = 0; i < w.nhits; i++)
        (void)mm_ah_report_packet(fd->r, fd->where, fd->frame, &w.hits[i]);
    if (w.nhits)
        fd->ah_frames++;
    if (!rc)
        return;
    fd->r->frames_bad++;
    if (fd->noted++ < MAX_FRAME_NOTES)
        mm_ah_report_note(fd->r, "%s: frame %llu (%zu of %zu octets captured): %s at offset %zu",
                          fd->where, (unsigned long long)fd->frame, caplen, wirelen, w.reason,
                          w.offset);
}

static void progress(const char *path, uint64_t done, uint64_t size, uint64_t frames, bool last)
{
    fprintf(stderr, "\rmamori audit: %s: %llu/%llu MiB (%3u%%), %llu frames%s", path,
            (unsigned long long)(done >> 20), (unsigned long long)(size >> 20),
            size ? (unsigned)(done * 100 / size) : 100, (unsigned long long)frames,
            last ? "\n" : "");
}

int mm_ah_capture_file(const char *path, const mm_ah_capture_opts *o, mm_ah_report *r)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    struct stat st;
    if (stat(path, &st) != 0) {
        mm_ah_report_error(r, "%s: %s", path, strerror(errno));
        return MM_ENOENT;
    }
    pcap_t *p = pcap_open_offline(path, err);
    if (!p) {
        mm_ah_report_error(r, "%s: not a readable pcap/pcapng capture: %s", path, err);
        return MM_EMALFORMED;
    }
    struct feed fd = {.r = r, .where = path, .linktype = pcap_datalink(p)};
    r->last_packet = 0; /* the flow cache keys on the where pointer: one capture at a time */
    if (!mm_ah_linktype_supported(fd.linktype)) {
        const char *name = pcap_datalink_val_to_name(fd.linktype);
        mm_ah_report_error(r, "%s: link type %d (%s) not supported", path, fd.linktype,
                           name ? name : "unknown");
        pcap_close(p);
        return MM_EUNSUPPORTED;
    }
    bool show = o && (o->progress || (o->progress_min && (uint64_t)st.st_size >= o->progress_min &&
                                      isatty(STDERR_FILENO)));
    FILE *fp = pcap_file(p);
    int64_t next_ms = mm_monotonic_ms() + 1000;
    int rc = 0;
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int n = pcap_next_ex(p, &h, &data);
        if (n == PCAP_ERROR_BREAK)
            break;
        if (n != 1) {
            /* libpcap names the problem: truncated record, bogus caplen, ... */
            mm_ah_report_error(r, "%s: after frame %llu: %s", path, (unsigned long long)fd.frame,
                               pcap_geterr(p));
            rc = MM_EMALFORMED;
            break;
        }
        feed_frame(&fd, data, h->caplen, h->len);
        if (show && mm_monotonic_ms() >= next_ms) {
            long pos = fp ? ftell(fp) : -1;
            progress(path, pos > 0 ? (uint64_t)pos : 0, (uint64_t)st.st_size, fd.frame, false);
            next_ms = mm_monotonic_ms() + 1000;
        }
    }
    if (show)
        progress(path, (uint64_t)st.st_size, (uint64_t)st.st_size, fd.frame, true);
    if (fd.noted > MAX_FRAME_NOTES)
        mm_ah_report_note(r, "%s: %u more frames not fully decoded", path,
                          fd.noted - MAX_FRAME_NOTES);
    pcap_close(p);
    return rc;
}

static void live_cb(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    feed_frame((struct feed *)user, data, h->caplen, h->len);
}

int mm_ah_capture_live(const char *iface, const mm_ah_capture_opts *o, mm_ah_report *r)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    char where[300];
    snprintf(where, sizeof(where), "live:%s", iface);
    pcap_t *p = pcap_create(iface, err);
    if (!p) {
        mm_ah_report_error(r, "%s: %s", where, err);
        return MM_EIO;
    }
    /* Headers only: 512 octets hold a tunnel stack and a long extension chain. */
    pcap_set_snaplen(p, 512);
    pcap_set_timeout(p, 200);
    pcap_set_immediate_mode(p, 1);
    int rc = pcap_activate(p);
    struct bpf_program prog;
    if (rc < 0) {
        mm_ah_report_error(r, "%s: %s", where, pcap_geterr(p));
        pcap_close(p);
        return MM_EIO;
    }
    if (pcap_compile(p, &prog, mm_ah_bpf_filter, 1, PCAP_NETMASK_UNKNOWN) != 0 ||
        pcap_setfilter(p, &prog) != 0) {
        mm_ah_report_error(r, "%s: BPF prefilter: %s", where, pcap_geterr(p));
        pcap_close(p);
        return MM_EIO;
    }
    pcap_freecode(&prog);
    struct feed fd = {.r = r, .where = where, .linktype = pcap_datalink(p)};
    r->last_packet = 0; /* the flow cache keys on the where pointer: one capture at a time */
    if (!mm_ah_linktype_supported(fd.linktype)) {
        mm_ah_report_error(r, "%s: link type %d not supported", where, fd.linktype);
        pcap_close(p);
        return MM_EUNSUPPORTED;
    }
    int sel = pcap_get_selectable_fd(p);
    if (sel < 0 || pcap_setnonblock(p, 1, err) != 0) {
        mm_ah_report_error(r, "%s: cannot poll the capture: %s", where, err);
        pcap_close(p);
        return MM_EIO;
    }
    /* Tests and scripts wait for this line before sending. */
    fprintf(stderr, "mamori audit: listening on %s (filter: AH and tunnels)\n", iface);
    int64_t deadline = o && o->duration_s > 0 ? mm_monotonic_ms() + o->duration_s * 1000LL : -1;
    rc = 0;
    for (;;) {
        if (o && o->stop && *o->stop)
            break;
        if (deadline >= 0 && mm_monotonic_ms() >= deadline)
            break;
        if (o && o->count && fd.ah_frames >= o->count)
            break;
        /* Wait with our own bound: pcap's read timeout does not fire without traffic. */
        struct pollfd pfd = {.fd = sel, .events = POLLIN};
        if (poll(&pfd, 1, 200) < 0 && errno != EINTR) {
            mm_ah_report_error(r, "%s: poll: %s", where, strerror(errno));
            rc = MM_ESYS;
            break;
        }
        int n = pcap_dispatch(p, 64, live_cb, (u_char *)&fd);
        if (n == PCAP_ERROR_BREAK)
            break;
        if (n < 0) {
            mm_ah_report_error(r, "%s: %s", where, pcap_geterr(p));
            rc = MM_EIO;
            break;
        }
    }
    struct pcap_stat ps;
    if (pcap_stats(p, &ps) == 0 && ps.ps_drop)
        mm_ah_report_note(r, "%s: kernel dropped %u frames", where, ps.ps_drop);
    pcap_close(p);
    return rc;
}
