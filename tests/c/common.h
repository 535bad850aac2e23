/* Shared helpers for the C tests of callseal: a tiny test runner, a memory
 * sink for the write callback, deterministic test audio and file helpers. */
#ifndef CALLSEAL_TEST_COMMON_H
#define CALLSEAL_TEST_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callseal.h"

extern int test_failed;

/* Fails the current test (and returns from it) unless cond holds. */
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                    \
            test_failed = 1;                                                   \
            return;                                                            \
        }                                                                      \
    } while (0)

/* Fails the current test unless expr returns the status want. */
#define CHECK_STATUS(expr, want)                                               \
    do {                                                                       \
        callseal_status got_ = (expr);                                         \
        if (got_ != (want)) {                                                  \
            char msg_[512];                                                    \
            callseal_last_error(msg_, sizeof msg_);                            \
            fprintf(stderr, "  %s:%d: %s\n    returned %d (%s), want %s\n"     \
                    "    last error: %s\n", __FILE__, __LINE__, #expr,         \
                    (int)got_, callseal_status_str(got_), #want, msg_);        \
            test_failed = 1;                                                   \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, CALLSEAL_OK)

/* A growable in-memory sink for callseal_sealer_new_callback. */
typedef struct mem_sink {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t calls;
    /* When non-zero, call number fail_from_call (counting from 1) and every
     * later call fail with fail_errno and store nothing. */
    size_t fail_from_call;
    int fail_errno;
} mem_sink;

int mem_sink_write(void *userdata, const uint8_t *buf, size_t len);
void mem_sink_free(mem_sink *s);

/* Deterministic test audio: byte i of stream seed. */
uint8_t pattern_byte(uint64_t i, unsigned seed);
void fill_pattern(uint8_t *buf, size_t len, uint64_t offset, unsigned seed);
/* 1 when buf equals the pattern at offset. */
int matches_pattern(const uint8_t *buf, size_t len, uint64_t offset, unsigned seed);

/* Reads the whole file into a malloc'd buffer (NULL on error). */
uint8_t *read_file(const char *path, size_t *len);
int write_file(const char *path, const uint8_t *data, size_t len);
int file_exists(const char *path);
/* Number of directory entries in dir other than . and .. */
int count_entries(const char *dir);

/* A fresh key pair; the identity file text is "# test key\n<identity>\n". */
typedef struct test_key {
    char identity[CALLSEAL_IDENTITY_BUF_LEN];
    char recipient[CALLSEAL_RECIPIENT_BUF_LEN];
    char identity_file[CALLSEAL_IDENTITY_BUF_LEN + 32];
} test_key;
int make_key(test_key *key);

/* Opens path with identities and reads everything into a malloc'd buffer;
 * returns the status of the first failing call. */
callseal_status open_and_read_all(const char *identities, const char *path,
                                  uint8_t **out, size_t *out_len);

#endif
