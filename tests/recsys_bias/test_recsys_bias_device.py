"""The ``device`` parameter (SVD++ is the chapter's torch model): validated, CPU by default."""

import pandas as pd
import pytest

from reprobook.params import ParameterError
from reprobook.recsys_bias import chapter, experiments, recommenders


def test_device_is_validated_and_defaults_to_cpu():
    assert chapter.validate_parameters().device == "cpu"
    assert chapter.validate_parameters(device="auto").device == "auto"
    with pytest.raises(ParameterError, match="'device'"):
        chapter.validate_parameters(device="tpu")
    params = chapter.validate_parameters(device="auto")
    assert chapter.model_config(params, "ml100k", "SVD++", "raw").device == "auto"
    assert experiments.RecConfig().device == "cpu"


def test_svdpp_refuses_an_unknown_device_and_is_deterministic_on_cpu():
    train = pd.DataFrame({"user": [0, 0, 1, 2, 2], "item": [0, 1, 0, 2, 1], "rating": [5.0, 3.0, 4.0, 1.0, 2.0]})
    with pytest.raises(ParameterError, match="'device'"):
        recommenders.SVDpp(device="gpu").fit(train, 3, 3)
    first = recommenders.SVDpp(factors=4, epochs=3).fit(train, 3, 3).score([0, 1, 2])
    again = recommenders.SVDpp(factors=4, epochs=3, device="cpu").fit(train, 3, 3).score([0, 1, 2])
    assert (first == again).all()
