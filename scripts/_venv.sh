# Sourced by demo.sh and test.sh: create .venv (once) and install the project with the given extra.
# Usage: source scripts/_venv.sh EXTRA
set -euo pipefail
extra="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${NCP_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  echo "[setup] creating $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
fi
stamp="$venv/.installed-$extra"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
  echo "[setup] installing ncp-driver[$extra] into $venv (first run takes a minute or two)"
  "$venv/bin/python" -m pip install -q -e "$root[$extra]"
  touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
cd "$root"
