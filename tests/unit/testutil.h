/*
 * Helpers shared by the unit tests: a deterministic seeded generator, a
 * private temporary folder per test (Criterion forks each test, so the
 * folder is made in an .init fixture and removed in .fini), and small
 * file helpers.
 */
#ifndef LMD_TESTUTIL_H
#define LMD_TESTUTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* splitmix64: deterministic, seedable, good enough for test data. */
typedef struct { uint64_t s; } t_rng;

static inline uint64_t t_rand(t_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void t_fill(t_rng *r, uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = t_rand(r);
		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = t_rand(r);
		memcpy(p, &v, n);
	}
}

/* Compressible, text-like bytes. */
static inline void t_fill_text(t_rng *r, uint8_t *p, size_t n)
{
	static const char *words[] = { "alpha ", "beta ", "gamma ", "delta ", "lmdata ", "chunk ",
				       "pack\n", "{\"id\": ", "42, ", "\"text\": " };
	size_t i = 0;
	while (i < n) {
		const char *w = words[t_rand(r) % (sizeof(words) / sizeof(words[0]))];
		for (; *w && i < n; w++)
			p[i++] = (uint8_t)*w;
	}
}

static char t_dir[256] __attribute__((unused));

static inline void t_mktemp(void)
{
	snprintf(t_dir, sizeof(t_dir), "/tmp/lmd-unit-XXXXXX");
	cr_assert_not_null(mkdtemp(t_dir), "mkdtemp failed");
}

static inline void t_rmrf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		if (d) {
			while ((de = readdir(d))) {
				char *sub;
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				if (asprintf(&sub, "%s/%s", path, de->d_name) < 0)
					continue;
				t_rmrf(sub);
				free(sub);
			}
			closedir(d);
		}
		chmod(path, 0700);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static inline void t_cleanup(void)
{
	if (t_dir[0])
		t_rmrf(t_dir);
}

/* "<t_dir>/<name>" in a static buffer (one at a time). */
static inline const char *t_path(const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s", t_dir, name);
	return buf;
}

static inline void t_write(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot create %s", path);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

/* Number of entries in a folder, not counting "." and "..". */
static inline int t_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

#endif
