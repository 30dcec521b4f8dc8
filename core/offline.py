"""Offline set-up for ultralytics, applied before it is first imported.

ultralytics phones home in several ways: an online check, settings sync / telemetry, and a
download of ``Arial.ttf`` for plot labels. Here nothing may reach the network, so before
the first import we point ``YOLO_CONFIG_DIR`` at a directory we own, set ``YOLO_OFFLINE=1``,
put a local font there under the names it looks for, switch ``sync`` and the
third-party loggers off in its settings, and stop its ``PIL.Image.open`` wrapper from trying
to pip-install a HEIF plugin when a file is not an image.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

# Debian's DejaVu first (fonts-dejavu-core), then the copy matplotlib bundles, which is
# always installed alongside ultralytics.
_FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
)
_FONT_NAMES = ("Arial.ttf", "Arial.Unicode.ttf")
_OFF_SETTINGS = {
    "sync": False,
    "clearml": False,
    "comet": False,
    "dvc": False,
    "mlflow": False,
    "raytune": False,
    "wandb": False,
    "tensorboard": False,
    "vscode_msg": False,
    "openvino_msg": False,
}


def default_cache_dir() -> Path:
    """The project's cache: ``$OCR_PIPELINE_CACHE`` or ``~/.cache/ocr-pipeline``."""
    env = os.environ.get("OCR_PIPELINE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "ocr-pipeline"


def local_font() -> Path:
    """A TrueType font file that exists on this machine."""
    for path in _FONT_CANDIDATES:
        if path.is_file():
            return path
    import matplotlib

    bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    if bundled.is_file():
        return bundled
    raise FileNotFoundError("no local TrueType font found; install Debian's fonts-dejavu-core")


def setup_ultralytics(config_dir: str | Path | None = None) -> ModuleType:
    """Prepare the offline environment, then import and return ``ultralytics``.

    Args:
        config_dir: ultralytics' settings directory; default ``<cache>/ultralytics``.
            Only the first call in a process decides it, since ultralytics reads it at
            import time; a later call with another directory keeps the first and warns.

    Returns:
        The imported ``ultralytics`` module.
    """
    wanted = Path(config_dir) if config_dir else default_cache_dir() / "ultralytics"
    already = "ultralytics" in sys.modules
    if not already:
        wanted.mkdir(parents=True, exist_ok=True)
        os.environ["YOLO_CONFIG_DIR"] = str(wanted)
    os.environ["YOLO_OFFLINE"] = "1"

    import ultralytics
    from ultralytics.utils import SETTINGS, USER_CONFIG_DIR

    if already and Path(USER_CONFIG_DIR) != wanted and config_dir is not None:
        log.warning("ultralytics already imported with config dir %s; keeping it", USER_CONFIG_DIR)
    _place_fonts(Path(USER_CONFIG_DIR))
    _disable_heif_install()
    if any(SETTINGS.get(k) != v for k, v in _OFF_SETTINGS.items()):
        SETTINGS.update(_OFF_SETTINGS)
    return ultralytics


def _disable_heif_install() -> None:
    # ultralytics wraps PIL.Image.open so that the first unidentifiable file triggers a pip
    # install of pi-heif; offline that turns one bad image into a crash of the whole run.
    # Marking its plugins as registered makes the wrapper a plain call to Pillow's open.
    try:
        from ultralytics.utils import patches
    except ImportError:
        return
    if hasattr(patches, "_pil_plugins_registered"):
        patches._pil_plugins_registered = True


def _place_fonts(config_dir: Path) -> None:
    font = None
    for name in _FONT_NAMES:
        target = config_dir / name
        if not target.is_file():
            font = font or local_font()
            shutil.copyfile(font, target)
