#define _GNU_SOURCE
#include "threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * After each loop, workers spin briefly before sleeping: consecutive layers,
 * and back-to-back images, follow within microseconds, while a futex wake-up
 * of a sleeping worker (on a VM, of its parked virtual CPU) costs tens of
 * them. Measured in the Node bench, two threads, rows in turns: images 10-20%
 * faster than with workers that slept as soon as an image ended. An idle pool
 * sleeps after this many pauses (well under a millisecond).
 */
#define SPIN_ROUNDS 4000

/* Most tasks one loop takes; dst_pool_run splits larger loops. */
#define MAX_TASKS 0xffff

/*
 * One thread's share of a loop: generation << 32 | end << 16 | next task.
 * A claim is a CAS on the whole word, so it can never take a task of a newer
 * loop, whose slots carry another generation.
 */
typedef struct {
  _Alignas(64) _Atomic uint64_t word;
} slot;

struct dst_pool {
  int threads;
  pthread_t *ids;
  slot *slots; /* per thread, the caller's first */
  pthread_mutex_t mu;
  pthread_cond_t wake;
  _Atomic uint32_t gen; /* of the newest loop */
  atomic_int done;
  atomic_int stop;
  dst_task_fn fn;
  void *ctx;
  int caller_cpu; /* where the workers were last kept off, -1 before */
};

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Takes the next task of slot j if it belongs to loop gen; -1 when none is left. */
static int claim(slot *j, uint32_t gen) {
  uint64_t w = atomic_load_explicit(&j->word, memory_order_acquire);
  while ((uint32_t)(w >> 32) == gen && (w & 0xffff) < (w >> 16 & 0xffff))
    if (atomic_compare_exchange_weak_explicit(&j->word, &w, w + 1, memory_order_acq_rel, memory_order_acquire)) return (int)(w & 0xffff);
  return -1;
}

/*
 * Runs tasks of loop gen until none are left: its own share first, in order,
 * then what the others have not started. Thread i's share is the same part of
 * every loop, and the engine numbers tasks pixel-major, so a thread mostly
 * reads what it wrote in the layer before, from its own cache.
 */
static void work(dst_pool *p, int self, uint32_t gen) {
  for (int k = 0; k < p->threads; k++) {
    slot *j = &p->slots[(self + k) % p->threads];
    for (int t; (t = claim(j, gen)) >= 0;) {
      /* The loop cannot end before this task is done, so fn and ctx still belong to it. */
      p->fn(p->ctx, t);
      atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
  }
}

typedef struct {
  dst_pool *p;
  int self;
} worker_arg;

static void *worker(void *arg) {
  dst_pool *p = ((worker_arg *)arg)->p;
  const int self = ((worker_arg *)arg)->self;
  free(arg);
  uint32_t seen = 0;
  for (;;) {
    uint32_t gen;
    int spins = 0;
    while ((gen = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen && !atomic_load(&p->stop)) {
      if (++spins < SPIN_ROUNDS) {
        relax();
        continue;
      }
      pthread_mutex_lock(&p->mu);
      /* a begin() wakes the sleeper to spin again, so the run's first layer finds it awake */
      if (atomic_load(&p->gen) == seen && !atomic_load(&p->stop)) {
        pthread_cond_wait(&p->wake, &p->mu);
        spins = 0;
      }
      pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load(&p->stop)) return NULL;
    seen = gen;
    work(p, self, gen);
  }
}

dst_pool *dst_pool_new(int threads) {
  dst_pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->threads = threads < 1 ? 1 : threads;
  p->caller_cpu = -1;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->wake, NULL);
  p->ids = calloc((size_t)p->threads, sizeof *p->ids);
  p->slots = aligned_alloc(64, sizeof *p->slots * (size_t)p->threads);
  if (!p->ids || !p->slots) {
    free(p->ids);
    free(p->slots);
    free(p);
    return NULL;
  }
  for (int i = 0; i < p->threads; i++) atomic_init(&p->slots[i].word, 0);
  for (int i = 1; i < p->threads; i++) {
    worker_arg *a = malloc(sizeof *a);
    if (a) *a = (worker_arg){p, i};
    if (!a || pthread_create(&p->ids[i], NULL, worker, a) != 0) {
      free(a);
      p->threads = i;
      dst_pool_free(p);
      return NULL;
    }
  }
  return p;
}

int dst_pool_threads(const dst_pool *p) { return p->threads; }

/* A part of a loop too large for one: its tasks numbered from base. */
typedef struct {
  dst_task_fn fn;
  void *ctx;
  int base;
} offset_ctx;

static void offset_task(void *arg, int t) {
  const offset_ctx *o = arg;
  o->fn(o->ctx, o->base + t);
}

void dst_pool_run(dst_pool *p, dst_task_fn fn, void *ctx, int tasks) {
  if (p->threads == 1 || tasks <= 1) {
    for (int t = 0; t < tasks; t++) fn(ctx, t);
    return;
  }
  if (tasks > MAX_TASKS) {
    for (int t0 = 0; t0 < tasks; t0 += MAX_TASKS) {
      offset_ctx o = {fn, ctx, t0};
      dst_pool_run(p, offset_task, &o, tasks - t0 < MAX_TASKS ? tasks - t0 : MAX_TASKS);
    }
    return;
  }
  p->fn = fn;
  p->ctx = ctx;
  atomic_store_explicit(&p->done, 0, memory_order_relaxed);
  const uint32_t gen = atomic_load(&p->gen) + 1;
  for (int i = 0; i < p->threads; i++) {
    const uint64_t lo = (uint64_t)tasks * i / p->threads, hi = (uint64_t)tasks * (i + 1) / p->threads;
    atomic_store_explicit(&p->slots[i].word, (uint64_t)gen << 32 | hi << 16 | lo, memory_order_relaxed);
  }
  pthread_mutex_lock(&p->mu);
  atomic_store_explicit(&p->gen, gen, memory_order_release);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  work(p, 0, gen);
  for (int spins = 0; atomic_load_explicit(&p->done, memory_order_acquire) < tasks; spins++) {
    if (spins < SPIN_ROUNDS) relax();
    else sched_yield();
  }
}

/*
 * Workers run on the CPUs the caller may use, except the one it is on. Left
 * to itself the scheduler now and then wakes a worker on the caller's CPU,
 * where their spinning takes turns with the work: measured on a 2-core VM,
 * runs of images twice as slow as on the caller alone. Only a move of the
 * caller costs system calls.
 */
static void keep_off_caller(dst_pool *p) {
#if defined(__linux__)
  const int cpu = sched_getcpu();
  if (cpu < 0 || cpu == p->caller_cpu) return;
  p->caller_cpu = cpu;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return;
  CPU_CLR(cpu, &set);
  if (CPU_COUNT(&set) == 0) return; /* the caller is pinned to one CPU: nowhere else to go */
  for (int i = 1; i < p->threads; i++) pthread_setaffinity_np(p->ids[i], sizeof set, &set);
#else
  (void)p;
#endif
}

void dst_pool_begin(dst_pool *p) {
  if (p->threads == 1) return;
  keep_off_caller(p);
  pthread_mutex_lock(&p->mu);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
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
  free(p->slots);
  free(p);
}
