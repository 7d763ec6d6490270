"""shared.metrics against cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from shared import metrics as m

# Four clips, four classes. Rankings (best first) and where the true label sits:
#   clip 0: [0.1, 0.6, 0.2, 0.1] -> order 1, 2, 0, 3 ; true 1 -> rank 1 -> 1
#   clip 1: [0.5, 0.1, 0.3, 0.1] -> order 0, 2, 1, 3 ; true 2 -> rank 2 -> 1/2
#   clip 2: [0.4, 0.3, 0.2, 0.1] -> order 0, 1, 2, 3 ; true 2 -> rank 3 -> 1/3
#   clip 3: [0.4, 0.3, 0.2, 0.1] -> order 0, 1, 2, 3 ; true 3 -> rank 4 -> 0
# mAP@3 = (1 + 1/2 + 1/3 + 0) / 4 = 11/24 ; accuracy = 1/4.
PROBS = np.array([[0.1, 0.6, 0.2, 0.1],
                  [0.5, 0.1, 0.3, 0.1],
                  [0.4, 0.3, 0.2, 0.1],
                  [0.4, 0.3, 0.2, 0.1]])
LABELS = np.array([1, 2, 2, 3])


def test_map_at_3_hand_computed():
    assert m.map_at_3(PROBS, LABELS) == pytest.approx(11 / 24)
    np.testing.assert_allclose(m.average_precision_at_k(PROBS, LABELS, 3), [1, 0.5, 1 / 3, 0])


def test_accuracy_hand_computed():
    assert m.accuracy(PROBS, LABELS) == pytest.approx(0.25)


def test_map_at_k_other_k_and_bounds():
    # k = 1 is accuracy; k = 4 gives clip 3 its 1/4.
    assert m.map_at_k(PROBS, LABELS, 1) == pytest.approx(0.25)
    assert m.map_at_k(PROBS, LABELS, 4) == pytest.approx((1 + 0.5 + 1 / 3 + 0.25) / 4)
    perfect = np.eye(4)
    assert m.map_at_3(perfect, np.arange(4)) == 1.0
    assert m.accuracy(perfect, np.arange(4)) == 1.0


def test_ties_broken_towards_lower_class_index():
    # Uniform row: ranking 0, 1, 2 -> true class 2 at rank 3.
    probs = np.full((1, 5), 0.2)
    assert m.map_at_3(probs, [2]) == pytest.approx(1 / 3)
    assert m.accuracy(probs, [0]) == 1.0


def test_one_hot_labels_accepted():
    assert m.map_at_3(PROBS, np.eye(4)[LABELS]) == pytest.approx(11 / 24)


def test_bad_inputs_are_errors():
    with pytest.raises(m.MetricError, match="4 score rows but 3 labels"):
        m.accuracy(PROBS, LABELS[:3])
    with pytest.raises(m.MetricError, match=r"\[0, 4\)"):
        m.map_at_3(PROBS, [0, 1, 2, 4])
    with pytest.raises(m.MetricError, match="NaN"):
        m.accuracy(np.full((1, 2), np.nan), [0])
    with pytest.raises(m.MetricError, match="empty"):
        m.accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_confusion_matrix_hand_computed():
    # Predictions (top-1): 1, 0, 0, 0 ; labels 1, 2, 2, 3.
    cm = m.confusion_matrix(LABELS, PROBS, 4)
    expected = np.zeros((4, 4), dtype=int)
    expected[1, 1] = 1
    expected[2, 0] = 2
    expected[3, 0] = 1
    np.testing.assert_array_equal(cm, expected)
    np.testing.assert_array_equal(m.confusion_matrix([0, 1], [1, 1], 2), [[0, 1], [0, 1]])


def test_clip_average_by_index():
    # Crops of clip 1 (three of them, out of order) and clip 0 (one).
    crops = np.array([[0.2, 0.8], [1.0, 0.0], [0.6, 0.4], [0.1, 0.9]])
    index = np.array([1, 0, 1, 1])
    out = m.clip_average(crops, index, num_clips=2)
    np.testing.assert_allclose(out, [[1.0, 0.0], [0.3, 0.7]])


def test_clip_average_missing_clip_is_an_error():
    with pytest.raises(m.MetricError, match="1 of 3 clips have no crops.*2"):
        m.clip_average(np.ones((2, 2)), np.array([0, 1]), num_clips=3)
    with pytest.raises(m.MetricError, match=r"\[0, 2\)"):
        m.clip_average(np.ones((2, 2)), np.array([0, 2]), num_clips=2)


def test_ensemble_is_mean_and_changes_the_decision():
    a = np.array([[0.9, 0.1], [0.4, 0.6]])
    b = np.array([[0.2, 0.8], [0.1, 0.9]])
    ens = m.ensemble([a, b])
    np.testing.assert_allclose(ens, [[0.55, 0.45], [0.25, 0.75]])
    assert m.accuracy(ens, [0, 1]) == 1.0
    assert m.accuracy(b, [0, 1]) == 0.5
    with pytest.raises(m.MetricError, match="different shapes"):
        m.ensemble([a, b[:1]])
