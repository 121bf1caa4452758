/*
 * delayline_main.c - `mm-delayline IF_A IF_B DELAY_MS`: the delay line as a
 * program (and `mm-delayline --no-offload IF`), for manual experiments (run it inside the namespace holding both
 * interfaces; Ctrl-C stops it).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delayline.h"

static volatile bool stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = true;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--no-offload") == 0)
        return mm_delayline_no_offload(argv[2]) == 0 ? 0 : 1;
    if (argc != 4) {
        fprintf(stderr, "usage: %s IF_A IF_B DELAY_MS\n", argv[0]);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (mm_delayline_run(argv[1], argv[2], (unsigned)atoi(argv[3]), &stop) < 0) {
        perror("mm-delayline");
        return 1;
    }
    return 0;
}
