/* sha256.h — SHA-256 (FIPS 180-4), streaming.
 *
 * Our own rather than OpenSSL/nettle: the daemon needs exactly this one
 * digest (to record and compare package bytes), and adding a crypto library
 * for it would add a dependency the agreed library list lacks.  Portable C,
 * and the x86 SHA extensions where the CPU has them (BENCHMARKS.md).
 * Verified against the NIST test vectors in tests/unit/test_sha256.c. */
#ifndef DEV2PROD_SHA256_H
#define DEV2PROD_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
        uint32_t h[8];
        uint64_t len;           /* bytes hashed so far */
        uint8_t block[64];
        size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* Convenience: final digest as 64 lower-case hex chars + NUL. */
void sha256_final_hex(struct sha256 *s, char out[65]);

#endif
