import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.detection.synthetic import YOLO_TINY, make_coco_pages, train_config

ROOT = Path(__file__).resolve().parents[2]


def test_yolo_build_train_predict_never_touch_the_network(tmp_path):
    """In a fresh process with every socket entry point raising: build, train, predict."""
    make_coco_pages(tmp_path / "data", n=4)
    cfg = train_config(tmp_path / "data", YOLO_TINY, tmp_path / "run", epochs=1)
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    code = textwrap.dedent(f"""
        import json, socket
        calls = []
        def no_network(*a, **k):
            calls.append(a)
            raise OSError("network access attempted: %r" % (a,))
        for name in ("getaddrinfo", "create_connection", "gethostbyname"):
            setattr(socket, name, no_network)
        socket.socket.connect = no_network
        socket.socket.connect_ex = no_network

        import numpy as np
        from detection.config import DetectorTrainConfig
        from detection.factory import build_detector
        from detection.train import train_detector
        cfg = DetectorTrainConfig.model_validate(json.load(open({str(tmp_path / "cfg.json")!r})))
        weights = train_detector(cfg)
        det = build_detector(cfg.model.model_copy(update={{"weights": weights}}), "cpu")
        det.predict([np.zeros((50, 70, 3), np.uint8)])
        from ultralytics.utils import SETTINGS, ONLINE
        assert SETTINGS["sync"] is False and ONLINE is False
        assert not calls, calls
        print("OFFLINE-OK")
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("YOLO_CONFIG_DIR", "YOLO_OFFLINE")}
    env["OCR_PIPELINE_CACHE"] = str(tmp_path / "cache")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "OFFLINE-OK" in proc.stdout
    assert (tmp_path / "cache" / "ultralytics" / "Ultralytics" / "settings.json").is_file()
