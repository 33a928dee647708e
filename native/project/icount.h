/*
 * dst C export: instructions executed under QEMU, read from timer0 of the
 * mps2 boards (a CMSDK 32-bit down-counter at 25 MHz). With -icount shift=0
 * QEMU's virtual clock advances 1 ns per executed instruction, so the timer
 * ticks once per 40 instructions. These are instructions, not cycles: QEMU
 * models no pipeline, caches or wait states.
 */
#ifndef DST_ICOUNT_H
#define DST_ICOUNT_H

#include <stdint.h>

#define DST_INSTRUCTIONS_PER_TICK 40u

/* CTRL +0x0, VALUE +0x4, RELOAD +0x8. */
#define DST_TIMER0 ((volatile uint32_t *)0x40000000u)

/* Starts timer0 from its top value; afterwards call dst_icount_now. */
static inline void dst_icount_start(void) {
  DST_TIMER0[2] = 0xFFFFFFFFu;
  DST_TIMER0[1] = 0xFFFFFFFFu;
  DST_TIMER0[0] = 1u;
}

static inline uint32_t dst_icount_now(void) {
  return DST_TIMER0[1];
}

/* Instructions between two dst_icount_now readings, to one tick (40); wraps after 2^32 ticks. */
static inline uint64_t dst_icount_between(uint32_t before, uint32_t after) {
  return (uint64_t)(uint32_t)(before - after) * DST_INSTRUCTIONS_PER_TICK;
}

#endif
