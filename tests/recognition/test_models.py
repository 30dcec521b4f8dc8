import copy

import pytest
import torch

from recognition.checkpoint import load_checkpoint, save_checkpoint
from recognition.decoding import attention_greedy
from recognition.models import create_model, list_models
from recognition.preprocess import PreprocessConfig
from recognition.tokenizer import Tokenizer
from tests.recognition.helpers import TINY_CHARSET, TINY_KWARGS, TINY_SIZE

ARCHS = list_models()


def _model(arch, **extra):
    tok = Tokenizer(TINY_CHARSET)
    torch.manual_seed(0)
    kwargs = {**TINY_KWARGS[arch], **extra}
    return create_model(arch, tok.num_ctc_classes, tok.num_attn_classes, **kwargs), tok, kwargs


def test_both_architectures_registered():
    assert {"joint_ctc_transformer", "crnn"} <= set(ARCHS)


@pytest.mark.parametrize("arch", ARCHS)
def test_forward_backward(arch):
    model, tok, _ = _model(arch, num_regions=3)
    h, w = TINY_SIZE[arch]
    x = torch.randn(2, 3, h, w)
    targets = tok.encode_attention(["AB1", "7"], 10)
    out = model(x, torch.tensor([w, w // 2]), targets[:, :-1])
    assert out["ctc_logits"].shape[:2] == out["mask"].shape
    assert out["ctc_logits"].shape[-1] == tok.num_ctc_classes
    assert out["region_logits"].shape == (2, 3)
    assert out["mask"][1].sum() < out["mask"][0].sum()
    loss = out["ctc_logits"].sum() + out["region_logits"].sum()
    if "attn_logits" in out:
        assert out["attn_logits"].shape == (2, targets.shape[1] - 1, tok.num_attn_classes)
        loss = loss + out["attn_logits"].sum()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_incremental_decoding_equals_teacher_forcing():
    model, tok, _ = _model("joint_ctc_transformer")
    model.eval()
    x = torch.randn(3, 3, 32, 128)
    widths = torch.tensor([128, 60, 20])
    with torch.no_grad():
        enc = model.encode(x, widths)
        res = attention_greedy(model.decoder, enc["memory"], enc["mask"])
        tokens = torch.cat([torch.full((3, 1), tok.BOS), res["tokens"][:, :-1]], dim=1)
        full = model.decoder(tokens, enc["memory"], enc["mask"]).softmax(-1)
    assert torch.equal(full.argmax(-1), res["tokens"])
    probs = full.gather(2, res["tokens"][..., None])[..., 0]
    steps = torch.arange(res["tokens"].shape[1])[None] < res["lengths"][:, None]
    assert torch.allclose(probs[steps], res["probs"][steps], atol=1e-5)


@pytest.mark.parametrize("arch", ARCHS)
def test_save_load_gives_identical_outputs(arch, tmp_path):
    model, tok, kwargs = _model(arch)
    model.eval()
    h, w = TINY_SIZE[arch]
    prep = PreprocessConfig(h, w, 1.75 if arch == "crnn" else None)
    path = save_checkpoint(tmp_path / "m.pt", model, arch, kwargs, tok, prep, regions=["ru"])
    loaded, tok2, prep2, regions = load_checkpoint(path)
    assert tok2.charset == tok.charset and prep2 == prep and regions == ["ru"]
    x, widths = torch.randn(2, 3, h, w), torch.tensor([w, 40])
    with torch.no_grad():
        a, b = model(x, widths), loaded(x, widths)
    assert torch.equal(a["ctc_logits"], b["ctc_logits"])


def test_checkpoint_loads_with_weights_only(tmp_path):
    model, tok, kwargs = _model("crnn")
    path = save_checkpoint(tmp_path / "m.pt", model, "crnn", kwargs, tok, PreprocessConfig(32, 128))
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["arch"] == "crnn" and ckpt["tokenizer"]["charset"] == TINY_CHARSET
    assert not list(tmp_path.glob(".*tmp*"))


def test_unknown_model_option_is_named():
    tok = Tokenizer(TINY_CHARSET)
    with pytest.raises(ValueError, match="hiddn"):
        create_model("crnn", tok.num_ctc_classes, tok.num_attn_classes, hiddn=3)


def test_local_encoder_weights_file_is_loaded(tmp_path):
    import timm

    enc_kwargs = copy.deepcopy(TINY_KWARGS["joint_ctc_transformer"]["encoder_kwargs"])
    src = timm.create_model("convnext_atto", pretrained=False, **enc_kwargs)
    weights = tmp_path / "enc.pth"
    torch.save(src.state_dict(), weights)
    model, _, _ = _model("joint_ctc_transformer", encoder_weights=str(weights))
    stem = model.encoder.body.stem_0.weight
    assert torch.equal(stem, src.stem[0].weight)


@pytest.mark.parametrize("width_stride", [4, 8])
def test_width_stride_keeps_columns_but_pools_height(width_stride):
    model, _, _ = _model("joint_ctc_transformer", width_stride=width_stride)
    assert model.stride == width_stride
    fmap = model.encoder(torch.randn(1, 3, 32, 128))
    assert fmap.shape[-2:] == (2, 128 // width_stride)  # height still at stride 16
    out = model(torch.randn(2, 3, 32, 128), torch.tensor([128, 64]))
    assert out["mask"].sum(1).tolist() == [128 // width_stride, 64 // width_stride]


def test_unreachable_width_stride_is_an_error():
    with pytest.raises(ValueError, match="width_stride 2"):
        _model("joint_ctc_transformer", width_stride=2)
