# Sourced by the scripts: make .venv (Python 3.11+) in the repository root and install the project into
# it, again only when pyproject.toml changed. $1: the extras to install, e.g. "test" or "cuda12". Leaves
# the shell in the repository root, with $root and $venv set to absolute paths.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
cd "$root"
python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "verifier needs Python 3.11 or newer (set PYTHON=...)" >&2; exit 1; }
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
extras=${1:-}
spec="$root"
[ -n "$extras" ] && spec="$root[$extras]"
stamp="$venv/.installed-$(sha256sum < "$root/pyproject.toml" | cut -c1-16)-${extras:-base}"
if [ ! -e "$stamp" ]; then
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q -e "$spec" >&2
  touch "$stamp"
  echo "verifier: installed into .venv; in your shell, '. .venv/bin/activate' puts the verifier command on PATH" >&2
fi
