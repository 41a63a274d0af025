#!/usr/bin/env bash
# Headless-browser check of the HTML reports:
#  1. render the fixture report (examples/fixture_report.rs) into a temporary directory;
#  2. plain Chromium: each page loads offline from file:// with no console output, its
#     script ran under the page's CSP (data-js-ready="1") and the hostile reply did not
#     (no data-pwned attribute); one screenshot is written next to the pages;
#  3. playwright-core (npm, driving the same /usr/bin/chromium): filtering, expanding,
#     URL filters and the matrix's deep links (check.mjs).
# Needs: chromium (Debian package), node + npm (step 3 runs `npm ci` when node_modules is absent).
# Usage: reports/tests/browser/check.sh [OUTDIR]   (default: a new temporary directory, kept)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
out="${1:-$(mktemp -d /tmp/wirecheck-report-check.XXXXXX)}"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT

[ -x "$chromium" ] || { echo "no $chromium (apt-get install -y chromium)" >&2; exit 2; }

(cd "$repo" && cargo run --quiet -p wirecheck-reports --example fixture_report -- "$out" >/dev/null 2>&1) \
  || { echo "could not render the fixture report" >&2; exit 2; }
echo "pages in $out"

chrome() {
  timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "$@"
}

fail=0
for page in index.html reference.html student-alice.html; do
  log="$out/$page.log"
  chrome --enable-logging=stderr --v=0 --dump-dom "file://$out/$page" >"$out/$page.dom" 2>"$log" || true
  if ! grep -q '<html lang="en" data-js-ready="1"' "$out/$page.dom"; then
    echo "FAIL $page: the script did not run (data-js-ready missing)"; fail=1
  elif grep -q 'data-pwned="' "$out/$page.dom"; then
    echo "FAIL $page: the hostile reply ran"; fail=1
  elif grep -E ':CONSOLE|Uncaught|Refused to' "$log"; then
    echo "FAIL $page: console output above"; fail=1
  else
    echo "ok   $page: loads offline, script ran, no console output, hostile reply inert"
  fi
done

chrome --hide-scrollbars --window-size=1400,1700 --screenshot="$out/screenshot.png" \
  "file://$out/student-alice.html#case-smtp.line.bare-lf" >/dev/null 2>&1 || true
[ -s "$out/screenshot.png" ] && echo "screenshot: $out/screenshot.png"

cd "$here"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
CHROMIUM="$chromium" node check.mjs "$out" || fail=1
exit "$fail"
