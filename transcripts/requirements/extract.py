#!/usr/bin/env python3
"""Find the requirement sentences of an RFC: the candidates for transcripts/requirements/.

    extract.py /work/shared/rfc/rfc5321.txt            # candidates, one per line
    extract.py /work/shared/rfc/rfc959.txt --lowercase  # pre-RFC-2119 texts: must/should too
    extract.py RFC.txt --check rfc5321.toml             # compare a reviewed file with the text

Output lines: SECTION<TAB>LEVEL<TAB>sentence (whitespace collapsed). The reviewed TOML files
hold one entry per distinct requirement, paraphrased (never the RFC's own words), so this
script only finds where to look; --check reports sections that have candidates but no
entry, entries whose section does not exist, and duplicate ids.
"""

import argparse
import re
import sys

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

HEADING = re.compile(r"^(?:Appendix )?((?:[0-9]+|[A-Z])(?:\.[0-9]+)*)\.?\s{1,12}[A-Z0-9\"'(]")
# RFC 959 indents its sub-section headings: "   3.1.  DATA REPRESENTATION", "   4.2.1  Reply Codes".
HEADING_INDENTED = re.compile(r"^\s+([0-9]+(?:\.[0-9]+)+)\.?\s+[A-Z][A-Za-z0-9 ,/()'-]{2,60}$")
PAGE_JUNK = re.compile(r"^(RFC \d+ .* \d{4}|.*\[Page \d+\])\s*$")
UPPER = re.compile(r"\b(MUST NOT|MUST|SHALL NOT|SHALL|SHOULD NOT|SHOULD|REQUIRED|RECOMMENDED)\b")
LOWER = re.compile(r"\b(must not|must|shall not|shall|should not|should|required)\b", re.I)
ABBREV = re.compile(r"\b(e\.g|i\.e|etc|cf|vs|Sec|sec|No)\.$")


def level_of(keyword):
    k = keyword.upper()
    if k.startswith(("MUST", "SHALL", "REQUIRED")):
        return "MUST"
    return "SHOULD"


def paragraphs(text):
    """(section, paragraph text) for every paragraph after the table of contents."""
    section = None
    para = []
    seen_intro = False
    for raw in text.replace("\f", "\n").splitlines():
        line = raw.rstrip()
        if PAGE_JUNK.match(line):
            continue
        m = HEADING.match(line)
        if not (m and not line.startswith(" ")):
            m = HEADING_INDENTED.match(line)
        if m and not re.search(r"\.{3,}", line):
            if para and section:
                yield section, " ".join(para)
            para = []
            section = m.group(1)
            seen_intro = seen_intro or section == "1"
            continue
        if not line.strip():
            if para and section and seen_intro:
                yield section, " ".join(para)
            para = []
            continue
        para.append(line.strip())
    if para and section:
        yield section, " ".join(para)


def sentences(paragraph):
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", paragraph)
    out = []
    for p in parts:
        if out and ABBREV.search(out[-1]):
            out[-1] += " " + p
        else:
            out.append(p)
    return out


def candidates(path, lowercase):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    pattern = LOWER if lowercase else UPPER
    for section, para in paragraphs(text):
        for s in sentences(para):
            m = pattern.search(s)
            if m:
                yield section, level_of(m.group(1)), re.sub(r"\s+", " ", s).strip()


def check(path, lowercase, reviewed):
    if tomllib is None:
        sys.exit("--check needs Python 3.11 (tomllib)")
    with open(reviewed, "rb") as f:
        doc = tomllib.load(f)
    reqs = doc.get("req", [])
    cands = list(candidates(path, lowercase))
    sections = {s for s, _, _ in cands}
    with open(path, encoding="utf-8", errors="replace") as f:
        all_sections = {s for s, _ in paragraphs(f.read())}
    ids, problems = set(), 0
    for r in reqs:
        for key in ("id", "section", "level", "text"):
            if key not in r:
                print(f"entry without `{key}`: {r}")
                problems += 1
        if r.get("id") in ids:
            print(f"duplicate id {r['id']}")
            problems += 1
        ids.add(r.get("id"))
        if r.get("section") not in all_sections:
            print(f"{r.get('id')}: no section {r.get('section')} in {path}")
            problems += 1
        if r.get("level") not in ("MUST", "SHOULD"):
            print(f"{r.get('id')}: level {r.get('level')!r}")
            problems += 1
    covered = {r.get("section") for r in reqs}
    for s in sorted(sections - covered, key=lambda x: [int(p) if p.isdigit() else 0 for p in x.split(".")]):
        n = sum(1 for c in cands if c[0] == s)
        print(f"section {s}: {n} candidate sentence(s), no entry (fine if none is a requirement)")
    print(f"{len(reqs)} entries, {len(cands)} candidate sentences, {problems} problem(s)")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("rfc", help="the RFC's plain text")
    ap.add_argument("--lowercase", action="store_true", help="also lower-case must/should (pre-RFC 2119 texts)")
    ap.add_argument("--check", metavar="TOML", help="compare a reviewed requirements file with the text")
    a = ap.parse_args()
    if a.check:
        sys.exit(1 if check(a.rfc, a.lowercase, a.check) else 0)
    for section, level, s in candidates(a.rfc, a.lowercase):
        print(f"{section}\t{level}\t{s}")


if __name__ == "__main__":
    main()
