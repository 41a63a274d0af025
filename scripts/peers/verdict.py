#!/usr/bin/python3
"""verdict.py REPORT.json... [DEVIATIONS.toml ...]: judge `wirecheck run`s against a real peer.

The reports (files named *.json) are the runs of one protocol against one peer, taken together;
the other arguments are the peer's deviation files (a missing one lists nothing).

A case that ended `fail` or `error` is *expected* when its id is listed in one of the peer's
known-deviation files (transcripts/deviations/<peer>.toml):

    [[deviation]]
    id      = "smtp.sequence.rcpt-before-mail"   # a case id; shell-style * and ? allowed
    rfc     = "5321#4.1.4"
    summary = "Postfix answers 250 here because ..."
    outcome = "fail"                             # optional: only this outcome is expected

and *unexpected* otherwise. Prints one tab-separated line of counts on stdout:
    cases pass expected unexpected error non_strict unimplemented informational skipped
(expected + unexpected = the cases that ended fail or error; error is counted once more alone)
the unexpected failures and the deviations that no longer happen on stderr, and exits 1 when
there is an unexpected failure, 2 when the report or a deviation file cannot be read, else 0.
Standard library only (tomllib: Python 3.11).
"""

import fnmatch
import json
import sys

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

FAILING = ("fail", "error")


def load_deviations(paths):
    """The deviation entries of every file that exists; a malformed file is an error."""
    entries = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            continue
        if tomllib is None:
            raise SystemExit(f"verdict: {path}: reading TOML needs Python 3.11 (tomllib)")
        try:
            doc = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            print(f"verdict: {path}: {e}", file=sys.stderr)
            sys.exit(2)
        for i, d in enumerate(doc.get("deviation", [])):
            missing = [k for k in ("id", "rfc", "summary") if not isinstance(d.get(k), str)]
            if missing:
                print(f"verdict: {path}: deviation #{i + 1} lacks {', '.join(missing)}", file=sys.stderr)
                sys.exit(2)
            entries.append(dict(d, file=path))
    return entries


def matching(entries, case):
    for d in entries:
        if fnmatch.fnmatchcase(case["id"], d["id"]) and d.get("outcome", case["outcome"]) == case["outcome"]:
            return d
    return None


def main(argv):
    reports = [a for a in argv[1:] if a.endswith(".json")]
    if not reports:
        print(__doc__, file=sys.stderr)
        return 2
    cases = []
    for path in reports:
        try:
            with open(path, encoding="utf-8") as f:
                report = json.load(f)
            cases += [c for t in report["targets"] for c in t["cases"]]
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"verdict: {path}: {e}", file=sys.stderr)
            return 2
    deviations = load_deviations([a for a in argv[1:] if not a.endswith(".json")])

    counts = dict.fromkeys(
        ("pass", "fail", "error", "non-strict", "unimplemented", "informational", "skipped"), 0
    )
    expected, unexpected, used = 0, [], set()
    for c in cases:
        counts[c["outcome"]] = counts.get(c["outcome"], 0) + 1
        if c["outcome"] not in FAILING:
            continue
        d = matching(deviations, c)
        if d is None:
            unexpected.append(c)
        else:
            expected += 1
            used.add(d["id"])

    for c in unexpected:
        where = f" (line {c['line']})" if c.get("line") else ""
        print(f"  UNEXPECTED {c['outcome']}: {c['id']} [{', '.join(c.get('rfc', []))}]{where}: "
              f"{c.get('message') or ''}", file=sys.stderr)
    ran = {c["id"]: c["outcome"] for c in cases}
    for d in deviations:
        hits = [i for i in ran if fnmatch.fnmatchcase(i, d["id"])]
        if hits and d["id"] not in used and all(ran[i] == "pass" for i in hits):
            print(f"  listed deviation now passes (remove it from {d['file']}): {d['id']}", file=sys.stderr)

    total = len(cases) - counts["skipped"]
    print("\t".join(str(n) for n in (
        total, counts["pass"], expected, len(unexpected), counts["error"], counts["non-strict"],
        counts["unimplemented"], counts["informational"], counts["skipped"],
    )))
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
