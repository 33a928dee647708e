/* Which kernel sets this CPU can run, asked once from cpuid (x86) or known at build time (AArch64). */
#include "uhp_engine.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>

static unsigned long long xcr0(void) {
  unsigned lo, hi;
  __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

static int x86_has(int isa) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1;
  if (!osxsave || !fma) return 0;
  unsigned long long x = xcr0();
  if ((x & 0x6) != 0x6) return 0; /* OS saves ymm state */
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
  if (isa == DST_ISA_AVX2) return avx2;
  return avx2 && avx512f && (x & 0xe6) == 0xe6; /* and zmm / opmask state */
}
#endif

int dst_isa_available(int isa) {
  switch (isa) {
    case DST_ISA_SCALAR: return 1;
#if defined(__x86_64__) || defined(_M_X64)
    case DST_ISA_AVX2:
    case DST_ISA_AVX512: return x86_has(isa);
#endif
#if defined(__aarch64__)
    case DST_ISA_NEON: return 1;
#endif
    default: return 0;
  }
}

const char *dst_isa_name(int isa) {
  static const char *names[DST_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};
  return isa >= 0 && isa < DST_ISA_COUNT ? names[isa] : 0;
}

int dst_isa_best(void) {
  static const int order[] = {DST_ISA_AVX512, DST_ISA_AVX2, DST_ISA_NEON};
  for (int i = 0; i < 3; i++) if (dst_isa_available(order[i])) return order[i];
  return DST_ISA_SCALAR;
}
