#!/usr/bin/env bash
# The whole stack on a built-in default, no data and no ROS needed: generate a synthetic drive
# bag, replay it through the on-car pipeline with the default model, count takeovers, measure
# lateral discomfort, and write an HTML report. Extra arguments go to `ncp-demo`.
# Ends by saying how to reach the other commands (they are in .venv).
set -euo pipefail
source "$(dirname "$0")/_venv.sh" bags
trap venv_hint EXIT
ncp-demo "$@"
