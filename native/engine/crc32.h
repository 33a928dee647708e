#ifndef DST_CRC32_H
#define DST_CRC32_H
#include <stddef.h>
#include <stdint.h>
/* CRC-32 (IEEE, reflected), as zlib and PNG. */
uint32_t dst_crc32(const uint8_t *p, size_t n);
#endif
