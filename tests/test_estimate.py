import pytest

from reprobook.estimate import Probe, chapter_probe, format_projection, project, read_estimate, write_estimate


def test_projection_scales_throughput_to_the_profile():
    probe = Probe(units_done=500, wall_seconds=10, cpu_seconds=18, device="cuda (H200)", units_total=5e6,
                  cells=10, unit="steps")
    projection = project(probe)
    assert projection.units_per_second == 50
    assert projection.wall_hours_serial == pytest.approx(5e6 / 50 / 3600)
    assert projection.gpu_hours == projection.wall_hours_serial
    assert projection.wall_hours_parallel == pytest.approx(projection.wall_hours_serial / 10)
    text = format_projection(projection, "paper")
    assert "GPU time" in text and "10 independent cells" in text


def test_probes_are_validated_and_round_trip(tmp_path):
    with pytest.raises(ValueError):
        Probe(units_done=0, wall_seconds=1, cpu_seconds=1, device="cpu", units_total=10)
    with pytest.raises(ValueError):
        Probe(units_done=10, wall_seconds=1, cpu_seconds=1, device="cpu", units_total=5)
    projection = project(Probe(10, 1, 1, "cpu", 100))
    write_estimate("demo", "paper", projection, tmp_path)
    assert read_estimate("demo", "paper", tmp_path)["gpu_hours"] == 0
    assert read_estimate("other", "paper", tmp_path) is None


def test_a_chapter_without_a_probe_says_so():
    with pytest.raises(NotImplementedError, match="no cost estimate"):
        chapter_probe("nonexistent_chapter", {})


def test_the_estimate_command_probes_the_profile_and_writes_a_record(tmp_path, monkeypatch, capsys):
    import reprobook.estimate as estimate
    from reprobook import cli

    seen = {}

    def fake_probe(slug, parameters, seconds):
        seen.update(slug=slug, profile=parameters["profile"], seconds=seconds)
        return Probe(units_done=100, wall_seconds=2.0, cpu_seconds=2.0, device="cpu", units_total=1e6, cells=5,
                     unit="steps")

    monkeypatch.setattr(estimate, "chapter_probe", fake_probe)
    monkeypatch.setenv("REPROBOOK_ROOT", str(tmp_path))
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "notebooks", tmp_path / "notebooks")
    assert cli.main(["estimate", "wsep", "--profile", "paper", "--seconds", "5"]) == 0
    out = capsys.readouterr().out
    assert seen == {"slug": "wsep", "profile": "paper", "seconds": 5.0}
    assert "paper profile would take" in out and "5 independent cells" in out
    assert read_estimate("wsep", "paper", tmp_path / "bench" / "records" / "estimates")["units_per_second"] == 50
    assert cli.main(["estimate", "wsep", "--seconds", "0"]) == 2
    assert cli.main(["estimate", "nosuchchapter"]) == 2
    assert cli.main(["estimate", "wsep", "-p", "no_such_parameter=1", "--seconds", "1"]) == 2
    assert "no_such_parameter" in capsys.readouterr().err


def test_probe_seconds_are_bounded():
    with pytest.raises(ValueError, match="seconds"):
        chapter_probe("wsep", {}, seconds=0)
    with pytest.raises(ValueError, match="seconds"):
        chapter_probe("wsep", {}, seconds=1e9)


def test_a_chapter_page_states_the_estimate_and_saves_it_with_the_downloads(tmp_path, monkeypatch):
    import json

    import reprobook.estimate as estimate

    monkeypatch.setattr(estimate, "chapter_probe", lambda slug, parameters, seconds: Probe(
        units_done=10, wall_seconds=1.0, cpu_seconds=1.0, device="cpu", units_total=36_000, unit="steps"))
    monkeypatch.setenv("REPROBOOK_CHAPTER", "wsep")
    monkeypatch.setenv("REPROBOOK_DOWNLOADS_DIR", str(tmp_path))
    text = estimate.estimate_markdown("wsep", "paper", seconds=1)
    assert text.startswith("**Cost of the `paper` profile.** The paper profile would take ≈ 1.0 h")
    assert text.endswith('<a href="../data/wsep/estimate-paper.json" download>estimate-paper.json</a>.')
    saved = json.loads((tmp_path / "estimate-paper.json").read_text(encoding="utf-8"))
    assert saved["units_per_second"] == 10 and saved["probe"]["unit"] == "steps"
