/*
 * quic_stream.c - libFuzzer harness: arbitrary bytes as the client's stream 0
 * of a NETCONF-over-QUIC connection.
 *
 * Each input runs through the real path: a QUIC connection over loopback
 * (ngtcp2 + GnuTLS, mutual X.509), the server glue (src/netconf/transport/quic.c:
 * session start on the first bidi stream, input, FIN/reset handling, close)
 * and the engine behind it (hello, chunked framing, RPCs). The first half of
 * the input goes out, then the second half with FIN, so stream reassembly
 * and the 0x02 close-stream path are exercised too.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_netconf_quic.h"
#include "mamori/mm_quic.h"
#include "mamori/mm_tls.h"
#include "nc_test.h"

#include <openssl/pem.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
    bool ready;
    nct_server engine;
    mm_nc_quic_server *qs;
    char pki[64];
    char ca[128], crt[128], key[128];
} g;

typedef struct run {
    bool connected, closed;
} run;

static int on_connected(mm_quic_conn *c, void *arg)
{
    ((run *)arg)->connected = true;
    return 0;
}

static void on_closed(mm_quic_conn *c, const mm_quic_close_info *info, void *arg)
{
    ((run *)arg)->closed = true;
}

static const mm_quic_callbacks cbs = {.on_connected = on_connected, .on_closed = on_closed};

static void setup_once(void)
{
    mm_log_set_level(MM_LOG_ERROR);
    snprintf(g.pki, sizeof(g.pki), "/tmp/mm-fuzz-quic-XXXXXX");
    if (mkdtemp(g.pki) == NULL || mm_pki_init(g.pki, true) < 0)
        abort();
    snprintf(g.ca, sizeof(g.ca), "%s/ca.crt", g.pki);
    snprintf(g.crt, sizeof(g.crt), "%s/client.crt", g.pki);
    snprintf(g.key, sizeof(g.key), "%s/client.key", g.pki);
    if (nct_server_start(&g.engine, NULL, MM_PKI_DEFAULT_CLIENT) < 0)
        abort();
    mm_nc_quic_settings s;
    memset(&s, 0, sizeof(s));
    snprintf(s.ca_file, sizeof(s.ca_file), "%s", g.ca);
    snprintf(s.cert_file, sizeof(s.cert_file), "%s/server.crt", g.pki);
    snprintf(s.key_file, sizeof(s.key_file), "%s/server.key", g.pki);
    s.n_endpoints = 1;
    snprintf(s.endpoints[0].address, sizeof(s.endpoints[0].address), "127.0.0.1");
    s.n_ctn = 1;
    s.ctn[0].id = 1;
    s.ctn[0].map_type = MM_CTN_COMMON_NAME;
    FILE *f = fopen(g.ca, "r");
    X509 *ca = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    if (ca == NULL || mm_ctn_fingerprint_of(ca, MM_CTN_SHA256, s.ctn[0].fingerprint,
                                            sizeof(s.ctn[0].fingerprint),
                                            &s.ctn[0].fingerprint_len) < 0)
        abort();
    X509_free(ca);
    s.refuse_extra_streams = true;
    if (mm_nc_quic_server_new(g.engine.srv, g.engine.base, &s, &g.qs) < 0)
        abort();
    g.ready = true;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pump(bool *until, long ms)
{
    long end = now_ms() + ms;
    while (!*until && now_ms() < end)
        event_base_loop(g.engine.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g.ready)
        setup_once();
    mm_quic_config c = {.ca_file = g.ca, .cert_file = g.crt, .key_file = g.key,
                        .max_streams_uni = 4, .idle_timeout_ms = 2000};
    run r = {0};
    mm_quic_conn *qc = NULL;
    if (mm_quic_connect(g.engine.base, &c, "127.0.0.1", mm_nc_quic_server_port(g.qs, 0), &cbs,
                        &r, &qc) < 0)
        abort();
    pump(&r.connected, 2000);
    int64_t sid;
    if (r.connected && !r.closed && mm_quic_conn_open_bidi(qc, &sid) == 0) {
        size_t half = size / 2;
        mm_quic_conn_send(qc, sid, data, half, false);
        bool done = false;
        long end = now_ms() + 500;
        while (!r.closed && now_ms() < end && !done) {
            event_base_loop(g.engine.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
            done = mm_quic_conn_unacked(qc, sid) == 0;
        }
        if (!r.closed)
            mm_quic_conn_send(qc, sid, data + half, size - half, true);
        pump(&r.closed, 300);
    }
    if (!r.closed)
        mm_quic_conn_close(qc, MM_QUIC_NC_NO_ERROR, "fuzz done", false);
    /* Let the server see the close and release the session. */
    bool never = false;
    pump(&never, 5);
    mm_quic_endpoint_free(mm_quic_conn_endpoint(qc));
    return 0;
}
