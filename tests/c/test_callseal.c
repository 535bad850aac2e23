/* C tests of the callseal ABI: round trips, interop with Go age, and every
 * error path. Built with -Wall -Wextra -Werror -pedantic and run normally,
 * under valgrind and with AddressSanitizer + UBSan (.ci/c-abi.sh).
 *
 * Usage: test_callseal [TMPDIR]. Set CALLSEAL_REQUIRE_AGE=1 to fail (rather
 * than skip) the interop test when Go age is not installed. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void path_in(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

static const uint8_t *const SENTINEL = (const uint8_t *)"sentinel";

/* Seals len pattern bytes (seed) to path in writes of `frame` bytes. */
static callseal_status seal_pattern(const char *const *recipients, size_t n, const char *path,
                                    size_t len, size_t frame, unsigned seed) {
    callseal_sealer *s = NULL;
    uint8_t *buf = (uint8_t *)malloc(frame);
    size_t done = 0;
    callseal_status st = callseal_sealer_new_path(recipients, n, path, &s);
    if (st != CALLSEAL_OK || buf == NULL) {
        free(buf);
        return st;
    }
    while (done < len) {
        size_t k = len - done < frame ? len - done : frame;
        fill_pattern(buf, k, done, seed);
        st = callseal_sealer_write(s, buf, k);
        if (st != CALLSEAL_OK) {
            break;
        }
        done += k;
    }
    if (st == CALLSEAL_OK) {
        st = callseal_sealer_finish(s);
    }
    callseal_sealer_free(s);
    free(buf);
    return st;
}

/* ---- info functions ---------------------------------------------------- */

static void test_version_matches_header(void) {
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", CALLSEAL_VERSION_MAJOR, CALLSEAL_VERSION_MINOR,
             CALLSEAL_VERSION_PATCH);
    CHECK(strcmp(callseal_version(), want) == 0);
    CHECK(CALLSEAL_VERSION_NUMBER ==
          CALLSEAL_VERSION_MAJOR * 1000000 + CALLSEAL_VERSION_MINOR * 1000 + CALLSEAL_VERSION_PATCH);
}

static void test_status_strings_name_their_code(void) {
    static const struct {
        callseal_status code;
        const char *name;
    } codes[] = {
        {CALLSEAL_OK, "CALLSEAL_OK"},
        {CALLSEAL_E_NULL_ARG, "CALLSEAL_E_NULL_ARG"},
        {CALLSEAL_E_BUFFER_TOO_SMALL, "CALLSEAL_E_BUFFER_TOO_SMALL"},
        {CALLSEAL_E_USAGE, "CALLSEAL_E_USAGE"},
        {CALLSEAL_E_PANIC, "CALLSEAL_E_PANIC"},
        {CALLSEAL_E_INVALID_ARG, "CALLSEAL_E_INVALID_ARG"},
        {CALLSEAL_E_IO, "CALLSEAL_E_IO"},
        {CALLSEAL_E_INVALID_IDENTITY, "CALLSEAL_E_INVALID_IDENTITY"},
        {CALLSEAL_E_INVALID_RECIPIENT, "CALLSEAL_E_INVALID_RECIPIENT"},
        {CALLSEAL_E_NO_RECIPIENTS, "CALLSEAL_E_NO_RECIPIENTS"},
        {CALLSEAL_E_ARMOR, "CALLSEAL_E_ARMOR"},
        {CALLSEAL_E_HEADER, "CALLSEAL_E_HEADER"},
        {CALLSEAL_E_NO_MATCH, "CALLSEAL_E_NO_MATCH"},
        {CALLSEAL_E_HEADER_MAC, "CALLSEAL_E_HEADER_MAC"},
        {CALLSEAL_E_PAYLOAD_TRUNCATED, "CALLSEAL_E_PAYLOAD_TRUNCATED"},
        {CALLSEAL_E_PAYLOAD_TAMPERED, "CALLSEAL_E_PAYLOAD_TAMPERED"},
        {CALLSEAL_E_PAYLOAD_INVALID, "CALLSEAL_E_PAYLOAD_INVALID"},
    };
    size_t i;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *text = callseal_status_str(codes[i].code);
        size_t n = strlen(codes[i].name);
        CHECK(strncmp(text, codes[i].name, n) == 0 && text[n] == ':');
    }
    CHECK(strcmp(callseal_status_str(9999), "unknown callseal status code") == 0);
    CHECK(strcmp(callseal_status_str(-1), "unknown callseal status code") == 0);
}

static void test_last_error_is_per_call_and_truncates(void) {
    char buf[256], small[8];
    size_t need;
    CHECK_STATUS(callseal_sealer_write(NULL, SENTINEL, 1), CALLSEAL_E_NULL_ARG);
    need = callseal_last_error(NULL, 0);
    CHECK(need == strlen("argument `sealer` is NULL"));
    CHECK(callseal_last_error(buf, sizeof buf) == need);
    CHECK(strcmp(buf, "argument `sealer` is NULL") == 0);
    memset(small, 'x', sizeof small);
    CHECK(callseal_last_error(small, sizeof small) == need);
    CHECK(strcmp(small, "argumen") == 0);
    /* A success leaves the message alone. */
    CHECK(callseal_version() != NULL);
    CHECK(callseal_last_error(buf, sizeof buf) == need);
}

/* ---- keys -------------------------------------------------------------- */

static void test_identity_generate_and_recipient(void) {
    test_key a, b;
    char again[CALLSEAL_RECIPIENT_BUF_LEN];
    CHECK(make_key(&a) == 0 && make_key(&b) == 0);
    CHECK(strlen(a.identity) == CALLSEAL_IDENTITY_BUF_LEN - 1);
    CHECK(strlen(a.recipient) == CALLSEAL_RECIPIENT_BUF_LEN - 1);
    CHECK(strncmp(a.identity, "AGE-SECRET-KEY-1", 16) == 0);
    CHECK(strncmp(a.recipient, "age1", 4) == 0);
    CHECK(strcmp(a.recipient, b.recipient) != 0);
    CHECK_OK(callseal_recipient_from_identity(a.identity, again, sizeof again));
    CHECK(strcmp(again, a.recipient) == 0);
}

static void test_identity_generate_errors_write_nothing(void) {
    char id[CALLSEAL_IDENTITY_BUF_LEN], rc[CALLSEAL_RECIPIENT_BUF_LEN], msg[256];
    memset(id, 'x', sizeof id);
    memset(rc, 'x', sizeof rc);
    CHECK_STATUS(callseal_identity_generate(NULL, sizeof id, rc, sizeof rc), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_identity_generate(id, sizeof id, NULL, sizeof rc), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_identity_generate(id, sizeof id - 1, rc, sizeof rc),
                 CALLSEAL_E_BUFFER_TOO_SMALL);
    callseal_last_error(msg, sizeof msg);
    CHECK(strstr(msg, "75 are needed") != NULL);
    CHECK_STATUS(callseal_identity_generate(id, sizeof id, rc, sizeof rc - 1),
                 CALLSEAL_E_BUFFER_TOO_SMALL);
    CHECK(id[0] == 'x' && id[sizeof id - 1] == 'x');
    CHECK(rc[0] == 'x' && rc[sizeof rc - 1] == 'x');
}

static void test_recipient_from_identity_errors(void) {
    test_key k;
    char rc[CALLSEAL_RECIPIENT_BUF_LEN], msg[512];
    const char *bad = "AGE-SECRET-KEY-1NOTAVALIDKEYATALLQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
    CHECK(make_key(&k) == 0);
    memset(rc, 'x', sizeof rc);
    CHECK_STATUS(callseal_recipient_from_identity(NULL, rc, sizeof rc), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recipient_from_identity(k.identity, NULL, sizeof rc), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recipient_from_identity(bad, rc, sizeof rc), CALLSEAL_E_INVALID_IDENTITY);
    callseal_last_error(msg, sizeof msg);
    CHECK(strstr(msg, "NOTAVALIDKEY") == NULL); /* never echoes a secret */
    CHECK_STATUS(callseal_recipient_from_identity(k.recipient, rc, sizeof rc),
                 CALLSEAL_E_INVALID_IDENTITY);
    CHECK_STATUS(callseal_recipient_from_identity("\xff\xfe", rc, sizeof rc),
                 CALLSEAL_E_INVALID_IDENTITY);
    CHECK_STATUS(callseal_recipient_from_identity(k.identity, rc, 10), CALLSEAL_E_BUFFER_TOO_SMALL);
    CHECK(rc[0] == 'x');
}

/* ---- round trips ------------------------------------------------------- */

static void test_path_round_trip_with_seek(void) {
    test_key k;
    char path[512];
    const char *recipients[1];
    const size_t len = 1000000; /* 15.3 chunks, written as 320-byte frames */
    callseal_opener *o = NULL;
    uint64_t size = 0;
    uint8_t buf[4096];
    size_t n = 0;
    static const uint64_t offsets[] = {0, 1, 65535, 65536, 65537, 131072, 500000, 999999};
    size_t i;
    uint8_t *all = NULL;
    size_t all_len = 0;

    CHECK(make_key(&k) == 0);
    recipients[0] = k.recipient;
    path_in(path, sizeof path, "round-trip.age");
    CHECK_OK(seal_pattern(recipients, 1, path, len, 320, 1));
    CHECK_OK(open_and_read_all(k.identity_file, path, &all, &all_len));
    CHECK(all_len == len);
    CHECK(matches_pattern(all, len, 0, 1));
    free(all);

    CHECK_OK(callseal_opener_new_path(k.identity_file, path, &o));
    CHECK_OK(callseal_opener_plaintext_size(o, &size));
    CHECK(size == len);
    for (i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        CHECK_OK(callseal_opener_seek(o, offsets[i]));
        CHECK_OK(callseal_opener_read(o, buf, sizeof buf, &n));
        CHECK(n > 0 && n <= sizeof buf);
        CHECK(n == (len - offsets[i] < sizeof buf ? len - offsets[i] : n));
        CHECK(matches_pattern(buf, n, offsets[i], 1));
    }
    /* At and past the end, reads return 0. */
    CHECK_OK(callseal_opener_seek(o, len));
    n = 99;
    CHECK_OK(callseal_opener_read(o, buf, sizeof buf, &n));
    CHECK(n == 0);
    CHECK_OK(callseal_opener_seek(o, len + 12345));
    CHECK_OK(callseal_opener_read(o, buf, sizeof buf, &n));
    CHECK(n == 0);
    callseal_opener_free(o);
}

static void test_callback_round_trip_two_recipients(void) {
    test_key a, b;
    const char *recipients[2];
    mem_sink sink;
    callseal_sealer *s = NULL;
    uint8_t frame[320];
    char path[512];
    uint8_t *out = NULL;
    size_t out_len = 0, i;
    const size_t frames = 700; /* 224000 bytes: 3 full chunks and a short one */

    memset(&sink, 0, sizeof sink);
    CHECK(make_key(&a) == 0 && make_key(&b) == 0);
    recipients[0] = a.recipient;
    recipients[1] = b.recipient;
    CHECK_OK(callseal_sealer_new_callback(recipients, 2, mem_sink_write, &sink, &s));
    CHECK(sink.len > 0 && memcmp(sink.data, "age-encryption.org/v1\n", 22) == 0);
    for (i = 0; i < frames; i++) {
        fill_pattern(frame, sizeof frame, i * sizeof frame, 2);
        CHECK_OK(callseal_sealer_write(s, frame, sizeof frame));
    }
    CHECK_OK(callseal_sealer_write(s, frame, 0)); /* empty write is fine */
    CHECK_OK(callseal_sealer_finish(s));
    callseal_sealer_free(s);

    path_in(path, sizeof path, "callback.age");
    CHECK(write_file(path, sink.data, sink.len) == 0);
    mem_sink_free(&sink);
    CHECK_OK(open_and_read_all(a.identity_file, path, &out, &out_len));
    CHECK(out_len == frames * 320 && matches_pattern(out, out_len, 0, 2));
    free(out);
    CHECK_OK(open_and_read_all(b.identity_file, path, &out, &out_len));
    CHECK(out_len == frames * 320 && matches_pattern(out, out_len, 0, 2));
    free(out);
}

static void test_empty_recording_round_trips(void) {
    test_key k;
    const char *recipients[1];
    char path[512];
    uint8_t *out = NULL;
    size_t out_len = 99;
    CHECK(make_key(&k) == 0);
    recipients[0] = k.recipient;
    path_in(path, sizeof path, "empty.age");
    CHECK_OK(seal_pattern(recipients, 1, path, 0, 320, 3));
    CHECK_OK(open_and_read_all(k.identity_file, path, &out, &out_len));
    CHECK(out_len == 0);
    free(out);
}

/* ---- Go age interop ---------------------------------------------------- */

static int have_age(void) {
    return system("age --version >/dev/null 2>&1") == 0;
}

static void test_go_age_opens_c_sealed_file_and_back(void) {
    test_key k;
    const char *recipients[1];
    char sealed[512], idfile[512], plain[512], cmd[2048], from_age[512];
    uint8_t *data = NULL;
    size_t len = 0;
    const size_t total = 300000;

    if (!have_age()) {
        const char *req = getenv("CALLSEAL_REQUIRE_AGE");
        if (req != NULL && strcmp(req, "1") == 0) {
            fprintf(stderr, "  Go age is required (CALLSEAL_REQUIRE_AGE=1) but not found\n");
            test_failed = 1;
        } else {
            printf("  NOTICE: Go age not installed; interop test skipped\n");
        }
        return;
    }
    CHECK(make_key(&k) == 0);
    recipients[0] = k.recipient;
    path_in(sealed, sizeof sealed, "for-go-age.age");
    path_in(idfile, sizeof idfile, "key.txt");
    path_in(plain, sizeof plain, "from-go-age.raw");
    CHECK(write_file(idfile, (const uint8_t *)k.identity_file, strlen(k.identity_file)) == 0);
    CHECK_OK(seal_pattern(recipients, 1, sealed, total, 320, 4));
    snprintf(cmd, sizeof cmd, "age --decrypt -i '%s' -o '%s' '%s'", idfile, plain, sealed);
    CHECK(system(cmd) == 0);
    data = read_file(plain, &len);
    CHECK(data != NULL);
    CHECK(len == total && matches_pattern(data, len, 0, 4));

    /* Go age seals (binary and armored), callseal opens. */
    path_in(from_age, sizeof from_age, "by-go-age.age");
    snprintf(cmd, sizeof cmd, "age -r %s -o '%s' '%s'", k.recipient, from_age, plain);
    CHECK(system(cmd) == 0);
    free(data);
    data = NULL;
    CHECK_OK(open_and_read_all(k.identity_file, from_age, &data, &len));
    CHECK(len == total && matches_pattern(data, len, 0, 4));
    free(data);
    data = NULL;
    path_in(from_age, sizeof from_age, "by-go-age-armored.age");
    snprintf(cmd, sizeof cmd, "age -a -r %s -o '%s' '%s'", k.recipient, from_age, plain);
    CHECK(system(cmd) == 0);
    CHECK_OK(open_and_read_all(k.identity_file, from_age, &data, &len));
    CHECK(len == total && matches_pattern(data, len, 0, 4));
    free(data);
    {
        /* Armored input cannot seek. */
        callseal_opener *o = NULL;
        uint64_t size = 0;
        CHECK_OK(callseal_opener_new_path(k.identity_file, from_age, &o));
        CHECK_STATUS(callseal_opener_seek(o, 10), CALLSEAL_E_USAGE);
        CHECK_STATUS(callseal_opener_plaintext_size(o, &size), CALLSEAL_E_USAGE);
        callseal_opener_free(o);
    }
}

/* ---- sealer error paths ------------------------------------------------ */

static void test_sealer_new_argument_errors(void) {
    test_key k;
    const char *recipients[2];
    const char *with_null[2];
    char path[512];
    callseal_sealer *s = (callseal_sealer *)SENTINEL;
    mem_sink sink;
    memset(&sink, 0, sizeof sink);
    CHECK(make_key(&k) == 0);
    recipients[0] = k.recipient;
    recipients[1] = "age1notarecipient";
    with_null[0] = k.recipient;
    with_null[1] = NULL;
    path_in(path, sizeof path, "never.age");

    CHECK_STATUS(callseal_sealer_new_path(NULL, 1, path, &s), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_sealer_new_path(with_null, 2, path, &s), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_sealer_new_path(recipients, 1, NULL, &s), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_sealer_new_path(recipients, 1, path, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_sealer_new_path(recipients, 0, path, &s), CALLSEAL_E_NO_RECIPIENTS);
    CHECK_STATUS(callseal_sealer_new_path(recipients, 2, path, &s), CALLSEAL_E_INVALID_RECIPIENT);
    CHECK_STATUS(callseal_sealer_new_path(recipients, (size_t)-1, path, &s), CALLSEAL_E_INVALID_ARG);
    CHECK_STATUS(callseal_sealer_new_path(recipients, 1, "/nonexistent-dir/x.age", &s),
                 CALLSEAL_E_IO);
    CHECK(s == (callseal_sealer *)SENTINEL); /* outputs only on success */
    CHECK(!file_exists(path));

    CHECK_STATUS(callseal_sealer_new_callback(NULL, 1, mem_sink_write, &sink, &s),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_sealer_new_callback(recipients, 1, NULL, &sink, &s), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_sealer_new_callback(recipients, 1, mem_sink_write, &sink, NULL),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_sealer_new_callback(recipients, 0, mem_sink_write, &sink, &s),
                 CALLSEAL_E_NO_RECIPIENTS);
    CHECK_STATUS(callseal_sealer_new_callback(recipients, 2, mem_sink_write, &sink, &s),
                 CALLSEAL_E_INVALID_RECIPIENT);
    CHECK(sink.calls == 0);
    {
        /* The header write fails: ENOSPC reaches the caller as CALLSEAL_E_IO. */
        char msg[256];
        mem_sink failing;
        memset(&failing, 0, sizeof failing);
        failing.fail_from_call = 1;
        failing.fail_errno = ENOSPC;
        CHECK_STATUS(callseal_sealer_new_callback(recipients, 1, mem_sink_write, &failing, &s),
                     CALLSEAL_E_IO);
        callseal_last_error(msg, sizeof msg);
        CHECK(strstr(msg, "errno 28") != NULL);
        CHECK(s == (callseal_sealer *)SENTINEL);
        mem_sink_free(&failing);
    }
}

static void test_sealer_wrong_order_calls(void) {
    test_key k;
    const char *recipients[1];
    char path[512];
    callseal_sealer *s = NULL;
    uint8_t frame[320];
    memset(frame, 1, sizeof frame);
    CHECK(make_key(&k) == 0);
    recipients[0] = k.recipient;
    path_in(path, sizeof path, "order.age");

    CHECK_OK(callseal_sealer_new_path(recipients, 1, path, &s));
    CHECK_STATUS(callseal_sealer_write(s, NULL, 1), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_sealer_write(s, frame, (size_t)-1), CALLSEAL_E_INVALID_ARG);
    CHECK_OK(callseal_sealer_write(s, frame, sizeof frame));
    CHECK_OK(callseal_sealer_finish(s));
    CHECK_STATUS(callseal_sealer_write(s, frame, sizeof frame), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_sealer_finish(s), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_sealer_abort(s), CALLSEAL_E_USAGE);
    callseal_sealer_free(s);
    CHECK(file_exists(path));

    CHECK_OK(callseal_sealer_new_path(recipients, 1, path, &s));
    CHECK_OK(callseal_sealer_abort(s));
    CHECK_STATUS(callseal_sealer_write(s, frame, sizeof frame), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_sealer_finish(s), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_sealer_abort(s), CALLSEAL_E_USAGE);
    callseal_sealer_free(s);

    CHECK_STATUS(callseal_sealer_write(NULL, frame, 1), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_sealer_finish(NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_sealer_abort(NULL), CALLSEAL_E_NULL_ARG);
    callseal_sealer_free(NULL);
    callseal_opener_free(NULL);
}

static void test_path_sink_is_atomic(void) {
    test_key k;
    const char *recipients[1];
    char sub[512], path[600];
    callseal_sealer *s = NULL;
    uint8_t frame[320];
    uint8_t *old = NULL;
    size_t old_len = 0;
    memset(frame, 7, sizeof frame);
    CHECK(make_key(&k) == 0);
    recipients[0] = k.recipient;
    path_in(sub, sizeof sub, "atomic");
    CHECK(mkdir(sub, 0700) == 0);
    snprintf(path, sizeof path, "%s/call.age", sub);
    CHECK(write_file(path, (const uint8_t *)"previous", 8) == 0);

    /* While open: only a temporary file beside the old one. */
    CHECK_OK(callseal_sealer_new_path(recipients, 1, path, &s));
    CHECK(count_entries(sub) == 2);
    CHECK_OK(callseal_sealer_write(s, frame, sizeof frame));
    /* Abort removes the temporary file and leaves the old file as it was. */
    CHECK_OK(callseal_sealer_abort(s));
    callseal_sealer_free(s);
    CHECK(count_entries(sub) == 1);
    old = read_file(path, &old_len);
    CHECK(old != NULL && old_len == 8 && memcmp(old, "previous", 8) == 0);
    free(old);

    /* Free before finish does the same. */
    CHECK_OK(callseal_sealer_new_path(recipients, 1, path, &s));
    CHECK_OK(callseal_sealer_write(s, frame, sizeof frame));
    callseal_sealer_free(s);
    CHECK(count_entries(sub) == 1);

    /* Finish replaces it and leaves nothing else. */
    CHECK_OK(callseal_sealer_new_path(recipients, 1, path, &s));
    CHECK_OK(callseal_sealer_write(s, frame, sizeof frame));
    CHECK_OK(callseal_sealer_finish(s));
    callseal_sealer_free(s);
    CHECK(count_entries(sub) == 1);
    {
        uint8_t *out = NULL;
        size_t n = 0;
        CHECK_OK(open_and_read_all(k.identity_file, path, &out, &n));
        CHECK(n == sizeof frame && memcmp(out, frame, n) == 0);
        free(out);
    }
}

static void test_failing_sink_mid_stream(void) {
    test_key k;
    const char *recipients[1];
    callseal_sealer *s = NULL;
    mem_sink sink;
    uint8_t *big = (uint8_t *)calloc(1, 70000);
    char msg[256];
    memset(&sink, 0, sizeof sink);
    CHECK(big != NULL);
    CHECK(make_key(&k) == 0);
    recipients[0] = k.recipient;
    sink.fail_from_call = 2; /* the header succeeds, the first chunk fails */
    sink.fail_errno = EIO;
    CHECK_OK(callseal_sealer_new_callback(recipients, 1, mem_sink_write, &sink, &s));
    /* 70000 bytes: the first full chunk is sealed and written, and fails. */
    CHECK_STATUS(callseal_sealer_write(s, big, 70000), CALLSEAL_E_IO);
    callseal_last_error(msg, sizeof msg);
    CHECK(strstr(msg, "errno 5") != NULL);
    CHECK_STATUS(callseal_sealer_write(s, big, 1), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_sealer_finish(s), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_sealer_finish(s), CALLSEAL_E_USAGE);
    callseal_sealer_free(s);
    mem_sink_free(&sink);
    free(big);

    /* A failure on the final chunk is reported by finish. */
    memset(&sink, 0, sizeof sink);
    sink.fail_from_call = 2;
    sink.fail_errno = ENOSPC;
    CHECK_OK(callseal_sealer_new_callback(recipients, 1, mem_sink_write, &sink, &s));
    CHECK_OK(callseal_sealer_write(s, (const uint8_t *)"abc", 3));
    CHECK_STATUS(callseal_sealer_finish(s), CALLSEAL_E_IO);
    CHECK_STATUS(callseal_sealer_finish(s), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_sealer_write(s, (const uint8_t *)"abc", 3), CALLSEAL_E_USAGE);
    callseal_sealer_free(s);
    mem_sink_free(&sink);
}

/* ---- opener error paths ------------------------------------------------ */

/* Seals len pattern bytes through the memory sink; finish only if asked. */
static int seal_to_memory(const char *recipient, size_t len, int finish, mem_sink *sink) {
    const char *recipients[1];
    callseal_sealer *s = NULL;
    uint8_t *buf = (uint8_t *)malloc(len ? len : 1);
    int ok;
    recipients[0] = recipient;
    memset(sink, 0, sizeof *sink);
    if (buf == NULL) {
        return -1;
    }
    fill_pattern(buf, len, 0, 5);
    ok = callseal_sealer_new_callback(recipients, 1, mem_sink_write, sink, &s) == CALLSEAL_OK &&
         callseal_sealer_write(s, buf, len) == CALLSEAL_OK &&
         (!finish || callseal_sealer_finish(s) == CALLSEAL_OK);
    callseal_sealer_free(s);
    free(buf);
    return ok ? 0 : -1;
}

static void test_opener_new_errors(void) {
    test_key k, other;
    mem_sink sink;
    char path[512], bad[512];
    callseal_opener *o = (callseal_opener *)SENTINEL;
    char msg[512];
    size_t mac;
    CHECK(make_key(&k) == 0 && make_key(&other) == 0);
    CHECK(seal_to_memory(k.recipient, 1000, 1, &sink) == 0);
    path_in(path, sizeof path, "open-errors.age");
    CHECK(write_file(path, sink.data, sink.len) == 0);

    CHECK_STATUS(callseal_opener_new_path(NULL, path, &o), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_opener_new_path(k.identity_file, NULL, &o), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_opener_new_path(k.identity_file, path, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_opener_new_path("# nothing here\n", path, &o),
                 CALLSEAL_E_INVALID_IDENTITY);
    CHECK_STATUS(callseal_opener_new_path("# c\nAGE-SECRET-KEY-1BROKENSECRET\n", path, &o),
                 CALLSEAL_E_INVALID_IDENTITY);
    callseal_last_error(msg, sizeof msg);
    CHECK(strstr(msg, "line 2") != NULL && strstr(msg, "BROKENSECRET") == NULL);
    path_in(bad, sizeof bad, "does-not-exist.age");
    CHECK_STATUS(callseal_opener_new_path(k.identity_file, bad, &o), CALLSEAL_E_IO);
    callseal_last_error(msg, sizeof msg);
    CHECK(strstr(msg, "does-not-exist.age") != NULL);
    CHECK_STATUS(callseal_opener_new_path(other.identity_file, path, &o), CALLSEAL_E_NO_MATCH);

    path_in(bad, sizeof bad, "not-age.wav");
    CHECK(write_file(bad, (const uint8_t *)"RIFF\0\0\0\0WAVEfmt ", 16) == 0);
    CHECK_STATUS(callseal_opener_new_path(k.identity_file, bad, &o), CALLSEAL_E_HEADER);

    path_in(bad, sizeof bad, "bad-armor.age");
    {
        const char *armor = "-----BEGIN AGE ENCRYPTED FILE-----\n!!!! not base64 !!!!\n"
                            "-----END AGE ENCRYPTED FILE-----\n";
        CHECK(write_file(bad, (const uint8_t *)armor, strlen(armor)) == 0);
    }
    CHECK_STATUS(callseal_opener_new_path(k.identity_file, bad, &o), CALLSEAL_E_ARMOR);

    /* Alter the first character of the header MAC. */
    for (mac = 0; mac + 4 < sink.len; mac++) {
        if (memcmp(sink.data + mac, "\n--- ", 5) == 0) {
            break;
        }
    }
    CHECK(mac + 5 < sink.len);
    sink.data[mac + 5] = sink.data[mac + 5] == 'A' ? 'B' : 'A';
    path_in(bad, sizeof bad, "bad-mac.age");
    CHECK(write_file(bad, sink.data, sink.len) == 0);
    CHECK_STATUS(callseal_opener_new_path(k.identity_file, bad, &o), CALLSEAL_E_HEADER_MAC);
    CHECK(o == (callseal_opener *)SENTINEL);
    mem_sink_free(&sink);
}

static void test_opener_read_errors(void) {
    test_key k;
    mem_sink sink;
    char path[512];
    callseal_opener *o = NULL;
    uint8_t buf[65536];
    size_t n = 12345, total = 0;
    uint64_t size = 777;
    callseal_status st;
    CHECK(make_key(&k) == 0);

    /* NULL and zero-capacity arguments. */
    CHECK(seal_to_memory(k.recipient, 200000, 1, &sink) == 0);
    path_in(path, sizeof path, "read-errors.age");
    CHECK(write_file(path, sink.data, sink.len) == 0);
    CHECK_OK(callseal_opener_new_path(k.identity_file, path, &o));
    CHECK_STATUS(callseal_opener_read(NULL, buf, sizeof buf, &n), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_opener_read(o, NULL, sizeof buf, &n), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_opener_read(o, buf, sizeof buf, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_opener_read(o, buf, 0, &n), CALLSEAL_E_BUFFER_TOO_SMALL);
    CHECK(n == 12345);
    CHECK_STATUS(callseal_opener_seek(NULL, 0), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_opener_plaintext_size(NULL, &size), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_opener_plaintext_size(o, NULL), CALLSEAL_E_NULL_ARG);
    callseal_opener_free(o);

    /* Tampered: flip a byte inside the first (full) chunk. The payload of
     * 200000 bytes is three chunks with 16-byte tags at the end of the file. */
    sink.data[sink.len - (200000 + 3 * 16) + 1000] ^= 0x01;
    CHECK(write_file(path, sink.data, sink.len) == 0);
    sink.data[sink.len - (200000 + 3 * 16) + 1000] ^= 0x01;
    CHECK_OK(callseal_opener_new_path(k.identity_file, path, &o));
    while ((st = callseal_opener_read(o, buf, sizeof buf, &n)) == CALLSEAL_OK && n > 0) {
        total += n;
    }
    CHECK_STATUS(st, CALLSEAL_E_PAYLOAD_TAMPERED);
    CHECK(total == 0); /* nothing unauthenticated is released */
    CHECK_STATUS(callseal_opener_read(o, buf, sizeof buf, &n), CALLSEAL_E_PAYLOAD_TAMPERED);
    callseal_opener_free(o);

    /* Truncated: drop the final chunk; whole chunks before it are read. */
    CHECK(write_file(path, sink.data, sink.len - (200000 - 131072) - 16) == 0);
    CHECK_OK(callseal_opener_new_path(k.identity_file, path, &o));
    total = 0;
    while ((st = callseal_opener_read(o, buf, sizeof buf, &n)) == CALLSEAL_OK && n > 0) {
        CHECK(matches_pattern(buf, n, total, 5));
        total += n;
    }
    CHECK_STATUS(st, CALLSEAL_E_PAYLOAD_TRUNCATED);
    CHECK(total == 131072);
    size = 777;
    CHECK_STATUS(callseal_opener_plaintext_size(o, &size), CALLSEAL_E_PAYLOAD_TRUNCATED);
    CHECK(size == 777);
    callseal_opener_free(o);
    CHECK_OK(callseal_opener_new_path(k.identity_file, path, &o));
    CHECK_STATUS(callseal_opener_seek(o, 0), CALLSEAL_E_PAYLOAD_TRUNCATED);
    callseal_opener_free(o);
    mem_sink_free(&sink);

    /* Trailing data after a full-size final chunk. */
    CHECK(seal_to_memory(k.recipient, 65536, 1, &sink) == 0);
    CHECK(mem_sink_write(&sink, (const uint8_t *)"X", 1) == 0);
    CHECK(write_file(path, sink.data, sink.len) == 0);
    CHECK_OK(callseal_opener_new_path(k.identity_file, path, &o));
    total = 0;
    while ((st = callseal_opener_read(o, buf, sizeof buf, &n)) == CALLSEAL_OK && n > 0) {
        total += n;
    }
    CHECK_STATUS(st, CALLSEAL_E_PAYLOAD_INVALID);
    CHECK(total == 65536);
    callseal_opener_free(o);
    mem_sink_free(&sink);
}

/* ---- recovery and inspection ------------------------------------------- */

static void test_recover_truncated_and_whole(void) {
    test_key k;
    mem_sink sink, out;
    char path[512];
    callseal_recovery r;
    callseal_opener *o = NULL;
    CHECK(make_key(&k) == 0);
    /* The writer "dies": freed before finish, with 150000 bytes written. */
    CHECK(seal_to_memory(k.recipient, 150000, 0, &sink) == 0);
    path_in(path, sizeof path, "crashed.age");
    CHECK(write_file(path, sink.data, sink.len) == 0);
    mem_sink_free(&sink);
    CHECK_STATUS(callseal_opener_new_path(k.identity_file, path, &o), CALLSEAL_OK);
    callseal_opener_free(o);

    memset(&out, 0, sizeof out);
    memset(&r, 0xAB, sizeof r);
    CHECK_STATUS(callseal_recover_path(NULL, path, mem_sink_write, &out, &r), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recover_path(k.identity_file, NULL, mem_sink_write, &out, &r),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recover_path(k.identity_file, path, NULL, &out, &r), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recover_path(k.identity_file, path, mem_sink_write, &out, NULL),
                 CALLSEAL_E_NULL_ARG);
    CHECK(r.recovered_bytes == 0xABABABABABABABABull);
    CHECK_OK(callseal_recover_path(k.identity_file, path, mem_sink_write, &out, &r));
    CHECK(r.recovered_bytes == 131072 && out.len == 131072);
    CHECK(!r.complete);
    CHECK(r.stopped_by == CALLSEAL_E_PAYLOAD_TRUNCATED);
    CHECK(r.max_lost_bytes == 65536);
    CHECK(matches_pattern(out.data, out.len, 0, 5));
    mem_sink_free(&out);

    CHECK(seal_to_memory(k.recipient, 150000, 1, &sink) == 0);
    CHECK(write_file(path, sink.data, sink.len) == 0);
    mem_sink_free(&sink);
    CHECK_OK(callseal_recover_path(k.identity_file, path, mem_sink_write, &out, &r));
    CHECK(r.complete && r.stopped_by == CALLSEAL_OK && r.max_lost_bytes == 0);
    CHECK(r.recovered_bytes == 150000 && matches_pattern(out.data, out.len, 0, 5));
    mem_sink_free(&out);

    /* Recovery never weakens the header check. */
    {
        test_key other;
        CHECK(make_key(&other) == 0);
        CHECK_STATUS(callseal_recover_path(other.identity_file, path, mem_sink_write, &out, &r),
                     CALLSEAL_E_NO_MATCH);
        CHECK(out.len == 0);
        out.fail_from_call = 1;
        out.fail_errno = ENOSPC;
        CHECK_STATUS(callseal_recover_path(k.identity_file, path, mem_sink_write, &out, &r),
                     CALLSEAL_E_IO);
        mem_sink_free(&out);
    }
}

static void test_inspect(void) {
    test_key a, b;
    const char *recipients[2];
    char path[512];
    callseal_inspection info;
    mem_sink sink;
    CHECK(make_key(&a) == 0 && make_key(&b) == 0);
    recipients[0] = a.recipient;
    recipients[1] = b.recipient;
    path_in(path, sizeof path, "inspect.age");
    CHECK_OK(seal_pattern(recipients, 2, path, 1000, 320, 6));
    memset(&info, 0, sizeof info);
    CHECK_STATUS(callseal_inspect_path(NULL, &info), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_inspect_path(path, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_OK(callseal_inspect_path(path, &info));
    CHECK(info.stanza_count == 2 && !info.armored);
    CHECK(info.plaintext_len == 1000 && info.chunk_count == 1);
    CHECK(info.payload_len == 1016);
    CHECK(info.ending == CALLSEAL_ENDING_FINAL_SIZED);

    CHECK(seal_to_memory(a.recipient, 131072, 0, &sink) == 0);
    CHECK(write_file(path, sink.data, sink.len) == 0);
    mem_sink_free(&sink);
    CHECK_OK(callseal_inspect_path(path, &info));
    CHECK(info.stanza_count == 1 && info.chunk_count == 1);
    CHECK(info.ending == CALLSEAL_ENDING_FULL_CHUNK);

    path_in(path, sizeof path, "missing.age");
    CHECK_STATUS(callseal_inspect_path(path, &info), CALLSEAL_E_IO);
    path_in(path, sizeof path, "not-age.txt");
    CHECK(write_file(path, (const uint8_t *)"hello\n", 6) == 0);
    CHECK_STATUS(callseal_inspect_path(path, &info), CALLSEAL_E_HEADER);
}

/* ---- threads ----------------------------------------------------------- */

typedef struct worker {
    unsigned seed;
    const char *recipient;
    const char *identity_file;
    int ok;
    char error[64];
} worker;

static void *worker_main(void *arg) {
    worker *w = (worker *)arg;
    const char *recipients[1];
    char path[512], name[64];
    uint8_t *out = NULL;
    size_t len = 0;
    const size_t total = 100000 + w->seed * 1000;
    recipients[0] = w->recipient;
    snprintf(name, sizeof name, "thread-%u.age", w->seed);
    path_in(path, sizeof path, name);
    /* Each thread's last error is its own. */
    if (w->seed % 2 == 0) {
        (void)callseal_sealer_finish(NULL); /* "argument `sealer` is NULL" */
    } else {
        (void)callseal_opener_seek(NULL, 0); /* "argument `opener` is NULL" */
    }
    w->ok = seal_pattern(recipients, 1, path, total, 320, w->seed) == CALLSEAL_OK &&
            open_and_read_all(w->identity_file, path, &out, &len) == CALLSEAL_OK &&
            len == total && matches_pattern(out, len, 0, w->seed);
    free(out);
    callseal_last_error(w->error, sizeof w->error);
    return NULL;
}

static void test_distinct_handles_on_threads(void) {
    enum { THREADS = 8 };
    pthread_t t[THREADS];
    worker w[THREADS];
    test_key k;
    unsigned i;
    CHECK(make_key(&k) == 0);
    for (i = 0; i < THREADS; i++) {
        w[i].seed = 100 + i;
        w[i].recipient = k.recipient;
        w[i].identity_file = k.identity_file;
        w[i].ok = 0;
        CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        CHECK(w[i].ok);
        CHECK(strcmp(w[i].error, i % 2 == 0 ? "argument `sealer` is NULL"
                                            : "argument `opener` is NULL") == 0);
    }
}

/* ---- runner ------------------------------------------------------------ */

typedef struct test_case {
    const char *name;
    void (*run)(void);
} test_case;

static const test_case TESTS[] = {
    {"version_matches_header", test_version_matches_header},
    {"status_strings_name_their_code", test_status_strings_name_their_code},
    {"last_error_is_per_call_and_truncates", test_last_error_is_per_call_and_truncates},
    {"identity_generate_and_recipient", test_identity_generate_and_recipient},
    {"identity_generate_errors_write_nothing", test_identity_generate_errors_write_nothing},
    {"recipient_from_identity_errors", test_recipient_from_identity_errors},
    {"path_round_trip_with_seek", test_path_round_trip_with_seek},
    {"callback_round_trip_two_recipients", test_callback_round_trip_two_recipients},
    {"empty_recording_round_trips", test_empty_recording_round_trips},
    {"go_age_opens_c_sealed_file_and_back", test_go_age_opens_c_sealed_file_and_back},
    {"sealer_new_argument_errors", test_sealer_new_argument_errors},
    {"sealer_wrong_order_calls", test_sealer_wrong_order_calls},
    {"path_sink_is_atomic", test_path_sink_is_atomic},
    {"failing_sink_mid_stream", test_failing_sink_mid_stream},
    {"opener_new_errors", test_opener_new_errors},
    {"opener_read_errors", test_opener_read_errors},
    {"recover_truncated_and_whole", test_recover_truncated_and_whole},
    {"inspect", test_inspect},
    {"distinct_handles_on_threads", test_distinct_handles_on_threads},
};

int main(int argc, char **argv) {
    size_t i, passed = 0, failed = 0;
    char cmd[512];
    snprintf(dir, sizeof dir, "%s/callseal-ctest-XXXXXX", argc > 1 ? argv[1] : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    for (i = 0; i < sizeof TESTS / sizeof TESTS[0]; i++) {
        test_failed = 0;
        TESTS[i].run();
        if (test_failed) {
            printf("FAIL %s\n", TESTS[i].name);
            failed++;
        } else {
            printf("ok   %s\n", TESTS[i].name);
            passed++;
        }
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    printf("%lu passed, %lu failed\n", (unsigned long)passed, (unsigned long)failed);
    return failed == 0 ? 0 : 1;
}
