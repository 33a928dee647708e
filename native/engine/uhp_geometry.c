/*
 * UHP group geometry and pattern indices: the C twin of src/sparsity/uhp-geometry.ts
 * (dst_uhp_groups: uhpGeometry().groups; dst_uhp_position: uhpPosition;
 * dst_uhp_patterns, dst_uhp_bits, dst_uhp_combinations: uhpPatternCount,
 * uhpPatternBits, uhpPatternMasks). test/engine/uhp-geometry.test.ts holds the
 * two to the same groups on every zoo model.
 * Used by the reader (host) and the packer; no allocation.
 */
#include "graph.h"

int dst_uhp_groups(const dst_node *nd) {
  const int taps = nd->kh * nd->kw;
  return nd->flat ? (nd->cg * taps + nd->m - 1) / nd->m : taps * (nd->cg / nd->m);
}

int dst_uhp_position(const dst_node *nd, int g, int j) {
  const int taps = nd->kh * nd->kw;
  if (!nd->flat) {
    const int per_tap = nd->cg / nd->m;
    const int tap = g / per_tap, c = (g % per_tap) * nd->m + j;
    return c * taps + tap;
  }
  const int k = g * nd->m + j;
  return k < nd->cg * taps ? k : -1;
}

int dst_uhp_patterns(int m, int n) {
  long v = 1;
  for (int i = 1; i <= n; i++) v = v * (m - n + i) / i;
  return (int)v;
}

int dst_uhp_bits(int m, int n) {
  const int count = dst_uhp_patterns(m, n);
  int bits = 1;
  while ((1l << bits) < count) bits++;
  return bits;
}

int dst_uhp_combinations(int m, int n, uint16_t *masks) {
  int pos[16], k = 0;
  for (int i = 0; i < n; i++) pos[i] = i;
  for (;;) {
    uint16_t mask = 0;
    for (int i = 0; i < n; i++) mask |= (uint16_t)(1u << pos[i]);
    masks[k++] = mask;
    int i = n - 1;
    while (i >= 0 && pos[i] == m - n + i) i--;
    if (i < 0) return k;
    pos[i]++;
    for (int j = i + 1; j < n; j++) pos[j] = pos[j - 1] + 1;
  }
}
