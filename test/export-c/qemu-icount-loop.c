/*
 * Checks icount.h under QEMU: loops of a known length (N iterations of K
 * instructions) print "loop K N instructions M"; M must equal N*K to one
 * timer tick (40 instructions) plus the few instructions around the loop.
 */
#include <stdint.h>
#include <stdio.h>

#include "icount.h"
#include "semihost.h"

#define N 1000003u

static void report(unsigned k, unsigned n, uint32_t before, uint32_t after) {
  char line[80];
  snprintf(line, sizeof line, "loop %u %u instructions %llu\n", k, n, (unsigned long long)dst_icount_between(before, after));
  sh_print(line);
}

int main(void) {
  dst_icount_start();
  uint32_t n = N;
  uint32_t before = dst_icount_now();
  __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
  uint32_t after = dst_icount_now();
  report(2, N, before, after);

  n = N;
  before = dst_icount_now();
  __asm__ volatile("1: nop\n\tnop\n\tnop\n\tsubs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
  after = dst_icount_now();
  report(5, N, before, after);

  before = dst_icount_now();
  after = dst_icount_now();
  report(0, 0, before, after);
  sh_exit(0);
}
