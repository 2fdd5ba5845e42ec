#!/usr/bin/env python3
"""Extract the rule groups of PrometheusRule objects into a plain Prometheus rules file, for
`promtool check rules` and `promtool test rules`, and check what promtool does not.

    python3 scripts/lint/extract_rules.py deploy/kubernetes/prometheusrule.yaml \
        --docs docs/OPERATIONS.md --out RULES.yaml [--strip-annotations]

A PrometheusRule's spec.groups is a rules file's `groups` as is (prometheus-operator copies
it into Prometheus' configuration), so promtool's verdict on the extracted file is its
verdict on what Prometheus will load. Our own rules for every alert, checked here:
  - a `severity` label of critical, warning or info (what the alert routing keys on);
  - `summary`, `description` and `runbook_url` annotations;
  - runbook_url is RUNBOOK_BASE + '#' + the alert's name in lower case, and that anchor is a
    heading of --docs (GitHub's anchor of `### CascadeLagHigh` is `cascadelaghigh`).
--strip-annotations writes the rules without annotations: the unit tests
(scripts/lint/alerts_test.yaml) then compare labels only, not every description's wording.
Exits 0 after writing the file, 1 with a line per problem.
"""
import argparse
import os
import re
import sys

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifests import ManifestError, load_files  # noqa: E402

RUNBOOK_BASE = "https://github.com/cascade-platform/cascade/blob/main/docs/OPERATIONS.md"
SEVERITIES = {"critical", "warning", "info"}
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url")


def github_anchors(markdown):
    """The anchors GitHub gives a document's headings (without the -1, -2 of repeats)."""
    anchors = set()
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            text = re.sub(r"[^\w\- ]", "", m.group(1).lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--docs", required=True, help="the Markdown file the runbook_url anchors point into")
    parser.add_argument("--out", required=True)
    parser.add_argument("--strip-annotations", action="store_true")
    args = parser.parse_args()

    try:
        docs = load_files(args.files)
    except ManifestError as e:
        print(f"FAIL {e}", file=sys.stderr)
        return 1
    with open(args.docs, encoding="utf-8") as f:
        anchors = github_anchors(f.read())

    problems, groups, alerts = [], [], 0
    for where, doc in docs:
        if doc.get("kind") != "PrometheusRule":
            continue
        for group in doc["spec"].get("groups", []):
            for rule in group.get("rules", []):
                name = rule.get("alert")
                if name is None:
                    continue
                alerts += 1
                severity = (rule.get("labels") or {}).get("severity")
                if severity not in SEVERITIES:
                    problems.append(f"{name}: severity label {severity!r} is not one of {sorted(SEVERITIES)}")
                ann = rule.get("annotations") or {}
                for key in REQUIRED_ANNOTATIONS:
                    if not str(ann.get(key, "")).strip():
                        problems.append(f"{name}: no {key} annotation")
                want = f"{RUNBOOK_BASE}#{name.lower()}"
                if ann.get("runbook_url") and ann["runbook_url"] != want:
                    problems.append(f"{name}: runbook_url should be {want}")
                if name.lower() not in anchors:
                    problems.append(f"{name}: {args.docs} has no heading with anchor #{name.lower()} "
                                    f"(add a section headed `{name}`)")
            if args.strip_annotations:
                group = dict(group, rules=[{k: v for k, v in r.items() if k != "annotations"}
                                           for r in group.get("rules", [])])
            groups.append(group)
    if not groups:
        problems.append("no PrometheusRule groups found")
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    if problems:
        return 1
    with open(args.out, "w", encoding="utf-8") as f:
        yaml.safe_dump({"groups": groups}, f, sort_keys=False, width=1000)
    print(f"{alerts} alerts in {len(groups)} group(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
