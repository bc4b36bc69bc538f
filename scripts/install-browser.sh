#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/e2e) and scripts/screenshots.py.
# Playwright drives it through executable_path=/usr/bin/chromium; `playwright install`
# (a download from outside the package registries) is never run. Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
