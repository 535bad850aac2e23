"""callseal: seal call recordings at capture time as standard age v1 files.

A Pythonic binding of the callseal C library: :class:`Sealer` (a writable
file object that seals what is written to it), :class:`Opener` (a readable,
seekable file object over a sealed file), :func:`recover`, :func:`inspect`,
key helpers, and exceptions derived from :class:`CallsealError`.

Each object may be used from one thread at a time; distinct objects may be
used from different threads at once (the C calls release the GIL).
"""

import ctypes
import errno
import io
import os
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Optional, Sequence, Tuple, Union

from . import _lib
from ._lib import lib

__all__ = [
    "CallsealError", "UsageError", "PanicError", "InvalidArgumentError", "CallsealIOError",
    "InvalidIdentityError", "InvalidRecipientError", "NoRecipientsError", "ArmorError", "HeaderError",
    "NoMatchError", "HeaderMacError", "PayloadError", "TruncatedError", "TamperedError",
    "Sealer", "Opener", "Recovery", "Inspection", "recover", "inspect",
    "generate_identity", "recipient_from_identity", "library_version",
]

# Status codes (include/callseal.h).
OK = 0
E_NULL_ARG, E_BUFFER_TOO_SMALL, E_USAGE, E_PANIC, E_INVALID_ARG = 1, 2, 3, 4, 5
E_IO = 10
E_INVALID_IDENTITY, E_INVALID_RECIPIENT, E_NO_RECIPIENTS = 20, 21, 22
E_ARMOR, E_HEADER, E_NO_MATCH, E_HEADER_MAC = 30, 31, 32, 33
E_PAYLOAD_TRUNCATED, E_PAYLOAD_TAMPERED, E_PAYLOAD_INVALID = 40, 41, 42

ENDING_FINAL_SIZED, ENDING_FULL_CHUNK, ENDING_TRUNCATED = 0, 1, 2


class CallsealError(Exception):
    """A callseal call failed: ``status`` is the C status code, ``message`` the detail."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{message} [{status_name(status)}]")
        self.status = status
        self.message = message


class UsageError(CallsealError):
    """Call in the wrong order (write after finish, finish twice, ...)."""


class PanicError(CallsealError):
    """An internal bug in the library was caught; the object is unusable."""


class InvalidArgumentError(CallsealError, ValueError):
    """An argument has an impossible value (or a NUL byte in a string)."""


class CallsealIOError(CallsealError, OSError):
    """Reading or writing a file (or the sink) failed."""


class InvalidIdentityError(CallsealError, ValueError):
    """Not an AGE-SECRET-KEY-1... identity (the message never repeats it)."""


class InvalidRecipientError(CallsealError, ValueError):
    """Not an age1... recipient."""


class NoRecipientsError(CallsealError, ValueError):
    """Sealing needs at least one recipient."""


class HeaderError(CallsealError):
    """Not an age file, or a malformed header."""


class ArmorError(HeaderError):
    """Malformed ASCII armor."""


class NoMatchError(CallsealError):
    """None of the identities opens the file."""


class HeaderMacError(CallsealError):
    """The header MAC does not verify: the header was altered."""


class PayloadError(CallsealError):
    """The encrypted payload is not intact."""


class TruncatedError(PayloadError):
    """The file ends before its final chunk (the writer died, or the file was cut)."""


class TamperedError(PayloadError):
    """A payload chunk failed authentication."""


_ERRORS = {
    E_NULL_ARG: InvalidArgumentError, E_BUFFER_TOO_SMALL: InvalidArgumentError, E_USAGE: UsageError,
    E_PANIC: PanicError, E_INVALID_ARG: InvalidArgumentError, E_IO: CallsealIOError,
    E_INVALID_IDENTITY: InvalidIdentityError, E_INVALID_RECIPIENT: InvalidRecipientError,
    E_NO_RECIPIENTS: NoRecipientsError, E_ARMOR: ArmorError, E_HEADER: HeaderError,
    E_NO_MATCH: NoMatchError, E_HEADER_MAC: HeaderMacError, E_PAYLOAD_TRUNCATED: TruncatedError,
    E_PAYLOAD_TAMPERED: TamperedError, E_PAYLOAD_INVALID: PayloadError,
}


def status_name(status: int) -> str:
    """The name of a status code, e.g. ``CALLSEAL_E_NO_MATCH``."""
    return lib.callseal_status_str(status).decode().split(":", 1)[0]


def _last_error() -> str:
    need = lib.callseal_last_error(None, 0)
    buf = ctypes.create_string_buffer(need + 1)
    lib.callseal_last_error(buf, need + 1)
    return buf.value.decode("utf-8", "replace")


def _check(status: int) -> None:
    if status != OK:
        raise _ERRORS.get(status, CallsealError)(status, _last_error())


def _cstr(text: Union[str, bytes, os.PathLike], what: str) -> bytes:
    if isinstance(text, os.PathLike):
        text = os.fsencode(text)
    data = text.encode() if isinstance(text, str) else bytes(text)
    if b"\0" in data:
        raise InvalidArgumentError(E_INVALID_ARG, f"{what} contains a NUL byte")
    return data


def _recipients(recipients: Iterable[str]):
    items = [_cstr(r, "recipient") for r in ([recipients] if isinstance(recipients, str) else recipients)]
    return (ctypes.c_char_p * max(len(items), 1))(*items), len(items)


def _identities(identities: Union[str, Sequence[str]]) -> bytes:
    """Identity-file text, or a list of AGE-SECRET-KEY-1... strings."""
    text = identities if isinstance(identities, str) else "\n".join(identities)
    return _cstr(text, "identities")


def library_version() -> str:
    """The version of the loaded libcallseal."""
    return lib.callseal_version().decode()


__version__ = library_version()


def generate_identity() -> Tuple[str, str]:
    """A new key pair: ``(identity, recipient)``, i.e. ``("AGE-SECRET-KEY-1...", "age1...")``."""
    ident = ctypes.create_string_buffer(75)
    recip = ctypes.create_string_buffer(63)
    _check(lib.callseal_identity_generate(ident, len(ident), recip, len(recip)))
    try:
        return ident.value.decode(), recip.value.decode()
    finally:
        ctypes.memset(ident, 0, len(ident))


def recipient_from_identity(identity: str) -> str:
    """The ``age1...`` recipient of an ``AGE-SECRET-KEY-1...`` identity."""
    recip = ctypes.create_string_buffer(63)
    _check(lib.callseal_recipient_from_identity(_cstr(identity, "identity"), recip, len(recip)))
    return recip.value.decode()


class _StreamSink:
    """A C write callback that writes to a Python binary file object."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.error: Optional[BaseException] = None
        self.callback = _lib.WRITE_FN(self._write)

    def _write(self, _userdata, buf, length):
        try:
            data = ctypes.string_at(buf, length)
            view = memoryview(data)
            while view:
                n = self.stream.write(view)
                view = view[n if n is not None else len(view):]
            return 0
        except OSError as e:
            self.error = e
            return e.errno or errno.EIO
        except BaseException as e:  # never let an exception unwind into C
            self.error = e
            return errno.EIO

    def check(self, status: int) -> None:
        if status != OK and self.error is not None:
            error, self.error = self.error, None
            raise _ERRORS.get(status, CallsealError)(status, _last_error()) from error
        _check(status)


class Sealer(io.RawIOBase):
    """A write-only file object that seals a recording as it is written.

    ``Sealer(path, recipients)`` writes to a temporary file beside ``path``,
    renamed onto it by :meth:`finish`; :meth:`abort` (or leaving a ``with``
    block by an exception, or closing unfinished) removes it. Use
    :meth:`Sealer.to_stream` to seal into an open binary file object.
    """

    def __init__(self, path: Union[str, os.PathLike], recipients: Iterable[str], *, _sink=None):
        super().__init__()
        self._handle = ctypes.c_void_p()
        self._sink = _sink
        self._finished = False
        arr, n = _recipients(recipients)
        if _sink is None:
            _check(lib.callseal_sealer_new_path(arr, n, _cstr(path, "path"), ctypes.byref(self._handle)))
        else:
            _sink.check(lib.callseal_sealer_new_callback(arr, n, _sink.callback, None, ctypes.byref(self._handle)))

    @classmethod
    def to_stream(cls, stream: BinaryIO, recipients: Iterable[str]) -> "Sealer":
        """Seals into ``stream`` (anything with a binary ``write``)."""
        return cls("", recipients, _sink=_StreamSink(stream))

    def _call(self, status: int) -> None:
        if self._sink is not None:
            self._sink.check(status)
        else:
            _check(status)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        """Seals ``data`` (bytes-like); returns its length."""
        if self.closed:
            raise ValueError("write to a closed Sealer")
        if isinstance(data, bytes):
            self._call(lib.callseal_sealer_write(self._handle, data, len(data)))
            return len(data)
        view = memoryview(data).cast("B")
        if view.readonly:
            self._call(lib.callseal_sealer_write(self._handle, view.tobytes(), len(view)))
        else:
            cbuf = (ctypes.c_uint8 * len(view)).from_buffer(view) if len(view) else (ctypes.c_uint8 * 1)()
            self._call(lib.callseal_sealer_write(self._handle, cbuf, len(view)))
        return len(view)

    def finish(self) -> None:
        """Seals the final chunk and completes the recording (renames a path sink)."""
        if self.closed:
            raise ValueError("finish on a closed Sealer")
        self._call(lib.callseal_sealer_finish(self._handle))
        self._finished = True

    def abort(self) -> None:
        """Abandons the recording; a path sink's temporary file is removed."""
        if self.closed:
            raise ValueError("abort on a closed Sealer")
        self._call(lib.callseal_sealer_abort(self._handle))

    def close(self) -> None:
        """Frees the sealer; an unfinished recording is abandoned."""
        if not self.closed and self._handle:
            lib.callseal_sealer_free(self._handle)
            self._handle = ctypes.c_void_p()
        super().close()

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and not self._finished:
                self.finish()
        finally:
            self.close()
        return False

    def __del__(self):
        self.close()


class Opener(io.RawIOBase):
    """A read-only, seekable file object over a sealed file.

    ``identities`` is identity-file text (as ``age-keygen`` writes) or a list
    of ``AGE-SECRET-KEY-1...`` strings. Only authenticated bytes are
    returned; a damaged file raises a :class:`PayloadError` from ``read``.
    """

    def __init__(self, path: Union[str, os.PathLike], identities: Union[str, Sequence[str]]):
        super().__init__()
        self._handle = ctypes.c_void_p()
        self._pos = 0
        _check(lib.callseal_opener_new_path(_identities(identities), _cstr(path, "path"), ctypes.byref(self._handle)))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.closed:
            raise ValueError("read from a closed Opener")
        view = memoryview(buffer).cast("B")
        if len(view) == 0:
            return 0
        n = ctypes.c_size_t()
        cbuf = (ctypes.c_uint8 * len(view)).from_buffer(view)
        _check(lib.callseal_opener_read(self._handle, cbuf, len(view), ctypes.byref(n)))
        self._pos += n.value
        return n.value

    def read(self, size: int = -1) -> bytes:
        """Reads ``size`` bytes (fewer only at the end), or everything when negative."""
        if size is None or size < 0:
            return self.readall()
        out = bytearray(size)
        view = memoryview(out)
        got = 0
        while got < size:
            n = self.readinto(view[got:])
            if n == 0:
                break
            got += n
        del view
        del out[got:]
        return bytes(out)

    def size(self) -> int:
        """The authenticated plaintext size (verifies the final chunk)."""
        out = ctypes.c_uint64()
        _check(lib.callseal_opener_plaintext_size(self._handle, ctypes.byref(out)))
        return out.value

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self.closed:
            raise ValueError("seek on a closed Opener")
        if whence not in (io.SEEK_SET, io.SEEK_CUR, io.SEEK_END):
            raise ValueError(f"invalid whence {whence}")
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: None}[whence]
        target = (self.size() if base is None else base) + offset
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        _check(lib.callseal_opener_seek(self._handle, target))
        self._pos = target
        return target

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed and self._handle:
            lib.callseal_opener_free(self._handle)
            self._handle = ctypes.c_void_p()
        super().close()

    def __del__(self):
        self.close()


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover` salvaged."""

    recovered_bytes: int
    max_lost_bytes: int
    complete: bool
    #: Why it stopped early: None when complete, else the exception class.
    stopped_by: Optional[type]


def recover(path: Union[str, os.PathLike], identities: Union[str, Sequence[str]], out: BinaryIO) -> Recovery:
    """Writes every authenticated chunk of a possibly truncated file to ``out``."""
    sink = _StreamSink(out)
    report = _lib.Recovery()
    sink.check(lib.callseal_recover_path(_identities(identities), _cstr(path, "path"), sink.callback, None,
                                         ctypes.byref(report)))
    return Recovery(
        recovered_bytes=report.recovered_bytes,
        max_lost_bytes=report.max_lost_bytes,
        complete=bool(report.complete),
        stopped_by=None if report.stopped_by == OK else _ERRORS.get(report.stopped_by, PayloadError),
    )


@dataclass(frozen=True)
class Inspection:
    """What :func:`inspect` learns without a key (sizes are not authenticated)."""

    stanza_count: int
    header_len: int
    payload_len: int
    chunk_count: int
    plaintext_len: int
    ending: str  # "final-sized", "full-chunk" or "truncated"
    armored: bool


def inspect(path: Union[str, os.PathLike]) -> Inspection:
    """Describes a sealed file's header and payload sizes, with no key."""
    info = _lib.Inspection()
    _check(lib.callseal_inspect_path(_cstr(path, "path"), ctypes.byref(info)))
    return Inspection(
        stanza_count=info.stanza_count,
        header_len=info.header_len,
        payload_len=info.payload_len,
        chunk_count=info.chunk_count,
        plaintext_len=info.plaintext_len,
        ending={ENDING_FINAL_SIZED: "final-sized", ENDING_FULL_CHUNK: "full-chunk"}.get(info.ending, "truncated"),
        armored=bool(info.armored),
    )
