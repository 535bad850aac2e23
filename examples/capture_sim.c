/* capture_sim: a call-recording load test for the callseal C ABI.
 *
 * N calls run on N threads at once. Each seals T seconds of 8 kHz 16-bit
 * mono audio (50 frames of 320 bytes per second) to its own file, writing
 * frames as fast as it can. Prints the number of calls, the audio seconds
 * sealed per wall-clock second, and the p50/p99/max latency of one
 * callseal_sealer_write call (and of finish). With --verify (the default)
 * every file is then opened and checked byte for byte.
 *
 *   capture_sim [-n CALLS] [-t SECONDS] [-d DIR] [--no-verify] [--keep]
 *
 * Build: make capture-sim (or cc -O2 -pthread examples/capture_sim.c
 * $(pkg-config --cflags --libs callseal)). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "callseal.h"

#define FRAME_BYTES 320
#define FRAMES_PER_SECOND 50

typedef struct call {
    unsigned index;
    char path[512];
    uint64_t *latency_ns; /* one per write */
    uint64_t finish_ns;
    uint64_t started_ns, ended_ns; /* after the start line; after finish */
    callseal_status status;
    char error[256];
    int verified;
} call;

static const char *recipients[1];
static char identity[CALLSEAL_IDENTITY_BUF_LEN];
static unsigned frames_per_call;
static pthread_barrier_t start_line;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sample k of call c: a ramp offset per call, so files cannot be confused. */
static void fill_frame(uint8_t *frame, unsigned c, uint64_t first_sample) {
    unsigned j;
    for (j = 0; j < FRAME_BYTES / 2; j++) {
        uint16_t s = (uint16_t)((first_sample + j) * 31u + c * 977u);
        frame[2 * j] = (uint8_t)(s & 0xff);
        frame[2 * j + 1] = (uint8_t)(s >> 8);
    }
}

static void note_error(call *c, callseal_status st) {
    c->status = st;
    callseal_last_error(c->error, sizeof c->error);
}

static void *run_call(void *arg) {
    call *c = (call *)arg;
    callseal_sealer *s = NULL;
    uint8_t frame[FRAME_BYTES];
    unsigned f;
    uint64_t t0, dt;
    callseal_status st = callseal_sealer_new_path(recipients, 1, c->path, &s);
    pthread_barrier_wait(&start_line);
    c->started_ns = now_ns();
    c->ended_ns = c->started_ns;
    if (st != CALLSEAL_OK) {
        note_error(c, st);
        return NULL;
    }
    for (f = 0; f < frames_per_call; f++) {
        fill_frame(frame, c->index, (uint64_t)f * (FRAME_BYTES / 2));
        t0 = now_ns();
        st = callseal_sealer_write(s, frame, sizeof frame);
        dt = now_ns() - t0;
        c->latency_ns[f] = dt;
        if (st != CALLSEAL_OK) {
            note_error(c, st);
            callseal_sealer_free(s);
            return NULL;
        }
    }
    t0 = now_ns();
    st = callseal_sealer_finish(s);
    c->ended_ns = now_ns();
    c->finish_ns = c->ended_ns - t0;
    if (st != CALLSEAL_OK) {
        note_error(c, st);
    }
    callseal_sealer_free(s);
    return NULL;
}

/* Opens one file and compares every byte and the authenticated size. */
static int verify_call(call *c) {
    callseal_opener *o = NULL;
    uint8_t want[FRAME_BYTES], got[FRAME_BYTES];
    uint64_t size = 0, expected = (uint64_t)frames_per_call * FRAME_BYTES;
    unsigned f;
    int ok = 0;
    if (callseal_opener_new_path(identity, c->path, &o) != CALLSEAL_OK) {
        return 0;
    }
    if (callseal_opener_plaintext_size(o, &size) != CALLSEAL_OK || size != expected) {
        goto done;
    }
    for (f = 0; f < frames_per_call; f++) {
        size_t have = 0;
        fill_frame(want, c->index, (uint64_t)f * (FRAME_BYTES / 2));
        while (have < FRAME_BYTES) {
            size_t n = 0;
            if (callseal_opener_read(o, got + have, FRAME_BYTES - have, &n) != CALLSEAL_OK ||
                n == 0) {
                goto done;
            }
            have += n;
        }
        if (memcmp(want, got, FRAME_BYTES) != 0) {
            goto done;
        }
    }
    {
        size_t n = 1;
        ok = callseal_opener_read(o, got, sizeof got, &n) == CALLSEAL_OK && n == 0;
    }
done:
    callseal_opener_free(o);
    return ok;
}

typedef struct verifier {
    call *calls;
    unsigned n, first, step;
} verifier;

static void *run_verifier(void *arg) {
    verifier *v = (verifier *)arg;
    unsigned i;
    for (i = v->first; i < v->n; i += v->step) {
        v->calls[i].verified = v->calls[i].status == CALLSEAL_OK && verify_call(&v->calls[i]);
        if (v->calls[i].verified) {
            unlink(v->calls[i].path);
        }
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double pct_us(const uint64_t *sorted, size_t n, double p) {
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 1000.0;
}

int main(int argc, char **argv) {
    unsigned n_calls = 10, seconds = 10, i, failed = 0, verified = 0;
    int verify = 1, keep = 0;
    const char *dir = NULL;
    char template_dir[] = "/tmp/callseal-capture-XXXXXX";
    char recipient[CALLSEAL_RECIPIENT_BUF_LEN];
    call *calls;
    pthread_t *threads;
    pthread_attr_t attr;
    uint64_t *all, *finish;
    size_t total_writes, k = 0;
    uint64_t t0, t1;
    double wall, audio;
    callseal_status st;

    for (i = 1; i < (unsigned)argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < (unsigned)argc) {
            n_calls = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "-t") == 0 && i + 1 < (unsigned)argc) {
            seconds = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "-d") == 0 && i + 1 < (unsigned)argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--no-verify") == 0) {
            verify = 0;
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep = 1;
        } else {
            fprintf(stderr, "usage: %s [-n CALLS] [-t SECONDS] [-d DIR] [--no-verify] [--keep]\n",
                    argv[0]);
            return 2;
        }
    }
    if (n_calls == 0 || seconds == 0) {
        fprintf(stderr, "CALLS and SECONDS must be positive\n");
        return 2;
    }
    if (dir == NULL) {
        dir = mkdtemp(template_dir);
        if (dir == NULL) {
            perror("mkdtemp");
            return 2;
        }
    }
    frames_per_call = seconds * FRAMES_PER_SECOND;
    st = callseal_identity_generate(identity, sizeof identity, recipient, sizeof recipient);
    if (st != CALLSEAL_OK) {
        fprintf(stderr, "keygen: %s\n", callseal_status_str(st));
        return 1;
    }
    recipients[0] = recipient;

    calls = (call *)calloc(n_calls, sizeof *calls);
    threads = (pthread_t *)calloc(n_calls, sizeof *threads);
    all = (uint64_t *)malloc((size_t)n_calls * frames_per_call * sizeof *all);
    finish = (uint64_t *)malloc(n_calls * sizeof *finish);
    if (calls == NULL || threads == NULL || all == NULL || finish == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (i = 0; i < n_calls; i++) {
        calls[i].index = i;
        calls[i].latency_ns = all + (size_t)i * frames_per_call;
        snprintf(calls[i].path, sizeof calls[i].path, "%s/call-%05u.age", dir, i);
    }
    pthread_barrier_init(&start_line, NULL, n_calls + 1);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (i = 0; i < n_calls; i++) {
        int rc = pthread_create(&threads[i], &attr, run_call, &calls[i]);
        if (rc != 0) {
            fprintf(stderr, "pthread_create: %s (call %u)\n", strerror(rc), i);
            return 1;
        }
    }
    pthread_barrier_wait(&start_line);
    for (i = 0; i < n_calls; i++) {
        pthread_join(threads[i], NULL);
    }
    /* Wall time: from the first call's start to the last call's finish. */
    t0 = calls[0].started_ns;
    t1 = calls[0].ended_ns;
    for (i = 1; i < n_calls; i++) {
        t0 = calls[i].started_ns < t0 ? calls[i].started_ns : t0;
        t1 = calls[i].ended_ns > t1 ? calls[i].ended_ns : t1;
    }
    pthread_barrier_destroy(&start_line);
    pthread_attr_destroy(&attr);

    for (i = 0; i < n_calls; i++) {
        if (calls[i].status != CALLSEAL_OK) {
            if (failed++ < 5) {
                fprintf(stderr, "call %u failed: %s: %s\n", i, callseal_status_str(calls[i].status),
                        calls[i].error);
            }
        }
        finish[i] = calls[i].finish_ns;
    }
    wall = (double)(t1 - t0) / 1e9;
    audio = (double)n_calls * seconds;
    total_writes = (size_t)n_calls * frames_per_call;
    qsort(all, total_writes, sizeof *all, cmp_u64);
    qsort(finish, n_calls, sizeof *finish, cmp_u64);
    printf("callseal %s capture simulator\n", callseal_version());
    printf("calls: %u (one thread each), %u s of 8 kHz 16-bit audio per call, %u-byte frames\n",
           n_calls, seconds, FRAME_BYTES);
    printf("audio sealed: %.0f s in %.3f s wall = %.1f audio-seconds per wall-second\n", audio,
           wall, audio / wall);
    printf("write latency (%lu writes): p50 %.2f us, p99 %.2f us, p99.9 %.1f us, max %.1f us\n",
           (unsigned long)total_writes, pct_us(all, total_writes, 0.50),
           pct_us(all, total_writes, 0.99), pct_us(all, total_writes, 0.999),
           (double)all[total_writes - 1] / 1000.0);
    printf("finish latency (incl. fsync + rename): p50 %.1f us, max %.1f us\n",
           pct_us(finish, n_calls, 0.50), (double)finish[n_calls - 1] / 1000.0);

    if (verify) {
        enum { VERIFIERS = 4 };
        pthread_t vt[VERIFIERS];
        verifier v[VERIFIERS];
        for (i = 0; i < VERIFIERS; i++) {
            v[i].calls = calls;
            v[i].n = n_calls;
            v[i].first = i;
            v[i].step = VERIFIERS;
            pthread_create(&vt[i], NULL, run_verifier, &v[i]);
        }
        for (i = 0; i < VERIFIERS; i++) {
            pthread_join(vt[i], NULL);
        }
        for (i = 0; i < n_calls; i++) {
            verified += calls[i].verified ? 1u : 0u;
            k += calls[i].verified ? 0u : 1u;
        }
        printf("verify: %u/%u files open, authenticate and match what was written\n", verified,
               n_calls);
    }
    if (!keep) {
        for (i = 0; i < n_calls; i++) {
            unlink(calls[i].path);
        }
        if (dir == template_dir) {
            rmdir(dir);
        }
    }
    free(calls);
    free(threads);
    free(all);
    free(finish);
    memset(identity, 0, sizeof identity);
    return (failed == 0 && (!verify || k == 0)) ? 0 : 1;
}
