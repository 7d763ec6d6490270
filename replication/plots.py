"""Generic figures of the kit (matplotlib, Agg backend, PNG files).

  plot_confusion_pair   two confusion matrices side by side with highlighted cell pairs
                        (paper 1 Fig. 2: without / with TS, boxes on confusable pairs)
  plot_tsne             t-SNE scatter of embeddings, colour = class, marker = group
                        (paper 1 Fig. 1: 10 s vs concatenated segments; paper 2 Figs. 4-5)
  plot_grouped_bars     grouped bar chart (paper 2 Fig. 3 DN/DR/D-RN; published vs achieved)
  plot_check_bars       published/reference vs achieved bars from a check report
  plot_lines            y against x, one line per series, colour per group (training courses)

Every function validates its input (ValueError naming the problem), writes the PNG
atomically (temporary name + rename) and returns the path. matplotlib is imported when a
plot is made, never at import time of this module.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

HIGHLIGHT_COLOURS = ("red", "green", "blue", "orange", "purple")   # paper 1 Fig. 2 uses red, green
MARKERS = ("o", "^", "s", "D", "v", "P", "X", "*")


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def _save(fig: Any, path: str | os.PathLike, dpi: int) -> Path:
    """Saves `fig` as PNG through a temporary file in the target directory, then closes it."""
    plt = _pyplot()
    path = Path(path)
    if path.suffix.lower() != ".png":
        plt.close(fig)
        raise ValueError(f"{path}: figures are written as PNG; use a .png file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _confusion(name: str, cm: Any, n: int | None) -> np.ndarray:
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"{name}: a confusion matrix must be square [classes, classes], got shape {cm.shape}")
    if n is not None and cm.shape[0] != n:
        raise ValueError(f"{name}: {cm.shape[0]} classes but {n} class names")
    if not np.all(np.isfinite(cm)) or np.any(cm < 0):
        raise ValueError(f"{name}: entries must be finite and >= 0")
    return cm


def plot_confusion_pair(cm_left: Any, cm_right: Any, class_names: Sequence[str], path: str | os.PathLike,
                        titles: Sequence[str] = ("without TS", "with TS"),
                        highlight_pairs: Sequence[tuple[str | int, str | int]] = (),
                        normalize: bool = True, dpi: int = 120) -> Path:
    """Two confusion matrices [true, predicted] side by side.

    Args:
      cm_left, cm_right: [classes, classes] counts (rows = true class).
      class_names: one label per class, in matrix order.
      highlight_pairs: class pairs (names or indices); both off-diagonal cells (a, b) and
        (b, a) of each pair get a coloured box in both panels (red, green, ...).
      normalize: show row-normalised rates (each true class sums to 1) instead of counts.
    """
    names = [str(c) for c in class_names]
    left = _confusion("cm_left", cm_left, len(names))
    right = _confusion("cm_right", cm_right, len(names))
    if len(titles) != 2:
        raise ValueError(f"titles: need two titles, got {len(titles)}")
    pairs = []
    for pair in highlight_pairs:
        if len(pair) != 2:
            raise ValueError(f"highlight_pairs: {pair!r} is not a pair")
        idx = []
        for c in pair:
            if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
                if not 0 <= c < len(names):
                    raise ValueError(f"highlight_pairs: class index {c} outside 0..{len(names) - 1}")
                idx.append(int(c))
            elif c in names:
                idx.append(names.index(c))
            else:
                raise ValueError(f"highlight_pairs: unknown class {c!r} (classes: {', '.join(names)})")
        if idx[0] == idx[1]:
            raise ValueError(f"highlight_pairs: {pair!r} names the same class twice")
        pairs.append(tuple(idx))
    if normalize:
        left, right = (m / np.maximum(m.sum(axis=1, keepdims=True), 1e-12) for m in (left, right))
    plt = _pyplot()
    from matplotlib.patches import Rectangle
    n = len(names)
    size = max(4.0, 0.45 * n + 2.0)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + 1.5, size), layout="constrained")
    vmax = max(left.max(), right.max()) or 1.0
    for ax, m, title in zip(axes, (left, right), titles):
        im = ax.imshow(m, cmap="Blues", vmin=0.0, vmax=vmax)
        ax.set_title(title)
        ax.set_xticks(range(n), names, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(n), names, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        for i in range(n):
            for j in range(n):
                text = f"{m[i, j]:.2f}" if normalize else f"{int(round(m[i, j]))}"
                ax.text(j, i, text, ha="center", va="center", fontsize=6,
                        color="white" if m[i, j] > 0.6 * vmax else "black")
        for k, (a, b) in enumerate(pairs):
            colour = HIGHLIGHT_COLOURS[k % len(HIGHLIGHT_COLOURS)]
            for (i, j) in ((a, b), (b, a)):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=colour, linewidth=2.5))
    fig.colorbar(im, ax=list(axes), shrink=0.7)
    return _save(fig, path, dpi)


def tsne_embed(embeddings: Any, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """[n, d] -> [n, 2] with sklearn's t-SNE (perplexity capped below n / 3)."""
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 5 or x.shape[1] < 1:
        raise ValueError(f"embeddings: expected [n >= 5, dim] values, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("embeddings: contain NaN or inf")
    if perplexity <= 0:
        raise ValueError(f"perplexity must be > 0, got {perplexity}")
    from sklearn.manifold import TSNE
    perp = float(min(perplexity, max(1.0, (x.shape[0] - 1) / 3.0)))
    return TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed).fit_transform(x)


def plot_tsne(embeddings: Any, labels: Sequence[Any], path: str | os.PathLike,
              groups: Sequence[Any] | None = None, class_names: Mapping[Any, str] | Sequence[str] | None = None,
              title: str = "", perplexity: float = 30.0, seed: int = 0, dpi: int = 120
              ) -> tuple[Path, np.ndarray]:
    """t-SNE scatter of `embeddings` [n, dim]: colour by label, marker by group.

    Args:
      labels: n class labels (ints or strings).
      groups: optional n group labels (e.g. "10 s" / "20 s"), one marker per group.
      class_names: label -> display name (mapping, or sequence indexed by int labels).
    Returns:
      (png path, [n, 2] coordinates).
    """
    x = np.asarray(embeddings)
    labels = list(labels)
    if x.ndim != 2 or len(labels) != x.shape[0]:
        raise ValueError(f"labels: need one label per embedding row ({x.shape[0] if x.ndim else 0}), "
                         f"got {len(labels)}")
    groups = list(groups) if groups is not None else ["all"] * len(labels)
    if len(groups) != len(labels):
        raise ValueError(f"groups: need one group per embedding row ({len(labels)}), got {len(groups)}")
    group_names = list(dict.fromkeys(groups))
    if len(group_names) > len(MARKERS):
        raise ValueError(f"groups: at most {len(MARKERS)} marker groups, got {len(group_names)}")
    coords = tsne_embed(x, perplexity=perplexity, seed=seed)          # [n, 2]
    plt = _pyplot()
    classes = sorted(set(labels), key=str)
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")

    def display(c: Any) -> str:
        if isinstance(class_names, Mapping):
            return str(class_names.get(c, c))
        if class_names is not None and isinstance(c, (int, np.integer)) and 0 <= c < len(class_names):
            return str(class_names[c])
        return str(c)

    fig, ax = plt.subplots(figsize=(7, 6))
    lab = np.asarray([classes.index(c) for c in labels])
    grp = np.asarray([group_names.index(g) for g in groups])
    for gi, g in enumerate(group_names):
        for ci, c in enumerate(classes):
            sel = (grp == gi) & (lab == ci)
            if sel.any():
                ax.scatter(coords[sel, 0], coords[sel, 1], s=18, marker=MARKERS[gi], color=cmap(ci % cmap.N),
                           label=f"{display(c)}" + (f" ({g})" if len(group_names) > 1 else ""), alpha=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="best", markerscale=1.2)
    return _save(fig, path, dpi), coords


def plot_grouped_bars(categories: Sequence[str], series: Mapping[str, Sequence[float | None]],
                      path: str | os.PathLike, errors: Mapping[str, Sequence[float | None]] | None = None,
                      ylabel: str = "accuracy (%)", title: str = "", ylim: tuple[float, float] | None = None,
                      dpi: int = 120) -> Path:
    """Grouped bars: one group per category, one bar per series (None = no bar).

    Example (paper 2 Fig. 3): categories ["baseline", "DN", "DR", "D-RN"],
    series {"ACC": [...], "mAP@3": [...]}; or published vs achieved with errors = std.
    """
    cats = [str(c) for c in categories]
    if not cats:
        raise ValueError("categories: need at least one category")
    if not series:
        raise ValueError("series: need at least one series")
    for name, values in series.items():
        if len(values) != len(cats):
            raise ValueError(f"series '{name}': {len(values)} values for {len(cats)} categories")
        for v in values:
            if v is not None and (isinstance(v, bool) or not np.isfinite(float(v))):
                raise ValueError(f"series '{name}': value {v!r} is not a finite number")
    for name, errs in (errors or {}).items():
        if name not in series:
            raise ValueError(f"errors '{name}': no series of that name")
        if len(errs) != len(cats):
            raise ValueError(f"errors '{name}': {len(errs)} values for {len(cats)} categories")
        if any(e is not None and (not np.isfinite(float(e)) or float(e) < 0) for e in errs):
            raise ValueError(f"errors '{name}': values must be finite and >= 0")
    plt = _pyplot()
    n_series = len(series)
    width = 0.8 / n_series
    xs = np.arange(len(cats))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(cats) * max(1, n_series / 2)), 4.5))
    for k, (name, values) in enumerate(series.items()):
        pos = xs - 0.4 + width * (k + 0.5)
        heights = np.array([np.nan if v is None else float(v) for v in values])
        errs = (errors or {}).get(name)
        yerr = None if errs is None else np.array([0.0 if e is None else float(e) for e in errs])
        bars = ax.bar(pos, np.nan_to_num(heights), width, yerr=yerr, capsize=3, label=name)
        for bar, h in zip(bars, heights):
            if np.isnan(h):
                bar.set_visible(False)
            else:
                ax.annotate(f"{h:.2f}", (bar.get_x() + bar.get_width() / 2, h), ha="center", va="bottom",
                            fontsize=7, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(xs, cats, rotation=20 if max(map(len, cats)) > 10 else 0, ha="right" if max(map(len, cats)) > 10 else "center")
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path, dpi)


def plot_check_bars(report: Any, path: str | os.PathLike, metric: str = "accuracy", dpi: int = 120) -> Path:
    """Reference (paper or kit demo) vs achieved mean +- std for every checked run of `metric`."""
    data = report.to_dict() if hasattr(report, "to_dict") else report
    rows = [r for r in data["rows"] if r["metric"] == metric and r.get("mean") is not None]
    if not rows:
        raise ValueError(f"check report has no achieved '{metric}' values to plot")
    kinds = {r["reference_kind"] for r in rows if r.get("reference_kind")}
    ref_label = "kit demo reference" if kinds == {"demo"} else "published" if kinds == {"paper"} else "reference"
    cats = [f"{r['table'].split('/')[-1]} {r['run']}" for r in rows]
    return plot_grouped_bars(
        cats, {ref_label: [r.get("reference") for r in rows], "achieved": [r["mean"] for r in rows]},
        path, errors={"achieved": [r["std"] for r in rows]},
        ylabel=f"{'mAP@3' if metric == 'map_at_3' else metric} (%)", dpi=dpi)


def plot_lines(series: Mapping[str, tuple[Sequence[float], Sequence[float], str]], path: str | os.PathLike,
               xlabel: str, ylabel: str, title: str = "", dpi: int = 120) -> Path:
    """One line per series {label: (x, y, group)}; the series of a group share a colour
    (e.g. one training schedule, one line per seed)."""
    if not series:
        raise ValueError("plot_lines: no series to plot")
    for label, (x, y, _) in series.items():
        if len(x) != len(y) or not len(x):
            raise ValueError(f"plot_lines: series '{label}' has {len(x)} x and {len(y)} y values")
    plt = _pyplot()
    colours = {g: f"C{i}" for i, g in enumerate(dict.fromkeys(group for _, _, group in series.values()))}
    fig, ax = plt.subplots(figsize=(7, 4))
    shown = set()
    for label, (x, y, group) in series.items():
        ax.plot(x, y, "-o", ms=3, color=colours[group], alpha=0.8,
                label=group if group not in shown else None)
        shown.add(group)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path, dpi)
