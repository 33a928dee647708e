#define _GNU_SOURCE
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Spin this many rounds before sleeping: layers at batch 1 last microseconds, a futex wake-up costs as much. */
#define SPIN_ROUNDS 200000

struct dst_pool {
  int threads;
  pthread_t *ids;
  pthread_mutex_t mu;
  pthread_cond_t wake;
  atomic_uint generation;
  atomic_int pending;
  atomic_int stop;
  dst_pool_fn fn;
  void *ctx;
};

typedef struct {
  dst_pool *pool;
  int index;
} worker_arg;

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static void *worker(void *arg) {
  worker_arg *wa = arg;
  dst_pool *p = wa->pool;
  int index = wa->index;
  free(wa);
  unsigned seen = 0;
  for (;;) {
    unsigned gen;
    int spins = 0;
    while ((gen = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen && !atomic_load(&p->stop)) {
      if (++spins < SPIN_ROUNDS) {
        relax();
        continue;
      }
      pthread_mutex_lock(&p->mu);
      while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->wake, &p->mu);
      pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load(&p->stop)) return NULL;
    seen = gen;
    p->fn(p->ctx, index, p->threads);
    atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel);
  }
}

dst_pool *dst_pool_new(int threads) {
  dst_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->threads = threads < 1 ? 1 : threads;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->wake, NULL);
  p->ids = calloc((size_t)p->threads, sizeof *p->ids);
  if (!p->ids) {
    free(p);
    return NULL;
  }
  for (int i = 1; i < p->threads; i++) {
    worker_arg *wa = malloc(sizeof *wa);
    if (wa) *wa = (worker_arg){p, i};
    if (!wa || pthread_create(&p->ids[i], NULL, worker, wa) != 0) {
      free(wa);
      p->threads = i;
      dst_pool_free(p);
      return NULL;
    }
  }
  return p;
}

int dst_pool_threads(const dst_pool *p) { return p->threads; }

void dst_pool_run(dst_pool *p, dst_pool_fn fn, void *ctx) {
  if (p->threads == 1) {
    fn(ctx, 0, 1);
    return;
  }
  p->fn = fn;
  p->ctx = ctx;
  atomic_store(&p->pending, p->threads - 1);
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  fn(ctx, 0, p->threads);
  for (int spins = 0; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; spins++) {
    if (spins < SPIN_ROUNDS) relax();
    else sched_yield();
  }
}

void dst_pool_free(dst_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->stop, 1);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  for (int i = 1; i < p->threads; i++) pthread_join(p->ids[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->wake);
  free(p->ids);
  free(p);
}
