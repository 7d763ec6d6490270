"""Distillation losses shared by both papers, as pure functions of tensors.

Every function takes batched tensors whose LAST axis is the class (or embedding)
axis, works on any Keras 3 backend through `keras.ops`, and returns either the
batch mean (reduction="mean", a scalar) or one value per example
(reduction="none", shape [B]).

Every function casts its tensor inputs to float32 first, so a loss is computed in
float32 even when the model runs under a mixed precision policy (bfloat16 / float16
activations, shared.distribute.DistributeParams.precision); under float32 the casts
are no-ops.

Paper 1 (Heo et al. 2019):
  teacher_distribution  Eq. (3), as printed or in Hinton's form (switch).
  soft_cross_entropy    Eq. (1), (2), (4): -sum_j p_T log p_S, student at T=1.
  embedding_mse         Eq. (5) with Dist = mean squared error.
Paper 2 (Gao et al.):
  kl_divergence         sum_j p log(p / q), KL(p || q): p is the FIRST argument.
  paper2_kl             Eq. (4): KL(P_branch || P_bar) as printed, or reversed.
"""

from __future__ import annotations

from keras import ops

TEACHER_MODES = ("as_printed", "hinton")
KL_DIRECTIONS = ("as_printed", "reverse")
REDUCTIONS = ("mean", "none")
COMPUTE_DTYPE = "float32"   # every loss is computed in float32 (register shared-precision)

# Probabilities are clipped to this floor before a log so that an exact zero in q
# gives a large finite value, never inf/nan (p = 0 still contributes 0 exactly).
EPSILON = 1e-7


def _f32(*tensors):
    """The inputs cast to float32 (a no-op for float32 tensors)."""
    return tuple(ops.cast(t, COMPUTE_DTYPE) for t in tensors)


def _reduce(per_example, reduction: str):
    """[B] -> scalar mean ("mean") or [B] unchanged ("none")."""
    if reduction == "mean":
        return ops.mean(per_example)
    if reduction == "none":
        return per_example
    raise ValueError(f"reduction '{reduction}' unknown (choose from {', '.join(REDUCTIONS)})")


def teacher_distribution(teacher_logits, temperature: float, mode: str = "hinton"):
    """Softened teacher distribution p_T(o | x; T) of paper 1, Eq. (3).

    Args:
      teacher_logits: [B, C] pre-softmax teacher outputs.
      temperature: T > 0.
      mode: "hinton" (the kit's reading): softmax(teacher_logits / T).
        "as_printed": softmax(softmax(teacher_logits) / T), Eq. (3) exactly as
        printed (the teacher's PROBABILITIES divided by T), which caps the largest
        target probability at e^(1/T) / (e^(1/T) + C - 1) (register p1-temperature-form).
    Returns:
      [B, C] probabilities (rows sum to 1).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    (teacher_logits,) = _f32(teacher_logits)
    if mode == "as_printed":
        probs = ops.softmax(teacher_logits, axis=-1)        # [B, C]
        return ops.softmax(probs / temperature, axis=-1)    # [B, C]
    if mode == "hinton":
        return ops.softmax(teacher_logits / temperature, axis=-1)  # [B, C]
    raise ValueError(f"teacher mode '{mode}' unknown (choose from {', '.join(TEACHER_MODES)})")


def soft_cross_entropy(target_probs, student_logits, reduction: str = "mean"):
    """Soft-label cross-entropy, paper 1 Eq. (1), (2) and (4).

    loss_i = -sum_j target_probs[i, j] * log softmax(student_logits)[i, j]; the
    student is at T=1 and there is no hard-label term (notes Open 5).

    Args:
      target_probs: [B, C] teacher distribution (treated as a constant target; the
        caller stops gradients if it comes from a trainable model).
      student_logits: [B, C] pre-softmax student outputs.
      reduction: "mean" (scalar over the batch) or "none" ([B]).
    """
    target_probs, student_logits = _f32(target_probs, student_logits)
    log_q = ops.log_softmax(student_logits, axis=-1)        # [B, C]
    per_example = -ops.sum(target_probs * log_q, axis=-1)   # [B]
    return _reduce(per_example, reduction)


def embedding_mse(teacher_emb, student_emb, reduction: str = "mean"):
    """Embedding distillation, paper 1 Eq. (5) with Dist = mean squared error.

    loss_i = mean_d (teacher_emb[i, d] - student_emb[i, d])^2, then the batch mean
    (register p1-ts-loss-composition).

    Args:
      teacher_emb: [B, D] teacher last-hidden-layer output (a constant target).
      student_emb: [B, D] student last-hidden-layer output.
    """
    teacher_emb, student_emb = _f32(teacher_emb, student_emb)
    per_example = ops.mean(ops.square(teacher_emb - student_emb), axis=-1)  # [B]
    return _reduce(per_example, reduction)


def kl_divergence(p, q, reduction: str = "mean"):
    """KL(p || q) = sum_j p_j log(p_j / q_j), per example; p is the FIRST argument.

    Numerically safe: both distributions are clipped to [EPSILON, 1] inside the
    logs, and terms with p_j = 0 contribute exactly 0.

    Args:
      p: [B, C] probabilities (the distribution the expectation is taken under).
      q: [B, C] probabilities (the reference distribution).
      reduction: "mean" (scalar over the batch) or "none" ([B]).
    """
    p, q = _f32(p, q)
    log_p = ops.log(ops.clip(p, EPSILON, 1.0))              # [B, C]
    log_q = ops.log(ops.clip(q, EPSILON, 1.0))              # [B, C]
    per_example = ops.sum(p * (log_p - log_q), axis=-1)     # [B]
    return _reduce(per_example, reduction)


def paper2_kl(branch_probs, aggregate_probs, direction: str = "as_printed",
              reduction: str = "mean"):
    """Paper 2, Eq. (4): the KL term between one branch and the aggregate.

    As printed, L_kl = -(1/N) sum_i sum_j P_i^j log(P_bar_i^j / P_i^j), which is
    KL(P_branch || P_bar) averaged over the N examples; no T^2 factor.

    Args:
      branch_probs: [B, C] the branch's soft labels P (softmax(logits / T)).
      aggregate_probs: [B, C] the averaged soft labels P_bar.
      direction: "as_printed" = KL(P_branch || P_bar);
        "reverse" = KL(P_bar || P_branch) (Hinton-style: teacher first).
      reduction: "mean" or "none".
    """
    if direction == "as_printed":
        return kl_divergence(branch_probs, aggregate_probs, reduction)
    if direction == "reverse":
        return kl_divergence(aggregate_probs, branch_probs, reduction)
    raise ValueError(f"KL direction '{direction}' unknown (choose from {', '.join(KL_DIRECTIONS)})")


def hard_cross_entropy(onehot, logits, reduction: str = "mean"):
    """One-hot cross-entropy from logits: -sum_j y_j log softmax(logits)_j.

    Args:
      onehot: [B, C] one-hot (or any target distribution) labels.
      logits: [B, C] pre-softmax outputs.
    """
    return soft_cross_entropy(onehot, logits, reduction)


__all__ = [
    "EPSILON", "KL_DIRECTIONS", "TEACHER_MODES", "embedding_mse", "hard_cross_entropy",
    "kl_divergence", "paper2_kl", "soft_cross_entropy", "teacher_distribution",
]
