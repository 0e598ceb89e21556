/*
 * Test hooks for the e2e tests' build of lmdata ("lmdata-test-hooks": the
 * objects of the real command plus this file).  Its constructor reads,
 * before main runs:
 *
 *   LMDATA_TEST_PART_CHUNKS=N   at most N chunks per part of a big file's
 *                               chunk list (default 16384), so that a file
 *                               of a few MiB has many parts
 *   LMDATA_TEST_PACK_TARGET=N   seal a pack once it holds N bytes (default
 *                               32 MiB), so that a few MiB make many packs
 *   LMDATA_TEST_BLOCK_TARGET=N  close a block once it holds N raw bytes
 *                               (default 1 MiB), so that a few MiB make
 *                               hundreds of blocks
 *   LMDATA_TEST_GC_IDS=N        gc keeps N live chunk ids in memory, and
 *                               push, status -c, fsck -r and gc -r keep N
 *                               records of needed objects, before they
 *                               write a sorted run to disk (default: 8 MiB
 *                               worth), so a small repository spills
 *   LMDATA_TEST_FETCH_BATCH=N   fetch asks for at most N missing chunks at a
 *                               time (default 64 Ki) and keeps N chunk ids
 *                               of its count in memory before it spills,
 *                               so a small dataset takes many batches
 *
 * The installed lmdata is built without this file: no environment can
 * change what objects its files give.
 */
#include <stdlib.h>

#include "repo_int.h"

__attribute__((constructor)) static void test_hooks_init(void)
{
	const char *e = getenv("LMDATA_TEST_PART_CHUNKS");
	if (e && *e)
		lmd__test_part_chunks = (uint32_t)strtoul(e, NULL, 10);
	e = getenv("LMDATA_TEST_PACK_TARGET");
	if (e && *e)
		lmd__test_pack_target = strtoull(e, NULL, 10);
	e = getenv("LMDATA_TEST_BLOCK_TARGET");
	if (e && *e)
		lmd__test_block_target = (uint32_t)strtoul(e, NULL, 10);
	e = getenv("LMDATA_TEST_GC_IDS");
	if (e && *e)
		lmd__test_gc_ids = (size_t)strtoull(e, NULL, 10);
	e = getenv("LMDATA_TEST_FETCH_BATCH");
	if (e && *e)
		lmd__test_fetch_batch = (size_t)strtoull(e, NULL, 10);
}
