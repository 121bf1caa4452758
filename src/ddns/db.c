/*
 * SQLite and PostgreSQL behind one small interface (db.h).
 *
 * SQLite: WAL with synchronous=FULL: COMMIT returns after the WAL is
 * fsync'd. PostgreSQL: synchronous_commit is left at its default (on), so
 * COMMIT returns after the WAL record is flushed on the server. In both an
 * update is acknowledged only after its COMMIT returned.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "db.h"
#include "mamori/mm_core.h"

#define MAX_ARGS 12

#define STMT_CACHE 48

struct db {
    sqlite3 *lite;
    /* Prepared statements by SQL text address (our statements are literals). */
    struct { const char *sql; sqlite3_stmt *st; bool busy; } cache[STMT_CACHE];
    PGconn *pg;
    bool leader;
    bool in_group; /* an outer transaction (group commit) is open */
};

struct db_rows {
    db *d;
    sqlite3_stmt *st;
    int slot; /* cache slot of st, -1 if not cached */
    PGresult *res;
    int row, nrows;
    uint8_t blob[64];
};

bool db_is_pg(const db *d)
{
    return d->pg != NULL;
}

static int lite_exec(db *d, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(d->lite, sql, NULL, NULL, &msg) != SQLITE_OK) {
        mm_log_error("ddns-db", "sql=\"%.40s\" err=\"%s\"", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return MM_EIO;
    }
    return 0;
}

int db_open(const char *target, db **out)
{
    db *d = calloc(1, sizeof(*d));
    if (!d)
        return MM_ENOMEM;
    if (!strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11) ||
        !strncmp(target, "host=", 5)) {
        d->pg = PQconnectdb(target);
        if (PQstatus(d->pg) != CONNECTION_OK) {
            mm_log_error("ddns-db", "backend=postgresql err=\"%s\"", PQerrorMessage(d->pg));
            PQfinish(d->pg);
            free(d);
            return MM_EIO;
        }
        PGresult *r = PQexec(d->pg, "SET client_min_messages = warning");
        PQclear(r);
        *out = d;
        return 0;
    }
    if (sqlite3_open_v2(target, &d->lite,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        mm_log_error("ddns-db", "path=%s err=\"%s\"", target, sqlite3_errmsg(d->lite));
        sqlite3_close(d->lite);
        free(d);
        return MM_EIO;
    }
    sqlite3_busy_timeout(d->lite, 5000); /* the CLI may write while the daemon runs */
    if (lite_exec(d, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") < 0) {
        db_close(d);
        return MM_EIO;
    }
    *out = d;
    return 0;
}

void db_close(db *d)
{
    if (!d)
        return;
    for (int i = 0; i < STMT_CACHE; i++)
        sqlite3_finalize(d->cache[i].st);
    if (d->lite)
        sqlite3_close(d->lite);
    if (d->pg)
        PQfinish(d->pg);
    free(d);
}

/* ------------------------------------------------------------ statements */

struct args {
    int n;
    char fmt[MAX_ARGS];
    int64_t i[MAX_ARGS];
    const char *t[MAX_ARGS];
    char num[MAX_ARGS][24];
};

static int collect(struct args *a, const char *fmt, va_list ap)
{
    a->n = 0;
    for (; fmt && *fmt; fmt++) {
        if (a->n >= MAX_ARGS)
            return MM_EINVAL;
        a->fmt[a->n] = *fmt;
        if (*fmt == 'i')
            a->i[a->n] = va_arg(ap, int64_t);
        else
            a->t[a->n] = va_arg(ap, const char *);
        a->n++;
    }
    return 0;
}

/* Release a statement: cached ones are reset for the next use. */
static void lite_release(db *d, sqlite3_stmt *st, int slot)
{
    if (slot >= 0) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        d->cache[slot].busy = false;
    } else {
        sqlite3_finalize(st);
    }
}

static sqlite3_stmt *lite_prep(db *d, const char *sql, const struct args *a, int *slot)
{
    sqlite3_stmt *st = NULL;
    *slot = -1;
    int free_slot = -1;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (d->cache[i].sql == sql && !d->cache[i].busy) {
            *slot = i;
            break;
        }
        if (!d->cache[i].sql && free_slot < 0)
            free_slot = i;
    }
    if (*slot >= 0) {
        st = d->cache[*slot].st;
    } else {
        if (sqlite3_prepare_v2(d->lite, sql, -1, &st, NULL) != SQLITE_OK) {
            mm_log_error("ddns-db", "prepare=\"%.50s\" err=\"%s\"", sql, sqlite3_errmsg(d->lite));
            return NULL;
        }
        if (free_slot >= 0) {
            d->cache[free_slot].sql = sql;
            d->cache[free_slot].st = st;
            *slot = free_slot;
        }
    }
    if (*slot >= 0)
        d->cache[*slot].busy = true;
    for (int k = 0; k < a->n; k++) {
        int rc;
        if (a->fmt[k] == 'i')
            rc = sqlite3_bind_int64(st, k + 1, a->i[k]);
        else if (a->fmt[k] == 'b')
            rc = sqlite3_bind_blob(st, k + 1, a->t[k], 32, SQLITE_TRANSIENT);
        else
            rc = sqlite3_bind_text(st, k + 1, a->t[k], -1, SQLITE_TRANSIENT);
        if (rc != SQLITE_OK) {
            lite_release(d, st, *slot);
            return NULL;
        }
    }
    return st;
}

/* '?' -> '$n' (our statements have no '?' inside string literals). */
static int pg_sql(const char *sql, char *out, size_t outlen)
{
    size_t n = 0;
    int k = 0;
    for (const char *p = sql; *p; p++) {
        if (n + 8 >= outlen)
            return MM_ESPACE;
        if (*p == '?')
            n += (size_t)snprintf(out + n, outlen - n, "$%d", ++k);
        else
            out[n++] = *p;
    }
    out[n] = 0;
    return 0;
}

static PGresult *pg_run(db *d, const char *sql, struct args *a)
{
    char q[4096];
    if (pg_sql(sql, q, sizeof(q)) < 0)
        return NULL;
    const char *vals[MAX_ARGS];
    int lens[MAX_ARGS], fmts[MAX_ARGS];
    for (int k = 0; k < a->n; k++) {
        lens[k] = 0;
        fmts[k] = 0;
        if (a->fmt[k] == 'i') {
            snprintf(a->num[k], sizeof(a->num[k]), "%lld", (long long)a->i[k]);
            vals[k] = a->num[k];
        } else if (a->fmt[k] == 'b') {
            vals[k] = a->t[k];
            lens[k] = 32;
            fmts[k] = 1; /* binary bytea */
        } else {
            vals[k] = a->t[k];
        }
    }
    return PQexecParams(d->pg, q, a->n, NULL, vals, lens, fmts, 0);
}

int db_exec(db *d, const char *sql, const char *fmt, ...)
{
    struct args a;
    va_list ap;
    va_start(ap, fmt);
    int rc = collect(&a, fmt, ap);
    va_end(ap);
    MM_GUARD(rc);
    if (d->pg) {
        PGresult *r = pg_run(d, sql, &a);
        ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            const char *ct = PQcmdTuples(r);
            rc = ct && *ct ? atoi(ct) : 0;
        } else {
            const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
            if (state && strcmp(state, "23505") == 0) {
                rc = MM_EEXIST;
            } else {
                mm_log_error("ddns-db", "sql=\"%.50s\" err=\"%s\"", sql, PQerrorMessage(d->pg));
                rc = MM_EIO;
            }
        }
        PQclear(r);
        return rc;
    }
    int slot;
    sqlite3_stmt *st = lite_prep(d, sql, &a, &slot);
    if (!st)
        return MM_EIO;
    int s = sqlite3_step(st);
    while (s == SQLITE_ROW)
        s = sqlite3_step(st);
    int changes = sqlite3_changes(d->lite);
    lite_release(d, st, slot);
    if (s == SQLITE_CONSTRAINT)
        return MM_EEXIST;
    if (s != SQLITE_DONE) {
        mm_log_error("ddns-db", "sql=\"%.50s\" err=\"%s\"", sql, sqlite3_errmsg(d->lite));
        return MM_EIO;
    }
    return changes;
}

db_rows *db_query(db *d, const char *sql, const char *fmt, ...)
{
    struct args a;
    va_list ap;
    va_start(ap, fmt);
    int rc = collect(&a, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return NULL;
    db_rows *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->d = d;
    r->row = -1;
    if (d->pg) {
        r->res = pg_run(d, sql, &a);
        if (!r->res || PQresultStatus(r->res) != PGRES_TUPLES_OK) {
            mm_log_error("ddns-db", "sql=\"%.50s\" err=\"%s\"", sql, PQerrorMessage(d->pg));
            PQclear(r->res);
            free(r);
            return NULL;
        }
        r->nrows = PQntuples(r->res);
        return r;
    }
    r->st = lite_prep(d, sql, &a, &r->slot);
    if (!r->st) {
        free(r);
        return NULL;
    }
    return r;
}

bool db_next(db_rows *r)
{
    if (r->res)
        return ++r->row < r->nrows;
    return sqlite3_step(r->st) == SQLITE_ROW;
}

const char *db_text(db_rows *r, int col)
{
    const char *t = r->res ? PQgetvalue(r->res, r->row, col)
                           : (const char *)sqlite3_column_text(r->st, col);
    return t ? t : "";
}

int64_t db_int(db_rows *r, int col)
{
    if (r->res)
        return strtoll(PQgetvalue(r->res, r->row, col), NULL, 10);
    return sqlite3_column_int64(r->st, col);
}

const uint8_t *db_blob(db_rows *r, int col, size_t *len)
{
    if (r->res) {
        /* bytea arrives in hex text form: "\x0a1b..." */
        const char *t = PQgetvalue(r->res, r->row, col);
        size_t tl = strlen(t);
        *len = 0;
        if (tl < 2 || t[0] != '\\' || t[1] != 'x' || (tl - 2) / 2 > sizeof(r->blob) ||
            mm_hex_decode(t + 2, tl - 2, r->blob, (tl - 2) / 2) < 0)
            return NULL;
        *len = (tl - 2) / 2;
        return r->blob;
    }
    *len = (size_t)sqlite3_column_bytes(r->st, col);
    return sqlite3_column_blob(r->st, col);
}

void db_done(db_rows *r)
{
    if (!r)
        return;
    if (r->res)
        PQclear(r->res);
    if (r->st)
        lite_release(r->d, r->st, r->slot);
    free(r);
}

/* ------------------------------------------------------------ transactions */

int db_begin_write(db *d, const char *key)
{
    /* Inside a group, each write is a savepoint of the one outer transaction. */
    const char *begin = d->in_group ? "SAVEPOINT w" : d->pg ? "BEGIN" : "BEGIN IMMEDIATE";
    if (db_exec(d, begin, NULL) < 0)
        return MM_EIO;
    if (!d->pg)
        return 0;
    /* Writers of one name serialise here, across every ddnsd sharing the database. */
    db_rows *r = db_query(d, "SELECT pg_advisory_xact_lock(hashtext(?))", "t", key);
    if (!r) {
        db_rollback(d);
        return MM_EIO;
    }
    db_done(r);
    return 0;
}

int db_commit(db *d)
{
    return db_exec(d, d->in_group ? "RELEASE w" : "COMMIT", NULL) < 0 ? MM_EIO : 0;
}

void db_rollback(db *d)
{
    if (d->in_group) {
        db_exec(d, "ROLLBACK TO w", NULL);
        db_exec(d, "RELEASE w", NULL);
    } else {
        db_exec(d, "ROLLBACK", NULL);
    }
}

int db_group_begin(db *d)
{
    if (d->in_group)
        return MM_ESTATE;
    if (db_exec(d, d->pg ? "BEGIN" : "BEGIN IMMEDIATE", NULL) < 0)
        return MM_EIO;
    d->in_group = true;
    return 0;
}

int db_group_end(db *d, bool commit)
{
    if (!d->in_group)
        return MM_ESTATE;
    d->in_group = false;
    if (commit && db_exec(d, "COMMIT", NULL) >= 0)
        return 0;
    db_exec(d, "ROLLBACK", NULL);
    return commit ? MM_EIO : 0;
}

int db_relax(db *d)
{
    if (d->pg)
        return db_exec(d, "SET synchronous_commit = off", NULL) < 0 ? MM_EIO : 0;
    return lite_exec(d, "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;");
}

bool db_push_leader(db *d)
{
    if (!d->pg || d->leader)
        return true;
    db_rows *r = db_query(d, "SELECT pg_try_advisory_lock(724301)", NULL);
    if (r && db_next(r))
        d->leader = strcmp(db_text(r, 0), "t") == 0;
    db_done(r);
    return d->leader;
}
