/*
 * delayline.h - a userspace delay line between two network interfaces.
 *
 * The kernel here has no netem, so link delay is made in userspace: frames
 * read on one interface (AF_PACKET) are written to the other after a fixed
 * one-way delay, in both directions, like a cable with latency. Used inside
 * a network namespace that holds the two inner veth ends (tests/netns/topo.sh).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_DELAYLINE_H
#define MM_DELAYLINE_H

#include <stdbool.h>

/* Forward between ifa and ifb with delay_ms each way until *stop (checked
 * every few ms). Returns 0, or -1 if a socket could not be opened. */
int mm_delayline_run(const char *ifa, const char *ifb, unsigned delay_ms, volatile bool *stop);

/* Turn off TX checksum offload (and with it TSO) of ifname in the current
 * network namespace, so copied frames carry valid checksums. */
int mm_delayline_no_offload(const char *ifname);

#endif
