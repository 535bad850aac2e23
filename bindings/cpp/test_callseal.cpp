// Tests of the C++17 wrapper: round trips, RAII abort, exceptions with status.
#include "callseal.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

static int failures = 0, passes = 0;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::cerr << __FILE__ << ":" << __LINE__ << ": expected " #cond "\n";                  \
            failures++;                                                                            \
        } else {                                                                                   \
            passes++;                                                                              \
        }                                                                                          \
    } while (0)

template <typename F> static callseal_status status_of(F f) {
    try {
        f();
    } catch (const callseal::Error &e) {
        return e.status();
    }
    return CALLSEAL_OK;
}

static std::vector<std::uint8_t> audio(std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; i++) {
        v[i] = static_cast<std::uint8_t>(i * 31 + i / 251);
    }
    return v;
}

static bool exists(const std::string &path) { return access(path.c_str(), F_OK) == 0; }

int main() {
    char tmpl[] = "/tmp/callseal-cpp-XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    const std::string path = dir + "/call.age";
    const callseal::KeyPair key = callseal::generate_identity();
    const callseal::KeyPair other = callseal::generate_identity();
    EXPECT(callseal::recipient_from_identity(key.identity) == key.recipient);
    EXPECT(!callseal::version().empty());

    // Round trip through a path, in 320-byte frames, then seek.
    const auto data = audio(200000);
    {
        callseal::Sealer rec(path, {key.recipient, other.recipient});
        for (std::size_t i = 0; i < data.size(); i += 320) {
            rec.write(data.data() + i, std::min<std::size_t>(320, data.size() - i));
        }
        rec.finish();
        EXPECT(status_of([&] { rec.finish(); }) == CALLSEAL_E_USAGE);
        EXPECT(status_of([&] { rec.write(data.data(), 1); }) == CALLSEAL_E_USAGE);
    }
    {
        callseal::Opener audio_in(key.identity, path);
        EXPECT(audio_in.size() == data.size());
        EXPECT(audio_in.read_all() == data);
        audio_in.seek(65530);
        std::uint8_t buf[10];
        EXPECT(audio_in.read(buf, sizeof buf) == 6);
        EXPECT(std::equal(buf, buf + 6, data.begin() + 65530));
        callseal::Opener moved = std::move(audio_in);
        moved.seek(0);
        EXPECT(moved.read_all() == data);
        EXPECT(status_of([&] { audio_in.seek(0); }) == CALLSEAL_E_USAGE);
    }
    EXPECT(callseal::Opener(other.identity, path).read_all() == data);
    EXPECT(callseal::inspect(path).stanza_count == 2);

    // RAII: a sealer destroyed unfinished (say, by an exception) leaves nothing.
    const std::string aborted = dir + "/aborted.age";
    try {
        callseal::Sealer rec(aborted, {key.recipient});
        rec.write(data);
        throw std::runtime_error("call dropped");
    } catch (const std::runtime_error &) {
    }
    EXPECT(!exists(aborted));

    // Callback sink into memory; a crashed writer is recovered chunk by chunk.
    std::vector<std::uint8_t> sealed;
    {
        callseal::Sealer rec(
            [&](const std::uint8_t *buf, std::size_t len) {
                sealed.insert(sealed.end(), buf, buf + len);
                return 0;
            },
            {key.recipient});
        rec.write(data);
    } // not finished
    const std::string crashed = dir + "/crashed.age";
    std::ofstream(crashed, std::ios::binary).write(reinterpret_cast<const char *>(sealed.data()),
                                                   static_cast<std::streamsize>(sealed.size()));
    std::vector<std::uint8_t> salvaged;
    callseal_recovery r = callseal::recover(key.identity, crashed, salvaged);
    EXPECT(!r.complete && r.stopped_by == CALLSEAL_E_PAYLOAD_TRUNCATED);
    EXPECT(r.recovered_bytes == 196608 && salvaged.size() == 196608);
    EXPECT(std::equal(salvaged.begin(), salvaged.end(), data.begin()));
    EXPECT(status_of([&] { callseal::Opener(key.identity, crashed).read_all(); }) ==
           CALLSEAL_E_PAYLOAD_TRUNCATED);

    // A throwing callback becomes CALLSEAL_E_IO, not a crash.
    EXPECT(status_of([&] {
               callseal::Sealer rec([](const std::uint8_t *, std::size_t) -> int {
                   throw std::runtime_error("disk gone");
               },
                                    {key.recipient});
           }) == CALLSEAL_E_IO);

    // Exceptions carry the status and the detailed message.
    try {
        callseal::Opener(other.identity, crashed);
        EXPECT(false);
    } catch (const callseal::Error &e) {
        EXPECT(e.status() == CALLSEAL_E_NO_MATCH);
        EXPECT(std::string(e.what()).find("CALLSEAL_E_NO_MATCH") != std::string::npos);
    }
    EXPECT(status_of([&] { callseal::Sealer(path, {}); }) == CALLSEAL_E_NO_RECIPIENTS);
    EXPECT(status_of([&] { callseal::Sealer(path, {"age1nope"}); }) == CALLSEAL_E_INVALID_RECIPIENT);
    EXPECT(status_of([&] { callseal::recipient_from_identity("x"); }) == CALLSEAL_E_INVALID_IDENTITY);
    EXPECT(status_of([&] { callseal::Opener(key.identity, dir + "/none.age"); }) == CALLSEAL_E_IO);

    std::system(("rm -rf '" + dir + "'").c_str());
    std::cout << passes << " passed, " << failures << " failed\n";
    return failures == 0 ? 0 : 1;
}
