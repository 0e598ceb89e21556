/*
 * Big files' two-level chunk lists end to end in the library: ingest with
 * a small part size (lmd_store_opts.part_chunks) writes a file list of
 * parts, the same objects whatever the threading; the chunklist walker
 * reads them back part by part and refuses parts that disagree with
 * their file list; restore gives the same bytes.  Each test works in its
 * own temporary folder.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunker.h"
#include "chunklist.h"
#include "hash.h"
#include "ingest.h"
#include "objects.h"
#include "restore.h"
#include "store.h"
#include "testutil.h"

TestSuite(parts, .init = t_mktemp, .fini = t_cleanup);

static lmd_store *open_store(const char *name, uint32_t part_chunks)
{
	lmd_store_opts o = LMD_STORE_OPTS_INIT;
	lmd_store *s = NULL;
	o.part_chunks = part_chunks;
	cr_assert_eq(lmd_store_open(t_path(name), &o, &s), 0, "%s", lmd_error_last());
	return s;
}

static uint8_t *make_data(size_t n, uint64_t seed)
{
	t_rng r = { seed };
	uint8_t *d = malloc(n);
	cr_assert_not_null(d);
	/* half text, half random: chunks of every size */
	for (size_t off = 0; off < n; off += 65536) {
		size_t k = LMD_MIN((size_t)65536, n - off);
		if ((off / 65536) % 2)
			t_fill(&r, d + off, k);
		else
			t_fill_text(&r, d + off, k);
	}
	return d;
}

/* Store the file at path into s (jobs workers); returns its id. */
static lmd_oid ingest(lmd_store *s, const char *path, unsigned jobs)
{
	lmd_chunker ch;
	lmd_packer *pk = NULL;
	lmd_ingest *in = NULL;
	struct stat st;
	lmd_oid id;
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(lmd_chunker_init(&ch, 4096, 16384, 65536), 0);
	cr_assert_eq(lmd_packer_new(s, &pk), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_ingest_new(s, pk, &ch, jobs, 1, &in), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_ingest_file(in, fd, &st, path, &id), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_ingest_finish(in), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_packer_finish(pk), 0, "%s", lmd_error_last());
	lmd_ingest_free(in);
	lmd_packer_free(pk);
	close(fd);
	return id;
}

static uint32_t count_chunks(const uint8_t *d, size_t n)
{
	lmd_chunker ch;
	uint32_t k = 0;
	cr_assert_eq(lmd_chunker_init(&ch, 4096, 16384, 65536), 0);
	for (size_t off = 0; off < n; k++)
		off += lmd_chunker_next(&ch, d + off, n - off);
	return k;
}

struct collect {
	uint32_t parts, chunks, max_run;
	uint64_t bytes;
	lmd_sha256 *h;
	lmd_store *s;
};

static int on_part(const lmd_part_ref *p, void *payload)
{
	struct collect *c = payload;
	(void)p;
	c->parts++;
	return 0;
}

static int on_chunks(const lmd_part_ref *part, const lmd_chunk_ref *ch, uint32_t n, void *payload)
{
	struct collect *c = payload;
	lmd_buf b = LMD_BUF_INIT;
	if (part)
		cr_assert_eq(part->nchunks, n);
	c->chunks += n;
	c->max_run = LMD_MAX(c->max_run, n);
	for (uint32_t i = 0; i < n; i++) {
		cr_assert_eq(lmd_store_get(c->s, &ch[i].id, LMD_OBJ_DATA, &b), 0, "%s", lmd_error_last());
		cr_assert_eq(b.len, ch[i].len);
		lmd_sha256_update(c->h, b.ptr, b.len);
		c->bytes += b.len;
	}
	lmd_buf_release(&b);
	return 0;
}

/* Walk the list of id in s: the bytes its chunks give hash to id. */
static struct collect walk(lmd_store *s, const lmd_oid *id, uint64_t size)
{
	struct collect c = { .s = s };
	lmd_chunklist_cbs cbs = { on_part, on_chunks };
	lmd_oid got;
	cr_assert_eq(lmd_sha256_new(&c.h), 0);
	lmd_sha256_init(c.h);
	cr_assert_eq(lmd_chunklist_walk(s, id, size, &cbs, &c, NULL), 0, "%s", lmd_error_last());
	lmd_sha256_final(c.h, &got);
	lmd_sha256_free(c.h);
	cr_assert_eq(c.bytes, size);
	cr_assert_eq(lmd_oid_cmp(&got, id), 0, "the chunks do not give the file");
	return c;
}

static bool has_parts(lmd_store *s, const lmd_oid *id)
{
	lmd_buf b = LMD_BUF_INIT;
	bool r;
	cr_assert_eq(lmd_store_get(s, id, LMD_OBJ_FILE, &b), 0, "%s", lmd_error_last());
	r = lmd_filelist_has_parts(b.ptr, b.len);
	lmd_buf_release(&b);
	return r;
}

Test(parts, ingest_walk_restore)
{
	size_t n = 3u << 20;
	uint8_t *d = make_data(n, 1);
	lmd_store *s;
	lmd_restore *rs = NULL;
	lmd_oid id;
	struct collect c;
	lmd_buf out = LMD_BUF_INIT;
	uint32_t nch = count_chunks(d, n);

	t_write(t_path("f"), d, n);
	s = open_store("cache", 8);
	id = ingest(s, t_path("f"), 2);
	cr_assert(has_parts(s, &id));
	c = walk(s, &id, n);
	cr_assert_eq(c.chunks, nch);
	cr_assert_leq(c.max_run, 8);
	cr_assert_geq(c.parts, nch / 8);
	/* a size other than the list's is refused */
	{
		lmd_chunklist_cbs cbs = { on_part, on_chunks };
		struct collect c2 = { .s = s };
		lmd_oid bad;
		cr_assert_eq(lmd_sha256_new(&c2.h), 0);
		lmd_sha256_init(c2.h);
		cr_assert_eq(lmd_chunklist_walk(s, &id, n + 1, &cbs, &c2, &bad), LMD_ECORRUPT);
		cr_assert_eq(lmd_oid_cmp(&bad, &id), 0);
		lmd_sha256_free(c2.h);
	}

	/* restore to a file, and streamed to a descriptor (cat) */
	cr_assert_eq(lmd_restore_new(s, 2, NULL, NULL, &rs), 0);
	cr_assert_eq(lmd_restore_file(rs, t_path("g"), "g", &id, n, false, -1), 0, "%s", lmd_error_last());
	cr_assert_eq(lmd_restore_finish(rs), 0, "%s", lmd_error_last());
	lmd_restore_free(rs);
	cr_assert_eq(lmd_read_file(t_path("g"), n + 1, &out), 0);
	cr_assert_eq(out.len, n);
	cr_assert_eq(memcmp(out.ptr, d, n), 0);
	{
		int fd = open(t_path("h"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		cr_assert_geq(fd, 0);
		cr_assert_eq(lmd_restore_new(s, 2, NULL, NULL, &rs), 0);
		cr_assert_eq(lmd_restore_file(rs, NULL, "h", &id, n, false, fd), 0, "%s", lmd_error_last());
		cr_assert_eq(lmd_restore_finish(rs), 0, "%s", lmd_error_last());
		lmd_restore_free(rs);
		close(fd);
		cr_assert_eq(lmd_read_file(t_path("h"), n + 1, &out), 0);
		cr_assert_eq(out.len, n);
		cr_assert_eq(memcmp(out.ptr, d, n), 0);
	}
	lmd_buf_release(&out);
	lmd_store_free(s);
	free(d);
}

Test(parts, same_objects_whatever_the_threading)
{
	size_t n = 2u << 20;
	uint8_t *d = make_data(n, 2);
	lmd_store *a, *b;
	lmd_buf la = LMD_BUF_INIT, lb = LMD_BUF_INIT;
	lmd_oid ia, ib;

	t_write(t_path("f"), d, n);
	a = open_store("a", 5);
	b = open_store("b", 5);
	ia = ingest(a, t_path("f"), 1);
	ib = ingest(b, t_path("f"), 4);
	cr_assert_eq(lmd_oid_cmp(&ia, &ib), 0);
	cr_assert_eq(lmd_store_get(a, &ia, LMD_OBJ_FILE, &la), 0);
	cr_assert_eq(lmd_store_get(b, &ib, LMD_OBJ_FILE, &lb), 0);
	cr_assert(lmd_filelist_has_parts(la.ptr, la.len));
	cr_assert_eq(la.len, lb.len);
	cr_assert_eq(memcmp(la.ptr, lb.ptr, la.len), 0, "the same file gave different parts");
	lmd_buf_release(&la);
	lmd_buf_release(&lb);
	lmd_store_free(a);
	lmd_store_free(b);
	free(d);
}

Test(parts, flat_up_to_the_part_size_then_parts)
{
	size_t n = 1u << 20;
	uint8_t *d = make_data(n, 3);
	uint32_t nch = count_chunks(d, n);
	lmd_store *s;
	lmd_oid id;

	cr_assert_gt(nch, 8);
	t_write(t_path("f"), d, n);
	/* exactly part_chunks chunks: today's flat list */
	s = open_store("flat", nch);
	id = ingest(s, t_path("f"), 2);
	cr_assert_not(has_parts(s, &id));
	cr_assert_eq(walk(s, &id, n).parts, 0);
	lmd_store_free(s);
	/* a flat list longer than parts now are (an older store) still reads */
	s = open_store("flat", 4);
	cr_assert_eq(walk(s, &id, n).chunks, nch);
	lmd_store_free(s);
	/* one chunk more than a part holds: parts */
	s = open_store("parts", nch - 1);
	id = ingest(s, t_path("f"), 2);
	cr_assert(has_parts(s, &id));
	cr_assert_geq(walk(s, &id, n).parts, 2);
	lmd_store_free(s);
	free(d);
}

/* A hand-made store: a file list of two parts, the second as given. */
static lmd_oid hostile_store(lmd_store *s, bool store_part2, int64_t size_delta, int32_t count_delta,
			     lmd_oid *ret_part2)
{
	lmd_chunk_ref c[4];
	lmd_part_ref p[2];
	lmd_buf b = LMD_BUF_INIT;
	lmd_packer *pk = NULL;
	lmd_oid fid = { { 0xf1 } };
	uint8_t data[4][100];
	t_rng r = { 9 };

	cr_assert_eq(lmd_packer_new(s, &pk), 0);
	for (int i = 0; i < 4; i++) {
		t_fill(&r, data[i], sizeof(data[i]));
		cr_assert_eq(lmd_sha256_buf(data[i], sizeof(data[i]), &c[i].id), 0);
		c[i].len = sizeof(data[i]);
		cr_assert_eq(lmd_packer_put(pk, LMD_OBJ_DATA, &c[i].id, data[i], sizeof(data[i])), 0);
	}
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(lmd_part_encode(c + 2 * i, 2, &b, &p[i].id, &p[i].size), 0);
		p[i].nchunks = 2;
		if (i == 0 || store_part2)
			cr_assert_eq(lmd_packer_put(pk, LMD_OBJ_PART, &p[i].id, b.ptr, b.len), 0);
	}
	p[1].size = (uint64_t)((int64_t)p[1].size + size_delta);
	p[1].nchunks = (uint32_t)((int32_t)p[1].nchunks + count_delta);
	cr_assert_eq(lmd_fileparts_encode(p[0].size + p[1].size, p, 2, &b), 0);
	cr_assert_eq(lmd_packer_put(pk, LMD_OBJ_FILE, &fid, b.ptr, b.len), 0);
	cr_assert_eq(lmd_packer_finish(pk), 0);
	lmd_packer_free(pk);
	lmd_buf_release(&b);
	*ret_part2 = p[1].id;
	return fid;
}

static int count_only(const lmd_part_ref *part, const lmd_chunk_ref *ch, uint32_t n, void *payload)
{
	(void)part;
	(void)ch;
	*(uint32_t *)payload += n;
	return 0;
}

Test(parts, walker_refuses_parts_that_disagree_or_are_missing)
{
	static const struct { bool stored; int64_t dsize; int32_t dcount; int want; } cases[] = {
		{ true, 0, 0, 0 },
		{ true, 1, 0, LMD_ECORRUPT },   /* the file list says a byte more */
		{ true, -1, 0, LMD_ECORRUPT },
		{ true, 0, 1, LMD_ECORRUPT },   /* ... a chunk more */
		{ false, 0, 0, LMD_EMISSING },  /* the part is not in the store */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		lmd_chunklist_cbs cbs = { NULL, count_only };
		lmd_oid part2, bad = { { 0 } }, fid;
		uint32_t seen = 0;
		lmd_store *s;
		int r;
		snprintf(name, sizeof(name), "s%zu", i);
		s = open_store(name, 0);
		fid = hostile_store(s, cases[i].stored, cases[i].dsize, cases[i].dcount, &part2);
		r = lmd_chunklist_walk(s, &fid, UINT64_MAX, &cbs, &seen, &bad);
		cr_assert_eq(r, cases[i].want, "case %zu: %d %s", i, r, lmd_error_last());
		if (r == 0) {
			cr_assert_eq(seen, 4);
		} else {
			cr_assert_eq(seen, 2, "case %zu: the first part was not read", i);
			cr_assert_eq(lmd_oid_cmp(&bad, &part2), 0, "case %zu: the bad object is not named", i);
		}
		lmd_error_clear();
		lmd_store_free(s);
	}
}
