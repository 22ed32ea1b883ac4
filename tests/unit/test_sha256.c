/* test_sha256.c — daemon/sha256.c against the FIPS 180-4 / NIST vectors,
 * plus the padding boundaries and chunked feeding (the daemon hashes a
 * download in whatever pieces libcurl hands it, so the split must never
 * change the digest). */
#include "check_run.h"
#include "sha256.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void digest_hex(const void *data, size_t n, char out[65])
{
        struct sha256 s;
        sha256_init(&s);
        sha256_update(&s, data, n);
        sha256_final_hex(&s, out);
}

static void assert_digest(const char *msg, const char *want)
{
        char got[65];
        digest_hex(msg, strlen(msg), got);
        ck_assert_str_eq(got, want);
}

START_TEST(nist_empty)
{
        assert_digest("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(nist_abc)
{
        assert_digest("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(nist_448_bits)
{
        assert_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(nist_896_bits)
{
        assert_digest("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                      "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(nist_million_a)
{
        /* Fed in 1000 updates of 1000 bytes, as NIST describes the test. */
        char chunk[1000], got[65];
        struct sha256 s;
        memset(chunk, 'a', sizeof chunk);
        sha256_init(&s);
        for (int i = 0; i < 1000; i++)
                sha256_update(&s, chunk, sizeof chunk);
        sha256_final_hex(&s, got);
        ck_assert_str_eq(got, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* Lengths around the 55/56/64-byte padding edges, where an off-by-one in
 * the final block shows (digests from coreutils sha256sum). */
static const struct {
        size_t n;
        const char *hex;
} boundaries[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
};

START_TEST(padding_boundaries)
{
        char buf[65], got[65];
        memset(buf, 'a', sizeof buf);
        digest_hex(buf, boundaries[_i].n, got);
        ck_assert_msg(strcmp(got, boundaries[_i].hex) == 0, "%zu x 'a': got %s, want %s",
                      boundaries[_i].n, got, boundaries[_i].hex);
}
END_TEST

/* xorshift64*: deterministic, so a failure can be replayed from the seed. */
static uint64_t next_rand(uint64_t *st)
{
        *st ^= *st >> 12;
        *st ^= *st << 25;
        *st ^= *st >> 27;
        return *st * 0x2545F4914F6CDD1DULL;
}

START_TEST(random_chunks_match_one_update)
{
        enum { LEN = 100003 };
        uint64_t seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(_i + 1), st = seed;
        uint8_t *data = malloc(LEN);
        ck_assert_ptr_nonnull(data);
        for (size_t i = 0; i < LEN; i++)
                data[i] = (uint8_t)(next_rand(&st) >> 56);

        char whole[65], pieces[65];
        digest_hex(data, LEN, whole);

        struct sha256 s;
        sha256_init(&s);
        size_t off = 0;
        while (off < LEN) {
                size_t n = 1 + (size_t)(next_rand(&st) % 200);
                if (n > LEN - off)
                        n = LEN - off;
                sha256_update(&s, data + off, n);
                off += n;
        }
        sha256_final_hex(&s, pieces);
        free(data);
        ck_assert_msg(strcmp(whole, pieces) == 0, "seed %#llx: chunked %s != whole %s",
                      (unsigned long long)seed, pieces, whole);
}
END_TEST

START_TEST(empty_updates_change_nothing)
{
        char got[65];
        struct sha256 s;
        sha256_init(&s);
        sha256_update(&s, "a", 1);
        sha256_update(&s, NULL, 0);
        sha256_update(&s, "bc", 2);
        sha256_update(&s, "", 0);
        sha256_final_hex(&s, got);
        ck_assert_str_eq(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

static Suite *sha256_suite(void)
{
        Suite *s = suite_create("sha256");
        TCase *nist = tcase_create("nist");
        tcase_add_test(nist, nist_empty);
        tcase_add_test(nist, nist_abc);
        tcase_add_test(nist, nist_448_bits);
        tcase_add_test(nist, nist_896_bits);
        tcase_add_test(nist, nist_million_a);
        suite_add_tcase(s, nist);

        TCase *edges = tcase_create("edges");
        tcase_add_loop_test(edges, padding_boundaries, 0, (int)(sizeof boundaries / sizeof boundaries[0]));
        tcase_add_loop_test(edges, random_chunks_match_one_update, 0, 8);
        tcase_add_test(edges, empty_updates_change_nothing);
        suite_add_tcase(s, edges);
        return s;
}

int main(void)
{
        return check_run(sha256_suite());
}
