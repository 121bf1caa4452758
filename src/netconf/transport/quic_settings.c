/*
 * quic_settings.c - ietf-netconf-server (quic case) -> mm_nc_quic_settings.
 *
 * Read from the running datastore:
 *   endpoint[quic]/quic/local-bind            address and UDP port (default 831:
 *                                            the YANG has none, open issue O7)
 *   .../quic/mamori-netconf-quic:netconf-server-parameters/
 *        client-identity-mappings/cert-to-name the cert-to-name list (O6)
 *   .../quic/mamori-netconf-quic:quic-session idle timeout, keep-alive, Retry,
 *                                            verification interval
 * The server's own certificate, key and trust anchor come from the PKI
 * directory, as for the TLS transport.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libyang/libyang.h>

#include "mamori/mm_core.h"
#include "mamori/mm_netconf.h"
#include "mamori/mm_pki.h"
#include "mamori/mm_netconf_quic.h"
#include "mamori/mm_quic.h"
#include "mamori/mm_tls.h"

#define ENDPOINTS "/ietf-netconf-server:netconf-server/listen/endpoints/endpoint"
#define QUIC "ietf-netconf-quic:quic"
#define MMQ "mamori-netconf-quic:"

static const char *child_value(const struct lyd_node *parent, const char *path)
{
    struct lyd_node *n = NULL;
    if (lyd_find_path(parent, path, 0, &n) != LY_SUCCESS || n == NULL)
        return NULL;
    return lyd_get_value(n);
}

static int add_binds(const struct lyd_node *ep, mm_nc_quic_settings *out)
{
    const char *name = child_value(ep, "name");
    struct ly_set *binds = NULL;
    if (lyd_find_xpath(ep, QUIC "/local-bind", &binds) != LY_SUCCESS)
        return MM_ECONFIG;
    int rc = 0;
    for (uint32_t i = 0; i < binds->count && rc == 0; i++) {
        if (out->n_endpoints == MM_NC_QUIC_MAX_ENDPOINTS) {
            rc = MM_ELIMIT;
            break;
        }
        mm_nc_quic_endpoint *e = &out->endpoints[out->n_endpoints++];
        const char *addr = child_value(binds->dnodes[i], "local-address");
        const char *port = child_value(binds->dnodes[i], "local-port");
        snprintf(e->name, sizeof(e->name), "%s", name != NULL ? name : "?");
        snprintf(e->address, sizeof(e->address), "%s", addr != NULL ? addr : "::1");
        e->port = (uint16_t)(port != NULL ? strtoul(port, NULL, 10) : MM_NC_QUIC_PORT);
    }
    ly_set_free(binds, NULL);
    return rc;
}

static int add_ctn(const struct lyd_node *entry, mm_nc_quic_settings *out)
{
    MM_ENSURE(out->n_ctn < MM_NC_QUIC_MAX_CTN, MM_ELIMIT);
    mm_nc_quic_ctn *e = &out->ctn[out->n_ctn];
    const char *id = child_value(entry, "id");
    const char *fp = child_value(entry, "fingerprint");
    const char *type = child_value(entry, "map-type");
    const char *name = child_value(entry, "name");
    MM_ENSURE(id != NULL && fp != NULL && type != NULL, MM_ECONFIG);
    e->id = (uint32_t)strtoul(id, NULL, 10);
    MM_GUARD(mm_ctn_fingerprint_parse(fp, e->fingerprint, sizeof(e->fingerprint),
                                      &e->fingerprint_len));
    enum mm_ctn_map_type mt;
    MM_GUARD(mm_ctn_map_type_parse(type, &mt));
    e->map_type = (int)mt;
    snprintf(e->name, sizeof(e->name), "%s", name != NULL ? name : "");
    out->n_ctn++;
    return 0;
}

static int cmp_ctn(const void *a, const void *b)
{
    const mm_nc_quic_ctn *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Set in running, not a schema default. */
static bool configured(const struct lyd_node *parent, const char *path)
{
    struct lyd_node *n = NULL;
    return lyd_find_path(parent, path, 0, &n) == LY_SUCCESS && n && !(n->flags & LYD_DEFAULT);
}

static void read_session(const struct lyd_node *ep, mm_nc_quic_settings *out)
{
    const char *v;
    if ((v = child_value(ep, QUIC "/" MMQ "quic-session/idle-timeout")) != NULL) {
        out->idle_timeout_ms = (uint32_t)strtoul(v, NULL, 10);
        out->idle_timeout_set = configured(ep, QUIC "/" MMQ "quic-session/idle-timeout");
    }
    if ((v = child_value(ep, QUIC "/" MMQ "quic-session/keep-alive")) != NULL)
        out->keep_alive_ms = (uint32_t)strtoul(v, NULL, 10);
    if ((v = child_value(ep, QUIC "/" MMQ "quic-session/verify-interval")) != NULL)
        out->verify_interval_ms = (uint32_t)strtoul(v, NULL, 10);
    if ((v = child_value(ep, QUIC "/" MMQ "quic-session/retry")) != NULL)
        out->retry = strcmp(v, "true") == 0;
    if ((v = child_value(ep, QUIC "/" MMQ "quic-session/refuse-extra-streams")) != NULL)
        out->refuse_extra_streams = strcmp(v, "true") == 0;
}

static int read_endpoint(const struct lyd_node *ep, mm_nc_quic_settings *out)
{
    MM_GUARD(add_binds(ep, out));
    /* The mamori augmentation is optional: without it, no cert-to-name entry
     * maps anybody, and every client is refused (fail closed). */
    if (ly_ctx_get_module_implemented(LYD_CTX(ep), "mamori-netconf-quic") == NULL)
        return 0;
    read_session(ep, out);
    struct ly_set *ctn = NULL;
    if (lyd_find_xpath(ep,
                       QUIC "/" MMQ "netconf-server-parameters/client-identity-mappings/"
                            "cert-to-name",
                       &ctn) != LY_SUCCESS)
        return MM_ECONFIG;
    int rc = 0;
    for (uint32_t i = 0; i < ctn->count && rc == 0; i++)
        rc = add_ctn(ctn->dnodes[i], out);
    ly_set_free(ctn, NULL);
    return rc;
}

int mm_nc_quic_settings_from_running(const struct lyd_node *running, const char *pki_dir,
                                     mm_nc_quic_settings *out)
{
    MM_ENSURE(out != NULL && pki_dir != NULL, MM_EINVAL);
    memset(out, 0, sizeof(*out));
    out->refuse_extra_streams = true;
    out->idle_timeout_ms = MM_NC_QUIC_DEFAULT_IDLE_MS;
    out->keep_alive_ms = MM_NC_QUIC_DEFAULT_KEEPALIVE_MS;
    MM_GUARD(mm_pki_path(pki_dir, MM_PKI_SERVER_CERT, out->cert_file, sizeof(out->cert_file)));
    MM_GUARD(mm_pki_path(pki_dir, MM_PKI_SERVER_KEY, out->key_file, sizeof(out->key_file)));
    MM_GUARD(mm_pki_path(pki_dir, MM_PKI_CA_CERT, out->ca_file, sizeof(out->ca_file)));
    MM_ENSURE(running != NULL, MM_ENOENT);
    /* Without the ietf-netconf-quic module in the context there is no quic case. */
    if (ly_ctx_get_module_implemented(LYD_CTX(running), "ietf-netconf-quic") == NULL)
        return MM_ENOENT;
    struct ly_set *eps = NULL;
    if (lyd_find_xpath(running, ENDPOINTS "[" QUIC "]", &eps) != LY_SUCCESS)
        return MM_ENOENT;
    int rc = eps->count > 0 ? 0 : MM_ENOENT;
    for (uint32_t i = 0; i < eps->count && rc == 0; i++)
        rc = read_endpoint(eps->dnodes[i], out);
    ly_set_free(eps, NULL);
    if (rc == 0)
        qsort(out->ctn, out->n_ctn, sizeof(out->ctn[0]), cmp_ctn);
    return rc;
}
