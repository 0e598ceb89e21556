/*
 * A fixed pool of worker threads running jobs in FIFO order, with an
 * ordered completion queue on the caller's side: the caller submits jobs
 * and later waits for the oldest one, so results are consumed in
 * submission order while work runs in parallel.  Each worker has its own
 * zstd context and digest (passed to the job function).
 */
#ifndef LMD_POOL_H
#define LMD_POOL_H

#include <stdbool.h>
#include "compress.h"
#include "hash.h"

typedef struct lmd_pool lmd_pool;
typedef struct lmd_job lmd_job;

typedef struct lmd_worker_ctx {
	lmd_zctx *z;
	lmd_sha256 *h;
} lmd_worker_ctx;

typedef void (*lmd_job_fn)(lmd_job *job, lmd_worker_ctx *w);

struct lmd_job {
	lmd_job_fn fn;
	lmd_job *next;       /* queue link (owned by the pool) */
	bool done;
	int result;          /* set by fn; < 0 failure */
	char err[512];       /* message when result < 0 (errors are thread-local) */
};

int lmd_pool_new(unsigned threads, int level, lmd_pool **ret);
/* Wait for every job, then stop the threads. */
void lmd_pool_free(lmd_pool *p);
void lmd_pool_submit(lmd_pool *p, lmd_job *job);
/* Block until job is done. */
void lmd_pool_wait(lmd_pool *p, lmd_job *job);
/* Record the thread's current error into job (call from fn on failure). */
void lmd_job_fail(lmd_job *job, int code);

#endif
