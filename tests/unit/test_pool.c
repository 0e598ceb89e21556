/*
 * The worker pool (pool.h): jobs run whether or not the pool has workers
 * of its own, on the thread that waits and on helper threads; every job
 * runs exactly once, with a context of the thread that ran it, and the
 * waiter sees results in submission order.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "pool.h"

#define NJOBS 64

struct tjob {
	lmd_job job;
	unsigned n;             /* input */
	uint64_t sum;           /* output: sum of squares up to n */
	lmd_worker_ctx *ran_with;
	pthread_t ran_on;
	atomic_int runs;
};

static void tjob_fn(lmd_job *job, lmd_worker_ctx *w)
{
	struct tjob *t = (struct tjob *)job;
	uint64_t s = 0;
	for (uint64_t i = 1; i <= t->n; i++)
		s += i * i;
	t->sum = s;
	t->ran_with = w;
	t->ran_on = pthread_self();
	atomic_fetch_add(&t->runs, 1);
	job->result = 0;
}

static uint64_t squares(uint64_t n)
{
	return n * (n + 1) * (2 * n + 1) / 6;
}

static void submit_all(lmd_pool *p, struct tjob *jobs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		jobs[i] = (struct tjob){ .n = 1000 + 37 * i };
		jobs[i].job.fn = tjob_fn;
		lmd_pool_submit(p, &jobs[i].job);
	}
}

/* live: the pool still exists, so the contexts jobs ran with can be read. */
static void check_all(struct tjob *jobs, unsigned n, bool live)
{
	for (unsigned i = 0; i < n; i++) {
		cr_assert(jobs[i].job.done, "job %u is not done", i);
		cr_assert_eq(atomic_load(&jobs[i].runs), 1, "job %u ran %d times", i, atomic_load(&jobs[i].runs));
		cr_assert_eq(jobs[i].sum, squares(jobs[i].n), "job %u has a wrong result", i);
		cr_assert_not_null(jobs[i].ran_with);
		if (live) {
			cr_assert_not_null(jobs[i].ran_with->z);
			cr_assert_not_null(jobs[i].ran_with->h);
		}
	}
}

/* A pool of `threads` workers and `helpers` helpers, and NJOBS jobs for it. */
static lmd_pool *new_pool(unsigned threads, unsigned helpers, struct tjob **jobs)
{
	lmd_pool *p = NULL;
	*jobs = calloc(NJOBS, sizeof(**jobs));
	cr_assert_not_null(*jobs);
	cr_assert_eq(lmd_pool_new(threads, helpers, 1, &p), 0);
	return p;
}

Test(pool, no_workers_the_waiter_runs_every_job)
{
	struct tjob *jobs;
	lmd_pool *p = new_pool(0, 1, &jobs);
	submit_all(p, jobs, NJOBS);
	/* Waiting for the last job runs all of them, oldest first. */
	lmd_pool_wait(p, &jobs[NJOBS - 1].job);
	check_all(jobs, NJOBS, true);
	for (unsigned i = 0; i < NJOBS; i++) {
		cr_assert(pthread_equal(jobs[i].ran_on, pthread_self()), "job %u ran on another thread", i);
		cr_assert_eq(jobs[i].ran_with, jobs[0].ran_with, "the waiter used two contexts");
	}
	lmd_pool_free(p);
	free(jobs);
}

Test(pool, free_runs_what_is_still_queued_without_workers)
{
	struct tjob *jobs;
	lmd_pool *p = new_pool(0, 1, &jobs);
	submit_all(p, jobs, NJOBS);
	lmd_pool_free(p);
	check_all(jobs, NJOBS, false);
	free(jobs);
}

Test(pool, workers_and_waiter_share_the_jobs_in_order)
{
	struct tjob *jobs;
	lmd_pool *p = new_pool(2, 1, &jobs);
	submit_all(p, jobs, NJOBS);
	for (unsigned i = 0; i < NJOBS; i++) {
		lmd_pool_wait(p, &jobs[i].job);
		/* Every job up to i is finished when i's wait returns in order. */
		cr_assert(jobs[i].job.done);
		cr_assert_eq(jobs[i].sum, squares(jobs[i].n));
	}
	check_all(jobs, NJOBS, true);
	lmd_pool_free(p);
	free(jobs);
}

struct helper_arg {
	lmd_pool *p;
	atomic_bool stop;
	unsigned ran;
};

static void *helper_main(void *arg)
{
	struct helper_arg *a = arg;
	while (!atomic_load(&a->stop))
		if (lmd_pool_help(a->p, 1))
			a->ran++;
	return NULL;
}

Test(pool, a_helper_thread_runs_queued_jobs_with_its_own_context)
{
	struct tjob *jobs;
	lmd_pool *p = new_pool(0, 2, &jobs);
	struct helper_arg a = { 0 };
	pthread_t th;
	lmd_worker_ctx *helper_ctx = NULL;

	/* Helper numbers past the last one are refused. */
	cr_assert(!lmd_pool_help(p, 2));
	a.p = p;
	submit_all(p, jobs, NJOBS);
	cr_assert_eq(pthread_create(&th, NULL, helper_main, &a), 0);
	lmd_pool_wait(p, &jobs[NJOBS - 1].job);
	/* Jobs are taken off the queue before they run: the last one being
	 * done does not mean the helper has finished the one it holds. */
	for (unsigned i = 0; i < NJOBS; i++)
		lmd_pool_wait(p, &jobs[i].job);
	atomic_store(&a.stop, true);
	pthread_join(th, NULL);
	check_all(jobs, NJOBS, true);
	for (unsigned i = 0; i < NJOBS; i++) {
		bool by_helper = !pthread_equal(jobs[i].ran_on, pthread_self());
		if (by_helper) {
			cr_assert(pthread_equal(jobs[i].ran_on, th));
			if (!helper_ctx)
				helper_ctx = jobs[i].ran_with;
			cr_assert_eq(jobs[i].ran_with, helper_ctx, "the helper used two contexts");
		}
	}
	/* Whatever the helper ran, it ran with a context not the waiter's. */
	for (unsigned i = 0; helper_ctx && i < NJOBS; i++)
		if (pthread_equal(jobs[i].ran_on, pthread_self()))
			cr_assert_neq(jobs[i].ran_with, helper_ctx, "waiter and helper shared a context");
	cr_assert_eq(lmd_pool_help(p, 1), false, "the queue should be empty");
	lmd_pool_free(p);
	free(jobs);
}

Test(pool, without_helpers_the_waiter_only_waits)
{
	/* No workers asked for and no helpers: one worker is made anyway. */
	struct tjob *jobs;
	lmd_pool *p = new_pool(0, 0, &jobs);
	cr_assert(!lmd_pool_help(p, 0), "helper 0 does not exist without helpers");
	submit_all(p, jobs, NJOBS);
	for (unsigned i = 0; i < NJOBS; i++)
		lmd_pool_wait(p, &jobs[i].job);
	check_all(jobs, NJOBS, true);
	for (unsigned i = 0; i < NJOBS; i++)
		cr_assert(!pthread_equal(jobs[i].ran_on, pthread_self()), "job %u ran on the waiting thread", i);
	lmd_pool_free(p);
	free(jobs);
}
