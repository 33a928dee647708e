/* A fixed set of worker threads that run one parallel loop at a time (fork-join). */
#ifndef DST_THREADPOOL_H
#define DST_THREADPOOL_H

typedef struct dst_pool dst_pool;

/* Runs fn(ctx, thread, threads) on `threads` threads, the caller being thread 0. */
typedef void (*dst_pool_fn)(void *ctx, int thread, int threads);

/* NULL when threads cannot be started; threads == 1 starts none. */
dst_pool *dst_pool_new(int threads);
int dst_pool_threads(const dst_pool *p);
void dst_pool_run(dst_pool *p, dst_pool_fn fn, void *ctx);
void dst_pool_free(dst_pool *p);

#endif
