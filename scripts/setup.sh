#!/usr/bin/env bash
# One-stop set-up for a fresh machine: Debian fonts and chromium (as root), a virtual env in .venv with
# torch from the local wheel cache, the project in editable mode with dev tools, and exactly
# one OpenCV (the headless build). Re-running is cheap: a stamp skips finished steps.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
DEBIAN_PACKAGES=(
  fonts-dejavu fonts-liberation2 fonts-noto-core fonts-freefont-ttf
  fonts-paratype fonts-ebgaramond fonts-linuxlibertine fonts-cmu
  fonts-sjfonts fonts-klee fonts-dkg-handwriting fonts-comic-neue fonts-humor-sans
  fonts-wqy-zenhei fonts-bebas-neue fonts-roboto-unhinted
  # the service's browser page is tested in Debian's chromium, driven by Playwright
  chromium
)

install_debian_packages() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: not root or no apt-get; skipping Debian packages (${DEBIAN_PACKAGES[*]})" >&2
    return 0
  fi
  local missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

torch_pins() {
  case "$(uname -m)" in
    aarch64|arm64) echo "torch==2.9.1 torchvision==0.24.1" ;;
    *) echo "torch==2.14.1 torchvision==0.29.1" ;;
  esac
}

install_python() {
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  local pip="$VENV/bin/python -m pip"
  local stamp="$VENV/.setup-stamp"
  local want
  want="$(cat pyproject.toml scripts/setup.sh scripts/one_opencv.sh | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  # shellcheck disable=SC2046
  $pip install -q --disable-pip-version-check $(torch_pins)
  $pip install -q --disable-pip-version-check -e ".[dev]"
  bash scripts/one_opencv.sh "$VENV/bin/python"
  "$VENV/bin/python" -c "import cv2, torch, torchvision, timm; from core.offline import setup_ultralytics; setup_ultralytics()" \
    || { echo "setup: import check failed" >&2; exit 1; }
  echo "$want" > "$stamp"
}

install_debian_packages
install_python
