/* The object id set (oidset.h): SHA-256 ids are uniform, so their first
 * eight bytes make a good hash. */
#include <stdlib.h>
#include <string.h>

#include "oidset.h"
#include "util.h"

static size_t slot(const lmd_oid *id, size_t cap)
{
	uint64_t h;
	memcpy(&h, id->id, 8);
	return (size_t)h & (cap - 1);
}

int lmd_oidset_add(lmd_oidset *s, const lmd_oid *id)
{
	size_t j;
	if ((s->n + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 1024;
		lmd_oid *ns = lmd_calloc(nc, sizeof(*ns));
		bool *nu = lmd_calloc(nc, sizeof(*nu));
		if (!ns || !nu) {
			free(ns);
			free(nu);
			return -ENOMEM;
		}
		for (size_t i = 0; i < s->cap; i++)
			if (s->used[i]) {
				size_t k = slot(&s->slots[i], nc);
				while (nu[k])
					k = (k + 1) & (nc - 1);
				ns[k] = s->slots[i];
				nu[k] = true;
			}
		free(s->slots);
		free(s->used);
		s->slots = ns;
		s->used = nu;
		s->cap = nc;
	}
	for (j = slot(id, s->cap); s->used[j]; j = (j + 1) & (s->cap - 1))
		if (!lmd_oid_cmp(&s->slots[j], id))
			return 0;
	s->slots[j] = *id;
	s->used[j] = true;
	s->n++;
	return 1;
}

bool lmd_oidset_has(const lmd_oidset *s, const lmd_oid *id)
{
	if (!s->cap)
		return false;
	for (size_t j = slot(id, s->cap); s->used[j]; j = (j + 1) & (s->cap - 1))
		if (!lmd_oid_cmp(&s->slots[j], id))
			return true;
	return false;
}

void lmd_oidset_clear(lmd_oidset *s)
{
	if (s->cap)
		memset(s->used, 0, s->cap * sizeof(*s->used));
	s->n = 0;
}

void lmd_oidset_release(lmd_oidset *s)
{
	free(s->slots);
	free(s->used);
	memset(s, 0, sizeof(*s));
}
