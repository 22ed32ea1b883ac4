/* bench/sha256-speed.c — our SHA-256 (daemon/sha256.c) against OpenSSL's
 * EVP_sha256 on the same 256 MiB, in 1 MiB pieces, CPU time of this
 * process, 3 rounds.  Not part of `make bench` (it needs libssl-dev); it
 * backs the statement in BENCHMARKS.md that the hash runs at the
 * hardware's speed.  Build and run:
 *   cc -O2 -Idaemon bench/sha256-speed.c daemon/sha256.c -lcrypto -o build/sha256-speed && build/sha256-speed */
#include "sha256.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void) {
        struct timespec t;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

int main(void) {
        const size_t n = 256u << 20, piece = 1u << 20;
        unsigned char *b = malloc(n), d[32];
        unsigned int dl;
        if (!b)
                return 1;
        memset(b, 7, n);
        for (int round = 0; round < 3; round++) {
                struct sha256 s;
                char hex[65];
                double t0 = cpu_seconds();
                sha256_init(&s);
                for (size_t o = 0; o < n; o += piece)
                        sha256_update(&s, b + o, piece);
                sha256_final_hex(&s, hex);
                double t1 = cpu_seconds();
                EVP_MD_CTX *c = EVP_MD_CTX_new();
                EVP_DigestInit_ex(c, EVP_sha256(), NULL);
                for (size_t o = 0; o < n; o += piece)
                        EVP_DigestUpdate(c, b + o, piece);
                EVP_DigestFinal_ex(c, d, &dl);
                EVP_MD_CTX_free(c);
                double t2 = cpu_seconds();
                printf("ours %.2f GB/s, OpenSSL %.2f GB/s\n", (double) n / (t1 - t0) / 1e9,
                       (double) n / (t2 - t1) / 1e9);
        }
        free(b);
        return 0;
}
