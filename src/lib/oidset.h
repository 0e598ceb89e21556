/* A set of object ids (open addressing on the id's first bytes). */
#ifndef LMD_OIDSET_H
#define LMD_OIDSET_H

#include <stdbool.h>
#include <stddef.h>
#include "lmdata/common.h"

typedef struct lmd_oidset {
	lmd_oid *slots;
	bool *used;
	size_t n, cap;
} lmd_oidset;

int lmd_oidset_add(lmd_oidset *s, const lmd_oid *id);   /* 1 if new, 0 if present */
bool lmd_oidset_has(const lmd_oidset *s, const lmd_oid *id);
/* Empty the set, keeping its slots for reuse. */
void lmd_oidset_clear(lmd_oidset *s);
void lmd_oidset_release(lmd_oidset *s);

#endif
