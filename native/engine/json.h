/* A small JSON reader for the .uhp header: bounded depth, no recursion on input size. */
#ifndef DST_JSON_H
#define DST_JSON_H
#include <stddef.h>

enum { DST_JNULL, DST_JBOOL, DST_JNUM, DST_JSTR, DST_JARR, DST_JOBJ };

typedef struct dst_json {
  int type;
  double num;              /* JNUM, JBOOL (0/1) */
  const char *str;         /* JSTR: decoded, NUL-terminated */
  size_t len;              /* JSTR: bytes; JARR/JOBJ: members */
  const char *key;         /* member name inside an object, else NULL */
  struct dst_json *child;  /* first member */
  struct dst_json *next;   /* next sibling */
} dst_json;

typedef struct dst_json_doc {
  dst_json *nodes;
  char *strings;
  dst_json *root;
} dst_json_doc;

/* Parses text[0..len); 0 on success, else -1 with a message in err. */
int dst_json_parse(dst_json_doc *doc, const char *text, size_t len, char *err, size_t errlen);
void dst_json_free(dst_json_doc *doc);
/* Member of an object by name, or NULL. */
const dst_json *dst_json_get(const dst_json *obj, const char *key);
#endif
