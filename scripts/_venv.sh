# Sourced by scripts/serve and scripts/test: make .venv and install the project when needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.qc-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing qc_app and its dependencies"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"

have_cjk_font() {
  [ -n "${QC_CJK_FONT:-}" ] && [ -f "$QC_CJK_FONT" ] && return 0
  [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || [ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]
}

try_install_font() {
  # Certificates embed a TrueType CJK font; install Debian's when we can.
  have_cjk_font && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing fonts-wqy-microhei (the CJK font certificates embed)"
    (apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 ||
      (apt-get update -qq >/dev/null && apt-get install -y -qq fonts-wqy-microhei >/dev/null)) || true
  fi
  have_cjk_font
}
