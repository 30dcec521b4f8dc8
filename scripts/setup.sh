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

# Google Fonts handwriting families from npm (@fontsource/*, OFL): `npm pack` fetches each
# package into .cache/fontsource, synth/fontsource.py merges its Latin and Cyrillic subsets into
# one TrueType file per weight, installed where fontconfig finds it. Only the synthetic data
# generators use them; without npm or the registry the step is skipped with a warning.
install_fontsource_fonts() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: no npm; skipping the @fontsource handwriting fonts" >&2
    return 0
  fi
  local dest
  if [ "$(id -u)" = 0 ]; then dest=/usr/local/share/fonts/fontsource
  else dest="$HOME/.local/share/fonts/fontsource"; fi
  local want
  want="$(sha256sum synth/fontsource.py | cut -d' ' -f1)"
  if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$want" ]; then
    return 0
  fi
  local packs=.cache/fontsource family
  mkdir -p "$packs"
  for family in $("$VENV/bin/python" -c "from synth.fontsource import FAMILIES; print(*FAMILIES)"); do
    compgen -G "$packs/fontsource-$family-[0-9]*.tgz" >/dev/null && continue
    (cd "$packs" && npm pack -q "@fontsource/$family" >/dev/null) \
      || echo "setup: npm pack @fontsource/$family failed; going on without it" >&2
  done
  rm -f "$dest"/*.ttf
  if "$VENV/bin/python" -m synth.fontsource "$packs" "$dest" >/dev/null; then
    command -v fc-cache >/dev/null 2>&1 && fc-cache -f "$dest" >/dev/null
    echo "$want" > "$dest/.stamp"
  else
    echo "setup: no @fontsource handwriting font could be built; going on without them" >&2
  fi
}

install_debian_packages
install_python
install_fontsource_fonts
