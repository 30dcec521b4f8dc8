import pytest
import torch

from core.config import validate
from recognition.config import RecognizerTrainConfig
from recognition.losses import ctc_distillation
from recognition.train import train
from tests.recognition.test_training import _config, crops  # noqa: F401 (fixture)


def test_distillation_is_zero_only_for_the_teachers_own_posteriors():
    torch.manual_seed(0)
    teacher = torch.randn(2, 5, 7)
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    assert ctc_distillation(teacher, teacher, mask).item() == pytest.approx(0, abs=1e-6)
    assert ctc_distillation(torch.randn(2, 5, 7), teacher, mask).item() > 0.1
    # padding columns do not count
    student = teacher.clone()
    student[1, 3:] = torch.randn(2, 7) * 5
    assert ctc_distillation(student, teacher, mask).item() == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match="same columns"):
        ctc_distillation(torch.randn(2, 4, 7), teacher, mask)


def test_student_learns_the_teachers_columns(tmp_path, crops):  # noqa: F811
    taught = train(validate(_config(tmp_path / "t", crops, max_steps=30, eval_every=100),
                            RecognizerTrainConfig), progress=False)
    # a joint model with the CRNN's column stride, trained on the teacher's posteriors only
    data = _config(tmp_path / "s", crops, "joint_ctc_transformer", max_steps=30, eval_every=100,
                   ctc_weight=0.0, ce_weight=0.0, teacher=str(taught.last))
    data["recognizer"]["model"] = {**data["recognizer"]["model"], "width_stride": 4}
    data["augment"]["enabled"] = False
    student = train(validate(data, RecognizerTrainConfig), progress=False)
    assert student.losses[0] > 0.5
    assert sum(student.losses[-3:]) / 3 < 0.5 * student.losses[0], student.losses


def test_teacher_that_reads_other_columns_is_refused(tmp_path, crops):  # noqa: F811
    taught = train(validate(_config(tmp_path / "t", crops, max_steps=1, eval_every=100),
                            RecognizerTrainConfig), progress=False)
    data = _config(tmp_path / "s", crops, "joint_ctc_transformer", max_steps=1,
                   teacher=str(taught.last))  # joint default stride 16, the CRNN's 4
    with pytest.raises(ValueError, match="train.teacher .*column stride 4"):
        train(validate(data, RecognizerTrainConfig), progress=False)
    data["recognizer"]["model"] = {**data["recognizer"]["model"], "width_stride": 4}
    data["recognizer"]["height"] = 48
    with pytest.raises(ValueError, match="train.teacher .*32x128"):
        train(validate(data, RecognizerTrainConfig), progress=False)
