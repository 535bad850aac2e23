"""Tests of the Python binding over libcallseal (set CALLSEAL_LIB)."""

import io
import os
import threading

import pytest

import callseal


def audio(n: int, seed: int = 1) -> bytes:
    return bytes(((i * 31 + seed * 7 + i // 251) & 0xFF) for i in range(n))


@pytest.fixture
def key():
    return callseal.generate_identity()


def test_keys(key):
    identity, recipient = key
    assert identity.startswith("AGE-SECRET-KEY-1") and len(identity) == 74
    assert recipient.startswith("age1") and len(recipient) == 62
    assert callseal.recipient_from_identity(identity) == recipient
    with pytest.raises(callseal.InvalidIdentityError) as e:
        callseal.recipient_from_identity("AGE-SECRET-KEY-1NOPE")
    assert e.value.status == callseal.E_INVALID_IDENTITY
    assert "NOPE" not in str(e.value)


def test_version_is_the_library_version():
    assert callseal.__version__ == callseal.library_version()
    assert callseal.__version__.count(".") == 2


def test_path_round_trip_with_frames_and_seek(tmp_path, key):
    identity, recipient = key
    data = audio(300_000)
    path = tmp_path / "call.age"
    with callseal.Sealer(path, [recipient]) as rec:
        for i in range(0, len(data), 320):
            assert rec.write(data[i : i + 320]) == len(data[i : i + 320])
        assert not path.exists(), "nothing appears before finish"
    assert path.exists() and os.listdir(tmp_path) == ["call.age"]

    with callseal.Opener(path, identity) as f:
        assert f.readable() and f.seekable() and not f.writable()
        assert f.size() == len(data)
        assert f.read() == data
        assert f.read(10) == b""
        assert f.seek(65_530) == 65_530
        assert f.read(20) == data[65_530:65_550]
        assert f.tell() == 65_550
        assert f.seek(-5, io.SEEK_END) == len(data) - 5
        assert f.read() == data[-5:]
        assert f.seek(-10, io.SEEK_CUR) == len(data) - 10
        assert f.read(3) == data[-10:-7]
        buf = bytearray(1000)
        f.seek(100)
        assert f.readinto(buf) == 1000 and bytes(buf) == data[100:1100]


def test_stream_sink_and_identity_list(tmp_path, key):
    identity, recipient = key
    other_id, other_r = callseal.generate_identity()
    sink = io.BytesIO()
    with callseal.Sealer.to_stream(sink, [recipient, other_r]) as rec:
        rec.write(bytearray(b"frame one"))
        rec.write(memoryview(b"frame two"))
    path = tmp_path / "s.age"
    path.write_bytes(sink.getvalue())
    assert sink.getvalue().startswith(b"age-encryption.org/v1\n")
    with callseal.Opener(path, [other_id]) as f:
        assert f.read() == b"frame oneframe two"
    with callseal.Opener(str(path), f"# identity file\n{identity}\n") as f:
        assert f.read() == b"frame oneframe two"


def test_exception_in_with_block_aborts(tmp_path, key):
    _, recipient = key
    path = tmp_path / "aborted.age"
    path.write_bytes(b"old recording")
    with pytest.raises(RuntimeError):
        with callseal.Sealer(path, [recipient]) as rec:
            rec.write(b"x" * 1000)
            raise RuntimeError("call dropped")
    assert path.read_bytes() == b"old recording"
    assert os.listdir(tmp_path) == ["aborted.age"]


def test_wrong_order_is_a_usage_error(tmp_path, key):
    _, recipient = key
    rec = callseal.Sealer(tmp_path / "o.age", [recipient])
    rec.write(b"abc")
    rec.finish()
    with pytest.raises(callseal.UsageError) as e:
        rec.write(b"more")
    assert e.value.status == callseal.E_USAGE
    assert "already finished" in e.value.message
    with pytest.raises(callseal.UsageError):
        rec.finish()
    rec.close()
    rec.close()  # closing twice is harmless
    with pytest.raises(ValueError):
        rec.write(b"closed")


def test_sealer_argument_errors(tmp_path, key):
    _, recipient = key
    with pytest.raises(callseal.NoRecipientsError):
        callseal.Sealer(tmp_path / "x.age", [])
    with pytest.raises(callseal.InvalidRecipientError) as e:
        callseal.Sealer(tmp_path / "x.age", [recipient, "age1bogus"])
    assert "age1bogus" in e.value.message
    with pytest.raises(callseal.CallsealIOError):
        callseal.Sealer(tmp_path / "missing-dir" / "x.age", [recipient])
    with pytest.raises(callseal.InvalidArgumentError):
        callseal.Sealer("a\0b", [recipient])
    assert os.listdir(tmp_path) == []


def test_failing_stream_reports_io_error_with_cause(key):
    _, recipient = key

    class Full(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            raise OSError(28, "No space left on device")

    with pytest.raises(callseal.CallsealIOError) as e:
        callseal.Sealer.to_stream(Full(), [recipient])
    assert isinstance(e.value.__cause__, OSError)
    assert "errno 28" in e.value.message


def test_open_errors(tmp_path, key):
    identity, recipient = key
    other, _ = callseal.generate_identity()
    path = tmp_path / "c.age"
    with callseal.Sealer(path, recipient) as rec:
        rec.write(audio(1000))
    with pytest.raises(callseal.NoMatchError):
        callseal.Opener(path, other)
    with pytest.raises(callseal.InvalidIdentityError):
        callseal.Opener(path, "# no keys\n")
    with pytest.raises(callseal.CallsealIOError):
        callseal.Opener(tmp_path / "nope.age", identity)
    (tmp_path / "x.wav").write_bytes(b"RIFF....WAVEfmt ")
    with pytest.raises(callseal.HeaderError):
        callseal.Opener(tmp_path / "x.wav", identity)
    raw = bytearray(path.read_bytes())
    mac = raw.index(b"\n--- ") + 5
    raw[mac] = ord("B") if raw[mac] == ord("A") else ord("A")
    (tmp_path / "mac.age").write_bytes(bytes(raw))
    with pytest.raises(callseal.HeaderMacError):
        callseal.Opener(tmp_path / "mac.age", identity)


def test_truncated_and_tampered_payloads(tmp_path, key):
    identity, recipient = key
    data = audio(200_000)
    sink = io.BytesIO()
    rec = callseal.Sealer.to_stream(sink, [recipient])
    rec.write(data)
    rec.close()  # the writer "dies" before finish
    crashed = tmp_path / "crashed.age"
    crashed.write_bytes(sink.getvalue())

    with callseal.Opener(crashed, identity) as f:
        got = bytearray()
        with pytest.raises(callseal.TruncatedError) as e:
            while chunk := f.read(16_384):  # divides a 64 KiB chunk: no read spans the cut
                got += chunk
        assert e.value.status == callseal.E_PAYLOAD_TRUNCATED
        assert bytes(got) == data[: 3 * 65536]

    out = io.BytesIO()
    report = callseal.recover(crashed, identity, out)
    assert report == callseal.Recovery(3 * 65536, 65536, False, callseal.TruncatedError)
    assert out.getvalue() == data[: 3 * 65536]

    whole = tmp_path / "whole.age"
    with callseal.Sealer(whole, [recipient]) as w:
        w.write(data)
    raw = bytearray(whole.read_bytes())
    raw[len(raw) - (200_000 + 4 * 16) + 10] ^= 1  # inside chunk 0
    tampered = tmp_path / "tampered.age"
    tampered.write_bytes(bytes(raw))
    with callseal.Opener(tampered, identity) as f:
        with pytest.raises(callseal.TamperedError):
            f.read()
    report = callseal.recover(whole, identity, io.BytesIO())
    assert report.complete and report.stopped_by is None and report.recovered_bytes == 200_000


def test_inspect(tmp_path, key):
    _, recipient = key
    path = tmp_path / "i.age"
    with callseal.Sealer(path, [recipient, callseal.generate_identity()[1]]) as rec:
        rec.write(audio(1000))
    info = callseal.inspect(path)
    assert info.stanza_count == 2 and info.plaintext_len == 1000
    assert info.chunk_count == 1 and info.ending == "final-sized" and not info.armored
    with pytest.raises(callseal.CallsealIOError):
        callseal.inspect(tmp_path / "missing.age")


def test_distinct_objects_on_threads(tmp_path, key):
    identity, recipient = key
    results = {}

    def call(i):
        data = audio(50_000 + i * 1000, seed=i)
        path = tmp_path / f"t{i}.age"
        with callseal.Sealer(path, [recipient]) as rec:
            for j in range(0, len(data), 320):
                rec.write(data[j : j + 320])
        with callseal.Opener(path, identity) as f:
            results[i] = f.read() == data

    threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: True for i in range(6)}
