#!/usr/bin/env bash
# Installs Debian's headless Chromium and its WebDriver for the browser tests
# (tests/ui/test_browser_*.py). Idempotent: does nothing when both are already there.
# CI calls it before scripts/test.sh; locally, run it once (as root, or with sudo available).
set -euo pipefail

browser="$(command -v chromium || command -v chromium-browser || true)"
driver="$(command -v chromedriver || true)"
if [[ -n "$browser" && -n "$driver" ]]; then
    echo "chromium and chromedriver already installed: $browser, $driver"
    exit 0
fi

sudo=""
if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "install_browser.sh: needs root or sudo to run apt-get" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
echo "installed: $(chromium --version), $(chromedriver --version | head -1)"
