#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
  const char *s;
  size_t n, i;
  dst_json *nodes;
  size_t used, cap;
  char *str;
  size_t str_used;
  char *err;
  size_t errlen;
} parser;

static int fail(parser *p, const char *what) {
  snprintf(p->err, p->errlen, "header JSON: %s at byte %zu", what, p->i);
  return -1;
}

static void skip_ws(parser *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}

static dst_json *new_node(parser *p, int type) {
  if (p->used == p->cap) return NULL;
  dst_json *v = &p->nodes[p->used++];
  memset(v, 0, sizeof *v);
  v->type = type;
  return v;
}

static int hex4(parser *p, unsigned *out) {
  if (p->n - p->i < 4) return fail(p, "short \\u escape");
  unsigned v = 0;
  for (int k = 0; k < 4; k++) {
    char c = p->s[p->i++];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return fail(p, "bad \\u escape");
  }
  *out = v;
  return 0;
}

/* Decodes a string at p->i (just after the quote) into the string pool. */
static int parse_string(parser *p, const char **out, size_t *outlen) {
  char *dst = p->str + p->str_used;
  size_t k = 0;
  for (;;) {
    if (p->i >= p->n) return fail(p, "unterminated string");
    unsigned char c = (unsigned char)p->s[p->i++];
    if (c == '"') break;
    if (c < 0x20) return fail(p, "control character in string");
    if (c != '\\') {
      dst[k++] = (char)c;
      continue;
    }
    if (p->i >= p->n) return fail(p, "unterminated escape");
    char e = p->s[p->i++];
    switch (e) {
      case '"': dst[k++] = '"'; break;
      case '\\': dst[k++] = '\\'; break;
      case '/': dst[k++] = '/'; break;
      case 'b': dst[k++] = '\b'; break;
      case 'f': dst[k++] = '\f'; break;
      case 'n': dst[k++] = '\n'; break;
      case 'r': dst[k++] = '\r'; break;
      case 't': dst[k++] = '\t'; break;
      case 'u': {
        unsigned u;
        if (hex4(p, &u)) return -1;
        /* Names are ASCII in files we write; anything else only needs to round-trip as text, so
           code points beyond one byte become '?' (6 escaped bytes always cover the output). */
        dst[k++] = (u > 0 && u < 0x80) ? (char)u : '?';
        break;
      }
      default: return fail(p, "bad escape");
    }
  }
  dst[k] = 0;
  *out = dst;
  *outlen = k;
  p->str_used += k + 1;
  return 0;
}

static int parse_number(parser *p, double *out) {
  size_t start = p->i;
  if (p->i < p->n && p->s[p->i] == '-') p->i++;
  if (p->i >= p->n) return fail(p, "bad number");
  if (p->s[p->i] == '0') p->i++;
  else if (p->s[p->i] >= '1' && p->s[p->i] <= '9') while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
  else return fail(p, "bad number");
  if (p->i < p->n && p->s[p->i] == '.') {
    p->i++;
    size_t d = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    if (p->i == d) return fail(p, "bad number");
  }
  if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
    p->i++;
    if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
    size_t d = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    if (p->i == d) return fail(p, "bad number");
  }
  char buf[64];
  size_t len = p->i - start;
  if (len >= sizeof buf) return fail(p, "number too long");
  memcpy(buf, p->s + start, len);
  buf[len] = 0;
  *out = strtod(buf, NULL);
  if (!isfinite(*out)) return fail(p, "number out of range");
  return 0;
}

static int literal(parser *p, const char *word) {
  size_t len = strlen(word);
  if (p->n - p->i < len || memcmp(p->s + p->i, word, len) != 0) return fail(p, "unexpected token");
  p->i += len;
  return 0;
}

static int parse_value(parser *p, dst_json **out, int depth);

static int parse_container(parser *p, dst_json *v, int depth, char close) {
  dst_json **tail = &v->child;
  skip_ws(p);
  if (p->i < p->n && p->s[p->i] == close) {
    p->i++;
    return 0;
  }
  for (;;) {
    const char *key = NULL;
    size_t keylen;
    skip_ws(p);
    if (close == '}') {
      if (p->i >= p->n || p->s[p->i] != '"') return fail(p, "expected member name");
      p->i++;
      if (parse_string(p, &key, &keylen)) return -1;
      skip_ws(p);
      if (p->i >= p->n || p->s[p->i] != ':') return fail(p, "expected ':'");
      p->i++;
    }
    dst_json *item;
    if (parse_value(p, &item, depth + 1)) return -1;
    item->key = key;
    *tail = item;
    tail = &item->next;
    v->len++;
    skip_ws(p);
    if (p->i >= p->n) return fail(p, "unterminated container");
    char c = p->s[p->i++];
    if (c == close) return 0;
    if (c != ',') return fail(p, "expected ',' or end of container");
  }
}

static int parse_value(parser *p, dst_json **out, int depth) {
  if (depth > MAX_DEPTH) return fail(p, "nesting too deep");
  skip_ws(p);
  if (p->i >= p->n) return fail(p, "unexpected end");
  char c = p->s[p->i];
  dst_json *v;
  switch (c) {
    case '{':
    case '[':
      if (!(v = new_node(p, c == '{' ? DST_JOBJ : DST_JARR))) return fail(p, "too many values");
      p->i++;
      if (parse_container(p, v, depth, c == '{' ? '}' : ']')) return -1;
      break;
    case '"':
      if (!(v = new_node(p, DST_JSTR))) return fail(p, "too many values");
      p->i++;
      if (parse_string(p, &v->str, &v->len)) return -1;
      break;
    case 't':
    case 'f':
      if (!(v = new_node(p, DST_JBOOL))) return fail(p, "too many values");
      if (literal(p, c == 't' ? "true" : "false")) return -1;
      v->num = c == 't';
      break;
    case 'n':
      if (!(v = new_node(p, DST_JNULL))) return fail(p, "too many values");
      if (literal(p, "null")) return -1;
      break;
    default:
      if (!(v = new_node(p, DST_JNUM))) return fail(p, "too many values");
      if (parse_number(p, &v->num)) return -1;
  }
  *out = v;
  return 0;
}

int dst_json_parse(dst_json_doc *doc, const char *text, size_t len, char *err, size_t errlen) {
  memset(doc, 0, sizeof *doc);
  /* Every value but the first follows a ',', '[', '{' or ':', so this bounds the node count. */
  size_t cap = 1;
  for (size_t i = 0; i < len; i++) cap += text[i] == ',' || text[i] == '[' || text[i] == '{' || text[i] == ':';
  parser p = {.s = text, .n = len, .cap = cap, .err = err, .errlen = errlen};
  p.nodes = malloc(cap * sizeof *p.nodes);
  p.str = malloc(len + 1);
  if (!p.nodes || !p.str) {
    free(p.nodes);
    free(p.str);
    snprintf(err, errlen, "header JSON: out of memory");
    return -1;
  }
  doc->nodes = p.nodes;
  doc->strings = p.str;
  dst_json *root;
  if (parse_value(&p, &root, 0)) {
    dst_json_free(doc);
    return -1;
  }
  skip_ws(&p);
  if (p.i != p.n) {
    fail(&p, "trailing bytes");
    dst_json_free(doc);
    return -1;
  }
  doc->root = root;
  return 0;
}

void dst_json_free(dst_json_doc *doc) {
  free(doc->nodes);
  free(doc->strings);
  memset(doc, 0, sizeof *doc);
}

const dst_json *dst_json_get(const dst_json *obj, const char *key) {
  if (!obj || obj->type != DST_JOBJ) return NULL;
  for (const dst_json *m = obj->child; m; m = m->next)
    if (strcmp(m->key, key) == 0) return m;
  return NULL;
}
