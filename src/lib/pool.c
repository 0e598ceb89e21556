/*
 * Worker threads for hashing, compression and decompression (pool.h).
 *
 * Contexts: the first nctx - nhelpers belong to the workers, the one
 * after them plus k to helper k (helper 0 is the thread that waits).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "util.h"

struct lmd_pool {
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	lmd_job *head, *tail;
	bool stop;
	unsigned nthreads, nctx, nhelpers;
	pthread_t *threads;
	lmd_worker_ctx *ctx;
};

/* Run j (taken off the queue) with ctx w; the lock is not held. */
static void run_job(lmd_pool *p, lmd_job *j, lmd_worker_ctx *w)
{
	j->fn(j, w);
	pthread_mutex_lock(&p->lock);
	j->done = true;
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->lock);
}

/* The oldest queued job, off the queue (lock held); NULL when none. */
static lmd_job *take(lmd_pool *p)
{
	lmd_job *j = p->head;
	if (j) {
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
	}
	return j;
}

static void *worker(void *arg)
{
	lmd_pool *p = ((void **)arg)[0];
	lmd_worker_ctx *w = ((void **)arg)[1];
	free(arg);
	for (;;) {
		lmd_job *j;
		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (!p->head) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		j = take(p);
		pthread_mutex_unlock(&p->lock);
		run_job(p, j, w);
	}
	return NULL;
}

int lmd_pool_new(unsigned threads, unsigned helpers, int level, lmd_pool **ret)
{
	lmd_pool *p = lmd_calloc(1, sizeof(*p));
	int r = 0;

	if (!p)
		return -ENOMEM;
	if (helpers == 0 && threads == 0)
		threads = 1;    /* nobody else would run the jobs */
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->threads = lmd_calloc(threads ? threads : 1, sizeof(*p->threads));
	p->ctx = lmd_calloc(threads + helpers, sizeof(*p->ctx));
	if (!p->threads || !p->ctx) {
		r = -ENOMEM;
		goto fail;
	}
	p->nctx = threads + helpers;
	p->nhelpers = helpers;
	for (unsigned i = 0; i < p->nctx; i++)
		if ((r = lmd_zctx_new(level, &p->ctx[i].z)) < 0 || (r = lmd_sha256_new(&p->ctx[i].h)) < 0)
			goto fail;
	for (unsigned i = 0; i < threads; i++) {
		void **arg;
		arg = lmd_malloc(2 * sizeof(void *));
		if (!arg) {
			r = -ENOMEM;
			goto fail;
		}
		arg[0] = p;
		arg[1] = &p->ctx[i];
		if (pthread_create(&p->threads[i], NULL, worker, arg) != 0) {
			free(arg);
			r = lmd_error_set(-EAGAIN, "cannot start a worker thread");
			goto fail;
		}
		p->nthreads++;
	}
	*ret = p;
	return 0;
fail:
	lmd_pool_free(p);
	return r;
}

void lmd_pool_free(lmd_pool *p)
{
	if (!p)
		return;
	/* Without workers nobody else would run what is still queued. */
	while (!p->nthreads && p->nhelpers && lmd_pool_help(p, 0))
		;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (unsigned i = 0; p->ctx && i < p->nctx; i++) {
		lmd_zctx_free(p->ctx[i].z);
		lmd_sha256_free(p->ctx[i].h);
	}
	free(p->threads);
	free(p->ctx);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
}

void lmd_pool_submit(lmd_pool *p, lmd_job *job)
{
	job->done = false;
	job->next = NULL;
	job->result = 0;
	job->err[0] = 0;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

void lmd_pool_wait(lmd_pool *p, lmd_job *job)
{
	pthread_mutex_lock(&p->lock);
	while (!job->done) {
		lmd_job *j = p->nhelpers ? take(p) : NULL;
		if (j) {
			/* Queued work (job itself, or one before it) runs here
			 * rather than this thread sleeping beside the workers. */
			pthread_mutex_unlock(&p->lock);
			run_job(p, j, &p->ctx[p->nctx - p->nhelpers]);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		pthread_cond_wait(&p->done, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
}

bool lmd_pool_help(lmd_pool *p, unsigned helper)
{
	lmd_job *j;

	if (helper >= p->nhelpers)
		return false;
	pthread_mutex_lock(&p->lock);
	j = take(p);
	pthread_mutex_unlock(&p->lock);
	if (!j)
		return false;
	run_job(p, j, &p->ctx[p->nctx - p->nhelpers + helper]);
	return true;
}

void lmd_job_fail(lmd_job *job, int code)
{
	job->result = code;
	snprintf(job->err, sizeof(job->err), "%s", lmd_error_last());
}
