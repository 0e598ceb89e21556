/*
 * A small reader/writer for git-style INI config files (see config.h).
 * The file is kept as a list of lines so a rewrite preserves comments and
 * order; each value line knows its full "section.sub.key".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

struct line {
	char *text;     /* the line as written (rewritten when set) */
	char *key;      /* full key for value lines, NULL otherwise */
	char *value;
	char *section;  /* for section header lines: "remote.origin" */
};

struct lmd_config {
	char *path;
	unsigned mode;
	struct line *lines;
	size_t n, cap;
};

static void trim(char **s, char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

static int push_line(lmd_config *c, struct line l)
{
	if (c->n == c->cap) {
		size_t n = c->cap ? c->cap * 2 : 16;
		struct line *nl = lmd_reallocarray(c->lines, n, sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		c->lines = nl;
		c->cap = n;
	}
	c->lines[c->n++] = l;
	return 0;
}

static char *lower(char *s)
{
	for (char *p = s; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

int lmd_config_load(const char *path, lmd_config **ret)
{
	lmd_config *c = lmd_calloc(1, sizeof(*c));
	lmd_buf b = LMD_BUF_INIT;
	char *section = NULL;
	int r = 0, lineno = 0;

	if (!c || !(c->path = lmd_strdup(path))) {
		free(c);
		return -ENOMEM;
	}
	c->mode = 0644;
	r = lmd_read_file(path, 1u << 20, &b);
	if (r == -ENOENT) {
		lmd_error_clear();
		*ret = c;
		return 0;
	}
	if (r < 0)
		goto fail;
	for (char *p = (char *)b.ptr, *end = p + b.len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *le = nl ? nl : end, *s = p, *e = le;
		struct line l = { 0 };
		lineno++;
		l.text = lmd_strndup(p, (size_t)(le - p));
		if (!l.text) {
			r = -ENOMEM;
			goto fail;
		}
		trim(&s, &e);
		if (s < e && *s == '[') {
			char *close = memchr(s, ']', (size_t)(e - s));
			char *q = memchr(s, '"', (size_t)(e - s));
			if (!close) {
				free(l.text);
				r = lmd_error_set(LMD_EBADINPUT, "bad config line %d in '%s': unclosed '['", lineno, path);
				goto fail;
			}
			free(section);
			if (q && q < close) {
				char *q2 = memchr(q + 1, '"', (size_t)(close - q - 1));
				char *ns = s + 1, *ne = q;
				trim(&ns, &ne);
				if (!q2) {
					free(l.text);
					r = lmd_error_set(LMD_EBADINPUT, "bad config line %d in '%s'", lineno, path);
					goto fail;
				}
				char *sec = lower(lmd_strndup(ns, (size_t)(ne - ns)));
				section = sec ? lmd_asprintf("%s.%.*s", sec, (int)(q2 - q - 1), q + 1) : NULL;
				free(sec);
			} else {
				section = lower(lmd_strndup(s + 1, (size_t)(close - s - 1)));
			}
			if (!section || !(l.section = lmd_strdup(section))) {
				free(l.text);
				r = -ENOMEM;
				goto fail;
			}
		} else if (s < e && *s != '#' && *s != ';') {
			char *eq = memchr(s, '=', (size_t)(e - s));
			char *ks = s, *ke = eq ? eq : e, *vs = eq ? eq + 1 : e, *ve = e;
			trim(&ks, &ke);
			trim(&vs, &ve);
			if (!section || ks == ke) {
				free(l.text);
				r = lmd_error_set(LMD_EBADINPUT, "bad config line %d in '%s'", lineno, path);
				goto fail;
			}
			char *k = lower(lmd_strndup(ks, (size_t)(ke - ks)));
			l.key = k ? lmd_asprintf("%s.%s", section, k) : NULL;
			free(k);
			if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
				/* A quoted value: \" and \\ are escapes, as written by set. */
				l.value = lmd_malloc((size_t)(ve - vs));
				if (l.value) {
					size_t o = 0;
					for (const char *q = vs + 1; q < ve - 1; q++) {
						if (*q == '\\' && q + 1 < ve - 1)
							q++;
						l.value[o++] = *q;
					}
					l.value[o] = '\0';
				}
			} else {
				l.value = lmd_strndup(vs, (size_t)(ve - vs));
			}
			if (!l.key || !l.value) {
				free(l.text);
				free(l.key);
				free(l.value);
				r = -ENOMEM;
				goto fail;
			}
		}
		if ((r = push_line(c, l)) < 0)
			goto fail;
		p = nl ? nl + 1 : end;
	}
	free(section);
	lmd_buf_release(&b);
	*ret = c;
	return 0;
fail:
	free(section);
	lmd_buf_release(&b);
	lmd_config_free(c);
	return r;
}

void lmd_config_free(lmd_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->lines[i].text);
		free(c->lines[i].key);
		free(c->lines[i].value);
		free(c->lines[i].section);
	}
	free(c->lines);
	free(c->path);
	free(c);
}

const char *lmd_config_get(const lmd_config *c, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; c && i < c->n; i++)
		if (c->lines[i].key && !strcasecmp(c->lines[i].key, key))
			v = c->lines[i].value; /* the last one wins, as in git */
	return v;
}

int lmd_config_get_u64(const lmd_config *c, const char *key, uint64_t def, uint64_t max, uint64_t *ret)
{
	const char *v = lmd_config_get(c, key);
	uint64_t x = 0, mul = 1;
	size_t n;

	if (!v) {
		*ret = def;
		return 0;
	}
	n = strlen(v);
	if (n && (v[n - 1] == 'k' || v[n - 1] == 'K'))
		mul = 1024, n--;
	else if (n && (v[n - 1] == 'm' || v[n - 1] == 'M'))
		mul = 1024 * 1024, n--;
	if (n == 0 || n > 15)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			goto bad;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > max / mul)
		goto bad; /* also keeps x * mul from overflowing */
	x *= mul;
	*ret = x;
	return 0;
bad:
	return lmd_error_set(LMD_EBADINPUT, "config '%s' = '%s' is not a number up to %llu", key, v,
			     (unsigned long long)max);
}

static int split_key(const char *key, char **ret_sec, char **ret_sub, char **ret_name)
{
	const char *first = strchr(key, '.'), *last = strrchr(key, '.');
	if (!first || first == key || !last[1])
		return lmd_error_set(LMD_EBADINPUT, "bad config key '%s' (want section.key)", key);
	*ret_sec = lmd_strndup(key, (size_t)(first - key));
	*ret_sub = first == last ? NULL : lmd_strndup(first + 1, (size_t)(last - first - 1));
	*ret_name = lmd_strdup(last + 1);
	return 0;
}

int lmd_config_set(lmd_config *c, const char *key, const char *value)
{
	char *sec = NULL, *sub = NULL, *name = NULL, *secname = NULL;
	ssize_t last_in_section = -1, found = -1;
	int r;

	if ((r = split_key(key, &sec, &sub, &name)) < 0)
		return r;
	secname = sub ? lmd_asprintf("%s.%s", sec, sub) : lmd_strdup(sec);
	if (!secname) {
		r = -ENOMEM;
		goto done;
	}
	{
		bool in = false;
		for (size_t i = 0; i < c->n; i++) {
			if (c->lines[i].section)
				in = !strcasecmp(c->lines[i].section, secname);
			if (in)
				last_in_section = (ssize_t)i;
			if (c->lines[i].key && !strcasecmp(c->lines[i].key, key))
				found = (ssize_t)i;
		}
	}
	if (!value) {
		if (found >= 0) {
			struct line *l = &c->lines[found];
			free(l->text);
			free(l->key);
			free(l->value);
			memmove(l, l + 1, (c->n - (size_t)found - 1) * sizeof(*l));
			c->n--;
		}
		goto done;
	}
	if (value && strpbrk(value, "\n\r")) {
		r = lmd_error_set(LMD_EBADINPUT, "config value for '%s' cannot contain a line break", key);
		goto done;
	}
	{
		struct line l = { 0 };
		bool quote = strpbrk(value, " #;\t\"\\") != NULL || value[0] == '\0';
		lmd_buf esc = LMD_BUF_INIT;
		for (const char *q = value; *q; q++) {
			if (quote && (*q == '"' || *q == '\\'))
				lmd_buf_put(&esc, "\\", 1);
			lmd_buf_put(&esc, q, 1);
		}
		lmd_buf_cstr(&esc);
		l.key = lmd_asprintf("%s", key);
		l.value = lmd_strdup(value);
		l.text = esc.ptr ? lmd_asprintf("\t%s = %s%s%s", name, quote ? "\"" : "", (char *)esc.ptr,
						 quote ? "\"" : "")
				 : NULL;
		lmd_buf_release(&esc);
		if (!l.key || !l.value || !l.text) {
			free(l.key);
			free(l.value);
			free(l.text);
			r = -ENOMEM;
			goto done;
		}
		lower(l.key);
		if (found >= 0) {
			struct line *o = &c->lines[found];
			free(o->text);
			free(o->key);
			free(o->value);
			*o = l;
			goto done;
		}
		if (last_in_section < 0) {
			struct line h = { 0 };
			h.text = sub ? lmd_asprintf("[%s \"%s\"]", sec, sub) : lmd_asprintf("[%s]", sec);
			h.section = lmd_strdup(secname);
			if (!h.text || !h.section || (r = push_line(c, h)) < 0) {
				free(h.text);
				free(h.section);
				free(l.key);
				free(l.value);
				free(l.text);
				r = r < 0 ? r : -ENOMEM;
				goto done;
			}
			last_in_section = (ssize_t)c->n - 1;
		}
		if ((r = push_line(c, l)) < 0)
			goto done;
		/* move the new line right after the section's last line */
		struct line tmp = c->lines[c->n - 1];
		memmove(&c->lines[last_in_section + 2], &c->lines[last_in_section + 1],
			(c->n - 1 - (size_t)last_in_section - 1) * sizeof(tmp));
		c->lines[last_in_section + 1] = tmp;
	}
done:
	free(sec);
	free(sub);
	free(name);
	free(secname);
	return r;
}

int lmd_config_remove_section(lmd_config *c, const char *section)
{
	size_t w = 0;
	bool in = false;
	for (size_t i = 0; i < c->n; i++) {
		struct line *l = &c->lines[i];
		if (l->section)
			in = !strcasecmp(l->section, section);
		if (in) {
			free(l->text);
			free(l->key);
			free(l->value);
			free(l->section);
			continue;
		}
		c->lines[w++] = *l;
	}
	c->n = w;
	return 0;
}

int lmd_config_write(const lmd_config *c)
{
	lmd_buf b = LMD_BUF_INIT;
	int r = 0;
	for (size_t i = 0; i < c->n && r == 0; i++)
		r = lmd_buf_printf(&b, "%s\n", c->lines[i].text);
	if (r == 0)
		r = lmd_write_file_atomic(c->path, b.ptr ? b.ptr : (uint8_t *)"", b.len, (mode_t)c->mode);
	lmd_buf_release(&b);
	return r;
}

int lmd_config_foreach(const lmd_config *c, const char *prefix, lmd_config_cb cb, void *payload)
{
	size_t pl = strlen(prefix);
	for (size_t i = 0; c && i < c->n; i++)
		if (c->lines[i].key && !strncasecmp(c->lines[i].key, prefix, pl)) {
			int r = cb(c->lines[i].key, c->lines[i].value, payload);
			if (r < 0)
				return r;
		}
	return 0;
}

void lmd_config_set_mode(lmd_config *c, unsigned mode)
{
	c->mode = mode;
}
