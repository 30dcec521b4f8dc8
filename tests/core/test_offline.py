import os
import socket
import subprocess
import sys
import textwrap

import pytest


def test_ultralytics_sees_offline_settings(tmp_path):
    """In a fresh process: config dir, YOLO_OFFLINE, sync off, fonts in place, no network."""
    config_dir = tmp_path / "ucfg"
    code = textwrap.dedent(f"""
        import socket
        def no_network(*a, **k):
            raise AssertionError("network access attempted: %r" % (a,))
        socket.getaddrinfo = no_network
        socket.create_connection = no_network

        from core.offline import setup_ultralytics
        setup_ultralytics({str(config_dir)!r})
        from ultralytics.utils import SETTINGS, USER_CONFIG_DIR, ONLINE, is_online
        from ultralytics.utils.checks import check_font
        assert str(USER_CONFIG_DIR).startswith({str(config_dir)!r}), USER_CONFIG_DIR
        assert ONLINE is False and is_online() is False
        assert SETTINGS["sync"] is False
        font = check_font("Arial.ttf")
        assert str(font).startswith({str(config_dir)!r}), font
        print("OK")
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("YOLO_CONFIG_DIR", "YOLO_OFFLINE")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("OK")
    ucfg = config_dir / "Ultralytics"  # ultralytics adds its own sub-folder
    assert (ucfg / "settings.json").is_file()
    assert (ucfg / "Arial.ttf").stat().st_size > 10_000


def test_socket_module_untouched():
    # The subprocess test above patches sockets only in its own process.
    assert socket.getaddrinfo.__module__ == "socket"


def test_bad_image_after_ultralytics_import_raises_pillow_error(tmp_path):
    """ultralytics wraps PIL.Image.open; a non-image must not trigger a package install."""
    import PIL.Image

    from core.offline import setup_ultralytics

    setup_ultralytics()
    bad = tmp_path / "not-an-image.jpg"
    bad.write_text("hello")
    with pytest.raises(PIL.UnidentifiedImageError):
        PIL.Image.open(bad)
