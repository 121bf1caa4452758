/*
 * SQLite store: tokens (keyed hashes only), grants, zones, hosts, TXT values
 * and the queue of RFC 2136 changes still to push.
 *
 * Durability: WAL with synchronous=FULL, so a commit returns only after the
 * WAL is fsync'd; the daemon acknowledges an update only after its commit
 * returned, hence kill -9 (or power loss) never loses an acknowledged
 * update. The DNS push work is queued in the same transaction as the data,
 * so a crash between commit and push loses no DNS change either.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sqlite3.h>

#include "mamori/mm_core.h"
#include "mamori/mm_ddns.h"

struct mm_ddns_store {
    sqlite3 *db;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS tokens(id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE,"
    " hint TEXT NOT NULL, scopes INTEGER NOT NULL, created INTEGER NOT NULL,"
    " expires INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS grants(token_id INTEGER NOT NULL, kind TEXT NOT NULL,"
    " name TEXT NOT NULL, PRIMARY KEY(token_id, kind, name));"
    "CREATE TABLE IF NOT EXISTS zones(name TEXT PRIMARY KEY, server TEXT NOT NULL,"
    " port INTEGER NOT NULL, key_name TEXT NOT NULL, key_alg TEXT NOT NULL,"
    " key_secret TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS hosts(name TEXT PRIMARY KEY, zone TEXT NOT NULL,"
    " ipv4 TEXT NOT NULL DEFAULT '', ipv6 TEXT NOT NULL DEFAULT '', ttl INTEGER NOT NULL,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS txt(owner TEXT NOT NULL, value TEXT NOT NULL,"
    " ttl INTEGER NOT NULL, created INTEGER NOT NULL, PRIMARY KEY(owner, value));"
    "CREATE TABLE IF NOT EXISTS push(id INTEGER PRIMARY KEY AUTOINCREMENT, zone TEXT NOT NULL,"
    " name TEXT NOT NULL, rtype INTEGER NOT NULL, op INTEGER NOT NULL, data TEXT NOT NULL,"
    " ttl INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_ms INTEGER NOT NULL DEFAULT 0);";

static int db_err(mm_ddns_store *s, const char *what)
{
    mm_log_error("ddns-store", "op=%s err=\"%s\"", what, sqlite3_errmsg(s->db));
    return MM_EIO;
}

static int exec(mm_ddns_store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        mm_log_error("ddns-store", "sql=\"%.40s\" err=\"%s\"", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return MM_EIO;
    }
    return 0;
}

/* Prepare sql and bind the arguments described by fmt: i=int64, t=text, b=hash blob. */
static sqlite3_stmt *prep(mm_ddns_store *s, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_err(s, "prepare");
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    for (int i = 1; fmt && *fmt; fmt++, i++) {
        int rc = SQLITE_OK;
        if (*fmt == 'i')
            rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
        else if (*fmt == 't')
            rc = sqlite3_bind_text(st, i, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        else if (*fmt == 'b')
            rc = sqlite3_bind_blob(st, i, va_arg(ap, const uint8_t *), MM_DDNS_HASH_LEN,
                                   SQLITE_TRANSIENT);
        if (rc != SQLITE_OK) {
            va_end(ap);
            sqlite3_finalize(st);
            db_err(s, "bind");
            return NULL;
        }
    }
    va_end(ap);
    return st;
}

/* Run a statement that returns no rows. */
static int run(mm_ddns_store *s, sqlite3_stmt *st)
{
    if (!st)
        return MM_EIO;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return MM_EEXIST;
    return rc == SQLITE_DONE ? 0 : db_err(s, "step");
}

static void col_text(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

int mm_ddns_store_open(const char *path, mm_ddns_store **out)
{
    mm_ddns_store *s = calloc(1, sizeof(*s));
    if (!s)
        return MM_ENOMEM;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        mm_log_error("ddns-store", "path=%s err=\"%s\"", path, sqlite3_errmsg(s->db));
        sqlite3_close(s->db);
        free(s);
        return MM_EIO;
    }
    sqlite3_busy_timeout(s->db, 5000); /* the CLI may write while the daemon runs */
    int rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    if (rc == 0)
        rc = exec(s, schema);
    if (rc < 0) {
        mm_ddns_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void mm_ddns_store_close(mm_ddns_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
}

/* ------------------------------------------------------------ tokens and grants */

int mm_ddns_store_token_add(mm_ddns_store *s, const uint8_t hash[MM_DDNS_HASH_LEN],
                            const char *hint, uint32_t scopes, int64_t expires, int64_t *id)
{
    MM_GUARD(run(s, prep(s, "INSERT INTO tokens(hash,hint,scopes,created,expires)"
                            " VALUES(?,?,?,strftime('%s','now'),?)",
                         "btii", hash, hint, (int64_t)scopes, expires)));
    *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int mm_ddns_store_token_find(mm_ddns_store *s, const uint8_t hash[MM_DDNS_HASH_LEN],
                             mm_ddns_token_info *out)
{
    /*
     * The index lookup is not constant time, but it is keyed by an HMAC
     * under a secret key: its timing says nothing about stored tokens. The
     * stored hash is compared again in constant time all the same.
     */
    sqlite3_stmt *st = prep(s, "SELECT id, hash, scopes, revoked, expires, hint FROM tokens"
                               " WHERE hash = ?", "b", hash);
    if (!st)
        return MM_EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == MM_DDNS_HASH_LEN &&
        mm_ddns_hash_equal(sqlite3_column_blob(st, 1), hash)) {
        out->id = sqlite3_column_int64(st, 0);
        out->scopes = (uint32_t)sqlite3_column_int64(st, 2);
        out->revoked = sqlite3_column_int(st, 3) != 0;
        out->expires = sqlite3_column_int64(st, 4);
        col_text(st, 5, out->hint, sizeof(out->hint));
        rc = 0;
    } else {
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? MM_ENOENT : db_err(s, "token-find");
    }
    sqlite3_finalize(st);
    return rc;
}

int mm_ddns_store_token_revoke(mm_ddns_store *s, int64_t id)
{
    MM_GUARD(run(s, prep(s, "UPDATE tokens SET revoked = 1 WHERE id = ?", "i", id)));
    return sqlite3_changes(s->db) == 1 ? 0 : MM_ENOENT;
}

int mm_ddns_store_grant_add(mm_ddns_store *s, int64_t token_id, const char *kind,
                            const char *name)
{
    int rc = run(s, prep(s, "INSERT INTO grants(token_id,kind,name) VALUES(?,?,?)", "itt",
                         token_id, kind, name));
    return rc == MM_EEXIST ? 0 : rc;
}

int mm_ddns_store_may_manage(mm_ddns_store *s, int64_t token_id, const char *name, bool *ok)
{
    *ok = false;
    sqlite3_stmt *st = prep(s, "SELECT kind, name FROM grants WHERE token_id = ?", "i", token_id);
    if (!st)
        return MM_EIO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !*ok) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        const char *g = (const char *)sqlite3_column_text(st, 1);
        if (!kind || !g)
            continue;
        if (strcmp(kind, "host") == 0)
            *ok = strcmp(g, name) == 0;
        else if (strcmp(kind, "zone") == 0)
            *ok = mm_ddns_name_in_zone(name, g);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(s, "grants");
}

/* ------------------------------------------------------------ zones and hosts */

int mm_ddns_store_zone_add(mm_ddns_store *s, const mm_ddns_zone *z)
{
    return run(s, prep(s, "INSERT OR REPLACE INTO zones VALUES(?,?,?,?,?,?)", "ttitt" "t", z->name,
                       z->server, (int64_t)z->port, z->key_name, z->key_alg, z->key_secret));
}

int mm_ddns_store_zone_get(mm_ddns_store *s, const char *name, mm_ddns_zone *out)
{
    sqlite3_stmt *st = prep(s, "SELECT name, server, port, key_name, key_alg, key_secret"
                               " FROM zones WHERE name = ?", "t", name);
    if (!st)
        return MM_EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        col_text(st, 0, out->name, sizeof(out->name));
        col_text(st, 1, out->server, sizeof(out->server));
        out->port = (uint16_t)sqlite3_column_int(st, 2);
        col_text(st, 3, out->key_name, sizeof(out->key_name));
        col_text(st, 4, out->key_alg, sizeof(out->key_alg));
        col_text(st, 5, out->key_secret, sizeof(out->key_secret));
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? MM_ENOENT : db_err(s, "zone-get");
    }
    sqlite3_finalize(st);
    return rc;
}

/* The longest configured zone covering name, "" if none. */
static int zone_of(mm_ddns_store *s, const char *name, char *out, size_t outlen)
{
    out[0] = 0;
    sqlite3_stmt *st = prep(s, "SELECT name FROM zones", NULL);
    if (!st)
        return MM_EIO;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *z = (const char *)sqlite3_column_text(st, 0);
        if (z && mm_ddns_name_in_zone(name, z) && strlen(z) > strlen(out))
            snprintf(out, outlen, "%s", z);
    }
    sqlite3_finalize(st);
    return 0;
}

int mm_ddns_store_host_add(mm_ddns_store *s, const char *name, int64_t now_ms)
{
    char zone[MM_DDNS_HOSTNAME_MAX + 1];
    MM_GUARD(zone_of(s, name, zone, sizeof(zone)));
    return run(s, prep(s, "INSERT INTO hosts(name,zone,ttl,created,updated) VALUES(?,?,?,?,?)",
                       "ttiii", name, zone, (int64_t)MM_DDNS_TTL_DEFAULT, now_ms, now_ms));
}

static void host_row(sqlite3_stmt *st, mm_ddns_host *h)
{
    col_text(st, 0, h->name, sizeof(h->name));
    col_text(st, 1, h->zone, sizeof(h->zone));
    col_text(st, 2, h->ipv4, sizeof(h->ipv4));
    col_text(st, 3, h->ipv6, sizeof(h->ipv6));
    h->ttl = (uint32_t)sqlite3_column_int64(st, 4);
    h->created_ms = sqlite3_column_int64(st, 5);
    h->updated_ms = sqlite3_column_int64(st, 6);
    h->update_count = sqlite3_column_int64(st, 7);
}

#define HOST_COLS "name, zone, ipv4, ipv6, ttl, created, updated, count"

int mm_ddns_store_host_get(mm_ddns_store *s, const char *name, mm_ddns_host *out)
{
    sqlite3_stmt *st = prep(s, "SELECT " HOST_COLS " FROM hosts WHERE name = ?", "t", name);
    if (!st)
        return MM_EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        host_row(st, out);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? MM_ENOENT : db_err(s, "host-get");
    }
    sqlite3_finalize(st);
    return rc;
}

int mm_ddns_store_host_each(mm_ddns_store *s, int64_t token_id, mm_ddns_host_cb cb, void *arg)
{
    sqlite3_stmt *st = prep(s, "SELECT " HOST_COLS " FROM hosts ORDER BY name", NULL);
    if (!st)
        return MM_EIO;
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        mm_ddns_host h;
        host_row(st, &h);
        bool ok = token_id < 0;
        if (!ok)
            rc = mm_ddns_store_may_manage(s, token_id, h.name, &ok);
        if (rc == 0 && ok)
            rc = cb(&h, arg);
    }
    sqlite3_finalize(st);
    return rc;
}

int mm_ddns_store_list(mm_ddns_store *s, mm_ddns_row_cb cb, void *arg)
{
    static const struct { const char *kind, *sql; } q[] = {
        {"zone", "SELECT name || ' primary=' || server || '@' || port || ' key=' ||"
                 " CASE key_name WHEN '' THEN '-' ELSE key_name END FROM zones ORDER BY name"},
        {"host", "SELECT name || ' zone=' || CASE zone WHEN '' THEN '-' ELSE zone END ||"
                 " ' ipv4=' || CASE ipv4 WHEN '' THEN '-' ELSE ipv4 END ||"
                 " ' ipv6=' || CASE ipv6 WHEN '' THEN '-' ELSE ipv6 END || ' ttl=' || ttl"
                 " FROM hosts ORDER BY name"},
        {"token", "SELECT 'id=' || id || ' hint=' || hint || ' scopes=' || scopes ||"
                  " ' revoked=' || revoked || ' grants=' || IFNULL((SELECT group_concat(kind"
                  " || ':' || name, ',') FROM grants WHERE token_id = tokens.id), '-')"
                  " FROM tokens ORDER BY id"},
    };
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        sqlite3_stmt *st = prep(s, q[i].sql, NULL);
        if (!st)
            return MM_EIO;
        int rc = 0;
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
            rc = cb(q[i].kind, (const char *)sqlite3_column_text(st, 0), arg);
        sqlite3_finalize(st);
        MM_GUARD(rc);
    }
    return 0;
}

/* ------------------------------------------------------------ updates */

static int push_add(mm_ddns_store *s, const char *zone, const char *name, int rtype, int op,
                    const char *data, uint32_t ttl)
{
    if (!zone[0])
        return 0; /* no zone configured for this name: nothing to push */
    return run(s, prep(s, "INSERT INTO push(zone,name,rtype,op,data,ttl) VALUES(?,?,?,?,?,?)",
                       "ttiiti", zone, name, (int64_t)rtype, (int64_t)op, data, (int64_t)ttl));
}

/* One address family of an update: new text into cur, queue the DNS change. */
static int apply_family(mm_ddns_store *s, const mm_ddns_host *b, enum mm_ddns_tri tri,
                        const mm_ddns_addr *a, char *cur, size_t curlen, int rtype, uint32_t ttl,
                        bool ttl_changed, bool *changed)
{
    char text[46] = "";
    if (tri == MM_DDNS_SET)
        mm_ddns_addr_format(a, text, sizeof(text));
    if (tri == MM_DDNS_SET || tri == MM_DDNS_NULL) {
        if (strcmp(cur, text) != 0)
            *changed = true;
        snprintf(cur, curlen, "%s", text);
    }
    bool differs = (tri == MM_DDNS_SET || tri == MM_DDNS_NULL) &&
                   strcmp(rtype == 1 ? b->ipv4 : b->ipv6, text) != 0;
    if (!differs && !(ttl_changed && cur[0]))
        return 0;
    if (cur[0])
        return push_add(s, b->zone, b->name, rtype, MM_DDNS_PUSH_SET, cur, ttl);
    return push_add(s, b->zone, b->name, rtype, MM_DDNS_PUSH_DELETE_RRSET, "", ttl);
}

int mm_ddns_store_host_update(mm_ddns_store *s, const mm_ddns_update_req *r, int64_t now_ms,
                              mm_ddns_host *before, mm_ddns_host *after, bool *changed)
{
    *changed = false;
    /* IMMEDIATE: writers serialise here, so previous_* is exactly what was stored. */
    MM_GUARD(exec(s, "BEGIN IMMEDIATE"));
    int rc = mm_ddns_store_host_get(s, r->hostname, before);
    if (rc < 0)
        goto out;
    *after = *before;
    uint32_t ttl = r->has_ttl ? r->ttl : before->ttl;
    bool ttl_changed = ttl != before->ttl;
    after->ttl = ttl;
    rc = apply_family(s, before, r->v4, &r->a4, after->ipv4, sizeof(after->ipv4), 1, ttl,
                      ttl_changed, changed);
    if (rc == 0)
        rc = apply_family(s, before, r->v6, &r->a6, after->ipv6, sizeof(after->ipv6), 28, ttl,
                          ttl_changed, changed);
    if (rc < 0)
        goto out;
    after->updated_ms = now_ms;
    after->update_count = before->update_count + 1;
    rc = run(s, prep(s, "UPDATE hosts SET ipv4=?, ipv6=?, ttl=?, updated=?, count=count+1"
                        " WHERE name=?", "ttiit", after->ipv4, after->ipv6, (int64_t)ttl, now_ms,
                     r->hostname));
out:
    if (rc == 0)
        return exec(s, "COMMIT");
    exec(s, "ROLLBACK");
    return rc;
}

/* ------------------------------------------------------------ TXT */

int mm_ddns_store_txt_get(mm_ddns_store *s, const char *owner,
                          char (*values)[MM_DDNS_TXT_VALUE_MAX + 1], size_t max, size_t *n,
                          uint32_t *ttl)
{
    *n = 0;
    *ttl = MM_DDNS_TXT_TTL_DEFAULT;
    sqlite3_stmt *st = prep(s, "SELECT value, ttl FROM txt WHERE owner = ? ORDER BY created, value",
                            "t", owner);
    if (!st)
        return MM_EIO;
    while (sqlite3_step(st) == SQLITE_ROW && *n < max) {
        col_text(st, 0, values[*n], MM_DDNS_TXT_VALUE_MAX + 1);
        *ttl = (uint32_t)sqlite3_column_int64(st, 1);
        (*n)++;
    }
    sqlite3_finalize(st);
    return 0;
}

static int txt_count(mm_ddns_store *s, const char *owner, size_t *count)
{
    sqlite3_stmt *st = prep(s, "SELECT count(*) FROM txt WHERE owner = ?", "t", owner);
    if (!st)
        return MM_EIO;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : db_err(s, "txt-count");
    *count = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int mm_ddns_store_txt_add(mm_ddns_store *s, const char *owner, const char *zone,
                          const char *value, uint32_t ttl, int64_t now_ms, size_t *count)
{
    MM_GUARD(exec(s, "BEGIN IMMEDIATE"));
    size_t n = 0;
    int rc = txt_count(s, owner, &n);
    if (rc == 0) {
        rc = run(s, prep(s, "INSERT INTO txt(owner,value,ttl,created) VALUES(?,?,?,?)", "ttii",
                         owner, value, (int64_t)ttl, now_ms));
        if (rc == MM_EEXIST) {
            rc = 1; /* already there: idempotent, nothing to push */
        } else if (rc == 0 && n + 1 > MM_DDNS_TXT_MAX_RECORDS) {
            rc = MM_ELIMIT;
        } else if (rc == 0) {
            n++;
            rc = push_add(s, zone, owner, 16, MM_DDNS_PUSH_ADD, value, ttl);
        }
    }
    *count = n;
    if (rc >= 0)
        return exec(s, "COMMIT");
    exec(s, "ROLLBACK");
    return rc;
}

int mm_ddns_store_txt_delete(mm_ddns_store *s, const char *owner, const char *zone,
                             const char *value, size_t *removed, size_t *remaining)
{
    MM_GUARD(exec(s, "BEGIN IMMEDIATE"));
    int rc = value ? run(s, prep(s, "DELETE FROM txt WHERE owner = ? AND value = ?", "tt", owner,
                                 value))
                   : run(s, prep(s, "DELETE FROM txt WHERE owner = ?", "t", owner));
    *removed = rc == 0 ? (size_t)sqlite3_changes(s->db) : 0;
    if (rc == 0 && *removed)
        rc = push_add(s, zone, owner, 16, value ? MM_DDNS_PUSH_DELETE_RR : MM_DDNS_PUSH_DELETE_RRSET,
                      value ? value : "", 0);
    if (rc == 0)
        rc = txt_count(s, owner, remaining);
    if (rc == 0)
        return exec(s, "COMMIT");
    exec(s, "ROLLBACK");
    return rc;
}

/* ------------------------------------------------------------ push queue */

int mm_ddns_store_push_next(mm_ddns_store *s, int64_t now_ms, mm_ddns_push_item *out)
{
    /* Strict order: a later change of a name must never overtake an earlier one. */
    sqlite3_stmt *st = prep(s, "SELECT id, zone, name, rtype, op, data, ttl, attempts, next_ms"
                               " FROM push ORDER BY id LIMIT 1", NULL);
    if (!st)
        return MM_EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 8) <= now_ms) {
        out->id = sqlite3_column_int64(st, 0);
        col_text(st, 1, out->zone, sizeof(out->zone));
        col_text(st, 2, out->name, sizeof(out->name));
        out->rtype = (uint16_t)sqlite3_column_int(st, 3);
        out->op = sqlite3_column_int(st, 4);
        col_text(st, 5, out->data, sizeof(out->data));
        out->ttl = (uint32_t)sqlite3_column_int64(st, 6);
        out->attempts = (uint32_t)sqlite3_column_int64(st, 7);
        rc = 0;
    } else {
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? MM_ENOENT : db_err(s, "push-next");
    }
    sqlite3_finalize(st);
    return rc;
}

int mm_ddns_store_push_done(mm_ddns_store *s, int64_t id)
{
    return run(s, prep(s, "DELETE FROM push WHERE id = ?", "i", id));
}

int mm_ddns_store_push_retry(mm_ddns_store *s, int64_t id, int64_t next_ms)
{
    return run(s, prep(s, "UPDATE push SET attempts = attempts + 1, next_ms = ? WHERE id = ?",
                       "ii", next_ms, id));
}

int64_t mm_ddns_store_push_pending(mm_ddns_store *s)
{
    sqlite3_stmt *st = prep(s, "SELECT count(*) FROM push", NULL);
    if (!st)
        return MM_EIO;
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : MM_EIO;
    sqlite3_finalize(st);
    return n;
}
