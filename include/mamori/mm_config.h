/*
 * mm_config.h - JSON (RFC 7951) configuration validated by libyang against
 * mamori's YANG modules.
 *
 * Every error names the file, the line and the YANG path, e.g.
 *   etc/mamori.json:7: /mamori-suite:suite/restart/initial-backoff-ms:
 *   Value "5" is out of type uint32 min/max bounds.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef MAMORI_MM_CONFIG_H
#define MAMORI_MM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libyang/libyang.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_config {
    struct ly_ctx *ctx;
    struct lyd_node *tree; /* validated data, implicit defaults included */
    char source[512];      /* the file name, or a label for embedded text */
} mm_config;

/*
 * Directory of mamori's YANG modules: $MM_YANG_DIR if set, else the build's
 * source tree yang/ if it exists, else the installed data directory.
 */
const char *mm_config_yang_dir(void);

/*
 * A libyang context with the named modules (NULL-terminated list, e.g.
 * {"mamori-suite", NULL}) loaded from mm_config_yang_dir() and yang/ietf.
 */
int mm_config_ctx_new(const char *const *modules, struct ly_ctx **out, char *err, size_t errlen);

/*
 * Parse and validate. On error nothing is returned, and err holds one line
 * per problem: "<source>:<line>: <yang-path>: <message>".
 */
int mm_config_load_file(const char *path, const char *const *modules, mm_config **out, char *err,
                        size_t errlen);
int mm_config_load_string(const char *label, const char *json, const char *const *modules,
                          mm_config **out, char *err, size_t errlen);
void mm_config_free(mm_config *cfg);

/* Typed reads of single leaves by absolute data path; dflt if absent. */
const char *mm_config_str(const mm_config *cfg, const char *path, const char *dflt);
uint32_t mm_config_u32(const mm_config *cfg, const char *path, uint32_t dflt);
bool mm_config_bool(const mm_config *cfg, const char *path, bool dflt);

#ifdef __cplusplus
}
#endif
#endif
