# Sourced by scripts/serve and scripts/test: make .venv and install the project when needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
# Install exactly the locked versions (hash-checked), then qc_app itself without touching them.
# scripts/serve installs requirements/main.txt, scripts/test and .ci/run requirements/dev.txt.
LOCK="requirements/${QC_LOCK:-main}.txt"
stamp=.venv/.qc-installed
want="$(cat "$LOCK" pyproject.toml | sha256sum | cut -d' ' -f1) $LOCK"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing the locked dependencies ($LOCK)"
  # Quiet unless it fails: pip and setuptools chatter (missing local package folders named in
  # this machine's pip config, the editable-install notice) is not news.
  quiet() { local out; out=$("$@" 2>&1) || { echo "$out" >&2; return 1; }; }
  quiet .venv/bin/python -m pip install -q --require-hashes --no-deps -r "$LOCK"
  quiet .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
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
