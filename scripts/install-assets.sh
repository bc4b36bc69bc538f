#!/usr/bin/env bash
# KaTeX and highlight.js for the student pages, from the npm registry at set-up time, pinned, into
# build/npm (ignored by git, never committed); Django serves them from there (STATICFILES_DIRS) when
# present, and the pages work without them (TeX and plain code). Nothing is fetched at run time.
# Installs Debian's npm if missing. Idempotent: does nothing when the pinned versions are there.
set -euo pipefail
cd "$(dirname "$0")/.."
KATEX=0.19.1
HLJS=11.12.0
DEST=build/npm
have() { grep -q "\"version\": \"$2\"" "$DEST/node_modules/$1/package.json" 2>/dev/null; }
if have katex "$KATEX" && have @highlightjs/cdn-assets "$HLJS"; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
    SUDO=""; if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
mkdir -p "$DEST"
npm install --prefix "$DEST" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
    "katex@$KATEX" "@highlightjs/cdn-assets@$HLJS" >/dev/null
have katex "$KATEX" && have @highlightjs/cdn-assets "$HLJS"
