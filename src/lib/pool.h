/*
 * A fixed pool of worker threads running jobs in FIFO order, with an
 * ordered completion queue on the caller's side: the caller submits jobs
 * and later waits for the oldest one, so results are consumed in
 * submission order while work runs in parallel.  Each worker has its own
 * zstd context and digest (passed to the job function).
 *
 * Threads that are not the pool's run queued jobs too: the thread that
 * waits does so instead of sleeping, and other threads of the caller's
 * (helpers) when they have nothing else to do.  On a machine of N cores a
 * pipeline of T threads of its own then needs N - T workers, not N: no
 * more runnable threads than cores, so the scheduler never makes the one
 * sequential stage of a pipeline (reading and hashing a file, hashing a
 * restored one) wait for its turn behind workers.
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

/*
 * `threads` workers (may be 0: jobs then run only on the waiting thread
 * and helpers) and `helpers` contexts for threads that are not workers
 * (helper 0 is the one thread that calls lmd_pool_wait).  With no helpers
 * the waiting thread only sleeps, for a caller whose thread must stay free
 * for something else (network transfers); there is then at least one
 * worker.
 */
int lmd_pool_new(unsigned threads, unsigned helpers, int level, lmd_pool **ret);
/* Wait for every job, then stop the threads. */
void lmd_pool_free(lmd_pool *p);
void lmd_pool_submit(lmd_pool *p, lmd_job *job);
/* Until job is done, run queued jobs (as helper 0, if there are helpers),
 * else block. */
void lmd_pool_wait(lmd_pool *p, lmd_job *job);
/* Run the oldest queued job as helper `helper` (1 .. helpers - 1; one
 * thread per helper number); false when nothing was queued. */
bool lmd_pool_help(lmd_pool *p, unsigned helper);
/* Record the thread's current error into job (call from fn on failure). */
void lmd_job_fail(lmd_job *job, int code);

#endif
