/* The validated content of a .uhp file, as the reader hands it to the planner. */
#ifndef DST_GRAPH_H
#define DST_GRAPH_H

#include <stddef.h>
#include <stdint.h>

enum dst_op {
  DST_OP_CONV, DST_OP_LINEAR, DST_OP_RELU, DST_OP_ADD, DST_OP_MAXPOOL, DST_OP_AVGPOOL,
  DST_OP_GLOBALAVGPOOL, DST_OP_FLATTEN, DST_OP_SOFTMAX
};

enum dst_pattern { DST_PAT_DENSE, DST_PAT_UHP, DST_PAT_CSR };

/* Shape of one activation: rank 3 is [C, H, W]; rank 1 is [F], held as C = F, H = W = 1. */
typedef struct dst_shape {
  int rank;
  int c, h, w;
} dst_shape;

/* Integer fields of a node besides in[] and the shapes: X(name), for exporters. */
#define DST_NODE_INT_FIELDS(X) \
  X(op) X(n_in) X(relu) X(o) X(cg) X(kh) X(kw) X(sh) X(sw) X(ph) X(pw) X(dh) X(dw) X(groups) X(pattern) X(n) X(m) X(block) X(flat)

typedef struct dst_node {
  int op;
  int in[2], n_in; /* value ids: 0 is the graph input, node i writes value i + 1 */
  dst_shape in_shape, out_shape;
  int relu;
  /* conv (linear: as a 1x1 conv on a 1x1 image with C = I) and pooling windows */
  int o, cg, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  /* weights: `dense` is [O][Cg][kh][kw], zeros where pruned */
  int pattern;
  int n, m, block, flat; /* UHP */
#if !defined(DST_BARE_METAL)
  /* What the reader decoded, for the planner and packer: a microcontroller's const tables have the packed steps instead. */
  float *dense;    /* int8 models: the int8 weights times their scales, for the planner's view of the pattern */
  uint8_t *mask;   /* UHP: kept positions, one byte per (block, group, position) */
  float *bias;     /* O values, zeros when the file has none */
  /* int8 models (uhp-format.md, version 2): the output's scale and zero point; an add's requantization (plan.h's dst_qnode) */
  float qs;
  int qz;
  int32_t rq[6];   /* add: ma, sa, mb, sb, mo, so */
  int8_t *qw;      /* conv/linear: int8 weights, laid out as dense */
  int32_t *qbias;  /* O values */
  int32_t *qreq;   /* 2 * O: mult, shift per output channel */
#endif
} dst_node;

typedef struct dst_model {
  int n_nodes;
  dst_node *nodes;
  int output;              /* value id */
  dst_shape input;         /* after preprocessing */
  int crop_h, crop_w;      /* uncropped input size (== input when not cropping) */
  float *mean, *std;       /* C values each, or NULL */
  dst_shape out_shape;
  int int8;                /* a version-2 file: every value int8 */
  float in_qs;             /* int8: the quantized input's scale and zero point */
  int in_qz;
} dst_model;

/* Groups per output channel of a UHP layer, and the flat (c, kh, kw) index of position j of group g (-1: padding). */
int dst_uhp_groups(const dst_node *nd);
int dst_uhp_position(const dst_node *nd, int g, int j);
/* N:M patterns, C(M, N), and the bits of one pattern index. */
int dst_uhp_patterns(int m, int n);
int dst_uhp_bits(int m, int n);
/* Writes the masks of all N-subsets of M positions in lexicographic order (the meaning of a pattern index); returns their count. */
int dst_uhp_combinations(int m, int n, uint16_t *masks);

/* Parses and validates; 0 or -1 with err set. The model owns its memory and keeps no pointer into bytes. */
int dst_model_read(dst_model *m, const uint8_t *bytes, size_t len, char *err, size_t errlen);
void dst_model_free(dst_model *m);

#endif
