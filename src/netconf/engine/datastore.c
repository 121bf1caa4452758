/*
 * datastore.c - running, candidate and startup (RFC 6241 section 5.1) on
 * libyang trees; running and startup persist atomically in state_dir
 * (write a temporary file, fsync, rename, fsync the directory).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nc_internal.h"

static const char *const ds_names[NC_DS_COUNT] = {"running", "candidate", "startup"};

const char *nc_ds_name(enum nc_ds ds)
{
    return ds < NC_DS_COUNT ? ds_names[ds] : "operational";
}

static void ds_path(const mm_nc_server *srv, enum nc_ds ds, const char *suffix, char *out,
                    size_t len)
{
    snprintf(out, len, "%s/%s.xml%s", srv->state_dir, ds_names[ds], suffix);
}

static int load_file(mm_nc_server *srv, enum nc_ds ds, struct lyd_node **tree)
{
    char path[1024];
    ds_path(srv, ds, "", path, sizeof(path));
    if (access(path, F_OK) != 0)
        return MM_ENOENT;
    if (lyd_parse_data_path(srv->ctx, path, LYD_XML, LYD_PARSE_STRICT | LYD_PARSE_NO_STATE,
                            LYD_VALIDATE_NO_STATE, tree) != LY_SUCCESS) {
        mm_log_error("nc-datastore", "file=%s error=\"%s\"", path, ly_errmsg(srv->ctx));
        return MM_ECONFIG;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    MM_ENSURE(fd >= 0, MM_EIO);
    int rc = fsync(fd) == 0 ? 0 : MM_EIO;
    close(fd);
    return rc;
}

int nc_ds_persist(mm_nc_server *srv, enum nc_ds ds)
{
    if (ds != NC_DS_RUNNING && ds != NC_DS_STARTUP)
        return 0;
    char *xml = NULL;
    if (srv->ds[ds].tree &&
        lyd_print_mem(&xml, srv->ds[ds].tree, LYD_XML, LYD_PRINT_WITHSIBLINGS) != LY_SUCCESS)
        return MM_ENOMEM;
    char tmp[1024], path[1024];
    ds_path(srv, ds, ".tmp", tmp, sizeof(tmp));
    ds_path(srv, ds, "", path, sizeof(path));
    int rc = MM_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        rc = mm_write_all(fd, xml ? xml : "", xml ? strlen(xml) : 0);
        if (rc == 0 && fsync(fd) != 0)
            rc = MM_EIO;
        close(fd);
    }
    free(xml);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = MM_EIO;
    if (rc == 0)
        rc = fsync_dir(srv->state_dir);
    if (rc < 0)
        mm_log_error("nc-datastore", "file=%s error=\"%s\"", path, strerror(errno));
    return rc;
}

int nc_ds_init(mm_nc_server *srv)
{
    struct lyd_node *t = NULL;
    int rc = load_file(srv, NC_DS_RUNNING, &t);
    if (rc == MM_ENOENT)
        rc = load_file(srv, NC_DS_STARTUP, &t);
    if (rc == MM_ENOENT) /* first start: empty, with defaults */
        rc = lyd_validate_all(&t, srv->ctx, LYD_VALIDATE_NO_STATE, NULL) ? MM_ECONFIG : 0;
    MM_GUARD(rc);
    srv->ds[NC_DS_RUNNING].tree = t;
    t = NULL;
    rc = load_file(srv, NC_DS_STARTUP, &t);
    if (rc == MM_ENOENT)
        rc = lyd_dup_siblings(srv->ds[NC_DS_RUNNING].tree, NULL, NC_DUP, &t) ? MM_ENOMEM
                                                                                        : 0;
    MM_GUARD(rc);
    srv->ds[NC_DS_STARTUP].tree = t;
    MM_ENSURE(!lyd_dup_siblings(srv->ds[NC_DS_RUNNING].tree, NULL, NC_DUP,
                                &srv->ds[NC_DS_CANDIDATE].tree),
              MM_ENOMEM);
    return 0;
}

void nc_ds_free(mm_nc_server *srv)
{
    for (int i = 0; i < NC_DS_COUNT; i++) {
        lyd_free_all(srv->ds[i].tree);
        srv->ds[i].tree = NULL;
    }
}

int nc_ds_from_identity(const char *ident, enum nc_ds *ds)
{
    static const char *const ids[] = {"ietf-datastores:running", "ietf-datastores:candidate",
                                      "ietf-datastores:startup"};
    for (int i = 0; i < NC_DS_COUNT; i++) {
        if (!strcmp(ident, ids[i])) {
            *ds = (enum nc_ds)i;
            return 0;
        }
    }
    if (!strcmp(ident, "ietf-datastores:operational")) {
        *ds = NC_DS_OPERATIONAL;
        return 0;
    }
    return MM_EUNSUPPORTED;
}

int nc_ds_parse_target(const struct lyd_node *op, const char *param, enum nc_ds *ds)
{
    struct lyd_node *p = NULL;
    if (lyd_find_path(op, param, 0, &p) != LY_SUCCESS || !p)
        return MM_ENOENT;
    const struct lyd_node *c = lyd_child(p);
    MM_ENSURE(c && c->schema, MM_EUNSUPPORTED);
    for (int i = 0; i < NC_DS_COUNT; i++) {
        if (!strcmp(c->schema->name, ds_names[i])) {
            *ds = (enum nc_ds)i;
            return 0;
        }
    }
    if (!strcmp(c->schema->name, "datastore")) /* NMDA augmentation */
        return nc_ds_from_identity(lyd_get_value(c), ds);
    return MM_EUNSUPPORTED;
}
