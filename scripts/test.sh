#!/usr/bin/env bash
# Everything the tests need, then lint, types and the test suite. Extra arguments go to pytest.
# Ends by saying how to reach the commands (they are in .venv).
set -euo pipefail
source "$(dirname "$0")/_venv.sh" dev
trap venv_hint EXIT
# The report page is checked in a real headless Chromium: Debian's chromium and chromium-driver.
# Whatever is missing is installed (as root with apt-get); in CI (CI=true) the browser test then
# fails, not skips, if the browser still cannot start.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "[setup] installing Debian's ${missing[*]} for the browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
      || echo "[setup] could not install ${missing[*]}"
  else
    echo "[setup] ${missing[*]} missing and not installable here (needs root and apt-get):" \
      "the browser test is skipped${CI:+, and fails in CI}"
  fi
fi
echo "[check] ruff"; ruff check . && ruff format --check .
echo "[check] mypy"; mypy
# With a ROS 2 installation sourced, tests/ros2/test_ros2_real.py also runs the real-ROS 2 tests
# (the launch_testing files, tests/ros2_real); without one they are skipped with the reason.
echo "[check] pytest"; python -m pytest "$@"
