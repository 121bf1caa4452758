/*
 * Configuration: JSON validated by libyang. Errors name file, line, YANG path.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mamori/mm_buf.h"
#include "mamori/mm_config.h"
#include "mamori/mm_core.h"

#ifndef MM_SOURCE_YANG_DIR
#define MM_SOURCE_YANG_DIR ""
#endif
#ifndef MM_INSTALL_YANG_DIR
#define MM_INSTALL_YANG_DIR "/usr/share/mamori/yang"
#endif

static bool is_dir(const char *p)
{
    struct stat st;
    return p && *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *mm_config_yang_dir(void)
{
    const char *env = getenv("MM_YANG_DIR");
    if (env && *env)
        return env;
    if (is_dir(MM_SOURCE_YANG_DIR))
        return MM_SOURCE_YANG_DIR;
    return MM_INSTALL_YANG_DIR;
}

int mm_config_ctx_new(const char *const *modules, struct ly_ctx **out, char *err, size_t errlen)
{
    const char *dir = mm_config_yang_dir();
    char ietf[1024];
    snprintf(ietf, sizeof(ietf), "%s/ietf", dir);
    *out = NULL;
    struct ly_ctx *ctx = NULL;
    /* Keep libyang's messages for our own reports instead of its stderr lines. */
    ly_log_options(LY_LOSTORE);
    if (ly_ctx_new(dir, LY_CTX_NO_YANGLIBRARY | LY_CTX_DISABLE_SEARCHDIR_CWD, &ctx) != LY_SUCCESS) {
        snprintf(err, errlen, "cannot create a YANG context over %s", dir);
        return MM_ECONFIG;
    }
    if (is_dir(ietf))
        ly_ctx_set_searchdir(ctx, ietf);
    for (size_t i = 0; modules && modules[i]; i++) {
        if (!ly_ctx_load_module(ctx, modules[i], NULL, NULL)) {
            const char *m = ly_errmsg(ctx);
            snprintf(err, errlen, "cannot load YANG module %s from %s: %s", modules[i], dir,
                     m ? m : "not found");
            ly_ctx_destroy(ctx);
            return MM_ECONFIG;
        }
    }
    *out = ctx;
    return 0;
}

/*
 * libyang 2.1 reports the position inside ly_err_item.path as
 * 'Data location "/x:y", line number 7.' (or 'Schema location ...');
 * split it into path and line so our message reads source:line: path: msg.
 */
/*
 * Validation errors about missing nodes come with a schema path and no line.
 * Point at the line of the closest enclosing node that does appear in the
 * text (its member name, e.g. "daemon"), so the user still gets a line.
 */
static long enclosing_line(const char *text, const char *path)
{
    char comp[128];
    const char *end = path ? strrchr(path, '/') : NULL;
    while (text && end && end > path) {
        const char *start = end - 1;
        while (start > path && *start != '/')
            start--;
        const char *name = start + 1;
        const char *colon = memchr(name, ':', (size_t)(end - name));
        if (colon)
            name = colon + 1;
        size_t n = (size_t)(end - name);
        if (n + 3 < sizeof(comp)) {
            snprintf(comp, sizeof(comp), "\"%.*s\"", (int)n, name);
            const char *hit = strstr(text, comp);
            if (hit) {
                long line = 1;
                for (const char *p = text; p < hit; p++)
                    line += *p == '\n';
                return line;
            }
        }
        end = start;
    }
    return 0;
}

/*
 * libyang 2.1 counts the line after it has consumed a leaf's value and the
 * whitespace behind it, so the reported line can be one past the member.
 * If the path's last member name starts on the line before, report that.
 */
static long refine_line(const char *text, const char *path, long line)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!text || !slash || line < 2)
        return line;
    const char *name = slash + 1;
    const char *colon = strchr(name, ':');
    if (colon)
        name = colon + 1;
    size_t n = strcspn(name, "[");
    const char *p = text;
    long cur = 1;
    while (*p && cur < line - 1)
        cur += *p++ == '\n';
    const char *eol = strchr(p, '\n');
    for (const char *q = p; q && eol && q < eol; q++) {
        if (*q == '"' && strncmp(q + 1, name, n) == 0 && q[1 + n] == '"')
            return line - 1;
    }
    return line;
}

static void describe(const struct ly_err_item *e, const char *source, const char *text, char *out,
                     size_t outlen)
{
    char path[512] = "/";
    long line = 0;
    const char *p = e->path;
    if (p) {
        const char *q = strchr(p, '"');
        const char *r = q ? strchr(q + 1, '"') : NULL;
        if (q && r && (size_t)(r - q - 1) < sizeof(path)) {
            memcpy(path, q + 1, (size_t)(r - q - 1));
            path[r - q - 1] = '\0';
        }
        const char *ln = strstr(p, "line number ");
        if (ln)
            line = strtol(ln + strlen("line number "), NULL, 10);
    }
    const char *msg = e->msg ? e->msg : "invalid data";
    /* Only value errors have the off-by-one (the value was consumed). */
    if (line && strstr(msg, "value"))
        line = refine_line(text, path, line);
    /* Some messages carry the line themselves ("... on line 3."). */
    const char *ml = msg ? strstr(msg, "line ") : NULL;
    if (!line && ml)
        line = strtol(ml + 5, NULL, 10);
    if (!line)
        line = enclosing_line(text, path);
    if (line > 0)
        snprintf(out, outlen, "%s:%ld: %s: %s", source, line, path, msg);
    else
        snprintf(out, outlen, "%s: %s: %s", source, path, msg);
}

static void collect_errors(struct ly_ctx *ctx, const char *source, const char *text, char *err,
                           size_t errlen)
{
    size_t used = 0;
    err[0] = '\0';
    for (const struct ly_err_item *e = ly_err_first(ctx); e && used + 1 < errlen; e = e->next) {
        if (e->level != LY_LLERR)
            continue;
        char line[1024];
        describe(e, source, text, line, sizeof(line));
        int n = snprintf(err + used, errlen - used, "%s%s", used ? "\n" : "", line);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (!err[0])
        snprintf(err, errlen, "%s: invalid configuration", source);
}

static int load(const char *label, const char *json, const char *const *modules, mm_config **out,
                char *err, size_t errlen)
{
    *out = NULL;
    mm_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return MM_ENOMEM;
    snprintf(cfg->source, sizeof(cfg->source), "%s", label);
    int rc = mm_config_ctx_new(modules, &cfg->ctx, err, errlen);
    if (rc < 0) {
        free(cfg);
        return rc;
    }
    /* Config only: state data in a config file is an error. */
    LY_ERR lr = lyd_parse_data_mem(cfg->ctx, json, LYD_JSON, LYD_PARSE_STRICT | LYD_PARSE_NO_STATE,
                                   LYD_VALIDATE_PRESENT | LYD_VALIDATE_NO_STATE, &cfg->tree);
    if (lr != LY_SUCCESS) {
        collect_errors(cfg->ctx, cfg->source, json, err, errlen);
        mm_config_free(cfg);
        return MM_ECONFIG;
    }
    *out = cfg;
    return 0;
}

int mm_config_load_string(const char *label, const char *json, const char *const *modules,
                          mm_config **out, char *err, size_t errlen)
{
    return load(label ? label : "<string>", json, modules, out, err, errlen);
}

int mm_config_load_file(const char *path, const char *const *modules, mm_config **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return errno == ENOENT ? MM_ENOENT : MM_EIO;
    }
    mm_buf b;
    mm_buf_init(&b, 16u << 20);
    int rc = mm_buf_read_stream(&b, f);
    fclose(f);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, rc == MM_ELIMIT ? "larger than 16 MiB" : "read error");
        mm_buf_free(&b);
        return rc;
    }
    rc = load(path, mm_buf_cstr(&b), modules, out, err, errlen);
    mm_buf_free(&b);
    return rc;
}

void mm_config_free(mm_config *cfg)
{
    if (!cfg)
        return;
    lyd_free_all(cfg->tree);
    ly_ctx_destroy(cfg->ctx);
    free(cfg);
}

static const char *leaf_value(const mm_config *cfg, const char *path)
{
    struct lyd_node *node = NULL;
    if (!cfg || !cfg->tree || lyd_find_path(cfg->tree, path, 0, &node) != LY_SUCCESS || !node)
        return NULL;
    return lyd_get_value(node);
}

const char *mm_config_str(const mm_config *cfg, const char *path, const char *dflt)
{
    const char *v = leaf_value(cfg, path);
    return v ? v : dflt;
}

uint32_t mm_config_u32(const mm_config *cfg, const char *path, uint32_t dflt)
{
    const char *v = leaf_value(cfg, path);
    return v ? (uint32_t)strtoul(v, NULL, 10) : dflt;
}

bool mm_config_bool(const mm_config *cfg, const char *path, bool dflt)
{
    const char *v = leaf_value(cfg, path);
    return v ? strcmp(v, "true") == 0 : dflt;
}
