"""tf.distribute strategy chosen by config.

Every trainer in the kit builds its models and optimizers inside
`make_strategy(params).scope()`; batch sizes in config are GLOBAL (split across
replicas by tf.distribute), so a run on 1 CPU and on 4 GPUs sees the same
optimisation problem.

    strategy = make_strategy(DistributeParams(kind="mirrored"))
    with strategy.scope():
        model = build(...)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class DistributeParams:
    kind: str = "default"          # "default" (one device) | "mirrored" (all local GPUs) | "multi_worker" (TF_CONFIG)
    devices: tuple[str, ...] = ()  # mirrored only: explicit device names, e.g. ("/cpu:0", "/cpu:1"); empty = all GPUs
    logical_cpus: int = 0          # >0: split the CPU into this many logical devices (tests without GPUs)
    jit_compile: bool = False      # XLA for train steps (see README speed notes)


KINDS = ("default", "mirrored", "multi_worker")


def split_cpu(n: int) -> list[str]:
    """Splits the physical CPU into `n` logical devices; must run before TF initialises devices."""
    cpus = tf.config.list_physical_devices("CPU")
    existing = tf.config.get_logical_device_configuration(cpus[0])
    if existing and len(existing) == n:
        return [f"/cpu:{i}" for i in range(n)]
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
    except RuntimeError as err:
        raise RuntimeError(
            f"cannot split the CPU into {n} logical devices: TensorFlow was already "
            f"initialised in this process ({err}); set logical_cpus before building anything") from None
    return [f"/cpu:{i}" for i in range(n)]


def make_strategy(params: DistributeParams) -> tf.distribute.Strategy:
    """Returns the strategy named by `params.kind`.

    Raises:
      ValueError: unknown kind, or multi_worker without a TF_CONFIG environment variable.
    """
    if params.kind not in KINDS:
        raise ValueError(f"distribute.kind '{params.kind}' unknown (choose from {', '.join(KINDS)})")
    devices = list(params.devices)
    if params.logical_cpus > 0:
        logical = split_cpu(params.logical_cpus)
        devices = devices or logical
    if params.kind == "default":
        return tf.distribute.get_strategy()
    if params.kind == "mirrored":
        if not devices and not tf.config.list_physical_devices("GPU"):
            # One CPU device: MirroredStrategy would silently be a one-replica strategy;
            # say so instead of pretending to mirror.
            print("distribute: no GPU found, MirroredStrategy runs on the single CPU device")
        return tf.distribute.MirroredStrategy(devices=devices or None)
    if "TF_CONFIG" not in os.environ:
        raise ValueError("distribute.kind 'multi_worker' needs the TF_CONFIG environment variable "
                         "(cluster spec and this worker's task), see README 'Several machines'")
    json.loads(os.environ["TF_CONFIG"])  # fail early with a JSON error if malformed
    return tf.distribute.MultiWorkerMirroredStrategy()


def per_replica_batch(global_batch: int, strategy: tf.distribute.Strategy) -> int:
    n = strategy.num_replicas_in_sync
    if global_batch % n:
        raise ValueError(f"global batch {global_batch} is not divisible by {n} replicas")
    return global_batch // n
