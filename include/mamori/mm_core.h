/*
 * mm_core.h - the small runtime every mamori module uses.
 *
 * Errors: functions return 0 or a negative MM_E* code, or a pointer (NULL on
 * error). mm_strerror() names every code.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_CORE_H
#define MAMORI_MM_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MM_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

/* One row per error: symbol, value, text. Adding an error is adding a row. */
#define MM_ERROR_TABLE(X)                                                   \
    X(MM_OK, 0, "success")                                                  \
    X(MM_EINVAL, -1, "invalid argument")                                    \
    X(MM_ENOMEM, -2, "out of memory")                                       \
    X(MM_ETRUNC, -3, "input truncated (read past the end)")                 \
    X(MM_ESPACE, -4, "no space left in output buffer")                      \
    X(MM_ELIMIT, -5, "size limit exceeded")                                 \
    X(MM_EMALFORMED, -6, "malformed input")                                 \
    X(MM_EIO, -7, "I/O error")                                              \
    X(MM_ENOENT, -8, "no such file or entry")                               \
    X(MM_EEXIST, -9, "already exists")                                      \
    X(MM_EPERM, -10, "permission denied")                                   \
    X(MM_ECONFIG, -11, "invalid configuration")                             \
    X(MM_ECRYPTO, -12, "cryptographic operation failed")                    \
    X(MM_EVERIFY, -13, "verification failed")                               \
    X(MM_EUNSUPPORTED, -14, "not supported")                                \
    X(MM_ESTATE, -15, "operation not valid in this state")                  \
    X(MM_ETIMEOUT, -16, "timed out")                                        \
    X(MM_ECLOSED, -17, "connection closed")                                 \
    X(MM_EPROTO, -18, "protocol error")                                     \
    X(MM_EAGAIN, -19, "try again")                                          \
    X(MM_ESYS, -20, "system call failed (see errno)")

enum mm_error {
#define MM_ERROR_ENUM(sym, val, text) sym = (val),
    MM_ERROR_TABLE(MM_ERROR_ENUM)
#undef MM_ERROR_ENUM
};

/* Text for an MM_E* code; never NULL (unknown codes get a generic text). */
const char *mm_strerror(int code);

/* Propagate a negative return. */
#define MM_GUARD(expr)                                                      \
    do {                                                                    \
        int mm_guard_rc_ = (expr);                                          \
        if (mm_guard_rc_ < 0)                                               \
            return mm_guard_rc_;                                            \
    } while (0)

/* Return err unless cond holds. */
#define MM_ENSURE(cond, err)                                                \
    do {                                                                    \
        if (!(cond))                                                        \
            return (err);                                                   \
    } while (0)

/* ---------------------------------------------------------------- logging */

enum mm_log_level {
    MM_LOG_ERROR = 0,
    MM_LOG_WARN = 1,
    MM_LOG_INFO = 2,
    MM_LOG_DEBUG = 3,
};

enum mm_log_sink {
    MM_LOG_STDERR = 0,
    MM_LOG_SYSLOG = 1,
};

/* Configure the process-wide logger (default: stderr, info, ident "mamori"). */
void mm_log_setup(const char *ident, enum mm_log_sink sink, enum mm_log_level level);
void mm_log_set_level(enum mm_log_level level);
enum mm_log_level mm_log_get_level(void);
/* Parse "error", "warn", "info", "debug"; returns MM_EINVAL otherwise. */
int mm_log_level_parse(const char *name, enum mm_log_level *out);

/*
 * Structured logging: msg is a short event name, followed by key=value pairs
 * given as a printf format, e.g.
 *   mm_log(MM_LOG_INFO, "listen", "addr=%s port=%u", addr, port);
 * Output: "<ts> <ident> level=info event=listen addr=::1 port=6513".
 */
void mm_log(enum mm_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mm_vlog(enum mm_log_level level, const char *event, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define mm_log_error(ev, ...) mm_log(MM_LOG_ERROR, ev, __VA_ARGS__)
#define mm_log_warn(ev, ...) mm_log(MM_LOG_WARN, ev, __VA_ARGS__)
#define mm_log_info(ev, ...) mm_log(MM_LOG_INFO, ev, __VA_ARGS__)
#define mm_log_debug(ev, ...) mm_log(MM_LOG_DEBUG, ev, __VA_ARGS__)

/* ---------------------------------------------------------------- time */

/* Monotonic clock in microseconds (for timeouts and measurements). */
int64_t mm_monotonic_us(void);
/* Monotonic clock in milliseconds. */
static inline int64_t mm_monotonic_ms(void) { return mm_monotonic_us() / 1000; }
/* Milliseconds left until a monotonic deadline (ms); -1 if deadline < 0 (none). */
int mm_deadline_left_ms(int64_t deadline_ms);

/* ---------------------------------------------------------------- files */

/* write(2) all of len bytes, retrying on EINTR and short writes; MM_EIO on error. */
int mm_write_all(int fd, const void *data, size_t len);
/* mkdir -p: create path and missing parents with mode (existing ones are kept). */
int mm_mkdir_p(const char *path, unsigned int mode);

struct sockaddr;
/* "a.b.c.d:port" or "[v6]:port" of a socket address (logs, audit records). */
void mm_sockaddr_format(const struct sockaddr *sa, char *out, size_t len);
/* TCP keep-alive and TCP_USER_TIMEOUT so a vanished peer is noticed within
 * about ms milliseconds (src/core/net.c). */
void mm_tcp_dead_peer_detection(int fd, uint32_t ms);
struct sockaddr_storage;
/* A connected socket handed over to a server (call home): its peer address,
 * made non-blocking. On failure the socket is closed. */
int mm_sock_adopt(int fd, struct sockaddr_storage *peer);

/* ---------------------------------------------------------------- string vectors */

/*
 * Append s (malloc'd; ownership passes) to the array *v of *n strings. On
 * failure (s NULL or out of memory) s is freed and MM_ENOMEM returned.
 */
int mm_strv_push(char ***v, size_t *n, char *s);

/* ---------------------------------------------------------------- hex */

/* Encode len bytes as upper-case hex into out (2*len+1 bytes, NUL-terminated). */
void mm_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decode exactly 2*len hex digits (either case) into out; MM_EMALFORMED otherwise. */
int mm_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen);
/* The value of one hex digit (either case), -1 if c is not one. */
int mm_hex_nibble(char c);

#ifdef __cplusplus
}
#endif
#endif
