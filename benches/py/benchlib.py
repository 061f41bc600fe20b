"""Shared bookkeeping of the Python bench clients (the same protocol and report as
benches/rust/src/lib.rs): the markers, CPU and RSS readings, latency percentiles."""

from __future__ import annotations

import json
import math
import resource
import sys
import time

ACCOUNT = 123
BEGIN = "bench_begin"
END = "bench_end"
mono_ns = time.monotonic_ns  # CLOCK_MONOTONIC, the server's clock


def args() -> tuple[str, str]:
    if len(sys.argv) != 3 or sys.argv[2] not in ("firehose", "paced", "idle"):
        sys.exit(f"usage: {sys.argv[0]} URL firehose|paced|idle")
    return sys.argv[1], sys.argv[2]


def die(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)


class Mark:
    """The clock and CPU readings at bench_begin."""

    def __init__(self) -> None:
        self.t0 = mono_ns()
        self.ru0 = resource.getrusage(resource.RUSAGE_SELF)


def report(client: str, mark: Mark, matched: int, sent: int, latencies: list[int]) -> None:
    t1 = mono_ns()
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    latencies.sort()
    n = len(latencies)

    def pct(p: float):
        if not n:
            return None
        i = min(max(math.ceil(p / 100.0 * n), 1), n)
        return latencies[i - 1] / 1e3

    print(json.dumps({
        "client": client,
        "sent": sent,
        "matched": matched,
        "elapsed_s": (t1 - mark.t0) / 1e9,
        "cpu_user_s": ru1.ru_utime - mark.ru0.ru_utime,
        "cpu_sys_s": ru1.ru_stime - mark.ru0.ru_stime,
        "maxrss_kb": ru1.ru_maxrss,
        "latency_us": {"n": n, "p50": pct(50), "p90": pct(90), "p99": pct(99),
                       "p99.9": pct(99.9), "max": pct(100)},
    }), flush=True)


MARKER_PREFIX = '{"type":"bench_'


class RawTally:
    """The raw clients' bookkeeping (benches/rust/src/lib.rs, Tally::raw_frame): every text
    frame between the markers counts; markers are recognised by their first bytes; in paced
    mode the frame's "ts" is found by its key (its value is padded with spaces, which int()
    skips). frame() returns True once the report is printed (at bench_end)."""

    def __init__(self, client: str, paced: bool) -> None:
        self.client = client
        self.paced = paced
        self.mark: Mark | None = None
        self.matched = 0
        self.lat: list[int] = []

    def frame(self, text: str) -> bool:
        if text.startswith(MARKER_PREFIX):
            return self._marker(text)
        if self.mark is not None:
            self.matched += 1
            if self.paced:
                at = text.find('"ts":') + 5
                self.lat.append(mono_ns() - int(text[at:text.find(",", at)]))
        return False

    def _marker(self, text: str) -> bool:
        event = json.loads(text)
        if event["type"] == BEGIN:
            self.mark, self.matched = Mark(), 0
            self.lat.clear()
            return False
        if event["type"] != END:
            return False
        sent = event["data"]["sent"]
        if self.mark is None:
            die(f"{self.client}: bench_end before bench_begin")
        if self.matched != sent:
            die(f"{self.client}: counted {self.matched} frames between the markers, the server "
                f"sent {sent} (every frame counts in a raw loop: frames were lost)")
        report(self.client, self.mark, self.matched, sent, self.lat)
        return True
