/* sha256.c — SHA-256 as specified in FIPS 180-4, streaming.
 *
 * Portable C11: no assumptions about host endianness or alignment; every
 * word is assembled from bytes explicitly. */
#include "sha256.h"

#include <stdbool.h>
#include <string.h>

static const uint32_t K[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
        return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}

static void compress(uint32_t h[8], const uint8_t block[64])
{
        uint32_t w[64];
        for (int i = 0; i < 16; i++)
                w[i] = load_be32(block + 4 * i);
        for (int i = 16; i < 64; i++) {
                uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
        uint32_t e = h[4], f = h[5], g = h[6], k = h[7];
        for (int i = 0; i < 64; i++) {
                uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
                uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                k = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += k;
}

/* The x86 SHA extensions (SHA-NI: AMD since Zen, Intel since Ice Lake /
 * Goldmont) do the same rounds about 8 times faster; chosen once at load
 * time from CPUID, the portable code above everywhere else. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

__attribute__((target("sha,sse4.1,ssse3")))
static void compress_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
        const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
        __m128i t = _mm_loadu_si128((const __m128i *)&h[0]);          /* DCBA */
        __m128i s1 = _mm_loadu_si128((const __m128i *)&h[4]);         /* HGFE */
        t = _mm_shuffle_epi32(t, 0xB1);                                /* CDAB */
        s1 = _mm_shuffle_epi32(s1, 0x1B);                              /* EFGH */
        __m128i s0 = _mm_alignr_epi8(t, s1, 8);                        /* ABEF */
        s1 = _mm_blend_epi16(s1, t, 0xF0);                             /* CDGH */

/* 4 rounds with the message words mk (+ their constants); then, the
 * schedule: the next 4 words from the 16 before them, in place of ma. */
#define RNDS4(mk, g) do { \
        __m128i wk_ = _mm_add_epi32(mk, _mm_loadu_si128((const __m128i *)&K[4 * (g)])); \
        s1 = _mm_sha256rnds2_epu32(s1, s0, wk_); \
        s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(wk_, 0x0E)); \
} while (0)
#define SCHED(ma, mb, mc, md) \
        ma = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(ma, mb), _mm_alignr_epi8(md, mc, 4)), md)
#define CYCLE(g) do { \
        SCHED(m0, m1, m2, m3); RNDS4(m0, g); \
        SCHED(m1, m2, m3, m0); RNDS4(m1, g + 1); \
        SCHED(m2, m3, m0, m1); RNDS4(m2, g + 2); \
        SCHED(m3, m0, m1, m2); RNDS4(m3, g + 3); \
} while (0)
        for (; nblocks > 0; nblocks--, p += 64) {
                __m128i abef = s0, cdgh = s1;
                __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
                __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
                __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
                __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
                RNDS4(m0, 0);
                RNDS4(m1, 1);
                RNDS4(m2, 2);
                RNDS4(m3, 3);
                CYCLE(4);
                CYCLE(8);
                CYCLE(12);
                s0 = _mm_add_epi32(s0, abef);
                s1 = _mm_add_epi32(s1, cdgh);
        }
#undef CYCLE
#undef SCHED
#undef RNDS4

        t = _mm_shuffle_epi32(s0, 0x1B);                               /* FEBA */
        s1 = _mm_shuffle_epi32(s1, 0xB1);                              /* DCHG */
        s0 = _mm_blend_epi16(t, s1, 0xF0);                             /* DCBA */
        s1 = _mm_alignr_epi8(s1, t, 8);                                /* HGFE */
        _mm_storeu_si128((__m128i *)&h[0], s0);
        _mm_storeu_si128((__m128i *)&h[4], s1);
}

static bool have_shani;

__attribute__((constructor))
static void detect_shani(void)
{
        unsigned a, b, c, d;
        if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
                return;
        if (__get_cpuid_max(0, NULL) < 7 || !__get_cpuid_count(7, 0, &a, &b, &c, &d))
                return;
        have_shani = (b & bit_SHA) != 0;
}
#endif

static void compress_blocks(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
#if defined(__x86_64__) && defined(__GNUC__)
        if (have_shani) {
                compress_shani(h, p, nblocks);
                return;
        }
#endif
        for (; nblocks > 0; nblocks--, p += 64)
                compress(h, p);
}

void sha256_init(struct sha256 *s)
{
        static const uint32_t iv[8] = {
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
        };
        memcpy(s->h, iv, sizeof iv);
        s->len = 0;
        s->fill = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
        const uint8_t *p = data;
        if (n == 0)
                return;         /* data may be NULL then: memcpy must not see it */
        s->len += n;
        if (s->fill > 0) {
                size_t take = 64 - s->fill < n ? 64 - s->fill : n;
                memcpy(s->block + s->fill, p, take);
                s->fill += take;
                p += take;
                n -= take;
                if (s->fill < 64)
                        return;
                compress_blocks(s->h, s->block, 1);     /* every piece not a multiple of 64 ends here */
                s->fill = 0;
        }
        /* Whole blocks straight from the caller's buffer: no copy. */
        if (n >= 64) {
                compress_blocks(s->h, p, n / 64);
                p += n / 64 * 64;
                n %= 64;
        }
        if (n > 0) {
                memcpy(s->block, p, n);
                s->fill = n;
        }
}

void sha256_final(struct sha256 *s, uint8_t out[32])
{
        uint64_t bits = s->len * 8;
        /* Padding: 0x80, zeros up to 56 mod 64, then the 64-bit length. */
        s->block[s->fill++] = 0x80;
        if (s->fill > 56) {
                memset(s->block + s->fill, 0, 64 - s->fill);
                compress(s->h, s->block);
                s->fill = 0;
        }
        memset(s->block + s->fill, 0, 56 - s->fill);
        for (int i = 0; i < 8; i++)
                s->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
        compress(s->h, s->block);
        for (int i = 0; i < 8; i++)
                store_be32(out + 4 * i, s->h[i]);
        /* Reset, so a struct reused after final starts a fresh digest. */
        sha256_init(s);
}

void sha256_final_hex(struct sha256 *s, char out[65])
{
        static const char hex[] = "0123456789abcdef";
        uint8_t d[32];
        sha256_final(s, d);
        for (int i = 0; i < 32; i++) {
                out[2 * i] = hex[d[i] >> 4];
                out[2 * i + 1] = hex[d[i] & 15];
        }
        out[64] = '\0';
}
