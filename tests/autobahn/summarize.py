"""Summarises an Autobahn fuzzing-server report (index.json) per case group.

    python3 tests/autobahn/summarize.py target/autobahn/reports/index.json [agent]

Prints a Markdown table (cases per group by outcome) and the cases that failed; exits 1 if
any case failed. OK, NON-STRICT and INFORMATIONAL pass; anything else (FAILED, WRONG CODE,
UNCLEAN, FAILED BY CLIENT, UNIMPLEMENTED: tradewire implements permessage-deflate, so the
compression groups 12 and 13 must pass too) fails, for the case and for its closing handshake.
"""
import collections
import json
import sys

PASS = {"OK", "NON-STRICT", "INFORMATIONAL"}
COLUMNS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]


def main():
    path = sys.argv[1]
    agent = sys.argv[2] if len(sys.argv) > 2 else "tradewire"
    with open(path) as f:
        index = json.load(f)
    if agent not in index:
        print("no results for agent %r in %s" % (agent, path))
        return 1
    counts = collections.defaultdict(collections.Counter)
    failed = []
    for case, result in index[agent].items():
        group = int(case.split(".")[0])
        behavior = result["behavior"]
        closing = result.get("behaviorClose", "OK")
        ok = behavior in PASS and closing in PASS
        if ok:
            counts[group][behavior] += 1
        else:
            counts[group]["FAILED"] += 1
            failed.append((case, behavior, closing))
    print("| group | " + " | ".join(COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    total = collections.Counter()
    for group in sorted(counts):
        total.update(counts[group])
        print("| %d | " % group + " | ".join(str(counts[group][c]) for c in COLUMNS) + " |")
    print("| all | " + " | ".join(str(total[c]) for c in COLUMNS) + " |")
    key = lambda c: [int(p) for p in c[0].split(".")]
    for case, behavior, closing in sorted(failed, key=key):
        print("FAILED %s: behavior %s, close %s" % (case, behavior, closing))
    print("%d cases, %d failed" % (sum(total.values()), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
