"""replication.plots: files are written, are valid PNGs, and bad input is rejected."""

from __future__ import annotations

import numpy as np
import pytest

from replication import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _valid_png(path):
    assert path.exists() and path.read_bytes()[:8] == PNG_MAGIC
    import matplotlib.image as mpimg
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50
    assert not list(path.parent.glob(".*.png"))          # no temporary file left behind
    return img


CLASSES = ["airport", "bus", "metro", "shopping_mall", "tram"]


def _cm(rng):
    return rng.integers(0, 20, size=(5, 5)) + np.eye(5, dtype=int) * 50


def test_confusion_pair_png(tmp_path):
    rng = np.random.default_rng(0)
    path = plots.plot_confusion_pair(_cm(rng), _cm(rng), CLASSES, tmp_path / "fig2.png",
                                     highlight_pairs=[("shopping_mall", "airport"), ("metro", "tram")])
    img = _valid_png(path)
    assert img.shape[1] > img.shape[0]                   # two panels side by side
    # the highlight colours are drawn: some pure-ish red pixels exist
    rgb = img[..., :3]
    assert np.any((rgb[..., 0] > 0.9) & (rgb[..., 1] < 0.2) & (rgb[..., 2] < 0.2))


@pytest.mark.parametrize("kwargs,match", [
    ({"cm_left": np.ones((5, 4))}, "square"),
    ({"cm_right": np.ones((4, 4))}, "4 classes but 5 class names"),
    ({"cm_left": -np.ones((5, 5))}, ">= 0"),
    ({"cm_left": np.full((5, 5), np.nan)}, "finite"),
    ({"highlight_pairs": [("airport", "harbour")]}, "unknown class 'harbour'"),
    ({"highlight_pairs": [(0, 9)]}, "outside"),
    ({"highlight_pairs": [("bus", "bus")]}, "same class"),
    ({"path": "fig.jpg"}, "PNG"),
])
def test_confusion_pair_rejects_bad_input(tmp_path, kwargs, match):
    args = {"cm_left": np.eye(5), "cm_right": np.eye(5), "class_names": CLASSES,
            "path": tmp_path / "x.png"}
    if "path" in kwargs:
        kwargs = {"path": tmp_path / kwargs["path"]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        plots.plot_confusion_pair(**args)
    assert not (tmp_path / "x.png").exists()


def test_tsne_png_and_coordinates(tmp_path):
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(2, 16)) * 10
    labels = np.repeat([0, 1], 20)
    x = centres[labels] + rng.normal(size=(40, 16))
    groups = ["10 s", "20 s"] * 20
    path, coords = plots.plot_tsne(x, labels, tmp_path / "tsne.png", groups=groups,
                                   class_names=["shopping_mall", "airport"], perplexity=10)
    _valid_png(path)
    assert coords.shape == (40, 2)
    # well separated clusters stay separated: each point's nearest neighbour has its label
    d = np.linalg.norm(coords[:, None] - coords[None], axis=-1) + np.eye(40) * 1e9
    assert np.mean(labels[d.argmin(1)] == labels) > 0.9


@pytest.mark.parametrize("x,labels,groups,match", [
    (np.zeros((10,)), [0] * 10, None, "one label per"),
    (np.zeros((10, 3)), [0] * 9, None, "one label per"),
    (np.zeros((10, 3)), [0] * 10, ["a"] * 9, "one group per"),
    (np.zeros((4, 3)), [0] * 4, None, "n >= 5"),
    (np.full((10, 3), np.nan), [0] * 10, None, "NaN"),
    (np.zeros((10, 3)), [0] * 10, list("abcdefghij"), "marker groups"),
])
def test_tsne_rejects_bad_input(tmp_path, x, labels, groups, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_tsne(x, labels, tmp_path / "t.png", groups=groups)


def test_grouped_bars_png(tmp_path):
    path = plots.plot_grouped_bars(["baseline", "DN", "DR", "D-RN"],
                                   {"ACC": [88.01, 89.18, 88.31, 90.18], "mAP@3": [91.06, 92.61, None, 93.26]},
                                   tmp_path / "fig3.png", errors={"ACC": [0.1, 0.2, None, 0.3]})
    _valid_png(path)


@pytest.mark.parametrize("cats,series,errors,match", [
    ([], {"a": []}, None, "at least one category"),
    (["x"], {}, None, "at least one series"),
    (["x", "y"], {"a": [1.0]}, None, "1 values for 2 categories"),
    (["x"], {"a": [float("nan")]}, None, "finite"),
    (["x"], {"a": [1.0]}, {"b": [0.1]}, "no series"),
    (["x"], {"a": [1.0]}, {"a": [-1.0]}, ">= 0"),
])
def test_grouped_bars_reject_bad_input(tmp_path, cats, series, errors, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_grouped_bars(cats, series, tmp_path / "b.png", errors=errors)


def test_check_bars_from_a_report(tmp_path):
    report = {"rows": [
        {"table": "paper1/table4", "run": "T5_teacher20s", "metric": "accuracy", "reference": 73.23,
         "reference_kind": "paper", "mean": 72.0, "std": 0.5},
        {"table": "paper1/table4", "run": "T1_teacher10s", "metric": "accuracy", "reference": 70.96,
         "reference_kind": "paper", "mean": 70.0, "std": 0.0}]}
    _valid_png(plots.plot_check_bars(report, tmp_path / "bars.png"))
    with pytest.raises(ValueError, match="no achieved 'map_at_3'"):
        plots.plot_check_bars(report, tmp_path / "m.png", metric="map_at_3")


def test_plot_lines_colours_by_group_and_rejects_bad_series(tmp_path):
    from replication.plots import plot_lines
    path = plot_lines({"a, seed 0": ([1, 2], [0.1, 0.2], "a"), "a, seed 1": ([1, 2], [0.2, 0.3], "a"),
                       "b, seed 0": ([1, 2], [0.0, 0.1], "b")}, tmp_path / "lines.png", "x", "y")
    assert path.is_file() and path.stat().st_size > 0
    with pytest.raises(ValueError, match="series 'bad' has 2 x and 1 y"):
        plot_lines({"bad": ([1, 2], [0.1], "g")}, tmp_path / "bad.png", "x", "y")
    with pytest.raises(ValueError, match="no series"):
        plot_lines({}, tmp_path / "none.png", "x", "y")
