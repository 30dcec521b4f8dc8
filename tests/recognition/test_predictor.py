import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from core.errors import MissingWeightsError, UsageError
from recognition.config import RecognizerConfig
from recognition.decoding import Decoded, ctc_greedy, merge
from recognition.factory import build_recognizer
from recognition.models import create_model
from recognition.predictor import RecognitionPredictor, native_bf16, resolve_precision
from recognition.preprocess import PreprocessConfig, normalize, prepare_image
from recognition.tokenizer import Tokenizer
from tests.recognition.helpers import TINY_CHARSET, TINY_KWARGS, TINY_SIZE, render_word


def _predictor(arch, merge_rule="ctc_empty", batch_size=4, width_step=None, precision="fp32"):
    tok = Tokenizer(TINY_CHARSET)
    torch.manual_seed(1)
    model = create_model(arch, tok.num_ctc_classes, tok.num_attn_classes, **TINY_KWARGS[arch])
    h, w = TINY_SIZE[arch]
    return RecognitionPredictor(model, tok, PreprocessConfig(h, w), merge=merge_rule,
                                batch_size=batch_size, width_step=width_step,
                                precision=precision)


def _crops():
    rng = np.random.default_rng(0)
    crops = [render_word(t) for t in ["A1", "BOX77", "9", "TEXT", "HE", "MOP123"]]
    crops += [rng.integers(0, 256, (int(rng.integers(5, 40)), int(rng.integers(5, 200)), 3),
                           dtype=np.uint8) for _ in range(5)]
    return crops


@pytest.mark.parametrize("arch,merge_rule", [("joint_ctc_transformer", "ctc_empty"),
                                             ("joint_ctc_transformer", "closest"),
                                             ("crnn", "ctc_empty")])
def test_batched_equals_single(arch, merge_rule):
    pred = _predictor(arch, merge_rule)
    crops = _crops()
    batched = pred.predict(crops)
    single = [pred.predict([c])[0] for c in crops]
    assert len(batched) == len(crops)
    for b, s in zip(batched, single, strict=True):
        assert b.text == s.text
        assert abs(b.score - s.score) <= 1e-4
        assert math.log(max(b.score, 1e-300)) == pytest.approx(
            math.log(max(s.score, 1e-300)), rel=1e-4, abs=1e-3)
        assert 0.0 <= b.score <= 1.0
        if arch == "crnn":  # CTC reads know where each word lies
            assert b.spans == s.spans and len(b.spans) == len(b.text.split())
            assert all(0.0 <= lo < hi <= 1.0 for lo, hi in b.spans)


@pytest.mark.parametrize("arch", ["crnn", "joint_ctc_transformer"])
def test_width_step_pads_each_crop_to_its_own_bucket(arch):
    pred = _predictor(arch, width_step=16)
    full = pred.preprocess.width
    seen = []
    run = pred.predict_tensors

    def spy(images, widths, *rest):
        seen.append((images.shape[-1], widths.tolist()))
        return run(images, widths, *rest)

    pred.predict_tensors = spy
    crops = _crops()
    batched = pred.predict(crops)
    assert any(width < full for width, _ in seen)  # short crops ran narrower
    for width, widths in seen:
        assert width % 16 == 0 or width == full
        assert all(w <= width and (width == 16 or w > width - 16) for w in widths)
    single = [pred.predict([c])[0] for c in crops]  # same bucket alone: same read
    for b, s in zip(batched, single, strict=True):
        assert b.text == s.text and abs(b.score - s.score) <= 1e-4


@pytest.mark.parametrize("arch", ["crnn", "joint_ctc_transformer"])
def test_bf16_runs_the_same_model_in_bfloat16(arch):
    fp32, bf16 = _predictor(arch), _predictor(arch, precision="bf16")
    params = list(bf16.model.parameters())
    assert all(p.dtype == torch.bfloat16 for p in params)
    convs = [m.weight for m in bf16.model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert all(p.dtype == torch.float32 for p in fp32.model.parameters())
    crops = _crops()
    reads = bf16.predict(crops)
    assert len(reads) == len(crops) and all(0.0 <= r.score <= 1.0 for r in reads)
    # same logits up to bfloat16 rounding (8 bits of mantissa)
    h, w = TINY_SIZE[arch]
    torch.manual_seed(0)
    x, widths = torch.randn(3, 3, h, w), torch.tensor([w, w // 2, 8])
    with torch.inference_mode():
        forward = "encode" if arch != "crnn" else "__call__"
        a = getattr(fp32.model, forward)(x, widths)["ctc_logits"]
        b = getattr(bf16.model, forward)(
            x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last), widths)
    b = b["ctc_logits"].float()
    assert (a - b).abs().max() <= 0.05 * a.abs().max() + 0.05


def test_precision_names():
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == torch.float32
    assert resolve_precision("bf16", cpu) == torch.bfloat16
    assert resolve_precision("auto", cpu) == (torch.bfloat16 if native_bf16(cpu)
                                              else torch.float32)
    with pytest.raises(ValueError, match="fp16"):
        resolve_precision("fp16", cpu)
    with pytest.raises(ValueError, match="precision"):
        RecognizerConfig(arch="crnn", precision="fp16")


def test_input_order_is_kept():
    pred = _predictor("crnn", batch_size=2)
    crops = _crops()
    forward = pred.predict(crops)
    backward = pred.predict(crops[::-1])
    assert [r.text for r in forward] == [r.text for r in backward[::-1]]


def test_ctc_word_spans_follow_the_columns_of_each_word():
    from recognition.decoding import ctc_word_spans

    tok = Tokenizer("ab ")
    # columns: a a - b ' ' - a b - -   (- is blank): "ab" at 0-4, "ab" at 6-8 of 10
    ids = [1, 1, 0, 2, 3, 0, 1, 2, 0, 0]
    assert tok.decode_ctc(ids) == "ab ab"
    assert ctc_word_spans(ids, tok, widen=0.0) == ((0.0, 0.4), (0.6, 0.8))
    # widened by half a character's columns on each side (2 and 1 columns per character)
    flat = [v for span in ctc_word_spans(ids, tok) for v in span]
    assert flat == pytest.approx([0.0, 0.5, 0.55, 0.85])
    assert ctc_word_spans([3, 0, 3], tok) == ()  # only spaces: no word


def test_transformer_candidates_keep_ctc_spans_only_with_as_many_words():
    ctc = Decoded("ab cd", 0.9, ((0.0, 0.4), (0.6, 1.0)))
    same = merge(ctc, [Decoded("ab cx", 0.5)], "ctc_empty")
    assert same.text == "ab cx" and same.spans == ctc.spans
    assert merge(ctc, [Decoded("abcd", 0.5)], "ctc_empty").spans is None


def test_merge_rules():
    ctc = Decoded("HELLO", 0.9)
    cands = [Decoded("HALLO", 0.5), Decoded("HELLO!", 0.4)]
    assert merge(ctc, cands, "ctc_empty").text == "HALLO"
    assert merge(Decoded("", 0.7), cands, "ctc_empty") == Decoded("", 0.7)
    assert merge(ctc, cands, "closest").text == "HALLO"  # distance 1, first wins the tie
    far = [Decoded("QQQQQQQ", 0.5)]
    assert merge(ctc, far, "closest") == ctc
    assert merge(Decoded("AB", 0.5), [Decoded("B", 0.2)], "closest").text == "B"
    assert merge(ctc, cands, "ctc") == ctc


def test_ctc_merge_reads_without_running_the_decoder(monkeypatch):
    crops = _crops()
    pred = _predictor("joint_ctc_transformer", "ctc")
    calls = []
    monkeypatch.setattr(pred.model.decoder, "forward",
                        lambda *a, **k: calls.append(1))
    monkeypatch.setattr(pred.model.decoder, "step", lambda *a, **k: calls.append(1))
    reads = pred.predict(crops)
    assert not calls and len(reads) == len(crops)
    for crop, read in zip(crops, reads, strict=True):  # the CTC head's greedy text
        image, width = prepare_image(crop, pred.preprocess)
        with torch.inference_mode():
            out = pred.model.encode(normalize(image[None]), torch.tensor([width]))
        assert read.text == ctc_greedy(out["ctc_logits"], out["mask"], pred.tokenizer)[0].text


def test_missing_weights_file_is_an_error_naming_field_and_file(tmp_path):
    cfg = RecognizerConfig(arch="crnn", weights=tmp_path / "missing.pt")
    with pytest.raises(MissingWeightsError) as err:
        build_recognizer(cfg, device="cpu")
    assert isinstance(err.value, UsageError) and isinstance(err.value, FileNotFoundError)
    assert "recognizer.weights" in str(err.value)
    assert str(tmp_path / "missing.pt") in str(err.value)
    with pytest.raises(MissingWeightsError, match="recognizer.weights is not set"):
        build_recognizer(RecognizerConfig(arch="crnn"), device="cpu")


def test_untrained_with_weights_is_a_config_error(tmp_path):
    with pytest.raises(ValidationError, match="untrained: true builds a random model"):
        RecognizerConfig(untrained=True, weights=tmp_path / "m.pt")


def test_untrained_on_request_warns_and_reads(caplog):
    cfg = RecognizerConfig(arch="crnn", height=32, width=128, model=TINY_KWARGS["crnn"],
                           untrained=True, charset=TINY_CHARSET)
    with caplog.at_level("WARNING"):
        rec = build_recognizer(cfg, device="cpu")
    assert "UNTRAINED" in rec.description
    assert any("UNTRAINED" in r.message for r in caplog.records)
    out = rec.predict([render_word("AB12")])
    assert len(out) == 1 and isinstance(out[0].text, str)
    assert rec.preprocess.two_row_aspect == 1.75  # the crnn default for plates


def test_config_min_aspect_overrides_checkpoint(tmp_path):
    from recognition.checkpoint import save_checkpoint

    tok = Tokenizer(TINY_CHARSET)
    model = create_model("crnn", tok.num_ctc_classes, tok.num_attn_classes, **TINY_KWARGS["crnn"])
    path = save_checkpoint(tmp_path / "m.pt", model, "crnn", TINY_KWARGS["crnn"], tok,
                           PreprocessConfig(32, 128, 1.75, min_aspect=2.5))
    cfg = dict(arch="crnn", weights=path, height=32, width=128)
    assert build_recognizer(RecognizerConfig(**cfg), device="cpu").preprocess.min_aspect == 2.5
    rec = build_recognizer(RecognizerConfig(**cfg, min_aspect=3.0), device="cpu")
    assert rec.preprocess.min_aspect == 3.0 and rec.preprocess.two_row_aspect == 1.75
    off = build_recognizer(RecognizerConfig(**cfg, min_aspect=None), device="cpu")
    assert off.preprocess.min_aspect is None


def test_row_split_comes_from_the_checkpoint_unless_the_config_says(tmp_path):
    from recognition.checkpoint import load_checkpoint, save_checkpoint

    tok = Tokenizer(TINY_CHARSET)
    model = create_model("crnn", tok.num_ctc_classes, tok.num_attn_classes, **TINY_KWARGS["crnn"])
    path = save_checkpoint(tmp_path / "m.pt", model, "crnn", TINY_KWARGS["crnn"], tok,
                           PreprocessConfig(32, 128, 1.75, row_split=True))
    assert load_checkpoint(path)[2].row_split is True
    cfg = dict(arch="crnn", weights=path, height=32, width=128)
    assert build_recognizer(RecognizerConfig(**cfg), device="cpu").preprocess.row_split
    off = build_recognizer(RecognizerConfig(**cfg, row_split=False), device="cpu")
    assert off.preprocess.row_split is False


def test_text_band_comes_from_the_checkpoint_unless_the_config_says(tmp_path):
    from recognition.checkpoint import save_checkpoint

    tok = Tokenizer(TINY_CHARSET)
    model = create_model("crnn", tok.num_ctc_classes, tok.num_attn_classes, **TINY_KWARGS["crnn"])
    path = save_checkpoint(tmp_path / "m.pt", model, "crnn", TINY_KWARGS["crnn"], tok,
                           PreprocessConfig(32, 128, 1.75, 3.0, text_band=True))
    cfg = dict(arch="crnn", weights=path, height=32, width=128)
    assert build_recognizer(RecognizerConfig(**cfg), device="cpu").preprocess.text_band
    off = build_recognizer(RecognizerConfig(**cfg, text_band=False), device="cpu")
    assert not off.preprocess.text_band and off.preprocess.min_aspect == 3.0


@pytest.mark.parametrize("arch,merge_rule", [("crnn", "ctc_empty"),
                                             ("joint_ctc_transformer", "closest")])
def test_forbidden_characters_are_never_read(arch, merge_rule):
    pred = _predictor(arch, merge_rule)
    crops = _crops()
    free = pred.predict(crops)
    used = "".join(sorted({c for r in free for c in r.text}))
    assert used  # the untrained model emits something to forbid
    banned = used[: max(1, len(used) // 2)]
    locked = pred.predict(crops, forbid=banned + "Ж")  # unknown characters are ignored
    assert len(locked) == len(crops)
    assert not any(c in banned for r in locked for c in r.text)
    assert pred.predict(crops, forbid="") == free


def test_one_row_below_keeps_the_better_reading_of_a_narrow_crop():
    tok = Tokenizer(TINY_CHARSET)
    torch.manual_seed(1)
    model = create_model("crnn", tok.num_ctc_classes, tok.num_attn_classes,
                         **TINY_KWARGS["crnn"])
    h, w = TINY_SIZE["crnn"]
    two_row = PreprocessConfig(h, w, two_row_aspect=1.75)
    one_row = PreprocessConfig(h, w, two_row_aspect=None)
    rng = np.random.default_rng(3)
    narrow = [rng.integers(0, 256, (40, int(rng.integers(30, 68)), 3), dtype=np.uint8)
              for _ in range(6)]
    wide = render_word("BOX77")
    as_two = RecognitionPredictor(model, tok, two_row).predict(narrow + [wide])
    as_one = RecognitionPredictor(model, tok, one_row).predict(narrow + [wide])
    checked = RecognitionPredictor(model, tok, two_row, one_row_below=1.0).predict(
        narrow + [wide])
    for a, b, got in zip(as_two[:-1], as_one[:-1], checked[:-1], strict=True):
        best = b if b.score > a.score else a
        assert (got.text, got.score) == (best.text, best.score)
    assert any(b.score > a.score for a, b in zip(as_two, as_one, strict=False))
    assert (checked[-1].text, checked[-1].score) == (as_two[-1].text, as_two[-1].score)
    # at a bar no two-row reading scores under, the two-row readings all stand
    floor = max(min(r.score for r in as_two[:-1]), 1e-9)
    never = RecognitionPredictor(model, tok, two_row, one_row_below=floor).predict(narrow)
    assert [r.text for r in never] == [r.text for r in as_two[:-1]]


def _ink_blocks(h, blocks, width):
    """A white ``h x width`` RGB crop with black blocks at ``(x0, x1)`` columns."""
    img = np.full((h, width, 3), 255, np.uint8)
    for a, b in blocks:
        img[h // 4: 3 * h // 4, a:b] = 0
    return img


def test_split_columns_cuts_in_the_widest_blank_run_near_each_even_cut():
    from recognition.predictor import split_columns

    # 20 px high, 400 wide: a word space (8 px) at 190-198 and a letter gap (2 px) at 210
    crop = _ink_blocks(20, [(10, 190), (198, 210), (212, 390)], 400)
    [(x, space)] = split_columns(crop, 2)
    assert 190 <= x < 198 and space  # the wider run, and wide enough for a word space
    crop = _ink_blocks(20, [(10, 205), (207, 390)], 400)
    [(x, space)] = split_columns(crop, 2)
    assert 205 <= x < 207 and not space  # only a letter gap: cut there, no space
    # light ink on a dark crop: the background is the median, whatever its polarity
    [(x, space)] = split_columns(255 - _ink_blocks(20, [(10, 190), (198, 390)], 400), 2)
    assert 190 <= x < 198 and space
    # one blank run reaching two cuts' windows: two cuts inside it, strictly increasing
    xs = [x for x, _ in split_columns(_ink_blocks(20, [(10, 120), (290, 390)], 400), 3)]
    assert xs[0] < xs[1] and all(120 <= x < 290 for x in xs)
    # no blank column near the middle: the even cut
    assert split_columns(_ink_blocks(20, [(10, 390)], 400), 4) == [(100, False), (200, False),
                                                                   (300, False)]


def test_join_readings_puts_words_back_in_the_whole_crop():
    from recognition.predictor import join_readings
    from recognition.types import Recognition

    left = Recognition("TAX 10", 0.5, None, ((0.0, 0.4), (0.5, 1.0)), (0.9, 0.8),
                       ((0.0, 0.0, 0.5, 1.0, 0.9),))
    right = Recognition("0.00", 0.5, None, ((0.2, 1.0),), (0.6,), ((0.2, 0.0, 1.0, 1.0, 0.6),))
    spaced = join_readings([left, right], [0, 100, 200], [True])
    assert spaced.text == "TAX 10 0.00" and spaced.score == pytest.approx(0.25)
    assert np.allclose(spaced.spans, [(0.0, 0.2), (0.25, 0.5), (0.6, 1.0)])
    assert spaced.word_scores == (0.9, 0.8, 0.6)
    assert spaced.chars[1][0] == pytest.approx(0.6) and spaced.chars[1][2] == pytest.approx(1.0)
    glued = join_readings([left, right], [0, 100, 200], [False])
    assert glued.text == "TAX 100.00"  # a word cut in two is one word, its lower score
    assert np.allclose(glued.spans, [(0.0, 0.2), (0.25, 1.0)])
    assert glued.word_scores == (0.9, 0.6)
    # an empty piece adds nothing; a piece without spans leaves the whole without them
    empty = join_readings([left, Recognition("", 0.9)], [0, 100, 200], [True])
    assert empty.text == "TAX 10" and np.allclose(empty.spans, [(0.0, 0.2), (0.25, 0.5)])
    assert join_readings([left, Recognition("X", 0.9)], [0, 100, 200], [True]).spans is None
    assert join_readings([Recognition("", 1.0), right], [0, 50, 200], [False]).text == "0.00"


def test_split_aspect_reads_a_long_crop_in_pieces_of_the_input_aspect(monkeypatch):
    from recognition.types import Recognition

    pred = _predictor("crnn")
    pred.split_aspect = 2 * pred.preprocess.width / pred.preprocess.height
    h = 20
    aspect = pred.preprocess.width / pred.preprocess.height
    long_w = int(h * aspect * 2.5)  # read as 3 pieces
    gaps = [int(long_w * k / 3) for k in (1, 2)]
    blocks = [(2, gaps[0] - 4), (gaps[0] + 4, gaps[1] - 4), (gaps[1] + 4, long_w - 2)]
    seen = []

    def fake_read(crops, preprocess, forbid):
        seen.extend(c.shape[1] for c in crops)
        return [Recognition(f"w{c.shape[1]}", 0.5, None, ((0.0, 1.0),), (0.5,))
                for c in crops]

    monkeypatch.setattr(pred, "_read", fake_read)
    short = _ink_blocks(h, [(2, 30)], int(h * aspect * 1.5))  # under split_aspect: whole
    out = pred.predict([short, _ink_blocks(h, blocks, long_w)])
    assert seen[0] == short.shape[1] and len(seen) == 4
    assert sum(seen[1:]) == long_w and max(seen[1:]) <= h * aspect
    assert out[0].text == f"w{short.shape[1]}"
    assert out[1].text == " ".join(f"w{w}" for w in seen[1:])
    assert out[1].score == pytest.approx(0.125) and len(out[1].spans) == 3
    pred.split_aspect = None  # off: the long crop is read whole
    seen.clear()
    pred.predict([_ink_blocks(h, blocks, long_w)])
    assert seen == [long_w]
