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

# How to reach the commands afterwards: both set-up scripts end with this.
venv_hint() {
  local rel="${venv#"$root"/}"
  echo
  echo "[next] every command (ncp-bag, ncp-replay, ncp-synth, ncp-demo, python analysis/*.py) is in"
  echo "       $rel: run   source $rel/bin/activate   in this folder, then e.g.   ncp-bag --help"
  if "$venv/bin/python" -c "import torch" >/dev/null 2>&1; then
    echo "       ncp-train and ncp-export are ready (PyTorch is installed)."
  else
    echo "       ncp-train and ncp-export need PyTorch: add it once with   $rel/bin/pip install -e '.[train]'"
  fi
  echo "       README.md, 'After the demo', walks through every tool on the demo's drive."
}
