"""The server's JSON reaches the application unchanged: `ev.data` and `ev[key]` equal what
`json.loads` gives for the same text (same types and values), for big integers, floats at the
edges of their range, lone surrogate escapes and deep nesting; `ev.account_id` keeps its JSON
type. Every expectation is computed by `json.loads` itself where it can read the document."""

from __future__ import annotations

import json
import math
import random
import struct
import sys
from typing import Any, Iterator

import pytest

import tradewire
from tradewire.testing import WsServer

# JSON texts of values, each compared with json.loads.
VALUES = [
    # Integers: inside and beyond 64 bits, at the edges of i64 and u64.
    "123456789012345678901234567890",
    "-18446744073709551617",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "1" + "0" * 400,
    "-" + "9" * 1000,
    "0",
    "-0",
    # Floats: round trip, range edges, out of range (inf), negative zero.
    "0.1",
    "-0.0",
    "1e400",
    "-1e400",
    "1e-400",
    "5e-324",
    "2.2250738585072014e-308",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "1e19",
    "9223372036854775808.0",
    "1E+2",
    "123.456e-7",
    "0.30000000000000004",
    "2.4703282292062328e-324",
    # Strings: lone surrogates (kept as code points), pairs (one character), escapes.
    '"\\ud800"',
    '"\\udc00x"',
    '"a\\ud83d\\ude00b"',
    '"\\ud800\\u0041"',
    '"\\udbff\\udbff\\udfff"',
    '"\\u00e9\\n\\t\\"\\\\\\/ caf\u00e9 \u2603"',
    '["\\udbff", {"\\ud800": 1, "k\\udc00": [2]}]',
    # Containers holding all of the above.
    '{"big": 123456789012345678901234567890, "f": [1e400, -0.0, 0.1], "s": "\\ud800"}',
    '{"a": 1, "a": 2}',
    "[]",
    "{}",
    "[[],[{}],{\"x\":[[[]]]}]",
]


def same(a: Any, b: Any) -> bool:
    """Whether two values from JSON are equal with the same types, floats compared by
    their repr (so -0.0 differs from 0.0 and inf is inf), without recursion."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if repr(x) != repr(y):
                return False
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif isinstance(x, dict):
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif x != y:
            return False
    return True


class Feed:
    """A testkit server and a client (json preset) connected to it."""

    def __init__(self) -> None:
        self.server = WsServer()
        self.client = tradewire.Client(self.server.url, preset="json", max_message_size=64 << 20)
        self.client.start()
        self.next_of("connected")
        assert self.server.wait_for_connections(1, 10)

    def next_of(self, kind: str) -> tradewire.Event:
        for _ in range(100):
            ev = self.client.recv(timeout=0.2)
            if ev is not None and ev.kind == kind:
                return ev
        raise AssertionError(f"no {kind!r} event")

    def roundtrip(self, frame: str) -> tradewire.Event:
        self.server.broadcast(frame)
        ev = self.next_of("message")
        assert ev.raw == frame
        return ev

    def close(self) -> None:
        self.client.close()
        self.server.close()


@pytest.fixture(scope="module")
def feed() -> Iterator[Feed]:
    f = Feed()
    try:
        yield f
    finally:
        f.close()


@pytest.mark.parametrize("value", VALUES)
def test_data_is_what_json_loads_gives(feed: Feed, value: str) -> None:
    frame = f'{{"type":"t","data":{value}}}'
    expected = json.loads(frame)["data"]
    ev = feed.roundtrip(frame)
    assert same(ev.data, expected), (ev.data, expected)
    # The same value as one member of the payload, read by ev[key] without ev.data.
    ev = feed.roundtrip(f'{{"type":"t","data":{{"v":{value},"w":0}}}}')
    assert same(ev["v"], expected) and same(ev.get("v"), expected)
    assert same(ev.data["v"], expected)
    # The whole message as the payload (no data field).
    frame = f'{{"type":"t","v":{value}}}'
    ev = feed.roundtrip(frame)
    assert same(ev.data, json.loads(frame)) and same(ev["v"], expected)


def test_big_integers_are_python_ints(feed: Feed) -> None:
    ev = feed.roundtrip('{"type":"t","data":{"id":123456789012345678901234567890,"n":-18446744073709551617}}')
    assert ev["id"] == 123456789012345678901234567890 and type(ev["id"]) is int
    assert ev.data == {"id": 123456789012345678901234567890, "n": -18446744073709551617}
    assert "123456789012345678901234567890" in str(ev.raw)


def test_random_floats_round_trip_like_json_loads(feed: Feed) -> None:
    rng = random.Random(18)
    floats: list[float] = []
    while len(floats) < 3000:
        (f,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if math.isfinite(f):
            floats.append(f)
    floats += [rng.uniform(-1e6, 1e6) for _ in range(2000)]
    # repr (shortest round trip), 17 significant digits and fixed notation.
    texts = [repr(f) for f in floats] + [f"{f:.17g}" for f in floats[:1000]] + [f"{f:.6f}" for f in floats[3000:]]
    frame = '{"type":"t","data":[' + ",".join(texts) + "]}"
    ev = feed.roundtrip(frame)
    assert same(ev.data, json.loads(frame)["data"])
    assert [float(t) for t in texts] == ev.data


def test_integers_beyond_pythons_digit_limit_are_refused_as_json_loads_refuses_them(feed: Feed) -> None:
    digits = "7" * 5000
    frame = f'{{"type":"t","data":{{"n":{digits}}}}}'
    with pytest.raises(ValueError) as expected:
        json.loads(frame)
    ev = feed.roundtrip(frame)
    with pytest.raises(ValueError) as got:
        ev.data
    with pytest.raises(ValueError):
        ev["n"]
    # Python's own reason (the digit limit), not just "invalid JSON".
    assert "limit" in str(got.value) and "limit" in str(expected.value)
    assert digits in str(ev.raw)


def nested(depth: int, leaf: str = "1") -> str:
    """`depth` levels alternating arrays and objects around `leaf`."""
    opens = "".join('[' if i % 2 == 0 else '{"k":' for i in range(depth))
    closes = "".join(']' if i % 2 == 0 else "}" for i in reversed(range(depth)))
    return opens + leaf + closes


@pytest.mark.parametrize("depth", [127, 128, 129, 500, 1000, 2000])
def test_deep_nesting_is_read_like_json_loads(feed: Feed, depth: int) -> None:
    value = nested(depth, "123456789012345678901234567890")
    frame = f'{{"type":"t","data":{value}}}'
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, depth * 4 + 1000))
    try:
        expected = json.loads(frame)["data"]
    finally:
        sys.setrecursionlimit(limit)
    ev = feed.roundtrip(frame)
    assert same(ev.data, expected)
    ev = feed.roundtrip(f'{{"type":"t","data":{{"deep":{value}}}}}')
    assert same(ev["deep"], expected)


def test_nesting_far_beyond_json_loads_does_not_crash(feed: Feed) -> None:
    depth = 100_000
    value = nested(depth, '"\\ud800"')
    frame = '{"type":"t","data":' + value + "}"
    with pytest.raises(RecursionError):
        json.loads(frame)
    ev = feed.roundtrip(frame)
    node = ev.data
    levels = 0
    while isinstance(node, (list, dict)):
        node = node[0] if isinstance(node, list) else node["k"]
        levels += 1
    assert levels == depth and node == "\ud800"
    # The same depth under a key, read by ev[key].
    ev = feed.roundtrip('{"type":"t","data":{"deep":' + value + "}}")
    assert isinstance(ev["deep"], list) and len(ev["deep"]) == 1


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("123", 123),
        ('"123"', "123"),
        ("-7", -7),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ('"A-1"', "A-1"),
        ('"A\\u0042\\"C"', 'AB"C'),
        ("null", None),
    ],
)
def test_account_id_keeps_its_json_type(feed: Feed, account: str, expected: Any) -> None:
    ev = feed.roundtrip(f'{{"type":"t","account_id":{account},"data":{{}}}}')
    assert ev.account_id == expected and type(ev.account_id) is type(expected)
    if expected is not None:
        assert f"account_id={expected!r}" in repr(ev)


def test_the_account_filter_treats_int_and_str_as_equal() -> None:
    with WsServer() as server:
        for ours in (123, "123"):
            with tradewire.Client(server.url, preset="json", account_id=ours) as client:
                assert server.wait_for_connections(1, 10)
                for account in ("123", '"123"', "456", '"456"', "null"):
                    server.broadcast(f'{{"type":"t","account_id":{account},"data":{{"a":{account}}}}}')
                server.broadcast('{"type":"end","data":{}}')
                got: list[Any] = []
                for _ in range(100):
                    ev = client.recv(timeout=0.2)
                    if ev is not None and ev.kind == "message":
                        if ev.type == "end":
                            break
                        got.append(ev.account_id)
                assert got == [123, "123", None], (ours, got)
            assert server.wait_for_at_most(0, 10)


def test_nan_and_infinity_arrive_as_json_loads_reads_them() -> None:
    # Not JSON (RFC 8259), but json.loads reads them and json.dumps writes them (a Python
    # server's NaN price): ev.data and ev[key] give what json.loads gives, under the strict
    # daemon preset too, and the text is kept as sent.
    with WsServer() as server, tradewire.Client(server.url, preset="daemon") as client:
        assert server.wait_for_connections(1, 10)
        for value in ("NaN", "-Infinity", "Infinity"):
            text = f'{{"type":"t","account_id":null,"data":{{"px":{value},"s":"NaN"}}}}'
            server.broadcast(text)
            for _ in range(100):
                ev = client.recv(timeout=0.2)
                if ev is not None and ev.kind in ("message", "error"):
                    break
            else:
                raise AssertionError("no event")
            assert ev.kind == "message", ev
            want = json.loads(text)["data"]
            got = ev.data
            assert isinstance(got, dict) and got["s"] == "NaN"
            assert repr(got["px"]) == repr(want["px"]), (got, want)
            assert repr(ev["px"]) == repr(want["px"])
            assert ev.raw == text
