/*
 * db.h - the one SQL layer under the ddns store: SQLite (embedded default)
 * or PostgreSQL (libpq, several ddnsd sharing one store). Statements are
 * written once with '?' placeholders (rewritten to $n for PostgreSQL);
 * arguments are described by a format: i = int64, t = text, b = 32-byte hash.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MM_DDNS_DB_H
#define MM_DDNS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct db db;
typedef struct db_rows db_rows;

/* "postgresql://..." / "postgres://..." / "host=..." open libpq; anything else is a SQLite path. */
int db_open(const char *target, db **out);
void db_close(db *d);
bool db_is_pg(const db *d);
/* Run a statement; rows affected (>= 0), MM_EEXIST on a unique violation, MM_EIO otherwise. */
int db_exec(db *d, const char *sql, const char *fmt, ...);
/* Run a query; NULL on error. Step with db_next, release with db_done. */
db_rows *db_query(db *d, const char *sql, const char *fmt, ...);
bool db_next(db_rows *r);
const char *db_text(db_rows *r, int col); /* never NULL ("" for NULL) */
int64_t db_int(db_rows *r, int col);
/* Column as bytes (hash): length in *len. */
const uint8_t *db_blob(db_rows *r, int col, size_t *len);
void db_done(db_rows *r);

/* Write transaction serialising writers of `key` (SQLite: the whole DB). */
int db_begin_write(db *d, const char *key);
int db_commit(db *d);
void db_rollback(db *d);
/*
 * Group commit: one outer transaction around many writes (each then a
 * savepoint); db_group_end commits (one fsync for the group) or rolls back.
 */
int db_group_begin(db *d);
int db_group_end(db *d, bool commit);
/* This connection's commits need not survive power loss (see mm_ddns_store_relax). */
int db_relax(db *d);
/* PostgreSQL: a session lock that makes this connection the one DNS pusher. */
bool db_push_leader(db *d);

#endif
