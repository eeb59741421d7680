"""run_stream, StreamRun and the chapter's parameter validation."""

import pickle

import pytest

from reprobook.ficsum import ChapterParameters, StreamRun, run_stream, validate_parameters
from reprobook.params import ParameterError


def test_lower_bound_concept_f1_is_exactly_two_over_k_plus_one_and_result_pickles():
    result = run_stream(StreamRun("stagger", seed=1, method="lower", segment_length=300, repeats=2))
    summary = result.summary.iloc[0]
    assert summary["cf1"] == 0.5
    assert summary["n_obs"] == 1800 and summary["n_true_concepts"] == 3
    assert pickle.loads(pickle.dumps(result)).summary.equals(result.summary)


def test_oracle_tracks_concepts_perfectly_and_ficsum_records_distances():
    upper = run_stream(StreamRun("stagger", seed=1, method="upper", segment_length=300, repeats=1))
    assert upper.summary["cf1"].iloc[0] == 1.0
    ficsum = run_stream(StreamRun("stagger", seed=1, segment_length=400, repeats=1, trace_every=5,
                                  distance_every=50))
    assert set(ficsum.distances.columns) == {"t", "concept", "distance"}
    assert len(ficsum.distances) > 0 and len(ficsum.weights) > 0
    assert len(ficsum.trace) >= 1200 // 5


def test_streamrun_validates():
    with pytest.raises(ParameterError, match="method"):
        StreamRun("stagger", method="cpf")
    with pytest.raises(ParameterError, match="variant"):
        StreamRun("stagger", method="lower", variant="fi_off")
    with pytest.raises(ParameterError, match="stream"):
        StreamRun("staggr")


def test_chapter_parameters():
    params = validate_parameters(profile="smoke", streams=["stagger"], segment_length=1000)
    assert params.profile == "smoke" and params.streams == ["stagger"] and params.segment_length == 1000
    assert validate_parameters(profile="smoke").seeds == ChapterParameters().seeds, "defaults are the book's"
    with pytest.raises(ParameterError, match="'profile' must be one of 'smoke', 'book', 'paper'"):
        validate_parameters(profile="huge")
    assert validate_parameters().profile == "book"
    with pytest.raises(ParameterError, match="allowed parameters"):
        validate_parameters(sedes=[1])
    with pytest.raises(ParameterError, match="segment_length"):
        validate_parameters(segment_length=50)
    with pytest.raises(ParameterError, match="baselines"):
        validate_parameters(baselines=["lower", "oracle"])
    with pytest.raises(ParameterError, match="ablations"):
        validate_parameters(ablations=["default"])
    with pytest.raises(ParameterError, match="seeds"):
        validate_parameters(seeds=[1, 1])
