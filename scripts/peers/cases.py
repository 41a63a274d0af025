#!/usr/bin/python3
"""cases.py CORPUS PROTOCOL: the transcripts of PROTOCOL that a real server peer needs handled
apart, one `KIND<TAB>ID` line each:

  server       role = "server": wirecheck plays the server and the target is a client (an MTA
               relaying to us, a resolver asking): nothing a server peer can answer; skipped
  destructive  tagged "destructive": the case changes the fixture for good (POP3 DELE + QUIT,
               mail delivered, ...); it runs alone against a freshly started peer

Standard library only (tomllib: Python 3.11; older Pythons print nothing).
"""

import pathlib
import sys

try:
    import tomllib
except ImportError:
    sys.exit(0)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    corpus, protocol = pathlib.Path(argv[1]), argv[2]
    for path in sorted((corpus / protocol).rglob("*.toml")):
        try:
            meta = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # `wirecheck run` reports broken transcripts itself
        ident = meta.get("id")
        if not isinstance(ident, str):
            continue
        if meta.get("role") == "server":
            print(f"server\t{ident}")
        elif "destructive" in (meta.get("tags") or []):
            print(f"destructive\t{ident}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
