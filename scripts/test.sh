#!/usr/bin/env bash
# Runs every test of xiangzhi, setting up what they need on a fresh Debian machine:
# PostgreSQL for the storage tests, Chromium and chromedriver for the browser test, CJK fonts,
# poppler and LibreOffice for the document tests, xmllint for the ADX schema check.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libxml2-utils chromium chromium-driver fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming poppler-utils libreoffice-writer-nogui libreoffice-calc-nogui)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test.sh: not root, cannot install ${missing[*]}; the tests that need them will say so" >&2
  fi
fi

# PostgreSQL: use XIANGZHI_TEST_PG if given, else the local server (started if it is down).
if [ -z "${XIANGZHI_TEST_PG:-}" ] && command -v pg_isready >/dev/null; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 && command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    export XIANGZHI_TEST_PG="postgres://postgres@127.0.0.1:5432/test"
  fi
fi
if [ -n "${XIANGZHI_TEST_PG:-}" ]; then
  echo "test.sh: PostgreSQL tests run against ${XIANGZHI_TEST_PG%%\?*}"
else
  echo "test.sh: PostgreSQL not available: its conformance tests will be SKIPPED"
fi
if command -v chromedriver >/dev/null && command -v chromium >/dev/null; then
  export XIANGZHI_BROWSER_TEST=1
fi

cargo test --workspace --no-fail-fast "$@"
