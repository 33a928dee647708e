/*
 * Thread pool check, built with ThreadSanitizer by native-drivers.test.ts:
 * every task of every loop runs exactly once, for task counts around the
 * per-thread shares and past the largest single loop, with and without
 * begin, on 1 to 4 threads. Prints one line; exits non-zero on a miss.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../native/engine/threadpool.h"

typedef struct {
  atomic_int *runs;
  int loop;
} loop_ctx;

static void count(void *arg, int task) {
  const loop_ctx *c = arg;
  atomic_fetch_add_explicit(&c->runs[task], 1, memory_order_relaxed);
}

int main(void) {
  static const int sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 17, 64, 1000, 65535, 65536, 70001};
  const int n_sizes = (int)(sizeof sizes / sizeof *sizes);
  long loops = 0;
  for (int threads = 1; threads <= 4; threads++) {
    dst_pool *p = dst_pool_new(threads);
    if (!p) {
      printf("cannot start %d threads\n", threads);
      return 1;
    }
    for (int round = 0; round < 20; round++) {
      if (round % 2) dst_pool_begin(p);
      for (int k = 0; k < n_sizes; k++) {
        const int tasks = sizes[k];
        atomic_int *runs = calloc((size_t)tasks + 1, sizeof *runs);
        loop_ctx c = {runs, round};
        dst_pool_run(p, count, &c, tasks);
        for (int t = 0; t < tasks; t++)
          if (atomic_load(&runs[t]) != 1) {
            printf("threads %d, %d tasks: task %d ran %d times\n", threads, tasks, t, atomic_load(&runs[t]));
            return 1;
          }
        free(runs);
        loops++;
      }
    }
    dst_pool_free(p);
  }
  printf("%ld loops: every task ran once\n", loops);
  return 0;
}
