"""SVM back-end and score-sum ensemble of paper 1 (Sec. 2, Tables 1 and 6).

After training, the output layer is dropped: each model's 64-d "embedding" output is
extracted for every clip, one SVM per model is fitted on the TRAINING-split embeddings
(standardised with training statistics only), and its per-class decision scores on
the evaluation split are averaged over models (score sum) for the ensemble.
Kernel and C are not stated (notes Open 8, register p1-svm-backend).

    train = extract_embeddings(model, train_ds)          # Embeddings(vectors [N, 64], labels, index)
    test = extract_embeddings(model, eval_ds)
    svm = fit_svm(train, SVMParams(), n_classes=10)
    scores = svm_scores(svm, test.vectors, n_classes=10)  # [N, 10]
    acc = accuracy(ensemble_scores([scores, other_scores]), test.labels)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from paper1_ts.distill import student_input
from paper1_ts.train_params import SVMParams


@dataclass(frozen=True)
class Embeddings:
    """Embeddings of one split, in ascending clip-index order."""

    vectors: np.ndarray   # [N, D] float32, the model's "embedding" output
    labels: np.ndarray    # [N] int64 class ids (argmax of the one-hot "y")
    index: np.ndarray     # [N] int64 pipeline example index


def extract_embeddings(model: keras.Model, dataset: tf.data.Dataset, input_key: str = "x",
                       output: str = "embedding") -> Embeddings:
    """Runs `model` in inference mode over a batched dataset of pipeline dicts.

    Args:
      model: keras Model with dict outputs containing `output` ([B, D]).
      dataset: batched dicts {"x": ..., "y": one-hot [B, C], "index": [B]}.
      input_key: batch entry the model consumes ("x", or "x_teacher" for Fig. 1).
    Raises:
      ValueError: empty dataset, or a repeated example index.
    """
    @tf.function(reduce_retracing=True)
    def embed(x):
        return model(x, training=False)[output]                    # [B, D]

    vectors, labels, index = [], [], []
    for batch in dataset:
        vectors.append(embed(student_input(batch, input_key)).numpy())
        labels.append(np.argmax(student_input(batch, "y").numpy(), axis=-1))
        index.append(student_input(batch, "index").numpy())
    if not vectors:
        raise ValueError("extract_embeddings: the dataset yielded no batches")
    vec, lab, idx = np.concatenate(vectors), np.concatenate(labels), np.concatenate(index)
    if len(np.unique(idx)) != len(idx):
        raise ValueError("extract_embeddings: repeated example index; the evaluation "
                         "dataset must visit every clip exactly once (no repeat/shuffle-with-replacement)")
    order = np.argsort(idx, kind="stable")
    return Embeddings(vec[order].astype(np.float32), lab[order].astype(np.int64),
                      idx[order].astype(np.int64))


def make_svm(params: SVMParams, seed: int = 0) -> Pipeline:
    """An unfitted scaler + SVM pipeline for `params.kernel`."""
    if params.kernel == "linear_svc":
        svm = LinearSVC(C=params.c, max_iter=params.max_iter, random_state=seed)
    elif params.kernel == "linear":
        svm = SVC(kernel="linear", C=params.c, decision_function_shape="ovr")
    else:
        svm = SVC(kernel="rbf", C=params.c, gamma="scale", decision_function_shape="ovr")
    steps = [StandardScaler()] if params.standardise else []
    return make_pipeline(*steps, svm)


def fit_svm(train: Embeddings, params: SVMParams, n_classes: int, seed: int = 0) -> Pipeline:
    """Fits one SVM on the training-split embeddings (scaler statistics from them only).

    Raises:
      ValueError: a class id outside [0, n_classes) or a class with no training example.
    """
    labels = np.asarray(train.labels)
    if labels.size == 0 or labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"fit_svm: labels must lie in [0, {n_classes}), got {np.unique(labels)}")
    missing = sorted(set(range(n_classes)) - set(labels.tolist()))
    if missing:
        raise ValueError(f"fit_svm: classes {missing} have no training embedding; "
                         "one score column per class cannot be produced")
    return make_svm(params, seed).fit(train.vectors, labels)


def svm_scores(svm: Pipeline, vectors: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class decision scores [N, n_classes] (column k = class id k)."""
    raw = np.asarray(svm.decision_function(vectors), dtype=np.float64)
    if raw.ndim == 1:                                   # binary: score of classes_[1]
        raw = np.stack([-raw, raw], axis=1)            # [N, 2]
    scores = np.empty((raw.shape[0], n_classes), dtype=np.float64)
    scores[:, np.asarray(svm.classes_)] = raw           # [N, C]
    return scores


def ensemble_scores(scores: Sequence[np.ndarray]) -> np.ndarray:
    """Score-sum ensemble: the mean over models of their [N, C] SVM scores (Sec. 2)."""
    if not scores:
        raise ValueError("ensemble_scores: no model scores given")
    shapes = {np.shape(s) for s in scores}
    if len(shapes) != 1:
        raise ValueError(f"ensemble_scores: models disagree on the score shape: {sorted(shapes)}")
    return np.mean(np.stack(scores), axis=0)            # [N, C]


def predictions(scores: np.ndarray) -> np.ndarray:
    """Arg-max class id per clip, [N]."""
    return np.argmax(scores, axis=-1)


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of clips whose top-scoring class is the label (a FRACTION in [0, 1])."""
    return float(accuracy_score(labels, predictions(scores)))


def confusion(scores: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion matrix [C, C] of counts: row = true class, column = predicted (Fig. 2)."""
    return confusion_matrix(labels, predictions(scores), labels=list(range(n_classes)))


def svm_backend(train: Embeddings, evaluation: Embeddings, params: SVMParams,
                n_classes: int, seed: int = 0) -> np.ndarray:
    """Fits on `train`, returns the [N_eval, C] scores of `evaluation` (one model)."""
    labels = np.asarray(evaluation.labels)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"svm_backend: evaluation labels outside [0, {n_classes}): {np.unique(labels)}")
    return svm_scores(fit_svm(train, params, n_classes, seed), evaluation.vectors, n_classes)
