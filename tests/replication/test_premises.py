"""replication.premises: the probes find a premise that synthetic features carry by
construction and find none where it is absent (no audio, no network: seconds)."""

from __future__ import annotations

import numpy as np
import pytest

from replication import premises as pm


def _clip(rng, label, bands=16, frames=50, p_event=0.3, event_band=None):
    x = rng.normal(0.0, 1.0, (bands, frames))                          # [bands, frames]
    if rng.random() < p_event:                                         # the class's short event
        start = int(rng.integers(0, frames - 5))
        x[event_band if event_band is not None else 3 * label, start:start + 5] += 6.0
    return pm.Clip(logmel64=x, logmel128=x, mfcc20=x[:20], label=label)


def _sparse_events(seed, per_class=100, classes=4, p_event=0.3):
    rng = np.random.default_rng(seed)
    return [_clip(rng, k, p_event=p_event) for k in range(classes) for _ in range(per_class)]


def test_joined_probe_gains_where_evidence_is_sparse_in_time():
    result = pm.paper1_joined_gain(_sparse_events(0), _sparse_events(1), pairings=2)
    assert result["gain"] >= pm.P1_MIN_GAIN and result["holds"], result


def test_joined_probe_gains_nothing_without_class_evidence():
    result = pm.paper1_joined_gain(_sparse_events(0, p_event=0.0), _sparse_events(1, p_event=0.0), pairings=2)
    assert abs(result["gain"]) < pm.P1_MIN_GAIN and not result["holds"], result


def _two_views(seed, per_class=40, classes=4):
    """Classes 0/1 differ only in view A (logMel128), classes 2/3 only in view B (MFCC)."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(classes):
        for _ in range(per_class):
            a = rng.normal(0.0, 1.0, (128, 20))
            b = rng.normal(0.0, 1.0, (20, 20))
            a[10 if k in (0, 2) else 40] += 1.5 if k < 2 else 0.0       # 0 vs 1: view A only
            a[70] += 1.0 if k >= 2 else 0.0                            # {0,1} vs {2,3}: both views
            b[3] += 1.0 if k >= 2 else 0.0
            b[5 if k == 2 else 9] += 1.5 if k >= 2 else 0.0            # 2 vs 3: view B only
            out.append(pm.Clip(logmel64=a[:64], logmel128=a, mfcc20=b, label=k))
    return out


def test_complementary_views_average_beats_each():
    result = pm.paper2_complementarity(_two_views(0), _two_views(1))
    assert result["gain_over_best"] >= pm.P2_MIN_GAIN, result
    assert result["error_correlation"] < 0.3, result


def test_redundant_views_are_not_complementary():
    views = [pm.Clip(c.logmel64, c.logmel128, c.logmel128[:20], c.label) for c in _two_views(0)]
    tests = [pm.Clip(c.logmel64, c.logmel128, c.logmel128[:20], c.label) for c in _two_views(1)]
    result = pm.paper2_complementarity(views, tests)
    assert not result["holds"], result


def _shared_view_noisy_labels(seed, per_class=150, classes=4, noise=0.5, clean=False):
    """Both views carry every class (view A more plainly); half the training labels are
    redrawn at random, so an aggregate that has not memorised a clip knows its class
    better than its label does: knowledge one view's probe can learn from soft labels."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(classes):
        for _ in range(per_class):
            a = rng.normal(0.0, 1.0, (128, 20))
            b = rng.normal(0.0, 1.0, (20, 20))
            a[10 + 5 * k] += 1.0
            b[2 + 4 * k] += 0.5
            label = k if clean or rng.random() > noise else int(rng.integers(classes))
            out.append(pm.Clip(logmel64=a[:64], logmel128=a, mfcc20=b, label=label))
    return out


def test_transfer_probe_finds_knowledge_a_view_can_learn_from_the_average():
    result = pm.paper2_transfer(_shared_view_noisy_labels(0), _shared_view_noisy_labels(10, clean=True))
    assert result["best_gain"] >= pm.P2_MIN_TRANSFER + 2.0 and result["holds"], result   # measured +10.3
    taught = result["accuracy"]["logmel128"]
    assert taught["crossed"] > taught["permuted"] and taught["crossed"] > taught["one_hot"], result


def test_transfer_probe_finds_none_where_each_view_lacks_what_the_other_knows():
    """Complementary views (the average beats each) whose extra knowledge is absent from
    the other view's input: nothing to distil, whatever the aggregate says."""
    result = pm.paper2_transfer(_two_views(0, per_class=100), _two_views(1, per_class=100))
    assert pm.paper2_complementarity(_two_views(0, per_class=100), _two_views(1, per_class=100))["holds"]
    assert result["best_gain"] < pm.P2_MIN_TRANSFER - 0.5 and not result["holds"], result   # measured +0.2


def test_soft_probe_on_one_hot_targets_is_the_hard_label_probe():
    clips = _two_views(0)
    x = np.stack([pm.stats(c.mfcc20) for c in clips])
    y = np.array([c.label for c in clips])
    np.testing.assert_allclose(pm._soft_probe(x, np.eye(4)[y], x), pm._probe(x, y, x), atol=1e-6)


def test_partners_stay_in_class_and_never_pick_the_clip_itself():
    labels = np.array([0, 0, 1, 1, 1, 2])
    other = pm.partners(labels, np.random.default_rng(0))
    assert all(labels[other] == labels)
    assert all(other[:5] != np.arange(5)) and other[5] == 5            # a lone clip keeps itself


@pytest.mark.parametrize("a,b,expected", [([1, 0, 1, 0], [1, 0, 1, 0], 1.0), ([1, 0, 1, 0], [0, 1, 0, 1], -1.0),
                                          ([0, 0, 0, 0], [1, 0, 1, 0], 0.0)])
def test_error_correlation(a, b, expected):
    assert pm.error_correlation(np.array(a, bool), np.array(b, bool)) == pytest.approx(expected)


def test_command_generates_with_demo_options_and_fills_the_named_section(tmp_path, monkeypatch):
    """--demo-opt reaches `prepare demo --opt`; --section names the markers --into fills."""
    import replication.data
    seen = []
    monkeypatch.setattr(replication.data, "main", lambda argv: seen.append(list(argv)) or 0)
    monkeypatch.setattr(pm, "measure", lambda root, pairings: {"root": str(root)})
    monkeypatch.setattr(pm, "render", lambda result: f"probed {result['root']}")
    doc = tmp_path / "doc.md"
    doc.write_text("a\n<!-- BEGIN premises -->\nold\n<!-- END premises -->\n"
                   "<!-- BEGIN premises_design -->\n<!-- END premises_design -->\n")
    root = tmp_path / "d"
    assert pm.main(["--root", str(root), "--demo-opt", "design=premises", "--into", str(doc),
                    "--section", "premises_design"]) == 0
    assert seen == [["prepare", "demo", "--root", str(root), "--no-progress", "--opt", "design=premises"]]
    text = doc.read_text()
    assert "old" in text and f"probed {root}" in text.split("BEGIN premises_design")[1]


def test_esc_probes_never_read_the_held_out_fold(esc10_root, monkeypatch):
    """--dataset esc10: trained on three folds, scored on the validation fold; the held-out
    fold (the claims' test set) is never decoded. Features are faked, so no audio is read."""
    import csv
    folds = {r["filename"]: int(r["fold"]) for r in csv.DictReader(open(esc10_root / "meta" / "esc50.csv"))}
    seen = []
    rng = np.random.default_rng(0)

    def fake(path, label):
        seen.append(folds[path.name])
        return _clip(rng, label % 4)
    monkeypatch.setattr(pm, "_features", fake)
    result = pm.over_folds([pm.measure_esc(esc10_root, True, test_fold=1, validation_fold=v, pairings=1)
                            for v in (2, 3)])
    assert 1 not in seen and sorted(set(seen)) == [2, 3, 4, 5]
    first, second = result["folds"]
    assert (first["train_clips"], first["test_clips"]) == (240, 80) and "fold1_val2_validate" in first["splits"]
    assert result["mean"]["paper 2 transfer best gain"] == pytest.approx(
        (first["paper2_transfer"]["best_gain"] + second["paper2_transfer"]["best_gain"]) / 2)
    assert pm.render(result).splitlines()[-1].startswith("mean over 2 validation folds")


def test_esc_command_needs_an_esc_layout_and_refuses_demo_options(tmp_path, capsys):
    with pytest.raises(SystemExit):
        pm.main(["--dataset", "esc10", "--root", str(tmp_path)])
    assert "no meta/esc50.csv" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        pm.main(["--dataset", "esc10", "--root", str(tmp_path), "--demo-opt", "seed=1"])
    assert "--demo-opt is for --dataset demo only" in capsys.readouterr().err
