#!/usr/bin/env bash
# Everything the tests need, then lint, types and the test suite. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/_venv.sh" dev
# The report page is checked in a real headless Chromium (Debian's package).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "[setup] installing Debian's chromium and chromium-driver for the browser test"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
    || echo "[setup] could not install chromium: the browser test will be skipped"
fi
echo "[check] ruff"; ruff check . && ruff format --check .
echo "[check] mypy"; mypy
# With a ROS 2 installation sourced, tests/ros2/test_ros2_real.py also runs the real-ROS 2 tests
# (the launch_testing files, tests/ros2_real); without one they are skipped with the reason.
echo "[check] pytest"; python -m pytest "$@"
