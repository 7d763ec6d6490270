"""Trains one paper-1 model (a `tables.JobRef`) and saves it in the model store.

A job is a one-hot model (baseline, or a teacher on joined segments) or a TS student
whose frozen teacher is reloaded from the store. The CNN-GRU is always trained in two
steps (Sec. 4.2: CNN with a pooling head, then the GRU attached and the whole model
retrained); the raw CNN in one. After the fixed epoch budget the model's 64-d
embeddings of the training and evaluation splits (10 s clips) are extracted and saved
with the weights; the SVM back-end (tables.run_metrics) reads them.

    trained = JobRunner(DataContext(params)).train(ref, params, store, work_dir)

paper1_ts/tables.py hands the runner to replication/runner.py, which opens the job's work
folder, calls `train` and publishes the returned outputs and weights to the store.

Resume inside a job: every job trains with a checkpoint folder, its work folder in the
store (<results>/paper1/_store/.work-<key>/, opened by replication.runner.train_job), saved
after every epoch (paper1_ts.train.EpochCheckpoint: weights, optimizer state, epochs
done, history; one sub-folder per step of a two-step training). A run killed mid-job
leaves it; the same command again finds it and continues at the next epoch, on the
passes the uninterrupted run would have used, so the stored embeddings (the SVM
back-end's inputs) and the records are bit-identical. The folder is removed when the
job's entry is published to the store (register p1-epochs-checkpoint).

Distribution: the strategy (and the dtype policy, DistributeParams.precision) comes
from params.distribute; training datasets reach `fit` through paper1_ts.train, which
passes them through shared.distribute.distribute_input (each worker of a
MultiWorkerMirroredStrategy trains on its own slice of every global batch). Embeddings
are extracted by iterating the evaluation datasets directly (not `predict`), so every
worker sees every clip once, in order.
"""

from __future__ import annotations

import time
from dataclasses import replace

import keras
import numpy as np
import tensorflow as tf

from paper1_ts import backend_svm, train
from paper1_ts.experiments import ModelJob
from paper1_ts.models import build_cnn_gru, build_raw_cnn, copy_cnn_weights
from paper1_ts.params import Paper1Params
from paper1_ts.train_params import TSParams
from replication.runner import Trained
from shared.distribute import distribute_input, make_strategy

MODEL_FILE = "model.keras"       # in a store entry: the model with its front end (JobRunner.save_files)


def model_params_for(job_family: str, segments: int | None, params: Paper1Params):
    """Network params whose input holds `segments` joined clips (None = any length)."""
    net = params.model_of(job_family)
    if job_family == "raw":
        length = None if segments is None else (net.input_length * segments if net.input_length else None)
        return replace(net, input_length=length)
    frames = None if segments is None else (net.input_frames * segments if net.input_frames else None)
    return replace(net, input_frames=frames)


def build(job_family: str, segments: int | None, params: Paper1Params, head: str = "gru",
          name: str | None = None) -> keras.Model:
    """A fresh network of `job_family` for inputs of `segments` joined clips."""
    net = model_params_for(job_family, segments, params)
    if job_family == "raw":
        return build_raw_cnn(net, name=name or "raw_cnn")
    return build_cnn_gru(net, head=head, name=name)


def ts_params(job: ModelJob, params: Paper1Params) -> TSParams:
    """The trainer's TSParams for a student job (per-run T / point / teacher input)."""
    assert job.ts is not None
    concat = job.ts.teacher_segments > 1
    return replace(params.ts, temperature=job.ts.temperature, loss=job.ts.point,
                   teacher_query="concat" if concat else "base",
                   teacher_train_input=params.ts.teacher_train_input if concat else "base")


def load_teacher(job: ModelJob, teacher_key: str, params: Paper1Params, store, strategy) -> keras.Model:
    """The frozen teacher (GRU head for the CNN-GRU), input length free, from the store."""
    with strategy.scope():
        teacher = build(job.family, None, params, head="gru", name="teacher")
    teacher.load_weights(store.weights_path(teacher_key))
    teacher.trainable = False
    return teacher


class JobRunner:
    """Trains one model (`train`) for paper 1's backend of replication/runner.py.

    Args:
      data: a DataContext (paper1_ts.data): datasets of pipeline dicts for the plan's
        params.
    """

    def __init__(self, data):
        self.data = data

    def train(self, ref, params: Paper1Params, store, work) -> Trained:
        """Trains `ref` (a tables.JobRef; a student's teacher is read from `store`) with
        its checkpoints in `work`; returns its embeddings, info and weights writer."""
        job: ModelJob = ref.job
        keras.utils.set_random_seed(ref.seed)
        strategy = make_strategy(params.distribute)
        t0 = time.time()
        # Every training input carries the student's clip plus partners when a model
        # needs joined segments (a 20 s teacher to train, or to query).
        partners = (job.input_segments - 1) if job.ts is None else (job.ts.teacher_segments - 1)
        train_ds = self.data.train_dataset(job.family, partners=partners, seed=ref.seed)
        tp = params.train
        if job.ts is None:
            key = "x_teacher" if job.input_segments > 1 else "x"
            if job.family == "raw":
                with strategy.scope():
                    model = build("raw", job.input_segments, params)
                history = train.train_baseline(model, train_ds, tp, input_key=key, strategy=strategy,
                                                 checkpoint_dir=work)
            else:
                with strategy.scope():
                    pool = build("spec", job.input_segments, params, head="pool", name="cnn_pool")
                    model = build("spec", job.input_segments, params, head="gru", name="cnn_gru")
                history = train.train_two_step_cnn_gru(pool, model, copy_cnn_weights, train_ds, tp,
                                                       input_key=key, strategy=strategy,
                                                       checkpoint_dir=work)
        else:
            teacher = load_teacher(job, ref.teacher_key, params, store, strategy)
            ts = ts_params(job, params)
            if job.family == "raw":
                with strategy.scope():
                    model = build("raw", 1, params, name="student")
                history = train.train_student_ts(teacher, model, train_ds, tp, ts, strategy=strategy,
                                                   checkpoint_dir=work)
            else:
                with strategy.scope():
                    pool = build("spec", 1, params, head="pool", name="student_pool")
                    model = build("spec", 1, params, head="gru", name="student")
                history = train.train_student_ts_two_step(teacher, pool, model, copy_cnn_weights,
                                                          train_ds, tp, ts, strategy=strategy,
                                                          checkpoint_dir=work)
        train_seconds = time.time() - t0
        outputs = self.embeddings(model, job)
        info = {"train_seconds": round(train_seconds, 3), "history": history,
                "embed_seconds": round(time.time() - t0 - train_seconds, 3),
                "batch_norm": params.distribute.batch_norm}     # kernel, not key (register shared-fused-bn)
        return Trained(outputs, info, save_weights=model.save_weights,
                       save_files=lambda entry: self.save_files(entry, model, job, params, outputs, history))

    def save_files(self, entry, model: keras.Model, job: ModelJob, params: Paper1Params,
                   outputs: dict, history: dict) -> list[str]:
        """Writes model.keras (the network, any input length, with its front end and class
        names: shared.classifier.AudioClassifier, what `python -m paper1_ts.predict` loads)
        and the TensorBoard curves (tensorboard/: every epoch's logs per training step,
        final softmax accuracy on the evaluation split) into the store entry."""
        from shared.classifier import AudioClassifier
        from shared.config import to_dict
        from shared.tensorboard import LOG_DIR, write_history
        network = build(job.family, None, params, head="gru", name=f"{job.family}_any_length")
        network.set_weights(model.get_weights())
        about = {"family": job.family, "input_segments": job.input_segments,
                 "student": job.ts is not None, "dataset": params.data.dataset,
                 "channels": self.data.spec.channels}
        AudioClassifier(network, features=to_dict(params.features_of(job.family)),
                        classes=self.data.classes, feature_dtype=params.data.cache_dtype,
                        about=about, name="classifier").save(entry / MODEL_FILE)
        steps = history if history and all(isinstance(v, dict) for v in history.values()) else {"": history}
        rows = [{"part": part, "epoch": e, **{k: v[e] for k, v in curves.items() if e < len(v)}}
                for part, curves in steps.items() for e in range(max(map(len, curves.values()), default=0))]
        for row in rows:    # Adam's rate that epoch: recorded under a schedule, else the constant one
            row["lr"] = row.pop("learning_rate", params.train.learning_rate)
        final = {"softmax_accuracy_eval": float(np.mean(np.argmax(outputs["eval_logits"], -1)
                                                        == outputs["eval_label"]))}
        series = None if list(steps) == [""] else "part"
        return [MODEL_FILE] + write_history(entry / LOG_DIR, rows, series, "epoch", final, curves=None)

    def embeddings(self, model: keras.Model, job: ModelJob) -> dict[str, np.ndarray]:
        """Embeddings + logits of both splits on 10 s clips (the model's own length for a
        one-hot teacher of joined clips is not needed: students and SVMs see 10 s)."""
        if job.input_segments > 1:                  # a teacher built for joined clips
            flexible = build(job.family, None, self._params_of(), head="gru", name="teacher_10s")
            flexible.set_weights(model.get_weights())
            model = flexible
        out = {}
        for split in ("train", "eval"):
            ds = self.data.embed_dataset(job.family, split)
            emb = backend_svm.extract_embeddings(model, ds)
            logits = backend_svm.extract_embeddings(model, ds, output="logits")
            out[f"{split}_embedding"] = emb.vectors
            out[f"{split}_label"] = emb.labels
            out[f"{split}_index"] = emb.index
            out[f"{split}_logits"] = logits.vectors
        return out

    def _params_of(self) -> Paper1Params:
        return self.data.params


def measure_step_seconds(params: Paper1Params, families=("raw", "spec"), repeats: int = 2) -> dict[str, float]:
    """Seconds per training step (global batch, 10 s input, one-hot) of each family,
    measured on random inputs after one warm-up step; used for the plan's time estimate."""
    out = {}
    strategy = make_strategy(params.distribute)
    batch = params.train.batch_size
    for family in families:
        shape = model_params_for(family, 1, params).input_shape
        x = tf.random.normal((batch, *shape))
        y = tf.one_hot(tf.zeros(batch, tf.int32), params.model_of(family).num_classes)
        ds = tf.data.Dataset.from_tensors({"x": x, "y": y, "index": tf.range(batch)})
        with strategy.scope():
            model = build(family, 1, params, head="gru")
        trainer = train.make_supervised(model, params.train, "x", strategy)
        trainer.fit(distribute_input(ds, strategy), epochs=1, verbose=0)   # warm-up: tracing, graphs
        t0 = time.time()
        trainer.fit(distribute_input(ds.repeat(repeats), strategy), epochs=1, verbose=0)
        out[family] = (time.time() - t0) / repeats
    return out
