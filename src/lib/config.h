/*
 * lmdata's config files, in git's INI style:
 *
 *   [core]
 *           format = 1
 *   [chunk]
 *           avg = 16384
 *   [remote "origin"]
 *           url = s3://bucket/prefix
 *
 * .lmdata/config is committed (shared settings); .lmdata/config.local is
 * not (secrets, machine settings) and overrides it.  Keys are addressed as
 * "section.key" or "section.sub.key".  Order and comments are kept when a
 * file is rewritten (atomically).
 */
#ifndef LMD_CONFIG_H
#define LMD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct lmd_config lmd_config;

int lmd_config_load(const char *path, lmd_config **ret);   /* missing file: empty config */
void lmd_config_free(lmd_config *c);
/* NULL when unset.  The string belongs to the config. */
const char *lmd_config_get(const lmd_config *c, const char *key);
int lmd_config_get_u64(const lmd_config *c, const char *key, uint64_t def, uint64_t max, uint64_t *ret);
int lmd_config_set(lmd_config *c, const char *key, const char *value);  /* value NULL: unset */
/* Remove a whole section ("remote.origin"). */
int lmd_config_remove_section(lmd_config *c, const char *section);
int lmd_config_write(const lmd_config *c);
/* The mode a rewrite creates the file with (default 0644; 0600 for secrets). */
void lmd_config_set_mode(lmd_config *c, unsigned mode);
/* Visit every key with the given section prefix ("remote."), in file order. */
typedef int (*lmd_config_cb)(const char *key, const char *value, void *payload);
int lmd_config_foreach(const lmd_config *c, const char *prefix, lmd_config_cb cb, void *payload);

#endif
