"""Tests for shared/losses.py: hand-computed values on tiny batches, modes, gradients."""

import math

import numpy as np
import pytest
import tensorflow as tf

from shared import losses

LOGITS = np.array([[2.0, 0.0, -1.0],
                   [0.5, 0.5, 3.0]], dtype=np.float32)          # [B=2, C=3]
STUDENT = np.array([[1.0, 1.0, 0.0],
                    [0.0, -2.0, 1.0]], dtype=np.float32)        # [B=2, C=3]


def _softmax_by_hand(row):
    """Softmax of one row written out term by term with math.exp."""
    e = [math.exp(v) for v in row]
    s = sum(e)
    return [v / s for v in e]


def test_teacher_distribution_as_printed_by_hand():
    # Eq. (3) as printed: the teacher's probabilities are divided by T, then softmax.
    t = 5.0
    got = np.asarray(losses.teacher_distribution(LOGITS, t, "as_printed"))
    for i, row in enumerate(LOGITS.tolist()):
        probs = _softmax_by_hand(row)
        want = _softmax_by_hand([p / t for p in probs])
        np.testing.assert_allclose(got[i], want, rtol=1e-6)
    # first row written out: probs = (0.8438, 0.1142, 0.0420); /5 then softmax
    np.testing.assert_allclose(got[0], [0.3682, 0.3182, 0.3136], atol=5e-4)


def test_teacher_distribution_hinton_by_hand():
    t = 2.0
    got = np.asarray(losses.teacher_distribution(LOGITS, t, "hinton"))
    # row 0: exp(1), exp(0), exp(-0.5) normalised
    e = [math.e, 1.0, math.exp(-0.5)]
    np.testing.assert_allclose(got[0], [v / sum(e) for v in e], rtol=1e-6)
    np.testing.assert_allclose(got.sum(-1), [1.0, 1.0], rtol=1e-6)


def test_teacher_modes_differ_and_t1_hinton_is_plain_softmax():
    as_printed = np.asarray(losses.teacher_distribution(LOGITS, 1.0, "as_printed"))
    hinton = np.asarray(losses.teacher_distribution(LOGITS, 1.0, "hinton"))
    np.testing.assert_allclose(hinton[1], _softmax_by_hand(LOGITS[1].tolist()), rtol=1e-6)
    assert np.abs(as_printed - hinton).max() > 0.1
    # as printed is always flatter: a probability / T lies in [0, 1/T]
    assert as_printed.max() < hinton.max()
    # larger T flattens both forms
    for mode in losses.TEACHER_MODES:
        soft = np.asarray(losses.teacher_distribution(LOGITS, 10.0, mode))
        sharp = np.asarray(losses.teacher_distribution(LOGITS, 1.0, mode))
        assert soft.max() < sharp.max()


def test_as_printed_caps_a_certain_teacher_near_uniform():
    # Register p1-temperature-form: read as printed, Eq. (3) cannot pass on a confident
    # teacher. A teacher all but certain of class 0 (logit 1e4 against 0, 10 classes):
    certain = np.zeros((1, 10), dtype=np.float32)
    certain[0, 0] = 1e4
    caps = {t: float(np.max(losses.teacher_distribution(certain, t, "as_printed")))
            for t in (1.0, 5.0, 10.0)}
    # the cap e^(1/T) / (e^(1/T) + 9), as printed in the register and the README
    assert caps[1.0] == pytest.approx(0.232, abs=5e-4)
    assert caps[5.0] == pytest.approx(0.1195, abs=5e-5)
    assert caps[10.0] == pytest.approx(0.109, abs=5e-4)
    for t, cap in caps.items():
        assert cap == pytest.approx(math.exp(1 / t) / (math.exp(1 / t) + 9), rel=1e-5)
        # as label smoothing eps (max = 1 - eps + eps / 10): 0.85 at T=1 up to 0.99 at T=10
        eps = (1.0 - cap) / 0.9
        assert 0.85 <= eps <= 0.995
    # Hinton's form keeps the teacher's certainty at every one of these T ...
    for t in caps:
        assert float(np.max(losses.teacher_distribution(certain, t, "hinton"))) > 0.999
    # ... and it is the default; Sec. 4.3's "lower T leans to the one-hot label" holds there
    np.testing.assert_allclose(losses.teacher_distribution(LOGITS, 5.0),
                               losses.teacher_distribution(LOGITS, 5.0, "hinton"))
    sharpest = [float(np.max(losses.teacher_distribution(LOGITS, t))) for t in (1.0, 5.0, 10.0)]
    assert sharpest[0] > 0.8 and sharpest == sorted(sharpest, reverse=True)


def test_teacher_distribution_rejects_bad_mode_and_temperature():
    with pytest.raises(ValueError, match="hinto"):
        losses.teacher_distribution(LOGITS, 2.0, "hinto")
    with pytest.raises(ValueError, match="temperature"):
        losses.teacher_distribution(LOGITS, 0.0, "hinton")


def test_soft_cross_entropy_by_hand():
    target = np.array([[0.7, 0.2, 0.1],
                       [0.0, 0.5, 0.5]], dtype=np.float32)
    per = []
    for p_row, s_row in zip(target.tolist(), STUDENT.tolist()):
        q = _softmax_by_hand(s_row)
        per.append(-sum(p * math.log(qq) for p, qq in zip(p_row, q)))
    got_none = np.asarray(losses.soft_cross_entropy(target, STUDENT, reduction="none"))
    np.testing.assert_allclose(got_none, per, rtol=1e-6)
    got = float(losses.soft_cross_entropy(target, STUDENT))
    assert got == pytest.approx((per[0] + per[1]) / 2, rel=1e-6)
    # row 0 written out: q = softmax(1,1,0) = (0.4223, 0.4223, 0.1554)
    assert per[0] == pytest.approx(-(0.7 * math.log(0.42232) + 0.2 * math.log(0.42232)
                                     + 0.1 * math.log(0.15536)), rel=1e-4)


def test_soft_cross_entropy_with_onehot_is_hard_ce():
    onehot = np.array([[1, 0, 0], [0, 0, 1]], dtype=np.float32)
    want = tf.keras.losses.CategoricalCrossentropy(from_logits=True)(onehot, STUDENT)
    assert float(losses.hard_cross_entropy(onehot, STUDENT)) == pytest.approx(float(want), rel=1e-5)


def test_embedding_mse_by_hand():
    a = np.array([[1.0, 2.0], [0.0, 0.0]], dtype=np.float32)
    b = np.array([[0.0, 4.0], [3.0, 1.0]], dtype=np.float32)
    # row 0: (1 + 4) / 2 = 2.5; row 1: (9 + 1) / 2 = 5.0; mean 3.75
    np.testing.assert_allclose(np.asarray(losses.embedding_mse(a, b, "none")), [2.5, 5.0])
    assert float(losses.embedding_mse(a, b)) == pytest.approx(3.75)


def test_kl_divergence_by_hand_and_argument_order():
    p = np.array([[0.5, 0.5, 0.0]], dtype=np.float32)
    q = np.array([[0.25, 0.25, 0.5]], dtype=np.float32)
    # KL(p || q) = 0.5 log 2 + 0.5 log 2 + 0 = log 2
    assert float(losses.kl_divergence(p, q)) == pytest.approx(math.log(2.0), rel=1e-6)
    # KL(q || p) puts mass 0.5 where p = 0 -> large but finite (clipped)
    reverse = float(losses.kl_divergence(q, p))
    assert math.isfinite(reverse) and reverse > 5.0
    assert float(losses.kl_divergence(p, p)) == pytest.approx(0.0, abs=1e-7)


def test_paper2_kl_directions():
    branch = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]], dtype=np.float32)
    agg = np.array([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4]], dtype=np.float32)

    def kl_by_hand(p, q):
        return np.mean([sum(a * math.log(a / b) for a, b in zip(pr, qr)) for pr, qr in zip(p, q)])

    as_printed = float(losses.paper2_kl(branch, agg))
    reverse = float(losses.paper2_kl(branch, agg, direction="reverse"))
    assert as_printed == pytest.approx(kl_by_hand(branch.tolist(), agg.tolist()), rel=1e-5)
    assert reverse == pytest.approx(kl_by_hand(agg.tolist(), branch.tolist()), rel=1e-5)
    assert abs(as_printed - reverse) > 1e-3
    # Eq. (4) as printed: -(1/N) sum P log(P_bar / P)
    eq4 = -np.mean(np.sum(branch * np.log(agg / branch), axis=-1))
    assert as_printed == pytest.approx(float(eq4), rel=1e-5)
    with pytest.raises(ValueError, match="direction"):
        losses.paper2_kl(branch, agg, direction="forward")


def test_gradients_are_finite():
    teacher = tf.constant(LOGITS)
    student = tf.Variable(STUDENT)
    with tf.GradientTape() as tape:
        total = 0.0
        for mode in losses.TEACHER_MODES:
            total += losses.soft_cross_entropy(losses.teacher_distribution(teacher, 5.0, mode), student)
        probs = tf.nn.softmax(student * 30.0)   # nearly one-hot -> tiny probabilities
        total += losses.paper2_kl(probs, tf.constant([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
        total += losses.paper2_kl(probs, tf.constant([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "reverse")
        total += losses.embedding_mse(teacher, student)
    grad = tape.gradient(total, student)
    assert grad is not None
    assert np.all(np.isfinite(grad.numpy()))
    assert np.abs(grad.numpy()).max() > 0


def test_bad_reduction():
    with pytest.raises(ValueError, match="reduction"):
        losses.kl_divergence(LOGITS, LOGITS, reduction="sum")
