// callseal.hpp: a header-only C++17 RAII wrapper over the callseal C ABI.
//
//   callseal::KeyPair key = callseal::generate_identity();
//   {
//       callseal::Sealer rec("call.age", {key.recipient});
//       rec.write(frame, 320);               // throws callseal::Error
//       rec.finish();                        // destructor without finish = abort
//   }
//   callseal::Opener audio(key.identity, "call.age");
//   std::vector<uint8_t> all = audio.read_all();
//
// Errors throw callseal::Error, which carries the status code (status())
// and the library's detailed message (what()). Objects are movable, not
// copyable; each may be used from one thread at a time.
#ifndef CALLSEAL_HPP
#define CALLSEAL_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "callseal.h"

namespace callseal {

/// A failed callseal call: the status code and the detailed message.
class Error : public std::runtime_error {
  public:
    Error(callseal_status status, const std::string &message)
        : std::runtime_error(message + " [" + name_of(status) + "]"), status_(status) {}

    /// The CALLSEAL_E_* code.
    callseal_status status() const noexcept { return status_; }

    /// The name of a status code, e.g. "CALLSEAL_E_NO_MATCH".
    static std::string name_of(callseal_status status) {
        std::string text = callseal_status_str(status);
        return text.substr(0, text.find(':'));
    }

  private:
    callseal_status status_;
};

namespace detail {
inline std::string last_error() {
    std::string msg(callseal_last_error(nullptr, 0) + 1, '\0');
    msg.resize(callseal_last_error(&msg[0], msg.size()));
    return msg;
}

inline void check(callseal_status status) {
    if (status != CALLSEAL_OK) {
        throw Error(status, last_error());
    }
}

/// The recipients as C strings, plus a NULL terminator so that data() is
/// never NULL, even for an empty list (which the library then reports as
/// CALLSEAL_E_NO_RECIPIENTS rather than CALLSEAL_E_NULL_ARG).
inline std::vector<const char *> c_strings(const std::vector<std::string> &items) {
    std::vector<const char *> out;
    out.reserve(items.size() + 1);
    for (const auto &s : items) {
        out.push_back(s.c_str());
    }
    out.push_back(nullptr);
    return out;
}
} // namespace detail

/// The linked library's version, e.g. "0.1.0".
inline std::string version() { return callseal_version(); }

/// A key pair: the secret identity and its public recipient.
struct KeyPair {
    std::string identity;  ///< AGE-SECRET-KEY-1... (a secret)
    std::string recipient; ///< age1...
};

/// Generates a new key pair.
inline KeyPair generate_identity() {
    char id[CALLSEAL_IDENTITY_BUF_LEN];
    char rc[CALLSEAL_RECIPIENT_BUF_LEN];
    detail::check(callseal_identity_generate(id, sizeof id, rc, sizeof rc));
    KeyPair key{id, rc};
    volatile char *wipe = id;
    for (std::size_t i = 0; i < sizeof id; i++) {
        wipe[i] = 0;
    }
    return key;
}

/// The recipient of an identity string.
inline std::string recipient_from_identity(const std::string &identity) {
    char rc[CALLSEAL_RECIPIENT_BUF_LEN];
    detail::check(callseal_recipient_from_identity(identity.c_str(), rc, sizeof rc));
    return rc;
}

/// Seals one recording. Destroying a sealer that was not finished abandons
/// the recording (a path sink's temporary file is removed).
class Sealer {
  public:
    /// Receives sealed bytes; return 0 or an errno value.
    using WriteFn = std::function<int(const std::uint8_t *, std::size_t)>;

    /// Seals to `path` (temporary file beside it, renamed by finish()).
    Sealer(const std::string &path, const std::vector<std::string> &recipients) {
        auto list = detail::c_strings(recipients);
        detail::check(callseal_sealer_new_path(list.data(), recipients.size(), path.c_str(), &handle_));
    }

    /// Seals into a callback (e.g. appending to a buffer or an open FILE *).
    Sealer(WriteFn write, const std::vector<std::string> &recipients)
        : sink_(new WriteFn(std::move(write))) {
        auto list = detail::c_strings(recipients);
        callseal_status st = callseal_sealer_new_callback(list.data(), recipients.size(), &Sealer::trampoline,
                                                          sink_, &handle_);
        if (st != CALLSEAL_OK) {
            delete sink_;
            sink_ = nullptr;
            detail::check(st);
        }
    }

    Sealer(const Sealer &) = delete;
    Sealer &operator=(const Sealer &) = delete;
    Sealer(Sealer &&other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), sink_(std::exchange(other.sink_, nullptr)) {}
    Sealer &operator=(Sealer &&other) noexcept {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, nullptr);
            sink_ = std::exchange(other.sink_, nullptr);
        }
        return *this;
    }
    ~Sealer() { reset(); }

    /// Seals `len` bytes.
    void write(const void *data, std::size_t len) {
        static const std::uint8_t empty = 0;
        const auto *bytes = len ? static_cast<const std::uint8_t *>(data) : &empty;
        detail::check(callseal_sealer_write(handle(), bytes, len));
    }
    void write(const std::vector<std::uint8_t> &data) { write(data.data(), data.size()); }

    /// Completes the recording.
    void finish() { detail::check(callseal_sealer_finish(handle())); }
    /// Abandons the recording.
    void abort() { detail::check(callseal_sealer_abort(handle())); }

  private:
    callseal_sealer *handle() const {
        if (handle_ == nullptr) {
            throw Error(CALLSEAL_E_USAGE, "this callseal::Sealer was moved from");
        }
        return handle_;
    }

    void reset() noexcept {
        callseal_sealer_free(handle_);
        handle_ = nullptr;
        delete sink_;
        sink_ = nullptr;
    }

    static int trampoline(void *userdata, const std::uint8_t *buf, std::size_t len) {
        try {
            return (*static_cast<WriteFn *>(userdata))(buf, len);
        } catch (...) {
            return 5; // EIO: never let an exception unwind into the library
        }
    }

    callseal_sealer *handle_ = nullptr;
    WriteFn *sink_ = nullptr;
};

/// Reads a sealed file (authenticated bytes only), with seeking.
class Opener {
  public:
    /// `identities` is identity-file text (one AGE-SECRET-KEY-1... per line).
    Opener(const std::string &identities, const std::string &path) {
        detail::check(callseal_opener_new_path(identities.c_str(), path.c_str(), &handle_));
    }
    Opener(const Opener &) = delete;
    Opener &operator=(const Opener &) = delete;
    Opener(Opener &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Opener &operator=(Opener &&other) noexcept {
        if (this != &other) {
            callseal_opener_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    ~Opener() { callseal_opener_free(handle_); }

    /// Reads up to `cap` bytes; returns 0 only at the authenticated end.
    std::size_t read(void *buf, std::size_t cap) {
        std::size_t n = 0;
        detail::check(callseal_opener_read(handle(), static_cast<std::uint8_t *>(buf), cap, &n));
        return n;
    }

    /// Reads everything from the current position to the end.
    std::vector<std::uint8_t> read_all() {
        std::vector<std::uint8_t> out;
        std::uint8_t buf[65536];
        for (std::size_t n; (n = read(buf, sizeof buf)) != 0;) {
            out.insert(out.end(), buf, buf + n);
        }
        return out;
    }

    /// Moves to plaintext byte `offset`.
    void seek(std::uint64_t offset) { detail::check(callseal_opener_seek(handle(), offset)); }

    /// The authenticated plaintext size.
    std::uint64_t size() {
        std::uint64_t out = 0;
        detail::check(callseal_opener_plaintext_size(handle(), &out));
        return out;
    }

  private:
    callseal_opener *handle() const {
        if (handle_ == nullptr) {
            throw Error(CALLSEAL_E_USAGE, "this callseal::Opener was moved from");
        }
        return handle_;
    }

    callseal_opener *handle_ = nullptr;
};

/// Salvages a possibly truncated recording into `out`.
inline callseal_recovery recover(const std::string &identities, const std::string &path,
                                 std::vector<std::uint8_t> &out) {
    callseal_recovery report{};
    auto append = [](void *userdata, const std::uint8_t *buf, std::size_t len) -> int {
        auto *v = static_cast<std::vector<std::uint8_t> *>(userdata);
        try {
            v->insert(v->end(), buf, buf + len);
            return 0;
        } catch (...) {
            return 12; // ENOMEM
        }
    };
    detail::check(callseal_recover_path(identities.c_str(), path.c_str(), append, &out, &report));
    return report;
}

/// Describes a sealed file without a key.
inline callseal_inspection inspect(const std::string &path) {
    callseal_inspection info{};
    detail::check(callseal_inspect_path(path.c_str(), &info));
    return info;
}

} // namespace callseal

#endif // CALLSEAL_HPP
