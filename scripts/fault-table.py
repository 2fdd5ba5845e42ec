#!/usr/bin/env python3
"""Prints the fault suite's table (docs/RELIABILITY.md) from the JSON Lines the scenarios write.

    scripts/fault-table.py RESULTS.jsonl [--commit SHA] [--date DATE]

One row per scenario: runs, reports, lost, duplicated effects, crashes, recovery time, and what
else the scenario measured. Exits 1 when any row lost or duplicated something.
"""
import argparse
import json
import sys

COLUMNS = ["runs", "reports", "lost", "duplicated_effects", "dead_letters", "crashes", "recovery_s"]
HEADINGS = ["runs", "reports", "lost", "duplicated effects", "dead letters", "crashes", "recovery (s)"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--commit", default="")
    parser.add_argument("--date", default="")
    args = parser.parse_args()
    with open(args.results) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        print("fault-table: no scenario wrote a row", file=sys.stderr)
        return 1
    if args.commit or args.date:
        print(f"Fault suite at {args.commit} on {args.date} ({rows[0]['size']} size)\n")
    print("| scenario | " + " | ".join(HEADINGS) + " | measured |")
    print("|---" * (len(HEADINGS) + 2) + "|")
    for row in rows:
        extra = {k: v for k, v in row.items() if k not in COLUMNS + ["scenario", "size"]}
        measured = ", ".join(f"{k} {v:,}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in sorted(extra.items()))
        print(f"| {row['scenario']} | " + " | ".join(f"{row[c]:,}" if isinstance(row[c], int) else str(row[c]) for c in COLUMNS)
              + f" | {measured} |")
    bad = [r["scenario"] for r in rows if r["lost"] or r["duplicated_effects"]]
    if bad:
        print(f"\nfault-table: lost or duplicated in: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
