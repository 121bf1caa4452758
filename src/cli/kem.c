/*
 * kem.c - `mamori kem`: the Scloud+ KEM from the command line.
 *
 * I/O convention: FILE "-" is stdin/stdout. Outputs are binary unless --hex
 * (upper-case hex, one line). Inputs are autodetected: a file whose content
 * is hex (optionally "name = HEX", whitespace ignored) of a valid size is
 * decoded, otherwise the raw bytes are used. The level follows from the key
 * or ciphertext length; --level picks it for keygen.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "mamori/mm_core.h"
#include "mamori/mm_scloudplus.h"

#define NOUN "kem"
#define KEM_MAX_FILE (64u << 20)

static void kem_help(void)
{
    puts("usage: mamori kem COMMAND [options]\n"
         "\n"
         "Scloud+ key encapsulation (levels 128, 192, 256).\n"
         "\n"
         "commands:\n"
         "  keygen [--level L] [--pk FILE] [--sk FILE] [--hex]\n"
         "      new key pair; without --pk/--sk prints 'pk = HEX' and 'sk = HEX' lines\n"
         "  encaps --pk FILE [--ct FILE] [--ss FILE] [--hex] [--variant V]\n"
         "      encapsulate to a public key; without --ct/--ss prints 'ct =' and 'ss =' lines\n"
         "  decaps --sk FILE --ct FILE [--ss FILE] [--hex] [--variant V]\n"
         "      recover the shared secret (default: ss in hex on stdout)\n"
         "  bench [--level L] [--kernel K] [--iterations N]\n"
         "      median cycles (rdtsc; n/a off x86) and microseconds of\n"
         "      keygen/encaps/decaps\n"
         "  kat FILE.rsp [--variant V] [--kernel K]\n"
         "      re-derive every vector of a NIST-style .rsp file from its seed and compare\n"
         "\n"
         "FILE '-' is stdin/stdout. Outputs are binary unless --hex; inputs may be binary or\n"
         "hex (autodetected). L: 128|192|256 (default 128). V: reference (default) |\n"
         "openhitls. K: portable|avx2|avx512 (default: best for this CPU).");
}

/* ------------------------------------------------------------------ I/O */

static int kem_read(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return mm_cli_fail(NOUN, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= KEM_MAX_FILE)
            break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || err) {
        free(buf);
        return mm_cli_fail(NOUN, "cannot read %s: %s", path, err ? "I/O error" : "out of memory");
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Decode hex content in place if the whole text is [name =] HEX of a wanted size. */
static size_t kem_maybe_hex(uint8_t *buf, size_t len, const size_t *sizes, size_t nsizes)
{
    char *hex = malloc(len + 1);
    size_t h = 0, start = 0;
    if (!hex)
        return len;
    for (size_t i = 0; i < len; i++) { /* skip a leading "name =" */
        if (buf[i] == '=') {
            start = i + 1;
            break;
        }
        if (buf[i] == '\n')
            break;
    }
    for (size_t i = start; i < len; i++) {
        if (isxdigit(buf[i]))
            hex[h++] = (char)buf[i];
        else if (!isspace(buf[i]))
            h = len + 1; /* not hex */
        if (h > len)
            break;
    }
    size_t out = len;
    for (size_t k = 0; h <= len && k < nsizes; k++) {
        if (h == 2 * sizes[k] && mm_hex_decode(hex, h, buf, sizes[k]) == 0)
            out = sizes[k];
    }
    free(hex);
    return out;
}

/* Read an input that must be one of the levels' pk/sk/ct sizes (field 0/1/2). */
static int kem_read_obj(const char *path, int field, uint8_t **out, size_t *len,
                        enum mm_scloudplus_level *lv)
{
    size_t sizes[3];
    for (int l = 0; l < 3; l++) {
        const mm_scloudplus_info *i = mm_scloudplus_info_get((enum mm_scloudplus_level)l);
        sizes[l] = field == 0 ? i->pk_bytes : field == 1 ? i->sk_bytes : i->ct_bytes;
    }
    if (kem_read(path, out, len))
        return MM_CLI_EXIT_FAIL;
    *len = kem_maybe_hex(*out, *len, sizes, 3);
    for (int l = 0; l < 3; l++) {
        if (*len == sizes[l]) {
            *lv = (enum mm_scloudplus_level)l;
            return 0;
        }
    }
    static const char *what[] = {"public key", "secret key", "ciphertext"};
    free(*out);
    return mm_cli_fail(NOUN, "%s: not a Scloud+ %s (%zu bytes)", path, what[field], *len);
}

/* Secret keys and shared secrets go to files only the owner can read. */
static FILE *open_out(const char *path, const char *name)
{
    if (!strcmp(path, "-"))
        return stdout;
    bool secret = name && (!strcmp(name, "sk") || !strcmp(name, "ss"));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, secret ? 0600 : 0644);
    if (fd >= 0 && secret && fchmod(fd, 0600) != 0) { /* an existing file keeps its mode */
        close(fd);
        return NULL;
    }
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (fd >= 0 && !f)
        close(fd);
    return f;
}

static int kem_write(const char *path, const char *name, const char *kind, const uint8_t *v,
                     size_t n, int hex)
{
    FILE *f = open_out(path, kind);
    if (!f)
        return mm_cli_fail(NOUN, "cannot write %s: %s", path, strerror(errno));
    int ok = 1;
    if (hex) {
        char *s = malloc(2 * n + 1);
        ok = s != NULL;
        if (s) {
            mm_hex_encode(v, n, s);
            ok = (name ? fprintf(f, "%s = %s\n", name, s) : fprintf(f, "%s\n", s)) > 0;
        }
        free(s);
    } else {
        ok = fwrite(v, 1, n, f) == n;
    }
    ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
    return ok ? 0 : mm_cli_fail(NOUN, "cannot write %s", path);
}

/* ------------------------------------------------------------------ options */

typedef struct kem_opts {
    const char *pk, *sk, *ct, *ss, *kernel, *file;
    enum mm_scloudplus_level level;
    enum mm_scloudplus_variant variant;
    int hex, have_variant, iterations;
} kem_opts;

static int kem_parse(int argc, char **argv, kem_opts *o)
{
    memset(o, 0, sizeof *o);
    o->iterations = 101;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (!strcmp(a, "--hex")) {
            o->hex = 1;
            takes = 0;
        } else if (a[0] != '-' || !strcmp(a, "-")) {
            if (o->file)
                return mm_cli_usage_error(NOUN, "unexpected argument '%s'", a);
            o->file = a;
            takes = 0;
        } else if (!v) {
            return mm_cli_usage_error(NOUN, "option %s needs a value", a);
        } else if (!strcmp(a, "--pk")) {
            o->pk = v;
        } else if (!strcmp(a, "--sk")) {
            o->sk = v;
        } else if (!strcmp(a, "--ct")) {
            o->ct = v;
        } else if (!strcmp(a, "--ss")) {
            o->ss = v;
        } else if (!strcmp(a, "--kernel")) {
            o->kernel = v;
        } else if (!strcmp(a, "--level")) {
            if (mm_scloudplus_level_parse(v, &o->level))
                return mm_cli_usage_error(NOUN, "unknown level '%s'", v);
        } else if (!strcmp(a, "--variant")) {
            if (mm_scloudplus_variant_parse(v, &o->variant))
                return mm_cli_usage_error(NOUN, "unknown variant '%s'", v);
            o->have_variant = 1;
        } else if (!strcmp(a, "--iterations")) {
            o->iterations = atoi(v);
            if (o->iterations < 1)
                return mm_cli_usage_error(NOUN, "bad iteration count '%s'", v);
        } else {
            return mm_cli_usage_error(NOUN, "unknown option '%s'", a);
        }
        i += takes;
    }
    if (o->kernel) {
        int rc = mm_scloudplus_kernel_set(o->kernel);
        if (rc)
            return mm_cli_fail(NOUN, "kernel %s: %s", o->kernel, mm_strerror(rc));
    }
    return 0;
}

/* ------------------------------------------------------------------ commands */

static int kem_keygen(const kem_opts *o)
{
    const mm_scloudplus_info *i = mm_scloudplus_info_get(o->level);
    uint8_t *pk = malloc(i->pk_bytes), *sk = malloc(i->sk_bytes);
    int rc = pk && sk ? mm_scloudplus_keypair(o->level, pk, sk) : MM_ENOMEM;
    if (rc) {
        rc = mm_cli_fail(NOUN, "keygen: %s", mm_strerror(rc));
    } else {
        int lines = !o->pk && !o->sk; /* nothing named: two hex lines on stdout */
        rc = kem_write(o->pk ? o->pk : "-", lines ? "pk" : NULL, "pk", pk, i->pk_bytes,
                       o->hex || lines);
        if (!rc && (o->sk || lines))
            rc = kem_write(o->sk ? o->sk : "-", lines ? "sk" : NULL, "sk", sk, i->sk_bytes,
                           o->hex || lines);
    }
    if (sk)
        OPENSSL_clear_free(sk, i->sk_bytes);
    free(pk);
    return rc;
}

static int kem_encaps(const kem_opts *o)
{
    if (!o->pk)
        return mm_cli_usage_error(NOUN, "encaps needs --pk FILE");
    uint8_t *pk, ct[MM_SCLOUDPLUS_MAX_CT_BYTES], ss[MM_SCLOUDPLUS_MAX_SS_BYTES];
    size_t len;
    enum mm_scloudplus_level lv;
    if (kem_read_obj(o->pk, 0, &pk, &len, &lv))
        return MM_CLI_EXIT_FAIL;
    const mm_scloudplus_info *i = mm_scloudplus_info_get(lv);
    int rc = mm_scloudplus_encaps(lv, o->variant, ct, ss, pk);
    free(pk);
    if (rc)
        return mm_cli_fail(NOUN, "encaps: %s", mm_strerror(rc));
    int lines = !o->ct && !o->ss;
    rc = kem_write(o->ct ? o->ct : "-", lines ? "ct" : NULL, "ct", ct, i->ct_bytes, o->hex || lines);
    if (!rc && (o->ss || lines))
        rc = kem_write(o->ss ? o->ss : "-", lines ? "ss" : NULL, "ss", ss, i->ss_bytes,
                       o->hex || lines);
    OPENSSL_cleanse(ss, sizeof ss);
    return rc;
}

static int kem_decaps(const kem_opts *o)
{
    if (!o->sk || !o->ct)
        return mm_cli_usage_error(NOUN, "decaps needs --sk FILE and --ct FILE");
    uint8_t *sk, *ct, ss[MM_SCLOUDPLUS_MAX_SS_BYTES];
    size_t sklen, ctlen;
    enum mm_scloudplus_level lv, lv2;
    if (kem_read_obj(o->sk, 1, &sk, &sklen, &lv))
        return MM_CLI_EXIT_FAIL;
    if (kem_read_obj(o->ct, 2, &ct, &ctlen, &lv2)) {
        OPENSSL_clear_free(sk, sklen);
        return MM_CLI_EXIT_FAIL;
    }
    int rc = lv == lv2 ? mm_scloudplus_decaps(lv, o->variant, ss, ct, sk) : MM_EINVAL;
    OPENSSL_clear_free(sk, sklen);
    free(ct);
    if (rc)
        return mm_cli_fail(NOUN, "decaps: %s", lv == lv2 ? mm_strerror(rc)
                                                         : "key and ciphertext levels differ");
    const mm_scloudplus_info *i = mm_scloudplus_info_get(lv);
    rc = kem_write(o->ss ? o->ss : "-", NULL, "ss", ss, i->ss_bytes, o->hex || !o->ss);
    OPENSSL_cleanse(ss, sizeof ss);
    return rc;
}

static int kem_bench(const kem_opts *o, int all_levels);
static int kem_kat(const kem_opts *o);

int mm_cli_kem(int argc, char **argv)
{
    if (argc < 2 || mm_cli_is_help(argv[1])) {
        kem_help();
        return argc < 2 ? MM_CLI_EXIT_USAGE : MM_CLI_EXIT_OK;
    }
    kem_opts o;
    for (int i = 2; i < argc; i++) {
        if (mm_cli_is_help(argv[i])) {
            kem_help();
            return MM_CLI_EXIT_OK;
        }
    }
    int rc = kem_parse(argc, argv, &o);
    if (rc)
        return rc;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "kat"))
        return kem_kat(&o);
    if (o.file)
        return mm_cli_usage_error(NOUN, "unexpected argument '%s'", o.file);
    if (!strcmp(cmd, "keygen"))
        return kem_keygen(&o);
    if (!strcmp(cmd, "encaps"))
        return kem_encaps(&o);
    if (!strcmp(cmd, "decaps"))
        return kem_decaps(&o);
    if (!strcmp(cmd, "bench")) {
        int all = 1;
        for (int i = 2; i < argc; i++)
            all &= strcmp(argv[i], "--level") != 0;
        return kem_bench(&o, all);
    }
    return mm_cli_usage_error(NOUN, "unknown command '%s'", cmd);
}

/* ------------------------------------------------------------------ bench */

static int kem_cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Time-stamp counter cycles (rdtsc: constant rate on current x86 CPUs, so
 * "reference cycles"); 0 where there is no such counter. */
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static uint64_t kem_cycles(void)
{
    return __rdtsc();
}
#define KEM_HAVE_CYCLES 1
#else
static uint64_t kem_cycles(void)
{
    return 0;
}
#define KEM_HAVE_CYCLES 0
#endif

static int kem_bench_level(enum mm_scloudplus_level lv, int iters)
{
    static const char *ops[] = {"keygen", "encaps", "decaps"};
    uint8_t *pk = malloc(MM_SCLOUDPLUS_MAX_PK_BYTES), *sk = malloc(MM_SCLOUDPLUS_MAX_SK_BYTES);
    uint8_t *ct = malloc(MM_SCLOUDPLUS_MAX_CT_BYTES), ss[32], ss2[32];
    double *us = calloc((size_t)iters, sizeof *us);
    double *cyc = calloc((size_t)iters, sizeof *cyc);
    int rc = pk && sk && ct && us && cyc ? 0 : MM_ENOMEM;
    for (int op = 0; rc == 0 && op < 3; op++) {
        for (int i = 0; rc == 0 && i < iters; i++) {
            double t0 = (double)mm_monotonic_us();
            uint64_t c0 = kem_cycles();
            rc = op == 0   ? mm_scloudplus_keypair(lv, pk, sk)
                 : op == 1 ? mm_scloudplus_encaps(lv, 0, ct, ss, pk)
                           : mm_scloudplus_decaps(lv, 0, ss2, ct, sk);
            cyc[i] = (double)(kem_cycles() - c0);
            us[i] = (double)mm_monotonic_us() - t0;
        }
        qsort(us, (size_t)iters, sizeof *us, kem_cmp_dbl);
        qsort(cyc, (size_t)iters, sizeof *cyc, kem_cmp_dbl);
        if (rc == 0 && KEM_HAVE_CYCLES)
            printf("%-14s %-9s %-7s %12.0f cycles %10.1f us (median of %d)\n",
                   mm_scloudplus_info_get(lv)->name, mm_scloudplus_kernel_name(), ops[op],
                   cyc[iters / 2], us[iters / 2], iters);
        else if (rc == 0)
            printf("%-14s %-9s %-7s %12s cycles %10.1f us (median of %d)\n",
                   mm_scloudplus_info_get(lv)->name, mm_scloudplus_kernel_name(), ops[op],
                   "n/a", us[iters / 2], iters);
    }
    free(pk);
    free(sk);
    free(ct);
    free(us);
    free(cyc);
    return rc;
}

static int kem_bench(const kem_opts *o, int all_levels)
{
    for (int l = 0; l < 3; l++) {
        if (!all_levels && l != (int)o->level)
            continue;
        int rc = kem_bench_level((enum mm_scloudplus_level)l, o->iterations);
        if (rc)
            return mm_cli_fail(NOUN, "bench: %s", mm_strerror(rc));
    }
    return MM_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ kat */

typedef struct kat_vec {
    long count;
    uint8_t seed[48];
    uint8_t *f[4]; /* pk, sk, ct, ss */
    size_t len[4];
    int have_seed;
} kat_vec;

static const char *const kat_fields[] = {"pk", "sk", "ct", "ss"};

static void kat_vec_clear(kat_vec *v)
{
    for (int k = 0; k < 4; k++)
        free(v->f[k]);
    memset(v, 0, sizeof *v);
    v->count = -1;
}

/* Store "key = HEX" of line `ln` into v; returns 0 or prints why and fails. */
static int kat_field(kat_vec *v, const char *path, size_t ln, const char *key, const char *hex)
{
    size_t n = strlen(hex);
    if (!strcmp(key, "seed")) {
        if (mm_hex_decode(hex, n, v->seed, 48))
            return mm_cli_fail(NOUN, "%s:%zu: malformed seed", path, ln);
        v->have_seed = 1;
        return 0;
    }
    for (int k = 0; k < 4; k++) {
        if (strcmp(key, kat_fields[k]))
            continue;
        free(v->f[k]);
        v->f[k] = malloc(n / 2 + 1);
        v->len[k] = n / 2;
        if (!v->f[k] || n % 2 || mm_hex_decode(hex, n, v->f[k], n / 2))
            return mm_cli_fail(NOUN, "%s:%zu: malformed %s", path, ln, key);
        return 0;
    }
    return mm_cli_fail(NOUN, "%s:%zu: unknown field '%s'", path, ln, key);
}

/* Re-derive one vector and compare; prints each failing field. 1 if it passed. */
static int kat_check(const kat_vec *v, enum mm_scloudplus_level lv,
                     enum mm_scloudplus_variant var)
{
    const mm_scloudplus_info *i = mm_scloudplus_info_get(lv);
    const size_t want[4] = {i->pk_bytes, i->sk_bytes, i->ct_bytes, i->ss_bytes};
    uint8_t *got[4] = {malloc(i->pk_bytes), malloc(i->sk_bytes), malloc(i->ct_bytes),
                       malloc(32)};
    uint8_t ss[32];
    int ok = got[0] && got[1] && got[2] && got[3] &&
             mm_scloudplus_kat_derive(lv, var, v->seed, got[0], got[1], got[2], got[3]) == 0;
    if (!ok)
        printf("count %ld: derivation failed\n", v->count);
    for (int k = 0; ok && k < 4; k++) {
        if (v->len[k] != want[k] || memcmp(v->f[k], got[k], want[k])) {
            printf("count %ld: %s mismatch\n", v->count, kat_fields[k]);
            ok = 0;
        }
    }
    if (v->len[1] == want[1] && v->len[2] == want[2] && v->len[3] == want[3] &&
        (mm_scloudplus_decaps(lv, var, ss, v->f[2], v->f[1]) != 0 ||
         memcmp(ss, v->f[3], want[3]))) {
        printf("count %ld: decapsulation mismatch\n", v->count);
        ok = 0;
    }
    for (int k = 0; k < 4; k++)
        free(got[k]);
    return ok;
}

/* The level from the "# scloudplusNNN" header, else from the pk length. */
static int kat_level(const char *header, const kat_vec *v, enum mm_scloudplus_level *lv)
{
    char name[32] = "";
    if (header && sscanf(header, "# %31s", name) == 1 && mm_scloudplus_level_parse(name, lv) == 0)
        return 0;
    for (int l = 0; l < 3; l++) {
        if (v->len[0] == mm_scloudplus_info_get((enum mm_scloudplus_level)l)->pk_bytes) {
            *lv = (enum mm_scloudplus_level)l;
            return 0;
        }
    }
    return MM_EINVAL;
}

typedef struct kat_run {
    const kem_opts *o;
    const char *header;
    long passed, failed;
} kat_run;

static int kat_finish(kat_run *r, kat_vec *v, size_t ln)
{
    enum mm_scloudplus_level lv;
    if (v->count < 0)
        return 0;
    for (int k = 0; k < 4; k++) {
        if (!v->f[k] || !v->have_seed)
            return mm_cli_fail(NOUN, "%s:%zu: count %ld lacks %s", r->o->file, ln, v->count,
                               v->have_seed ? kat_fields[k] : "seed");
    }
    if (kat_level(r->header, v, &lv))
        return mm_cli_fail(NOUN, "%s: count %ld: cannot tell the level", r->o->file, v->count);
    enum mm_scloudplus_variant var = r->o->variant;
    if (!r->o->have_variant && r->header && strstr(r->header, "openHiTLS"))
        var = MM_SCLOUDPLUS_VARIANT_OPENHITLS;
    if (kat_check(v, lv, var))
        r->passed++;
    else
        r->failed++;
    kat_vec_clear(v);
    return 0;
}

static int kat_lines(kat_run *r, char *text, kat_vec *v)
{
    size_t ln = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        ln++;
        line[strcspn(line, "\r")] = '\0';
        if (line[0] == '#') {
            r->header = r->header ? r->header : line;
            continue;
        }
        if (line[0] == '\0')
            continue;
        char *eq = strstr(line, " = ");
        if (!eq)
            return mm_cli_fail(NOUN, "%s:%zu: expected 'name = value'", r->o->file, ln);
        *eq = '\0';
        if (!strcmp(line, "count")) {
            if (kat_finish(r, v, ln))
                return MM_CLI_EXIT_FAIL;
            char *end;
            v->count = strtol(eq + 3, &end, 10);
            if (*end || v->count < 0)
                return mm_cli_fail(NOUN, "%s:%zu: malformed count", r->o->file, ln);
            continue;
        }
        if (v->count < 0)
            return mm_cli_fail(NOUN, "%s:%zu: field before 'count'", r->o->file, ln);
        if (kat_field(v, r->o->file, ln, line, eq + 3))
            return MM_CLI_EXIT_FAIL;
    }
    return kat_finish(r, v, ln);
}

static int kem_kat(const kem_opts *o)
{
    if (!o->file)
        return mm_cli_usage_error(NOUN, "kat needs a FILE.rsp");
    uint8_t *buf;
    size_t len;
    if (kem_read(o->file, &buf, &len))
        return MM_CLI_EXIT_FAIL;
    char *text = realloc(buf, len + 1);
    if (!text) {
        free(buf);
        return mm_cli_fail(NOUN, "out of memory");
    }
    text[len] = '\0';
    kat_run r = {o, NULL, 0, 0};
    kat_vec v;
    memset(&v, 0, sizeof v);
    v.count = -1;
    int rc = kat_lines(&r, text, &v);
    kat_vec_clear(&v);
    free(text);
    if (rc)
        return rc;
    if (r.passed + r.failed == 0)
        return mm_cli_fail(NOUN, "%s: no test vectors found", o->file);
    printf("%ld passed, %ld failed\n", r.passed, r.failed);
    return r.failed ? MM_CLI_EXIT_FAIL : MM_CLI_EXIT_OK;
}
