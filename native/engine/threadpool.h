/*
 * Fork-join over a fixed set of worker threads. Each thread owns an equal,
 * contiguous share of a loop's tasks, the same part of every loop; tasks are
 * claimed one by one and a thread done with its share takes what another has
 * not started, so the caller finishes a loop alone when workers are
 * descheduled (a busy or oversubscribed machine) instead of waiting for them.
 */
#ifndef DST_THREADPOOL_H
#define DST_THREADPOOL_H

typedef struct dst_pool dst_pool;

#ifndef DST_TASK_FN_DEFINED
#define DST_TASK_FN_DEFINED
typedef void (*dst_task_fn)(void *ctx, int task);
#endif

/* NULL when threads cannot be started; threads == 1 starts none. */
dst_pool *dst_pool_new(int threads);
int dst_pool_threads(const dst_pool *p);
/* Runs fn(ctx, t) for every t in [0, tasks) and returns when all are done. */
void dst_pool_run(dst_pool *p, dst_task_fn fn, void *ctx, int tasks);
/* Before a run of several loops: wakes sleeping workers so they are spinning when the first loop starts. */
void dst_pool_begin(dst_pool *p);
void dst_pool_free(dst_pool *p);

#endif
