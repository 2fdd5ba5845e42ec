#!/usr/bin/env python3
"""Tests of deploy/cascade-prestop.sh, the Kubernetes preStop hook, with a fake curl.

    python3 scripts/lint/test_prestop.py [deploy/cascade-prestop.sh]

Runs the hook under every POSIX shell present (dash, busybox sh, bash --posix) in a
temporary directory standing in for the service-account mount, with a `curl` on PATH that
records its arguments and standard input and answers what each case says: a Scale compact
or indented, scaled to zero (spec without replicas), the API server refusing, an answer that
is not a Scale, no curl at all. Checks the hook's one effect (the leave-group file exists or
not), that it always exits 0, that it asks for the right URL with --max-time 3 and the CA,
and that the token travels on standard input, never on the command line.
Prints one line and exits 0 when all pass; prints each failure and exits 1.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

TOKEN = "tok-SECRET-123"
NAMESPACE = "payments"

FAKE_CURL = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_DIR/argv"
cat > "$FAKE_DIR/stdin"
if [ -f "$FAKE_DIR/rc" ]; then echo "curl: (22) The requested URL returned error: 403" >&2; exit "$(cat "$FAKE_DIR/rc")"; fi
cat "$FAKE_DIR/body"
"""


def scale(replicas, indent=None, status_first=False, compact=True):
    spec = {} if replicas is None else {"replicas": replicas}
    doc = {"kind": "Scale", "apiVersion": "autoscaling/v1",
           "metadata": {"name": "cascade", "namespace": NAMESPACE, "uid": "u-1", "resourceVersion": "42",
                        "creationTimestamp": "2026-01-01T00:00:00Z"}}
    status = {"replicas": 7, "selector": "app.kubernetes.io/name=cascade"}
    if status_first:
        doc.update(status=status, spec=spec)
    else:
        doc.update(spec=spec, status=status)
    # The API server answers compact JSON; kubectl and proxies may indent it.
    return json.dumps(doc, indent=indent, separators=(",", ":") if compact and indent is None else None)


# (name, pod name, curl body or None for "curl fails", leave file expected, pre-existing file)
CASES = [
    ("scale-in, compact JSON", "cascade-3", scale(3), True, False),
    ("restart, compact JSON", "cascade-2", scale(3), False, False),
    ("restart removes a stale file", "cascade-0", scale(3), False, True),
    ("scale-in, spaced JSON", "cascade-3", scale(3, compact=False), True, False),
    ("restart, spaced JSON", "cascade-2", scale(3, compact=False), False, False),
    ("scale-in, indented JSON", "cascade-5", scale(4, indent=2), True, False),
    ("restart, indented JSON", "cascade-1", scale(4, indent=4), False, False),
    ("status before spec", "cascade-2", scale(2, status_first=True), True, False),
    ("scaled to zero: spec has no replicas", "cascade-0", scale(None), True, False),
    ("scaled to zero, indented", "cascade-0", scale(None, indent=2), True, False),
    ("double-digit ordinal", "cascade-10", scale(11), False, False),
    ("double-digit ordinal, scale-in", "cascade-10", scale(10), True, False),
    ("hyphenated StatefulSet name", "cascade-eu-west-4", scale(3), True, False),
    ("API server refuses", "cascade-3", None, False, False),
    ("not a Scale", "cascade-3", '{"kind":"Status","status":"Failure","code":404}', False, False),
    ("garbage answer", "cascade-3", "<html>proxy error</html>", False, False),
    ("unreadable replicas", "cascade-3", '{"kind":"Scale","spec":{"replicas":"three"}}', False, False),
    ("a Scale without spec", "cascade-3", '{"kind":"Scale","metadata":{"name":"cascade"}}', False, False),
    ("a spec that is not an object", "cascade-3", '{"kind":"Scale","spec":null}', False, False),
    ("pod name without ordinal", "cascade", scale(0), False, False),
]


def shells():
    found = []
    for shell in (["dash"], ["busybox", "sh"], ["bash", "--posix"]):
        path = shutil.which(shell[0])
        if path:
            found.append([path] + shell[1:])
    return found or [[shutil.which("sh") or "/bin/sh"]]


def run_case(shell, script, tmp, pod, body, expect_leave, stale, with_curl=True):
    sa = os.path.join(tmp, "sa")
    fake = os.path.join(tmp, "fake")
    bin_dir = os.path.join(tmp, "bin")
    for d in (sa, fake, bin_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for name, content in (("token", TOKEN), ("ca.crt", "CA"), ("namespace", NAMESPACE)):
        with open(os.path.join(sa, name), "w") as f:
            f.write(content)
    # Only the tools the hook may use, so a missing curl is really missing.
    for tool in ("cat", "sed", "tr", "date", "rm", "hostname", "printf"):
        path = shutil.which(tool)
        if path:
            os.symlink(path, os.path.join(bin_dir, tool))
    if with_curl:
        curl = os.path.join(bin_dir, "curl")
        with open(curl, "w") as f:
            f.write(FAKE_CURL)
        os.chmod(curl, os.stat(curl).st_mode | stat.S_IXUSR)
        if body is None:
            with open(os.path.join(fake, "rc"), "w") as f:
                f.write("22")
        else:
            with open(os.path.join(fake, "body"), "w") as f:
                f.write(body)
    leave = os.path.join(tmp, "run", "leave-group")
    os.makedirs(os.path.dirname(leave), exist_ok=True)
    if stale:
        open(leave, "w").close()
    elif os.path.exists(leave):
        os.remove(leave)
    log = os.path.join(tmp, "log")
    open(log, "w").close()
    env = {"PATH": bin_dir, "POD_NAME": pod, "CASCADE_SA_DIR": sa, "FAKE_DIR": fake,
           "CASCADE_LEAVE_GROUP_FILE": leave, "CASCADE_PRESTOP_LOG": log}
    proc = subprocess.run(shell + [script], env=env, capture_output=True, text=True, timeout=20)
    problems = []
    if proc.returncode != 0:
        problems.append(f"exit {proc.returncode}: {proc.stderr.strip()}")
    if os.path.exists(leave) != expect_leave:
        problems.append(f"leave-group file {'missing' if expect_leave else 'present'}")
    with open(log) as f:
        lines = [line for line in f.read().splitlines() if line]
    if not lines:
        problems.append("wrote no log line")
    for line in lines:
        try:
            if json.loads(line).get("msg") != "cascade-prestop":
                problems.append(f"log line without msg cascade-prestop: {line}")
        except ValueError:
            problems.append(f"log line is not JSON: {line}")
    argv_file = os.path.join(fake, "argv")
    if with_curl and os.path.exists(argv_file) and "-" in pod:
        with open(argv_file) as f:
            argv = f.read().split("\n")
        with open(os.path.join(fake, "stdin")) as f:
            stdin = f.read()
        statefulset = pod.rsplit("-", 1)[0]
        url = f"https://kubernetes.default.svc/apis/apps/v1/namespaces/{NAMESPACE}/statefulsets/{statefulset}/scale"
        if url not in argv:
            problems.append(f"curl was not asked for {url}: {argv}")
        if "--max-time" not in argv or argv[argv.index("--max-time") + 1] != "3":
            problems.append("curl ran without --max-time 3")
        if "--cacert" not in argv or argv[argv.index("--cacert") + 1] != os.path.join(sa, "ca.crt"):
            problems.append("curl ran without the service account's CA")
        if any(TOKEN in a for a in argv):
            problems.append("the token is on curl's command line")
        if f"Authorization: Bearer {TOKEN}" not in stdin:
            problems.append("curl did not get the token on standard input")
    return problems


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "deploy", "cascade-prestop.sh"))
    failures, runs = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for shell in shells():
            for name, pod, body, expect, stale in CASES:
                runs += 1
                for p in run_case(shell, script, tmp, pod, body, expect, stale):
                    failures.append(f"{os.path.basename(shell[0])}: {name}: {p}")
            runs += 1
            for p in run_case(shell, script, tmp, "cascade-3", scale(3), False, False, with_curl=False):
                failures.append(f"{os.path.basename(shell[0])}: no curl: {p}")
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    if not failures:
        print(f"{runs} runs under {', '.join(' '.join([os.path.basename(s[0])] + s[1:]) for s in shells())}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
