import pytest
import torch

from core.config import load_config
from core.paths import CONFIGS_DIR
from recognition.config import RecognizerTrainConfig
from recognition.models.registry import merged_kwargs

# every recipe: what ships, the competition recipe, and the record in history/
CONFIGS = sorted((CONFIGS_DIR / "recognition").rglob("*.yaml"))


def test_shipped_configs_exist():
    names = {str(p.relative_to(CONFIGS_DIR / "recognition")) for p in CONFIGS}
    assert {"plates_crnn_ccpd.yaml", "documents_joint_receipts.yaml",
            "documents_crnn_break.yaml", "nto_convnext_small.yaml",
            "history/plates_crnn.yaml", "history/plates_crnn_ua.yaml",
            "history/documents_joint.yaml", "history/documents_joint_natural2.yaml",
            "history/documents_joint_sroie_folded2.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS,
                         ids=lambda p: str(p.relative_to(CONFIGS_DIR / "recognition")))
def test_shipped_config_validates(path):
    cfg = load_config(path, RecognizerTrainConfig)
    merged_kwargs(cfg.recognizer.arch, cfg.recognizer.model)  # no unknown model options


def test_documents_config_gives_24_columns():
    from recognition.models import create_model
    from recognition.tokenizer import Tokenizer

    cfg = load_config(CONFIGS_DIR / "recognition" / "history" / "documents_joint.yaml",
                      RecognizerTrainConfig)
    tok = Tokenizer(cfg.recognizer.charset)
    model = create_model(cfg.recognizer.arch, tok.num_ctc_classes, tok.num_attn_classes,
                         **cfg.recognizer.model).eval()
    x = torch.zeros(1, 3, cfg.recognizer.height, cfg.recognizer.width)
    with torch.no_grad():
        out = model.encode(x, torch.tensor([cfg.recognizer.width]))
    assert out["ctc_logits"].shape[1] == 24


def test_pin_without_a_start_file_is_a_config_error():
    data = {"data": {"train": [{"path": "crops"}]}, "init_sha256": "ab" * 32}
    with pytest.raises(ValueError, match="init_sha256"):
        RecognizerTrainConfig.model_validate(data)
    data["recognizer"] = {"weights": "start.pt"}
    assert RecognizerTrainConfig.model_validate(data).init_sha256 == "ab" * 32
