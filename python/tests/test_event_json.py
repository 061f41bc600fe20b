"""An event has one JSON form, defined in core: the `tradewire listen` lines, C's
`tw_event_to_json` and Python's `Event.to_json()` / `to_dict()` agree on the same events.

Three clients (the CLI, a C client through ctypes in a child process, and this process's
Python client) listen to one server that sends every frame to all three; their JSON texts
must be identical, except `received_at`, which each client stamps when it reads the frame.

The CLI and the C library are built from this checkout with cargo (debug profile), so the
comparison is with the code under test, not a stale binary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

import tradewire
from tradewire.testing import WsServer

from conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
STAMP = re.compile(r'"received_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"')

# The C client, in a child process of its own (its library has its own copy of core): prints
# tw_event_to_json of every event until it has printed `count` messages.
C_CLIENT = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
url, count = sys.argv[2], int(sys.argv[3])
lib.tw_client_new.restype = ctypes.c_void_p
lib.tw_client_new.argtypes = [ctypes.c_char_p]
lib.tw_client_start.argtypes = [ctypes.c_void_p]
lib.tw_client_next_event.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p)]
lib.tw_event_to_json.restype = ctypes.c_void_p
lib.tw_event_to_json.argtypes = [ctypes.c_void_p]
lib.tw_event_kind.restype = ctypes.c_char_p
lib.tw_event_kind.argtypes = [ctypes.c_void_p]
lib.tw_string_free.argtypes = [ctypes.c_void_p]
lib.tw_event_free.argtypes = [ctypes.c_void_p]
lib.tw_client_close.argtypes = [ctypes.c_void_p]
lib.tw_client_free.argtypes = [ctypes.c_void_p]
client = lib.tw_client_new(json.dumps({"url": url, "preset": sys.argv[4]}).encode())
assert client, "tw_client_new failed"
assert lib.tw_client_start(client) == 0
messages = 0
while messages < count:
    ev = ctypes.c_void_p()
    rc = lib.tw_client_next_event(client, 30000, ctypes.byref(ev))
    assert rc == 0, f"tw_client_next_event: {rc}"
    text = lib.tw_event_to_json(ev)
    print(ctypes.string_at(text).decode(), flush=True)
    lib.tw_string_free(text)
    messages += lib.tw_event_kind(ev) == b"message"
    lib.tw_event_free(ev)
lib.tw_client_close(client)
lib.tw_client_free(client)
"""

DEEP = "[" * 200 + "-18446744073709551617" + "]" * 200
BIG = "123456789012345678901234567890"

# (preset, frames): str frames are sent as text, bytes as binary.
CASES: dict[str, list[Any]] = {
    "json": [
        f'{{"type":"t","account_id":{BIG},"data":{{"id":{BIG},"f":[0.1,1e400,5e-324,-0.0],"s":"\\ud800"}}}}',
        '{"type":"t","account_id":"123","data":{}}',
        '{"type":"t","account_id":"A\\u0042\\"C","data":[1,"x"]}',
        b"\x00\x01",  # binary where JSON is expected: an `error` event (not a CLI line)
        f'{{\n "type": "t",\n "account_id": 123,\n "data": {{\n  "id": {BIG}\n }}\n}}',
        f'{{"type":"deep","data":{DEEP}}}',
        "plain text",
        '{"type":"no data","n":1}',
    ],
    "raw": ["hello", b"\xde\xad\xbe\xef", '{"a":1}'],
}


def built() -> tuple[Path, Path]:
    """The CLI and the C library, built from this checkout."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo is needed to build the tradewire CLI and the C library")
    subprocess.run([cargo, "build", "-q", "-p", "tradewire-cli", "-p", "tradewire-ffi"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
    return target / "tradewire", target / "libtradewire.so"


def unstamped(line: str) -> str:
    """The line with its `received_at` (which must be ISO-8601 UTC with microseconds) replaced."""
    if '"kind":"message"' in line[:20]:
        assert STAMP.search(line), line[:300]
    return STAMP.sub('"received_at":"<stamp>"', line)


def lines_of(proc: subprocess.Popen[str], what: str) -> list[str]:
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}): {err}"
    return [line for line in out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("preset", sorted(CASES))
def test_cli_c_and_python_write_the_same_json(preset: str) -> None:
    frames = CASES[preset]
    count = sum(1 for f in frames if preset == "raw" or isinstance(f, str))
    cli, lib = built()
    with WsServer() as server:
        client = tradewire.Client(server.url, preset=preset)
        client.start()
        listen = subprocess.Popen(
            [str(cli), "listen", server.url, "--preset", preset, "--count", str(count), "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        c_client = subprocess.Popen(
            [sys.executable, "-c", C_CLIENT, str(lib), server.url, str(count), preset],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert server.wait_for_connections(3, 30), "the three clients did not connect"
        for frame in frames:
            if isinstance(frame, bytes):
                server.broadcast_binary(frame)
            else:
                server.broadcast(frame)

        events: list[tradewire.Event] = []

        def all_messages() -> bool:
            ev: Optional[tradewire.Event] = client.recv(timeout=0.1)
            if ev is not None:
                events.append(ev)
            return sum(e.kind == "message" for e in events) == count

        assert wait_until(all_messages, timeout=30), [e.to_json()[:200] for e in events]
        cli_lines = lines_of(listen, "tradewire listen")
        c_lines = lines_of(c_client, "the C client")
        client.close()

    py_lines = [ev.to_json() for ev in events]
    # The whole stream, lifecycle events included, in C and Python.
    assert [unstamped(line) for line in c_lines] == [unstamped(line) for line in py_lines]
    # The CLI prints the messages.
    py_messages = [line for line, ev in zip(py_lines, events) if ev.kind == "message"]
    assert [unstamped(line) for line in cli_lines] == [unstamped(line) for line in py_messages]
    assert len(cli_lines) == count
    # to_dict() is the same JSON read as json.loads reads it.
    for ev, line in zip(events, py_lines):
        assert ev.to_dict() == json.loads(line), line[:200]
    kinds = [ev.kind for ev in events]
    assert kinds[0] == "connected"
    if preset == "json":
        assert "error" in kinds
        message = events[kinds.index("message")].to_dict()
        assert message["account_id"] == int(BIG) and message["data"]["id"] == int(BIG)
        assert message["data"]["s"] == "\ud800"
    else:
        binary = [ev.to_dict() for ev in events if ev.kind == "message"][1]
        assert binary["binary"] == "3q2+7w==" and binary["raw"] is None
