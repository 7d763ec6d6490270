"""Where the kit keeps its feature cache and looks for data sets: one rule for both papers.

    from shared.paths import feature_cache_root
    FeatureCache(feature_cache_root(params.data.cache_root))

Order (first that applies):
  1. the config field `data.cache_root` when not empty (a preset or an override; a
     relative path is relative to the working directory, as any path given by a user);
  2. the environment variable KD_FEATURE_CACHE when set and not empty (same rule);
  3. <checkout>/data/cache, the folder beside the code (gitignored), whatever the
     working directory.
The folder is not created here (shared.cache.FeatureCache creates it when it builds).
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "KD_FEATURE_CACHE"


def checkout_root() -> Path:
    """The checkout (the directory holding shared/, paper1_ts/, paper2_multirep/)."""
    return Path(__file__).resolve().parents[1]


def feature_cache_root(configured: str | os.PathLike = "") -> Path:
    """The feature cache directory for a config's `data.cache_root` (see the module doc)."""
    if str(configured):
        return Path(configured)
    env = os.environ.get(CACHE_ENV, "")
    if env:
        return Path(env)
    return checkout_root() / "data" / "cache"


def default_dataset_root(name: str) -> Path:
    """<checkout>/data/datasets/<name>: where `python -m replication.data` puts a data set and
    where both papers look for it when no root is given, whatever the working directory."""
    return checkout_root() / "data" / "datasets" / name


__all__ = ["CACHE_ENV", "checkout_root", "default_dataset_root", "feature_cache_root"]
