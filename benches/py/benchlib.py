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
