#!/usr/bin/env bash
# Install what wirecheck's tests use beyond the Rust toolchain: real clients that drive the
# reference servers (swaks, curl, dig/kdig, lftp, Python's stdlib clients) and chromium for the
# HTML report check. Idempotent; does nothing when everything is present. Needs root (apt).
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have swaks   || need+=(swaks)
have curl    || need+=(curl)
have dig     || need+=(bind9-dnsutils)
have kdig    || need+=(knot-dnsutils)
have lftp    || need+=(lftp)
have /usr/bin/python3 || need+=(python3)
have ss      || need+=(iproute2)
have openssl || need+=(openssl)
if [ "${WIRECHECK_BROWSER_TESTS:-1}" = 1 ]; then have chromium || need+=(chromium); fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing ${need[*]} and not root: tests that need them will be skipped" >&2
    exit 0
fi
echo "deps.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
