/* Helpers shared by the C tests; see common.h. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

int test_failed;

int mem_sink_write(void *userdata, const uint8_t *buf, size_t len) {
    mem_sink *s = (mem_sink *)userdata;
    s->calls++;
    if (s->fail_from_call != 0 && s->calls >= s->fail_from_call) {
        return s->fail_errno;
    }
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + len) {
            cap *= 2;
        }
        uint8_t *grown = (uint8_t *)realloc(s->data, cap);
        if (grown == NULL) {
            return ENOMEM;
        }
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, buf, len);
    s->len += len;
    return 0;
}

void mem_sink_free(mem_sink *s) {
    free(s->data);
    memset(s, 0, sizeof *s);
}

uint8_t pattern_byte(uint64_t i, unsigned seed) {
    uint64_t x = i * 0x9E3779B97F4A7C15ull + seed * 0x632BE59BD9B4E019ull;
    x ^= x >> 29;
    return (uint8_t)(x ^ (x >> 17));
}

void fill_pattern(uint8_t *buf, size_t len, uint64_t offset, unsigned seed) {
    size_t i;
    for (i = 0; i < len; i++) {
        buf[i] = pattern_byte(offset + i, seed);
    }
}

int matches_pattern(const uint8_t *buf, size_t len, uint64_t offset, unsigned seed) {
    size_t i;
    for (i = 0; i < len; i++) {
        if (buf[i] != pattern_byte(offset + i, seed)) {
            return 0;
        }
    }
    return 1;
}

uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL) {
        return NULL;
    }
    for (;;) {
        size_t got;
        if (n == cap) {
            uint8_t *grown;
            cap = cap ? cap * 2 : 65536;
            grown = (uint8_t *)realloc(data, cap);
            if (grown == NULL) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = grown;
        }
        got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    fclose(f);
    *len = n;
    return data;
}

int write_file(const char *path, const uint8_t *data, size_t len) {
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL) {
        return -1;
    }
    ok = fwrite(data, 1, len, f) == len;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

int make_key(test_key *key) {
    if (callseal_identity_generate(key->identity, sizeof key->identity, key->recipient,
                                   sizeof key->recipient) != CALLSEAL_OK) {
        return -1;
    }
    snprintf(key->identity_file, sizeof key->identity_file, "# test key\n%s\n", key->identity);
    return 0;
}

callseal_status open_and_read_all(const char *identities, const char *path, uint8_t **out,
                                  size_t *out_len) {
    callseal_opener *o = NULL;
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    callseal_status st = callseal_opener_new_path(identities, path, &o);
    if (st != CALLSEAL_OK) {
        return st;
    }
    for (;;) {
        size_t n = 0;
        if (cap - len < 65536) {
            uint8_t *grown;
            cap = cap ? cap * 2 : 131072;
            grown = (uint8_t *)realloc(data, cap);
            if (grown == NULL) {
                free(data);
                callseal_opener_free(o);
                return CALLSEAL_E_IO;
            }
            data = grown;
        }
        st = callseal_opener_read(o, data + len, cap - len, &n);
        if (st != CALLSEAL_OK) {
            free(data);
            callseal_opener_free(o);
            return st;
        }
        if (n == 0) {
            break;
        }
        len += n;
    }
    callseal_opener_free(o);
    *out = data;
    *out_len = len;
    return CALLSEAL_OK;
}
