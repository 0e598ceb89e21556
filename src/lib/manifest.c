/*
 * Manifests: the small text files (PATH.lmd) that git versions in place of
 * the data.  One "key: value" per line, a format version first, so they
 * diff and merge like any text and an old lmdata refuses a newer format
 * instead of misreading it:
 *
 *   # lmdata manifest: written by 'lmdata add', do not edit
 *   version: 1
 *   type: file
 *   path: train.jsonl
 *   size: 536871015
 *   sha256: 45cd501e...
 *
 * A folder has `type: dir`, `files:` and `tree:` (the root tree object)
 * instead of `sha256:`; a link has `type: link` and the sha256 of its
 * target.  Names that are not plain printable ASCII are written in double
 * quotes with C escapes, as git quotes paths.  Parsing treats the text as
 * hostile: it may come from any commit of any clone.
 */
#include <stdlib.h>
#include <string.h>

#include "lmdata/lmdata.h"
#include "objects.h"
#include "util.h"

#define MAX_SIZE (1ull << 62)

static int unquote(const char *s, size_t n, lmd_buf *out)
{
	lmd_buf_clear(out);
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return lmd_buf_put(out, s, n);
	for (size_t i = 1; i + 1 < n; i++) {
		char c = s[i];
		if (c != '\\') {
			if (c == '"')
				return -1;
			lmd_buf_put(out, &c, 1);
			continue;
		}
		if (++i + 1 >= n)
			return -1;
		switch (s[i]) {
		case 'n': c = '\n'; break;
		case 't': c = '\t'; break;
		case 'r': c = '\r'; break;
		case '"': c = '"'; break;
		case '\\': c = '\\'; break;
		default:
			if (s[i] >= '0' && s[i] <= '3' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '7' &&
			    s[i + 2] >= '0' && s[i + 2] <= '7') {
				c = (char)((s[i] - '0') << 6 | (s[i + 1] - '0') << 3 | (s[i + 2] - '0'));
				i += 2;
				break;
			}
			return -1;
		}
		lmd_buf_put(out, &c, 1);
	}
	return lmd_buf_cstr(out);
}

static bool line_is(const char *k, size_t klen, const char *want)
{
	return strlen(want) == klen && !memcmp(k, want, klen);
}

static int parse_size(const char *v, size_t n, uint64_t *ret)
{
	uint64_t x = 0;
	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > MAX_SIZE)
		return -1;
	*ret = x;
	return 0;
}

int lmd_manifest_parse(const char *text, size_t len, const char *where, lmd_manifest *ret)
{
	lmd_manifest m = { 0 };
	lmd_buf name = LMD_BUF_INIT;
	bool have_size = false, have_id = false, have_files = false, have_type = false;
	const char *p = text, *end = text + len;
	unsigned seen = 0;   /* bit per key, in the order of keys[] below */
	int line = 0;

	if (len > LMD_MAX_MANIFEST)
		return lmd_error_set(LMD_EMANIFEST, "manifest '%s' is too large (%zu bytes); it is not an lmdata manifest",
				     where, len);
	if (memchr(text, '\0', len))
		return lmd_error_set(LMD_EMANIFEST, "manifest '%s' contains NUL bytes; restore it with 'git checkout -- %s'",
				     where, where);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *colon, *v;
		size_t klen, vlen;
		line++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p || *p == '#') {
			p = nl ? nl + 1 : end;
			continue;
		}
		if (le - p >= 7 && (!memcmp(p, "<<<<<<<", 7) || !memcmp(p, "=======", 7) || !memcmp(p, ">>>>>>>", 7))) {
			lmd_buf_release(&name);
			free(m.name);
			return lmd_error_set(LMD_EMANIFEST,
				"manifest '%s' has merge conflict markers; resolve the conflict (keep one side with "
				"'git checkout --ours/--theirs -- %s') and run 'lmdata checkout'", where, where);
		}
		colon = memchr(p, ':', (size_t)(le - p));
		if (!colon || colon + 1 >= le || colon[1] != ' ')
			goto bad;
		klen = (size_t)(colon - p);
		v = colon + 2;
		vlen = (size_t)(le - v);
		{
			/* Each key once: a duplicate is an edit or a bad merge. */
			static const char *keys[] = { "version", "type", "path", "size", "files", "sha256", "tree", "mode" };
			for (unsigned k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
				if (line_is(p, klen, keys[k])) {
					if (seen & (1u << k))
						goto bad;
					seen |= 1u << k;
				}
		}
		if (line_is(p, klen, "version")) {
			uint64_t ver;
			if (parse_size(v, vlen, &ver) < 0)
				goto bad;
			if (ver != LMD_MANIFEST_VERSION) {
				free(m.name);
				lmd_buf_release(&name);
				return lmd_error_set(LMD_EMANIFEST,
					"manifest '%s' has format version %llu; this lmdata reads version %d: upgrade lmdata",
					where, (unsigned long long)ver, LMD_MANIFEST_VERSION);
			}
			m.version = (int)ver;
		} else if (!m.version) {
			goto bad; /* the version comes first */
		} else if (line_is(p, klen, "type")) {
			if (vlen == 4 && !memcmp(v, "file", 4))
				m.kind = LMD_KIND_FILE;
			else if (vlen == 3 && !memcmp(v, "dir", 3))
				m.kind = LMD_KIND_DIR;
			else if (vlen == 4 && !memcmp(v, "link", 4))
				m.kind = LMD_KIND_LINK;
			else
				goto bad;
			have_type = true;
		} else if (line_is(p, klen, "path")) {
			if (unquote(v, vlen, &name) < 0 || !name.ptr || !lmd_name_ok((char *)name.ptr, name.len) ||
			    strlen((char *)name.ptr) != name.len) {
				free(m.name);
				lmd_buf_release(&name);
				return lmd_error_set(LMD_EMANIFEST,
					"manifest '%s' names a path that is not a plain name next to it "
					"(absolute, '..' or a folder); it was edited by hand: restore it with git", where);
			}
			free(m.name);
			m.name = lmd_strdup((char *)name.ptr);
			if (!m.name)
				goto oom;
		} else if (line_is(p, klen, "size")) {
			if (parse_size(v, vlen, &m.size) < 0)
				goto bad_size;
			have_size = true;
		} else if (line_is(p, klen, "files")) {
			if (parse_size(v, vlen, &m.files) < 0 || m.files > (1ull << 40))
				goto bad_size;
			have_files = true;
		} else if (line_is(p, klen, "sha256") || line_is(p, klen, "tree")) {
			if (lmd_oid_parse(&m.id, v, vlen) < 0)
				goto bad;
			have_id = true;
		} else if (line_is(p, klen, "mode")) {
			if (vlen == 6 && !memcmp(v, "100755", 6))
				m.executable = true;
			else if (!(vlen == 6 && !memcmp(v, "100644", 6)))
				goto bad;
		} else {
			goto bad;
		}
		p = nl ? nl + 1 : end;
	}
	lmd_buf_release(&name);
	if (!m.version || !have_type || !m.name || !have_size || !have_id)
		goto incomplete;
	if (m.kind == LMD_KIND_DIR && !have_files)
		goto incomplete;
	/* Keys of one kind only: tree/files for folders, sha256 otherwise,
	 * mode for files. */
	if (m.kind == LMD_KIND_DIR ? (seen & (1u << 5 | 1u << 7)) != 0 : (seen & (1u << 4 | 1u << 6)) != 0)
		goto bad_kind;
	if (m.kind == LMD_KIND_LINK && (seen & (1u << 7)))
		goto bad_kind;
	if (m.kind != LMD_KIND_DIR)
		m.files = 1;
	*ret = m;
	return 0;
bad:
	free(m.name);
	lmd_buf_release(&name);
	return lmd_error_set(LMD_EMANIFEST,
		"manifest '%s' is malformed at line %d; restore it with 'git checkout -- %s' or re-run 'lmdata add'",
		where, line, where);
bad_size:
	free(m.name);
	lmd_buf_release(&name);
	return lmd_error_set(LMD_EMANIFEST, "manifest '%s' has an absurd size at line %d; restore it with git",
			     where, line);
bad_kind:
	free(m.name);
	return lmd_error_set(LMD_EMANIFEST,
		"manifest '%s' mixes keys of different kinds of data; restore it with git or re-run 'lmdata add'", where);
incomplete:
	free(m.name);
	return lmd_error_set(LMD_EMANIFEST,
		"manifest '%s' is incomplete (needs version, type, path, size and an id); restore it with git", where);
oom:
	free(m.name);
	lmd_buf_release(&name);
	return -ENOMEM;
}

static bool needs_quotes(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			return true;
	/* Leading/trailing spaces would be lost by editors: quote them. */
	return !s[0] || s[0] == ' ' || s[strlen(s) - 1] == ' ';
}

char *lmd_manifest_format(const lmd_manifest *m)
{
	char hex[LMD_OID_HEXSZ + 1];
	lmd_buf b = LMD_BUF_INIT;
	const char *type = m->kind == LMD_KIND_DIR ? "dir" : m->kind == LMD_KIND_LINK ? "link" : "file";

	lmd_oid_fmt(hex, &m->id);
	lmd_buf_printf(&b, "# lmdata manifest: written by 'lmdata add', do not edit\n");
	lmd_buf_printf(&b, "version: %d\ntype: %s\n", LMD_MANIFEST_VERSION, type);
	if (needs_quotes(m->name)) {
		/* lmd_quote() quotes only for non-printables; spaces need it too. */
		const char *q = lmd_quote(m->name);
		if (q[0] == '"')
			lmd_buf_printf(&b, "path: %s\n", q);
		else
			lmd_buf_printf(&b, "path: \"%s\"\n", q);
	} else {
		lmd_buf_printf(&b, "path: %s\n", m->name);
	}
	lmd_buf_printf(&b, "size: %llu\n", (unsigned long long)m->size);
	if (m->kind == LMD_KIND_DIR)
		lmd_buf_printf(&b, "files: %llu\ntree: %s\n", (unsigned long long)m->files, hex);
	else
		lmd_buf_printf(&b, "sha256: %s\n", hex);
	if (m->kind == LMD_KIND_FILE && m->executable)
		lmd_buf_puts(&b, "mode: 100755\n");
	if (lmd_buf_cstr(&b) < 0) {
		lmd_buf_release(&b);
		return NULL;
	}
	return (char *)b.ptr;
}

void lmd_manifest_release(lmd_manifest *m)
{
	free(m->name);
	m->name = NULL;
}
