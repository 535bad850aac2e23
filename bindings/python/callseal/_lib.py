"""Loading libcallseal and declaring its C functions (ctypes)."""

import ctypes
import ctypes.util
import os
from pathlib import Path

c_status = ctypes.c_int32
WRITE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t)


class Recovery(ctypes.Structure):
    _fields_ = [
        ("recovered_bytes", ctypes.c_uint64),
        ("max_lost_bytes", ctypes.c_uint64),
        ("complete", ctypes.c_bool),
        ("stopped_by", c_status),
    ]


class Inspection(ctypes.Structure):
    _fields_ = [
        ("stanza_count", ctypes.c_size_t),
        ("header_len", ctypes.c_uint64),
        ("payload_len", ctypes.c_uint64),
        ("chunk_count", ctypes.c_uint64),
        ("plaintext_len", ctypes.c_uint64),
        ("ending", ctypes.c_int32),
        ("armored", ctypes.c_bool),
    ]


def _candidates():
    env = os.environ.get("CALLSEAL_LIB")
    if env:
        yield env
        return
    found = ctypes.util.find_library("callseal")
    if found:
        yield found
    # A source checkout: bindings/python/callseal/ -> repository root.
    root = Path(__file__).resolve().parents[3]
    target = Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
    yield str(target / "release" / "libcallseal.so")


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise ImportError(
        "cannot load libcallseal; build it (`make`) and set CALLSEAL_LIB to the .so: " + "; ".join(errors)
    )


lib = _load()

_P = ctypes.c_void_p
_S = ctypes.c_char_p
_SIGS = {
    "callseal_version": (_S, []),
    "callseal_status_str": (_S, [c_status]),
    "callseal_last_error": (ctypes.c_size_t, [ctypes.c_char_p, ctypes.c_size_t]),
    "callseal_identity_generate": (c_status, [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]),
    "callseal_recipient_from_identity": (c_status, [_S, ctypes.c_char_p, ctypes.c_size_t]),
    "callseal_sealer_new_path": (c_status, [ctypes.POINTER(_S), ctypes.c_size_t, _S, ctypes.POINTER(_P)]),
    "callseal_sealer_new_callback": (
        c_status,
        [ctypes.POINTER(_S), ctypes.c_size_t, WRITE_FN, _P, ctypes.POINTER(_P)],
    ),
    "callseal_sealer_write": (c_status, [_P, ctypes.c_void_p, ctypes.c_size_t]),
    "callseal_sealer_finish": (c_status, [_P]),
    "callseal_sealer_abort": (c_status, [_P]),
    "callseal_sealer_free": (None, [_P]),
    "callseal_opener_new_path": (c_status, [_S, _S, ctypes.POINTER(_P)]),
    "callseal_opener_read": (c_status, [_P, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    "callseal_opener_seek": (c_status, [_P, ctypes.c_uint64]),
    "callseal_opener_plaintext_size": (c_status, [_P, ctypes.POINTER(ctypes.c_uint64)]),
    "callseal_opener_free": (None, [_P]),
    "callseal_recover_path": (c_status, [_S, _S, WRITE_FN, _P, ctypes.POINTER(Recovery)]),
    "callseal_inspect_path": (c_status, [_S, ctypes.POINTER(Inspection)]),
}
for _name, (_res, _args) in _SIGS.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args
