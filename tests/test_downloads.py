"""Results to take away: sweeps, ledgers and figures written as files while a chapter runs."""

import json
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from reprobook import downloads
from reprobook.claims import MINIATURE, AtLeast, Claim, Control, Ledger
from reprobook.plotting import BookHtmlRenderer


@dataclass(frozen=True)
class Config:
    seed: int
    method: str


def test_nothing_is_written_outside_a_runner_driven_chapter(tmp_path, monkeypatch):
    monkeypatch.delenv("REPROBOOK_CHAPTER", raising=False)
    monkeypatch.setenv("REPROBOOK_ROOT", str(tmp_path))
    assert downloads.downloads_dir() is None
    assert downloads.save_frame(pd.DataFrame({"a": [1]}), "x") is None
    assert "figure-data" not in BookHtmlRenderer().to_mimebundle(go.Figure().to_dict())["text/html"]
    assert not (tmp_path / "book").exists()


def test_sweeps_ledgers_and_figures_become_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("REPROBOOK_CHAPTER", "demo")
    monkeypatch.setenv("REPROBOOK_ROOT", str(tmp_path))
    folder = tmp_path / "book" / "_extra" / "data" / "demo"
    configs = [Config(0, "a"), Config(1, "b")]
    results = [pd.DataFrame({"score": [0.1, 0.2]}), pd.DataFrame({"score": [0.3]})]
    downloads.save_sweep("run_x", configs, results)
    frame = pd.read_csv(folder / "run_x.csv")
    assert list(frame["config.seed"]) == [0, 0, 1] and list(frame["score"]) == [0.1, 0.2, 0.3]
    assert downloads.save_sweep("not_frames", configs, [1, 2]) is None

    html = BookHtmlRenderer().to_mimebundle(go.Figure(go.Scatter(x=[1, 2], y=[3, 4])).to_dict())["text/html"]
    name = html.split('href="../data/demo/')[1].split('"')[0]
    figure = pio.read_json(folder / name)
    assert list(figure.data[0].y) == [3, 4]

    ledger = Ledger("demo", [Claim("a", "A claim.", paper="0.9", source="T1", metric="x", rule=AtLeast(0.5),
                                   evidence=MINIATURE, controls=(Control("c", "random"),))])
    ledger.evaluate({"x": [0.7, 0.72, 0.71], "c": [0.1, 0.12, 0.11]})
    ledger.write(tmp_path / "claims")
    assert json.loads((folder / "claims.json").read_text())["claims"][0]["verdict"] == "reproduced"
    assert pd.read_csv(folder / "claims.csv").loc[0, "n"] == 3
    links = downloads.links_markdown("demo")
    for file_name in ("claims.csv", "claims.json", "run_x.csv", name):
        assert f'href="../data/demo/{file_name}"' in links
