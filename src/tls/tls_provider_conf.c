/*
 * tls_provider_conf.c - the scloudplus options of mamori's built-in provider.
 *
 * Stock programs (openssl, curl, nginx) read the scloudplus provider's
 * options (codepoint overrides, variant, allow_any_codepoint) from the
 * provider section of OPENSSL_CONF (or OpenSSL's default config file).
 * mamori's private library context never loads that file, so it copies just
 * that one section from it, plus the options mamori's own configuration set
 * with mm_tls_provider_option_set(); a key set differently in both is an
 * error, so a mamori daemon and a stock peer on the same host cannot
 * silently disagree on a codepoint.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/conf.h>
#include <openssl/err.h>

#include "mamori/mm_core.h"
#include "mamori/mm_tls.h"
#include "sp_prov.h"
#include "tls_internal.h"

/* Options given by mamori's configuration (key index as sp_opt_keys). */
static char *mm_opts[SP_NOPTS];

static int opt_index(const char *key)
{
    for (int i = 0; i < SP_NOPTS; i++) {
        if (strcmp(key, sp_opt_keys[i]) == 0)
            return i;
    }
    return -1;
}

int mm_tls_provider_option_set(const char *key, const char *value)
{
    int i;
    char *v;

    MM_ENSURE(key != NULL && value != NULL, MM_EINVAL);
    i = opt_index(key);
    MM_ENSURE(i >= 0, MM_EINVAL);
    v = strdup(value);
    MM_ENSURE(v != NULL, MM_ENOMEM);
    free(mm_opts[i]);
    mm_opts[i] = v;
    return 0;
}

/* "a.b" names in config sections: OpenSSL skips up to the last dot. */
static const char *skip_dot(const char *name)
{
    const char *dot = strrchr(name, '.');

    return dot != NULL ? dot + 1 : name;
}

/*
 * The section of the provider named "scloudplus" (by its key, or by an
 * identity = scloudplus line) in the openssl_conf -> providers sections.
 */
static const char *find_section(const CONF *conf)
{
    const char *init = NCONF_get_string(conf, NULL, "openssl_conf");
    const char *provs = init != NULL ? NCONF_get_string(conf, init, "providers") : NULL;
    STACK_OF(CONF_VALUE) *list = provs != NULL ? NCONF_get_section(conf, provs) : NULL;

    for (int i = 0; list != NULL && i < sk_CONF_VALUE_num(list); i++) {
        CONF_VALUE *v = sk_CONF_VALUE_value(list, i);
        const char *id = NCONF_get_string(conf, v->value, "identity");

        if (strcmp(id != NULL ? id : skip_dot(v->name), SP_PROVIDER_NAME) == 0)
            return v->value;
    }
    ERR_clear_error(); /* NCONF_get_string raises for absent keys */
    return NULL;
}

/* OPENSSL_CONF, else OpenSSL's default file; a missing file is no section. */
static int read_cnf(char *cnf_opts[SP_NOPTS], char *path_out, size_t path_len)
{
    char *path = CONF_get1_default_config_file();
    CONF *conf = NCONF_new(NULL);
    long eline = -1;
    int rc = 0;

    if (path == NULL || conf == NULL) {
        rc = MM_ENOMEM;
        goto done;
    }
    snprintf(path_out, path_len, "%s", path);
    if (NCONF_load(conf, path, &eline) <= 0) {
        FILE *f = fopen(path, "r");

        if (f != NULL) { /* exists but does not parse: the stock programs fail too */
            fclose(f);
            mm_log_error("tls-init", "what=openssl-conf file=%s line=%ld reason=\"does not parse\"",
                         path, eline);
            rc = MM_EINVAL;
        }
        goto done;
    }
    const char *sect = find_section(conf);
    STACK_OF(CONF_VALUE) *kv = sect != NULL ? NCONF_get_section(conf, sect) : NULL;

    for (int i = 0; kv != NULL && i < sk_CONF_VALUE_num(kv); i++) {
        CONF_VALUE *v = sk_CONF_VALUE_value(kv, i);
        int k = opt_index(skip_dot(v->name));

        if (k >= 0 && (cnf_opts[k] = strdup(v->value)) == NULL) {
            rc = MM_ENOMEM;
            break;
        }
    }
done:
    ERR_clear_error();
    NCONF_free(conf);
    OPENSSL_free(path);
    return rc;
}

/*
 * MM_SCLOUDPLUS_OPTIONS="key=value;key=value": mamori's configuration
 * (suite/scloudplus, exported by the supervisor to every daemon). Taken as
 * mamori options; one set differently through mm_tls_provider_option_set
 * too is an error.
 */
static int read_env(void)
{
    const char *env = getenv("MM_SCLOUDPLUS_OPTIONS");
    char buf[512], *save = NULL;

    if (env == NULL || env[0] == '\0')
        return 0;
    if (strlen(env) >= sizeof(buf)) {
        mm_log_error("tls-init", "what=MM_SCLOUDPLUS_OPTIONS reason=\"too long\"");
        return MM_EINVAL;
    }
    memcpy(buf, env, strlen(env) + 1);
    for (char *kv = strtok_r(buf, ";", &save); kv != NULL; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        int i;

        if (eq == NULL || (*eq = '\0', i = opt_index(kv)) < 0) {
            mm_log_error("tls-init", "what=MM_SCLOUDPLUS_OPTIONS item=\"%s\" reason=\"unknown key\"",
                         kv);
            return MM_EINVAL;
        }
        if (mm_opts[i] != NULL && strcmp(mm_opts[i], eq + 1) != 0) {
            mm_log_error("tls-init", "what=scloudplus-option key=%s api=\"%s\" env=\"%s\" "
                         "reason=\"set twice, differently\"", kv, mm_opts[i], eq + 1);
            return MM_EINVAL;
        }
        MM_GUARD(mm_tls_provider_option_set(kv, eq + 1));
    }
    return 0;
}

int mm_tls_provider_options_apply(void)
{
    char *cnf_opts[SP_NOPTS] = {0};
    char path[512] = "";
    int rc = read_env();

    if (rc == 0)
        rc = read_cnf(cnf_opts, path, sizeof(path));

    mm_scloudplus_provider_options_clear();
    for (int i = 0; rc == 0 && i < SP_NOPTS; i++) {
        const char *v = mm_opts[i] != NULL ? mm_opts[i] : cnf_opts[i];

        if (mm_opts[i] != NULL && cnf_opts[i] != NULL && strcmp(mm_opts[i], cnf_opts[i]) != 0) {
            mm_log_error("tls-init",
                         "what=scloudplus-option key=%s mamori=\"%s\" openssl_conf=\"%s\" "
                         "file=%s reason=\"mamori and OpenSSL programs would disagree\"",
                         sp_opt_keys[i], mm_opts[i], cnf_opts[i], path);
            rc = MM_EINVAL;
        } else if (v != NULL && mm_scloudplus_provider_option_set(sp_opt_keys[i], v) != 0) {
            rc = MM_ENOMEM;
        }
    }
    for (int i = 0; i < SP_NOPTS; i++)
        free(cnf_opts[i]);
    return rc;
}
