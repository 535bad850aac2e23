/* C tests of the callseal audio ABI: captures (16-bit PCM, mu-law and A-law,
 * stereo legs, MP3), playable opening with exact WAV sizes and samples,
 * clips, recording info and metadata, the call-id check, recovery of a
 * crashed capture, and every NULL argument and wrong-order call. Built with
 * -Wall -Wextra -Werror -pedantic and run normally, under valgrind and with
 * AddressSanitizer + UBSan (.ci/c-abi.sh).
 *
 * Usage: test_audio [TMPDIR]. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static test_key key;
static const char *recips[1];

static void path_in(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

/* A fresh empty directory under dir, for tests that count files. */
static int subdir(char *out, size_t cap, const char *name) {
    path_in(out, cap, name);
    return mkdir(out, 0700);
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

/* A parsed WAV: where `fmt ` and `data` are, and the sizes it claims. */
typedef struct wav_view {
    uint32_t riff_size;
    uint16_t format_tag, channels, block_align, bits;
    uint32_t rate;
    size_t data_off;
    uint32_t data_size;
    int has_csmd;
} wav_view;

/* 0 when buf is a RIFF/WAVE file whose chunks are all in bounds. */
static int parse_wav(const uint8_t *buf, size_t len, wav_view *w) {
    size_t pos = 12;
    memset(w, 0, sizeof *w);
    if (len < 12 || memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0) {
        return -1;
    }
    w->riff_size = le32(buf + 4);
    while (pos + 8 <= len) {
        uint32_t size = le32(buf + pos + 4);
        if (memcmp(buf + pos, "fmt ", 4) == 0 && size >= 16) {
            w->format_tag = le16(buf + pos + 8);
            w->channels = le16(buf + pos + 10);
            w->rate = le32(buf + pos + 12);
            w->block_align = le16(buf + pos + 20);
            w->bits = le16(buf + pos + 22);
        } else if (memcmp(buf + pos, "csmd", 4) == 0) {
            w->has_csmd = 1;
        } else if (memcmp(buf + pos, "data", 4) == 0) {
            w->data_off = pos + 8;
            w->data_size = size;
            return w->data_off + size == len ? 0 : -2;
        }
        pos += 8 + size + (size & 1);
    }
    return -3;
}

/* Captures len pattern bytes (seed) as PCM to path in 320-byte frames. */
static callseal_status capture_pcm(const char *path, uint32_t rate, uint16_t channels,
                                   callseal_encoding enc, const char *const *keys,
                                   const char *const *values, size_t n_meta, size_t len,
                                   unsigned seed) {
    callseal_capture *c = NULL;
    uint8_t frame[320];
    size_t done = 0;
    callseal_status st = callseal_capture_new_pcm_path(recips, 1, path, rate, channels, enc, keys,
                                                       values, n_meta, &c);
    while (st == CALLSEAL_OK && done < len) {
        size_t k = len - done < sizeof frame ? len - done : sizeof frame;
        fill_pattern(frame, k, done, seed);
        st = callseal_capture_write(c, frame, k);
        done += k;
    }
    if (st == CALLSEAL_OK) {
        st = callseal_capture_finish(c);
    }
    callseal_capture_free(c);
    return st;
}

static const char *const META_KEYS[] = {"call_id", "direction"};
static const char *const META_VALUES[] = {"c-2024-0001", "inbound"};

/* ---- capture and open -------------------------------------------------- */

static void test_s16_mono_capture_opens_as_exact_wav(void) {
    char sub[512], path[600], out[600];
    callseal_capture *c = NULL;
    uint8_t frame[320], *wav;
    size_t len, done;
    wav_view w;
    CHECK(subdir(sub, sizeof sub, "s16") == 0);
    snprintf(path, sizeof path, "%s/call.wav.age", sub);
    snprintf(out, sizeof out, "%s/call.wav", sub);
    CHECK_OK(callseal_capture_new_pcm_path(recips, 1, path, 8000, 1, CALLSEAL_ENCODING_S16,
                                           META_KEYS, META_VALUES, 2, &c));
    CHECK_OK(callseal_capture_set_fsync_every(c, 1));
    /* 3 s: more than two 64 KiB chunks, so fsync runs during the capture. */
    for (done = 0; done < 48000 * 3; done += sizeof frame) {
        fill_pattern(frame, sizeof frame, done, 1);
        CHECK_OK(callseal_capture_write(c, frame, sizeof frame));
    }
    /* Until finish only the temporary file exists. */
    CHECK(!file_exists(path));
    CHECK(count_entries(sub) == 1);
    CHECK_OK(callseal_capture_finish(c));
    callseal_capture_free(c);
    CHECK(file_exists(path) && count_entries(sub) == 1);

    CHECK_OK(callseal_open_playable_path(key.identity_file, path, out, NULL));
    wav = read_file(out, &len);
    CHECK(wav != NULL);
    CHECK(parse_wav(wav, len, &w) == 0);
    CHECK(w.riff_size == len - 8);
    CHECK(w.data_size == 144000);
    CHECK(w.format_tag == 1 && w.channels == 1 && w.rate == 8000 && w.block_align == 2 &&
          w.bits == 16);
    CHECK(w.has_csmd);
    CHECK(matches_pattern(wav + w.data_off, w.data_size, 0, 1));
    free(wav);
}

static void test_mulaw_callback_capture(void) {
    char path[512], out[512];
    callseal_capture *c = NULL;
    mem_sink sink;
    uint8_t frame[160], *wav;
    size_t len, i;
    wav_view w;
    memset(&sink, 0, sizeof sink);
    CHECK_OK(callseal_capture_new_pcm_callback(recips, 1, mem_sink_write, &sink, 8000, 1,
                                               CALLSEAL_ENCODING_MULAW, NULL, NULL, 0, &c));
    CHECK(sink.len > 0 && memcmp(sink.data, "age-encryption.org/v1\n", 22) == 0);
    /* A callback sink has no file to sync. */
    CHECK_STATUS(callseal_capture_set_fsync_every(c, 4), CALLSEAL_E_USAGE);
    for (i = 0; i < 50; i++) { /* 1 s of 8 kHz mu-law */
        fill_pattern(frame, sizeof frame, i * sizeof frame, 2);
        CHECK_OK(callseal_capture_write(c, frame, sizeof frame));
    }
    CHECK_OK(callseal_capture_finish(c));
    callseal_capture_free(c);
    path_in(path, sizeof path, "ulaw.wav.age");
    path_in(out, sizeof out, "ulaw.wav");
    CHECK(write_file(path, sink.data, sink.len) == 0);
    mem_sink_free(&sink);
    CHECK_OK(callseal_open_playable_path(key.identity_file, path, out, NULL));
    wav = read_file(out, &len);
    CHECK(wav != NULL);
    CHECK(parse_wav(wav, len, &w) == 0);
    CHECK(w.riff_size == len - 8 && w.data_size == 8000);
    CHECK(w.format_tag == 7 && w.bits == 8 && w.block_align == 1 && !w.has_csmd);
    CHECK(matches_pattern(wav + w.data_off, w.data_size, 0, 2));
    free(wav);
}

static void test_stereo_legs_are_interleaved(void) {
    static const callseal_encoding encs[2] = {CALLSEAL_ENCODING_S16, CALLSEAL_ENCODING_ALAW};
    static const uint16_t tags[2] = {1, 6};
    size_t e;
    for (e = 0; e < 2; e++) {
        char path[512], out[512];
        callseal_capture *c = NULL;
        uint8_t caller[320], agent[320], *wav;
        size_t len, i, bps = e == 0 ? 2 : 1, n;
        wav_view w;
        path_in(path, sizeof path, e == 0 ? "legs-s16.wav.age" : "legs-alaw.wav.age");
        path_in(out, sizeof out, e == 0 ? "legs-s16.wav" : "legs-alaw.wav");
        CHECK_OK(callseal_capture_new_pcm_path(recips, 1, path, 8000, 2, encs[e], META_KEYS,
                                               META_VALUES, 1, &c));
        for (i = 0; i < 10; i++) {
            fill_pattern(caller, sizeof caller, i * sizeof caller, 3);
            fill_pattern(agent, sizeof agent, i * sizeof agent, 4);
            CHECK_OK(callseal_capture_write_legs(c, caller, agent, sizeof caller));
        }
        /* Legs must hold whole samples. */
        if (bps == 2) {
            CHECK_STATUS(callseal_capture_write_legs(c, caller, agent, 3), CALLSEAL_E_USAGE);
        }
        CHECK_OK(callseal_capture_finish(c));
        callseal_capture_free(c);
        CHECK_OK(callseal_open_playable_path(key.identity_file, path, out, "c-2024-0001"));
        wav = read_file(out, &len);
        CHECK(wav != NULL);
        CHECK(parse_wav(wav, len, &w) == 0);
        CHECK(w.channels == 2 && w.format_tag == tags[e] && w.data_size == 6400);
        CHECK(w.block_align == 2 * bps);
        n = w.data_size / (2 * bps);
        for (i = 0; i < n; i++) {
            const uint8_t *frame = wav + w.data_off + i * 2 * bps;
            CHECK(matches_pattern(frame, bps, i * bps, 3));
            CHECK(matches_pattern(frame + bps, bps, i * bps, 4));
        }
        free(wav);
    }
}

/* ---- MP3 --------------------------------------------------------------- */

/* MPEG-1 Layer III, 32 kbit/s, 32 kHz, mono: 144-byte frames of 36 ms. */
#define MP3_FRAME 144
#define MP3_FRAMES 100

static void make_mp3(uint8_t *buf) {
    size_t f, i;
    for (f = 0; f < MP3_FRAMES; f++) {
        uint8_t *fr = buf + f * MP3_FRAME;
        fr[0] = 0xFF;
        fr[1] = 0xFB;
        fr[2] = 0x18;
        fr[3] = 0xC0;
        /* Payload bytes below 0x80: no false frame sync, no "Xing"/"Info". */
        for (i = 4; i < MP3_FRAME; i++) {
            fr[i] = (uint8_t)((pattern_byte(f * MP3_FRAME + i, 6) & 0x3F) | 0x01);
        }
        fr[4] = (uint8_t)f;
    }
}

static void test_mp3_capture_open_clip_info(void) {
    char path[512], out[512], clip[512], buf[64];
    static uint8_t frames[MP3_FRAME * MP3_FRAMES];
    callseal_capture *c = NULL;
    callseal_recording_info *info = NULL;
    uint8_t *data;
    size_t len, tag, n;
    uint64_t s = 0, e = 0;
    uint32_t u32 = 0;
    int64_t ms = 0;
    callseal_recording_kind kind = -1;
    make_mp3(frames);
    path_in(path, sizeof path, "call.mp3.age");
    path_in(out, sizeof out, "call.mp3");
    path_in(clip, sizeof clip, "clip.mp3");
    CHECK_OK(callseal_capture_new_mp3_path(recips, 1, path, META_KEYS, META_VALUES, 2, &c));
    /* MP3 bytes are taken as they come, in pieces of any size. */
    CHECK_OK(callseal_capture_write(c, frames, 1000));
    CHECK_OK(callseal_capture_write(c, frames + 1000, sizeof frames - 1000));
    CHECK_STATUS(callseal_capture_write_legs(c, frames, frames, 2), CALLSEAL_E_USAGE);
    CHECK_OK(callseal_capture_finish(c));
    callseal_capture_free(c);

    /* Opened as it was written: the ID3v2 tag, then the frames. */
    CHECK_OK(callseal_open_playable_path(key.identity_file, path, out, "c-2024-0001"));
    data = read_file(out, &len);
    CHECK(data != NULL);
    CHECK(len > sizeof frames && memcmp(data, "ID3", 3) == 0);
    tag = len - sizeof frames;
    CHECK(memcmp(data + tag, frames, sizeof frames) == 0);
    free(data);

    CHECK_OK(callseal_recording_info_path(key.identity_file, path, &info));
    CHECK_OK(callseal_recording_info_kind(info, &kind));
    CHECK(kind == CALLSEAL_RECORDING_MP3);
    CHECK_OK(callseal_recording_info_sample_rate(info, &u32));
    CHECK(u32 == 32000);
    CHECK_OK(callseal_recording_info_bitrate_kbps(info, &u32));
    CHECK(u32 == 32);
    CHECK_OK(callseal_recording_info_duration_ms(info, &ms));
    CHECK(ms == MP3_FRAMES * 36);
    CHECK_OK(callseal_recording_info_metadata_count(info, &n));
    CHECK(n == 2);
    CHECK_OK(callseal_recording_info_metadata_value(info, 0, buf, sizeof buf));
    CHECK(strcmp(buf, "c-2024-0001") == 0);
    callseal_recording_info_free(info);

    /* Whole frames: from the one holding 1 s to the one holding 2 s. */
    CHECK_OK(callseal_open_clip_path(key.identity_file, path, 1000, 2000, clip, &s, &e));
    data = read_file(clip, &len);
    CHECK(data != NULL);
    CHECK(len > tag && memcmp(data, "ID3", 3) == 0 && (len - tag) % MP3_FRAME == 0);
    {
        size_t first = data[tag + 4], count = (len - tag) / MP3_FRAME;
        CHECK(first == 1000 / 36);
        CHECK(s == first * 36 && e == (first + count) * 36);
        /* It starts at the frame holding 1 s and ends at the last frame
         * boundary at or before 2 s. */
        CHECK(s <= 1000 && 1000 - s < 36 && e <= 2000 && 2000 - e < 36);
        CHECK(count == 2000 / 36 - 1000 / 36);
        CHECK(memcmp(data + tag, frames + first * MP3_FRAME, count * MP3_FRAME) == 0);
    }
    free(data);
}

/* ---- clip -------------------------------------------------------------- */

static void test_wav_clip_is_exact(void) {
    char path[512], clip[512];
    uint8_t *wav;
    size_t len;
    uint64_t s = 1, e = 1;
    wav_view w;
    path_in(path, sizeof path, "ten.wav.age");
    path_in(clip, sizeof clip, "ten-clip.wav");
    CHECK_OK(capture_pcm(path, 8000, 1, CALLSEAL_ENCODING_S16, META_KEYS, META_VALUES, 2,
                         160000, 7));

    CHECK_OK(callseal_open_clip_path(key.identity_file, path, 2500, 4000, clip, &s, &e));
    CHECK(s == 2500 && e == 4000);
    wav = read_file(clip, &len);
    CHECK(wav != NULL);
    CHECK(parse_wav(wav, len, &w) == 0);
    CHECK(w.riff_size == len - 8 && w.data_size == 24000 && w.has_csmd);
    CHECK(matches_pattern(wav + w.data_off, w.data_size, 40000, 7));
    free(wav);

    /* -1: to the end. */
    CHECK_OK(callseal_open_clip_path(key.identity_file, path, 9000, -1, clip, &s, &e));
    CHECK(s == 9000 && e == 10000);
    wav = read_file(clip, &len);
    CHECK(wav != NULL);
    CHECK(parse_wav(wav, len, &w) == 0 && w.data_size == 16000);
    CHECK(matches_pattern(wav + w.data_off, w.data_size, 144000, 7));
    free(wav);

    /* Past the end: an empty clip at the end. */
    CHECK_OK(callseal_open_clip_path(key.identity_file, path, 20000, 30000, clip, &s, &e));
    CHECK(s == 10000 && e == 10000);
    wav = read_file(clip, &len);
    CHECK(wav != NULL);
    CHECK(parse_wav(wav, len, &w) == 0 && w.data_size == 0);
    free(wav);
}

static void test_clip_errors(void) {
    char sub[512], path[600], other[600], clip[600];
    uint64_t s = 77, e = 88;
    callseal_sealer *sealer = NULL;
    CHECK(subdir(sub, sizeof sub, "cliperr") == 0);
    snprintf(path, sizeof path, "%s/a.wav.age", sub);
    snprintf(other, sizeof other, "%s/plain.age", sub);
    snprintf(clip, sizeof clip, "%s/clip.wav", sub);
    CHECK_OK(capture_pcm(path, 8000, 1, CALLSEAL_ENCODING_S16, NULL, NULL, 0, 16000, 8));
    CHECK_OK(callseal_sealer_new_path(recips, 1, other, &sealer));
    CHECK_OK(callseal_sealer_write(sealer, (const uint8_t *)"just bytes", 10));
    CHECK_OK(callseal_sealer_finish(sealer));
    callseal_sealer_free(sealer);

    CHECK_STATUS(callseal_open_clip_path(NULL, path, 0, -1, clip, &s, &e), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_open_clip_path(key.identity_file, NULL, 0, -1, clip, &s, &e),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_open_clip_path(key.identity_file, path, 0, -1, NULL, &s, &e),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_open_clip_path(key.identity_file, path, 0, -1, clip, NULL, &e),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_open_clip_path(key.identity_file, path, 0, -1, clip, &s, NULL),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_open_clip_path(key.identity_file, path, 500, 400, clip, &s, &e),
                 CALLSEAL_E_INVALID_ARG);
    CHECK_STATUS(callseal_open_clip_path(key.identity_file, path, 0, -2, clip, &s, &e),
                 CALLSEAL_E_INVALID_ARG);
    /* Seeking by time needs WAV or MP3. */
    CHECK_STATUS(callseal_open_clip_path(key.identity_file, other, 0, -1, clip, &s, &e),
                 CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_open_clip_path("not a key", path, 0, -1, clip, &s, &e),
                 CALLSEAL_E_INVALID_IDENTITY);
    CHECK(s == 77 && e == 88);
    CHECK(!file_exists(clip) && count_entries(sub) == 2);
}

/* ---- info -------------------------------------------------------------- */

static void test_recording_info_and_metadata(void) {
    char path[512], plain[512], buf[32];
    callseal_recording_info *info = NULL, *sentinel = (callseal_recording_info *)&key;
    callseal_recording_kind kind = -1;
    callseal_encoding enc = -5;
    uint32_t rate = 0;
    uint16_t ch = 0, tag = 0;
    int64_t ms = 0;
    size_t n = 0;
    callseal_sealer *sealer = NULL;
    path_in(path, sizeof path, "info.wav.age");
    CHECK_OK(capture_pcm(path, 8000, 2, CALLSEAL_ENCODING_MULAW, META_KEYS, META_VALUES, 2,
                         16000 * 5 / 2, 9));

    CHECK_STATUS(callseal_recording_info_path(NULL, path, &info), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_path(key.identity_file, NULL, &info), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_path(key.identity_file, path, NULL), CALLSEAL_E_NULL_ARG);
    info = sentinel;
    CHECK_STATUS(callseal_recording_info_path("# no keys\n", path, &info),
                 CALLSEAL_E_INVALID_IDENTITY);
    CHECK(info == sentinel);
    info = NULL;

    CHECK_OK(callseal_recording_info_path(key.identity_file, path, &info));
    CHECK_OK(callseal_recording_info_kind(info, &kind));
    CHECK(kind == CALLSEAL_RECORDING_WAV);
    CHECK_OK(callseal_recording_info_sample_rate(info, &rate));
    CHECK(rate == 8000);
    CHECK_OK(callseal_recording_info_channels(info, &ch));
    CHECK(ch == 2);
    CHECK_OK(callseal_recording_info_format_tag(info, &tag));
    CHECK(tag == 7);
    CHECK_OK(callseal_recording_info_encoding(info, &enc));
    CHECK(enc == CALLSEAL_ENCODING_MULAW);
    CHECK_OK(callseal_recording_info_bitrate_kbps(info, &rate));
    CHECK(rate == 0);
    CHECK_OK(callseal_recording_info_duration_ms(info, &ms));
    CHECK(ms == 2500);
    CHECK_OK(callseal_recording_info_metadata_count(info, &n));
    CHECK(n == 2);
    CHECK_OK(callseal_recording_info_metadata_key(info, 0, buf, sizeof buf));
    CHECK(strcmp(buf, "call_id") == 0);
    CHECK_OK(callseal_recording_info_metadata_value(info, 0, buf, sizeof buf));
    CHECK(strcmp(buf, "c-2024-0001") == 0);
    CHECK_OK(callseal_recording_info_metadata_key(info, 1, buf, sizeof buf));
    CHECK(strcmp(buf, "direction") == 0);
    /* "inbound" needs 8 bytes: exactly 8 fits, 7 writes nothing. */
    memset(buf, 'x', sizeof buf);
    CHECK_STATUS(callseal_recording_info_metadata_value(info, 1, buf, 7),
                 CALLSEAL_E_BUFFER_TOO_SMALL);
    CHECK(buf[0] == 'x' && buf[6] == 'x');
    CHECK_OK(callseal_recording_info_metadata_value(info, 1, buf, 8));
    CHECK(strcmp(buf, "inbound") == 0);
    memset(buf, 'x', sizeof buf);
    CHECK_STATUS(callseal_recording_info_metadata_key(info, 2, buf, sizeof buf),
                 CALLSEAL_E_INVALID_ARG);
    CHECK(buf[0] == 'x');
    CHECK_STATUS(callseal_recording_info_metadata_key(info, 0, NULL, 8), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_metadata_value(NULL, 0, buf, 8), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_kind(info, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_kind(NULL, &kind), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_sample_rate(NULL, &rate), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_channels(info, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_format_tag(info, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_encoding(info, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_bitrate_kbps(info, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_duration_ms(info, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recording_info_metadata_count(info, NULL), CALLSEAL_E_NULL_ARG);
    callseal_recording_info_free(info);
    callseal_recording_info_free(NULL);

    /* Plain bytes: kind OTHER, nothing known. */
    path_in(plain, sizeof plain, "info-plain.age");
    CHECK_OK(callseal_sealer_new_path(recips, 1, plain, &sealer));
    CHECK_OK(callseal_sealer_write(sealer, (const uint8_t *)"hello", 5));
    CHECK_OK(callseal_sealer_finish(sealer));
    callseal_sealer_free(sealer);
    info = NULL;
    CHECK_OK(callseal_recording_info_path(key.identity_file, plain, &info));
    CHECK_OK(callseal_recording_info_kind(info, &kind));
    CHECK_OK(callseal_recording_info_duration_ms(info, &ms));
    CHECK_OK(callseal_recording_info_metadata_count(info, &n));
    CHECK_OK(callseal_recording_info_encoding(info, &enc));
    CHECK(kind == CALLSEAL_RECORDING_OTHER && ms == -1 && n == 0 && enc == -1);
    callseal_recording_info_free(info);
}

/* ---- call id ----------------------------------------------------------- */

static void test_expect_call_id(void) {
    char sub[512], path[600], bare[600], out[600], msg[256];
    CHECK(subdir(sub, sizeof sub, "callid") == 0);
    snprintf(path, sizeof path, "%s/a.wav.age", sub);
    snprintf(bare, sizeof bare, "%s/b.wav.age", sub);
    snprintf(out, sizeof out, "%s/out.wav", sub);
    CHECK_OK(capture_pcm(path, 8000, 1, CALLSEAL_ENCODING_S16, META_KEYS, META_VALUES, 2, 3200, 10));
    CHECK_OK(capture_pcm(bare, 8000, 1, CALLSEAL_ENCODING_S16, NULL, NULL, 0, 3200, 10));

    CHECK_STATUS(callseal_open_playable_path(key.identity_file, path, out, "c-2024-0002"),
                 CALLSEAL_E_CALL_ID_MISMATCH);
    callseal_last_error(msg, sizeof msg);
    CHECK(strstr(msg, "c-2024-0001") != NULL && strstr(msg, "c-2024-0002") != NULL);
    CHECK(strncmp(callseal_status_str(CALLSEAL_E_CALL_ID_MISMATCH),
                  "CALLSEAL_E_CALL_ID_MISMATCH:", 28) == 0);
    CHECK_STATUS(callseal_open_playable_path(key.identity_file, bare, out, "c-2024-0001"),
                 CALLSEAL_E_CALL_ID_MISMATCH);
    /* Nothing appears on failure. */
    CHECK(!file_exists(out) && count_entries(sub) == 2);
    CHECK_OK(callseal_open_playable_path(key.identity_file, path, out, "c-2024-0001"));
    CHECK(file_exists(out));
}

/* ---- recovery ---------------------------------------------------------- */

static void test_recover_crashed_capture(void) {
    char sub[512], path[600], out[600];
    callseal_capture *c = NULL;
    callseal_audio_recovery r;
    callseal_recording_info *info = NULL;
    mem_sink sink;
    uint8_t frame[320], *wav;
    size_t len, done;
    int64_t ms = 0;
    wav_view w;
    CHECK(subdir(sub, sizeof sub, "recover") == 0);
    snprintf(path, sizeof path, "%s/crashed.wav.age", sub);
    snprintf(out, sizeof out, "%s/recovered.wav", sub);
    memset(&sink, 0, sizeof sink);
    CHECK_OK(callseal_capture_new_pcm_callback(recips, 1, mem_sink_write, &sink, 8000, 1,
                                               CALLSEAL_ENCODING_S16, META_KEYS, META_VALUES, 2,
                                               &c));
    for (done = 0; done < 160000; done += sizeof frame) { /* 10 s */
        fill_pattern(frame, sizeof frame, done, 11);
        CHECK_OK(callseal_capture_write(c, frame, sizeof frame));
    }
    /* The capture "dies": its bytes so far are all that is left. */
    CHECK(write_file(path, sink.data, sink.len) == 0);
    CHECK_OK(callseal_capture_abort(c));
    callseal_capture_free(c);
    mem_sink_free(&sink);

    CHECK_STATUS(callseal_open_playable_path(key.identity_file, path, out, NULL),
                 CALLSEAL_E_PAYLOAD_TRUNCATED);
    CHECK(!file_exists(out) && count_entries(sub) == 1);
    /* Info still reads the first chunk; the length is not known. */
    CHECK_OK(callseal_recording_info_path(key.identity_file, path, &info));
    CHECK_OK(callseal_recording_info_duration_ms(info, &ms));
    callseal_recording_info_free(info);
    CHECK(ms == -1);

    memset(&r, 0xAB, sizeof r);
    CHECK_STATUS(callseal_recover_playable_path(NULL, path, out, &r), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recover_playable_path(key.identity_file, NULL, out, &r),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recover_playable_path(key.identity_file, path, NULL, &r),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_recover_playable_path(key.identity_file, path, out, NULL),
                 CALLSEAL_E_NULL_ARG);
    {
        test_key other;
        CHECK(make_key(&other) == 0);
        CHECK_STATUS(callseal_recover_playable_path(other.identity_file, path, out, &r),
                     CALLSEAL_E_NO_MATCH);
    }
    CHECK(r.written_bytes == 0xABABABABABABABABull);
    CHECK(!file_exists(out) && count_entries(sub) == 1);

    CHECK_OK(callseal_recover_playable_path(key.identity_file, path, out, &r));
    CHECK(r.kind == CALLSEAL_RECORDING_WAV);
    CHECK(!r.complete && r.stopped_by == CALLSEAL_E_PAYLOAD_TRUNCATED);
    wav = read_file(out, &len);
    CHECK(wav != NULL);
    CHECK(parse_wav(wav, len, &w) == 0);
    CHECK(r.written_bytes == len);
    CHECK(w.riff_size == len - 8 && w.data_size == r.audio_bytes);
    /* Two whole chunks authenticate: 131072 bytes less the header, in whole
     * samples. */
    CHECK(w.data_off + r.audio_bytes + r.discarded_bytes == 131072);
    CHECK(r.audio_bytes % 2 == 0 && r.discarded_bytes < 2);
    CHECK(r.duration_ms == (int64_t)(r.audio_bytes / 16));
    CHECK(r.max_lost_ms > 0 && r.max_lost_ms <= 4097);
    CHECK(matches_pattern(wav + w.data_off, w.data_size, 0, 11));
    free(wav);

    /* A whole recording: complete, nothing lost, the same as opening it. */
    CHECK_OK(capture_pcm(path, 8000, 1, CALLSEAL_ENCODING_S16, NULL, NULL, 0, 16000, 12));
    CHECK_OK(callseal_recover_playable_path(key.identity_file, path, out, &r));
    CHECK(r.complete && r.stopped_by == CALLSEAL_OK && r.max_lost_ms == 0);
    CHECK(r.audio_bytes == 16000 && r.duration_ms == 1000 && r.discarded_bytes == 0);
    wav = read_file(out, &len);
    CHECK(wav != NULL);
    CHECK(parse_wav(wav, len, &w) == 0 && w.data_size == 16000);
    CHECK(matches_pattern(wav + w.data_off, w.data_size, 0, 12));
    free(wav);
}

/* ---- argument errors and call order ------------------------------------ */

static void test_capture_new_argument_errors(void) {
    char sub[512], path[600];
    callseal_capture *c = NULL, *const sentinel = (callseal_capture *)&key;
    const char *bad_keys[1] = {"a=b"};
    const char *null_value[1] = {NULL};
    const char *bad_recips[1] = {"age1nope"};
    mem_sink sink;
    memset(&sink, 0, sizeof sink);
    CHECK(subdir(sub, sizeof sub, "newerr") == 0);
    snprintf(path, sizeof path, "%s/x.wav.age", sub);
    c = sentinel;
#define PCM_PATH(r, n, p, rate, ch, enc, k, v, nm, out)                                            \
    callseal_capture_new_pcm_path(r, n, p, rate, ch, enc, k, v, nm, out)
    CHECK_STATUS(PCM_PATH(NULL, 1, path, 8000, 1, 0, NULL, NULL, 0, &c), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(PCM_PATH(recips, 1, NULL, 8000, 1, 0, NULL, NULL, 0, &c), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(PCM_PATH(recips, 1, path, 8000, 1, 0, NULL, NULL, 0, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(PCM_PATH(recips, 1, path, 8000, 1, 0, NULL, META_VALUES, 1, &c),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(PCM_PATH(recips, 1, path, 8000, 1, 0, META_KEYS, NULL, 1, &c),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(PCM_PATH(recips, 1, path, 8000, 1, 0, META_KEYS, null_value, 1, &c),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(PCM_PATH(recips, 0, path, 8000, 1, 0, NULL, NULL, 0, &c),
                 CALLSEAL_E_NO_RECIPIENTS);
    CHECK_STATUS(PCM_PATH(bad_recips, 1, path, 8000, 1, 0, NULL, NULL, 0, &c),
                 CALLSEAL_E_INVALID_RECIPIENT);
    CHECK_STATUS(PCM_PATH(recips, 1, path, 8000, 1, 3, NULL, NULL, 0, &c), CALLSEAL_E_INVALID_ARG);
    CHECK_STATUS(PCM_PATH(recips, 1, path, 8000, 3, 0, NULL, NULL, 0, &c), CALLSEAL_E_INVALID_ARG);
    CHECK_STATUS(PCM_PATH(recips, 1, path, 10, 1, 0, NULL, NULL, 0, &c), CALLSEAL_E_INVALID_ARG);
    CHECK_STATUS(PCM_PATH(recips, 1, path, 8000, 1, 0, bad_keys, META_VALUES, 1, &c),
                 CALLSEAL_E_INVALID_ARG);
#undef PCM_PATH
    CHECK_STATUS(callseal_capture_new_pcm_callback(recips, 1, NULL, &sink, 8000, 1, 0, NULL, NULL,
                                                   0, &c),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_new_pcm_callback(recips, 1, mem_sink_write, &sink, 8000, 1, 0,
                                                   NULL, NULL, 0, NULL),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_new_mp3_path(recips, 1, NULL, NULL, NULL, 0, &c),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_new_mp3_path(NULL, 1, path, NULL, NULL, 0, &c),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_new_mp3_path(recips, 1, path, NULL, NULL, 0, NULL),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_new_mp3_callback(recips, 1, NULL, NULL, NULL, NULL, 0, &c),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_new_mp3_callback(recips, 1, mem_sink_write, &sink, bad_keys,
                                                   META_VALUES, 1, &c),
                 CALLSEAL_E_INVALID_ARG);
    CHECK(c == sentinel);
    /* Nothing was created, nothing reached the callback. */
    CHECK(count_entries(sub) == 0 && sink.calls == 0);
}

static void test_capture_wrong_order_and_nulls(void) {
    char sub[512], path[600];
    callseal_capture *c = NULL;
    uint8_t frame[4] = {1, 2, 3, 4};
    CHECK(subdir(sub, sizeof sub, "order") == 0);
    snprintf(path, sizeof path, "%s/x.wav.age", sub);

    CHECK_STATUS(callseal_capture_write(NULL, frame, 4), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_write_legs(NULL, frame, frame, 2), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_set_fsync_every(NULL, 1), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_finish(NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_abort(NULL), CALLSEAL_E_NULL_ARG);
    callseal_capture_free(NULL);

    CHECK_OK(callseal_capture_new_pcm_path(recips, 1, path, 8000, 1, CALLSEAL_ENCODING_S16, NULL,
                                           NULL, 0, &c));
    CHECK_STATUS(callseal_capture_write(c, NULL, 4), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_write_legs(c, NULL, frame, 2), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_capture_write_legs(c, frame, NULL, 2), CALLSEAL_E_NULL_ARG);
    /* Half a sample, and legs on a mono recording. */
    CHECK_STATUS(callseal_capture_write(c, frame, 3), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_capture_write_legs(c, frame, frame, 2), CALLSEAL_E_USAGE);
    CHECK_OK(callseal_capture_write(c, frame, 0));
    CHECK_OK(callseal_capture_write(c, frame, 4));
    CHECK_OK(callseal_capture_set_fsync_every(c, 0));
    CHECK_OK(callseal_capture_finish(c));
    CHECK_STATUS(callseal_capture_finish(c), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_capture_write(c, frame, 4), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_capture_abort(c), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_capture_set_fsync_every(c, 1), CALLSEAL_E_USAGE);
    callseal_capture_free(c);
    CHECK(file_exists(path) && count_entries(sub) == 1);
    {
        uint8_t *wav;
        size_t len;
        wav_view w;
        char out[600];
        snprintf(out, sizeof out, "%s/x.wav", sub);
        CHECK_OK(callseal_open_playable_path(key.identity_file, path, out, NULL));
        wav = read_file(out, &len);
        CHECK(wav != NULL);
        CHECK(parse_wav(wav, len, &w) == 0 && w.data_size == 4);
        CHECK(memcmp(wav + w.data_off, frame, 4) == 0);
        free(wav);
        CHECK(remove(out) == 0);
    }

    /* Abort removes the temporary file and leaves the old recording. */
    CHECK(remove(path) == 0);
    CHECK_OK(callseal_capture_new_pcm_path(recips, 1, path, 8000, 1, CALLSEAL_ENCODING_S16, NULL,
                                           NULL, 0, &c));
    CHECK_OK(callseal_capture_write(c, frame, 4));
    CHECK(count_entries(sub) == 1);
    CHECK_OK(callseal_capture_abort(c));
    CHECK(count_entries(sub) == 0);
    CHECK_STATUS(callseal_capture_abort(c), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_capture_finish(c), CALLSEAL_E_USAGE);
    CHECK_STATUS(callseal_capture_write(c, frame, 4), CALLSEAL_E_USAGE);
    callseal_capture_free(c);

    /* Free before finish abandons the recording too. */
    CHECK_OK(callseal_capture_new_mp3_path(recips, 1, path, NULL, NULL, 0, &c));
    CHECK_OK(callseal_capture_write(c, frame, 3));
    CHECK(count_entries(sub) == 1);
    callseal_capture_free(c);
    CHECK(count_entries(sub) == 0);
}

static void test_open_playable_errors(void) {
    char sub[512], path[600], out[600], missing[600];
    test_key other;
    CHECK(make_key(&other) == 0);
    CHECK(subdir(sub, sizeof sub, "openerr") == 0);
    snprintf(path, sizeof path, "%s/a.wav.age", sub);
    snprintf(out, sizeof out, "%s/a.wav", sub);
    snprintf(missing, sizeof missing, "%s/missing.age", sub);
    CHECK_OK(capture_pcm(path, 8000, 1, CALLSEAL_ENCODING_S16, META_KEYS, META_VALUES, 2, 320, 13));
    CHECK_STATUS(callseal_open_playable_path(NULL, path, out, NULL), CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_open_playable_path(key.identity_file, NULL, out, NULL),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_open_playable_path(key.identity_file, path, NULL, NULL),
                 CALLSEAL_E_NULL_ARG);
    CHECK_STATUS(callseal_open_playable_path(other.identity_file, path, out, NULL),
                 CALLSEAL_E_NO_MATCH);
    CHECK_STATUS(callseal_open_playable_path("garbage", path, out, NULL),
                 CALLSEAL_E_INVALID_IDENTITY);
    CHECK_STATUS(callseal_open_playable_path(key.identity_file, missing, out, NULL),
                 CALLSEAL_E_IO);
    CHECK(!file_exists(out) && count_entries(sub) == 1);
}

typedef struct test_case {
    const char *name;
    void (*run)(void);
} test_case;

static const test_case TESTS[] = {
    {"s16_mono_capture_opens_as_exact_wav", test_s16_mono_capture_opens_as_exact_wav},
    {"mulaw_callback_capture", test_mulaw_callback_capture},
    {"stereo_legs_are_interleaved", test_stereo_legs_are_interleaved},
    {"mp3_capture_open_clip_info", test_mp3_capture_open_clip_info},
    {"wav_clip_is_exact", test_wav_clip_is_exact},
    {"clip_errors", test_clip_errors},
    {"recording_info_and_metadata", test_recording_info_and_metadata},
    {"expect_call_id", test_expect_call_id},
    {"recover_crashed_capture", test_recover_crashed_capture},
    {"capture_new_argument_errors", test_capture_new_argument_errors},
    {"capture_wrong_order_and_nulls", test_capture_wrong_order_and_nulls},
    {"open_playable_errors", test_open_playable_errors},
};

int main(int argc, char **argv) {
    size_t i, passed = 0, failed = 0;
    char cmd[512];
    snprintf(dir, sizeof dir, "%s/callseal-audio-XXXXXX", argc > 1 ? argv[1] : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    if (make_key(&key) != 0) {
        fprintf(stderr, "cannot make a key\n");
        return 2;
    }
    recips[0] = key.recipient;
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
