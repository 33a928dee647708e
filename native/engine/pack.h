/*
 * The packer: a conv's weights in the layout its planned kernel path reads
 * (kernels.h), one packer per path. Plain C: the caller gives the memory.
 */
#ifndef DST_PACK_H
#define DST_PACK_H

#include <stddef.h>

#include "graph.h"
#include "plan.h"

/* Elements of each array dst_pack filled, for a host that copies them out (the C exporter). */
typedef struct dst_pack_counts {
  size_t w, bias, off, idx, rowptr, pidx, kept, qw, qbias, qreq;
} dst_pack_counts;

/* Working space dst_pack needs for node nd. */
size_t dst_pack_scratch_bytes(const dst_node *nd);

/*
 * Packs nd's weights (dense, mask, bias) for step s of plan p into mem and
 * points s's weight fields there. With mem NULL it only sizes: returns the
 * bytes mem must hold (64-byte aligned arrays); call it so first, as the
 * layout it sizes is the one it then fills. scratch holds
 * dst_pack_scratch_bytes(nd) bytes; counts (or NULL) receives the arrays' lengths.
 */
size_t dst_pack(const dst_plan *p, dst_step *s, const dst_node *nd, void *mem, void *scratch, dst_pack_counts *counts);

#endif
