/* mock_stream.c — response bodies generated while they are sent: the
 * package bytes of a download (any size, never held in memory) and the
 * 50 MB status of the "bigstatus" fault. */
#include "mock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 64 * 1024 };     /* what we ask MHD to send per callback */

/* ---- package bytes ---------------------------------------------------- */

/* The 8 bytes at offset 8*blk of the package seeded by seed: a pure
 * function of the position, so any range can be produced (and produced
 * again for hashing) without keeping anything. */
static uint64_t package_word(uint64_t seed, uint64_t blk)
{
        uint64_t z = seed + (blk + 1) * 0x9E3779B97F4A7C15ULL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
}

void package_fill(uint64_t seed, uint64_t pos, uint8_t *buf, size_t len)
{
        while (len > 0) {
                uint64_t w = package_word(seed, pos >> 3);
                for (unsigned off = pos & 7; off < 8 && len > 0; off++, len--, pos++)
                        *buf++ = (uint8_t)(w >> (8 * off));
        }
}

/* ---- downloads -------------------------------------------------------- */

struct download {
        char tenant[TENANT_ID_MAX];
        char file_id[UUID_LEN + 1];
        uint64_t seed;
        uint64_t total;         /* the Content-Length announced */
        uint64_t body_size;     /* what MHD will ask for ("long": more) */
        uint64_t cut;           /* truncate/stall: where sending stops */
        enum fault_kind fault;
        int fd;
        struct sha256 sha;      /* of the sent bytes, up to Content-Length */
        uint64_t sent;          /* bytes known written to the socket */
        uint64_t hashed;
        uint64_t produced_end;  /* end of the last chunk handed to MHD */
        int64_t t0_ms;          /* first callback, for the throttle */
        bool started;
};

/* "long": how many bytes past Content-Length we push. */
enum { LONG_EXTRA = 4096 };

struct download *download_new(const struct export_view *e, const struct fault *f, int fd)
{
        struct download *d = calloc(1, sizeof *d);
        if (!d)
                return NULL;
        snprintf(d->tenant, sizeof d->tenant, "%s", e->tenant);
        memcpy(d->file_id, e->file_id, sizeof d->file_id);
        d->seed = e->seed;
        d->total = M.package_size;
        d->body_size = d->total;
        d->cut = d->total;
        d->fault = f->kind;
        d->fd = fd;
        if (f->kind == FK_TRUNCATE || f->kind == FK_STALL)
                d->cut = d->total / 2;
        else if (f->kind == FK_LONG)
                d->body_size = d->cut = d->total + LONG_EXTRA;
        sha256_init(&d->sha);
        return d;
}

/* Notes that the first upto bytes were sent and hashes the new ones, by
 * producing them again (cheaper than keeping a copy of what MHD still has
 * to send). Bytes past Content-Length ("long") are counted, not hashed:
 * the digest stays that of what a faithful client keeps. */
static void sent_upto(struct download *d, uint64_t upto)
{
        uint8_t tmp[8192];
        if (upto > d->sent)
                d->sent = upto;
        uint64_t end = upto < d->total ? upto : d->total;
        while (d->hashed < end) {
                size_t n = end - d->hashed < sizeof tmp ? (size_t)(end - d->hashed) : sizeof tmp;
                package_fill(d->seed, d->hashed, tmp, n);
                sha256_update(&d->sha, tmp, n);
                d->hashed += n;
        }
}

/* Sleeps until pos bytes are due at the throttle rate; -1 if the client
 * left or the mock is stopping meanwhile. */
static int throttle_wait(struct download *d, uint64_t pos)
{
        if (!d->started) {
                d->t0_ms = now_ms();
                d->started = true;
        }
        int64_t due = d->t0_ms + (int64_t)(pos * 1000 / M.throttle);
        int64_t now = now_ms();
        return due > now ? wait_or_gone(d->fd, (long)(due - now)) : 0;
}

static ssize_t download_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct download *d = cls;
        /* MHD asks for more only once all it had was written to the socket,
         * so pos is the count of bytes really sent so far. */
        sent_upto(d, pos);
        if (d->fault == FK_LONG && pos >= d->body_size)
                return MHD_CONTENT_READER_END_OF_STREAM;
        if (pos >= d->cut) {
                if (d->fault == FK_STALL)
                        (void)wait_or_gone(d->fd, HANG_MS);
                return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        size_t n = max < BLOCK ? max : BLOCK;
        if (n > d->cut - pos)
                n = (size_t)(d->cut - pos);
        /* "long": end a chunk exactly at Content-Length, so the next call
         * tells us the announced bytes all went out. */
        if (pos < d->total && n > d->total - pos)
                n = (size_t)(d->total - pos);
        if (M.throttle > 0) {
                /* Small slices at a steady pace, so a killed client has a
                 * partial file of roughly predictable size. */
                uint64_t slice = M.throttle / 10 ? M.throttle / 10 : 1;
                if (n > slice)
                        n = (size_t)slice;
                if (throttle_wait(d, pos) < 0)
                        return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        package_fill(d->seed, pos, (uint8_t *)buf, n);
        d->produced_end = pos + n;
        return (ssize_t)n;
}

struct MHD_Response *download_response(struct download *d)
{
        /* No free callback: d belongs to the request and is freed by the
         * request-completed callback, which also needs its counts. */
        if (d->fault != FK_LONG)
                return MHD_create_response_from_callback(d->total, BLOCK, download_read, d, NULL);

        /* "long": MHD never sends more than a known size, and with a known
         * size it adds its own Content-Length beside ours (two headers).
         * So: unknown size, HTTP/1.0-style framing (no chunks, close at the
         * end), and our own Content-Length that the insanity flag lets in. */
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK, download_read, d, NULL);
        if (!r)
                return NULL;
        char cl[32];
        snprintf(cl, sizeof cl, "%" PRIu64, d->total);
        if (MHD_set_response_options(r, MHD_RF_INSANITY_HEADER_CONTENT_LENGTH | MHD_RF_HTTP_1_0_COMPATIBLE_STRICT,
                                     MHD_RO_END) != MHD_YES ||
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH, cl) != MHD_YES) {
                MHD_destroy_response(r);
                return NULL;
        }
        return r;
}

void download_finish(struct download *d, bool completed_ok)
{
        /* The last chunk is known sent only when MHD says it all went. */
        if (completed_ok)
                sent_upto(d, d->produced_end);
        char hex[65], tenant[3 * TENANT_ID_MAX], extra[48] = "";
        sha256_final_hex(&d->sha, hex);
        if (d->fault == FK_LONG)
                snprintf(extra, sizeof extra, " extra=%" PRIu64, d->sent > d->total ? d->sent - d->total : 0);
        record("download tenant=%s file_id=%s bytes=%" PRIu64 " total=%" PRIu64 " sha256=%s complete=%d%s",
               rec_safe(tenant, sizeof tenant, d->tenant), d->file_id, d->hashed, d->total, hex,
               d->sent >= d->total, extra);
}

void download_free(struct download *d)
{
        free(d);
}

/* ---- the padded status ------------------------------------------------ */

struct big {
        char *head;             /* the object up to its Notes text */
        size_t head_len;
        uint64_t total;
};

static const char PAD[] = "This note is padding to make the status object huge. ";

static ssize_t big_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct big *b = cls;
        static const char tail[] = "\"}";
        size_t n = 0;
        while (n < max && pos < b->total) {
                if (pos < b->head_len) {
                        size_t k = b->head_len - (size_t)pos < max - n ? b->head_len - (size_t)pos : max - n;
                        memcpy(buf + n, b->head + pos, k);
                        n += k;
                        pos += k;
                } else if (pos < b->total - 2) {
                        buf[n++] = PAD[(pos - b->head_len) % (sizeof PAD - 1)];
                        pos++;
                } else {
                        buf[n++] = tail[pos - (b->total - 2)];
                        pos++;
                }
        }
        return (ssize_t)n;
}

static void big_free(void *cls)
{
        struct big *b = cls;
        free(b->head);
        free(b);
}

struct MHD_Response *bigstatus_response(char *head, size_t head_len, uint64_t total)
{
        static const char notes[] = ",\"Notes\":\"";
        struct big *b = calloc(1, sizeof *b);
        char *h = realloc(head, head_len + sizeof notes);
        if (!b || !h) {
                free(b);
                free(h ? h : head);
                return NULL;
        }
        memcpy(h + head_len, notes, sizeof notes);
        b->head = h;
        b->head_len = head_len + sizeof notes - 1;
        b->total = total > b->head_len + 2 ? total : b->head_len + 2;
        struct MHD_Response *r = MHD_create_response_from_callback(b->total, BLOCK, big_read, b, big_free);
        if (!r)
                big_free(b);
        return r;
}
