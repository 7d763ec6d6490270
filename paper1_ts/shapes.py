"""Shape check of paper 1's Tables 2 and 3: the built Keras layers beside the printed rows.

For every row of `architecture.TABLE2` / `TABLE3` the layer named by the row is looked
up in the FULL-size model (nested sub-models included) and compared, batch excluded,
with the printed output shape; kernel and stride (or the dense weight matrix) are
compared too where the table prints them. A row whose print is inconsistent and read
differently by a register entry passes as "OK*" when the built layer matches that
reading; anything else that differs is a "MISMATCH".

    report = table_report("3", res4_filters=120)
    print(report.text()); sys.exit(0 if report.ok else 1)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import keras

from paper1_ts import architecture as arch
from paper1_ts.model_params import CNNGRUParams, RawCNNParams
from paper1_ts.models import build_cnn_gru, build_raw_cnn

OK, OK_READING, MISMATCH = "OK", "OK*", "MISMATCH"


@dataclass(frozen=True)
class RowCheck:
    """One compared row."""

    row: str
    paper_shape: tuple[int, ...]
    built_shape: tuple[int | None, ...] | None
    paper_geometry: str      # printed kernel / stride ("-" when not printed)
    built_geometry: str      # the built layer's kernel / stride or weight shape
    status: str              # OK, OK* (matches the register reading) or MISMATCH
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status != MISMATCH


@dataclass(frozen=True)
class ShapeReport:
    """All rows of one table plus the parameter counts of the models built for it."""

    title: str
    checks: tuple[RowCheck, ...]
    param_counts: tuple[tuple[str, int, int], ...]   # (model, total, trainable)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def text(self) -> str:
        """An aligned plain-text table, footnotes and parameter counts."""
        head = ("row", "paper shape", "built shape", "paper kernel/stride",
                "built kernel/stride", "status")
        body = [(c.row, arch.format_shape(c.paper_shape), arch.format_shape(c.built_shape),
                 c.paper_geometry, c.built_geometry, c.status) for c in self.checks]
        widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        lines = [self.title, fmt.format(*head).rstrip(),
                 fmt.format(*("-" * w for w in widths))]
        lines += [fmt.format(*r).rstrip() for r in body]
        notes = [f"  {c.row}: {c.note}" for c in self.checks if c.note]
        if notes:
            lines += ["notes:", *notes]
        lines.append("parameters:")
        for model, total, trainable in self.param_counts:
            lines.append(f"  {model}: {total:,} ({trainable:,} trainable, "
                         f"{total - trainable:,} non-trainable)")
        bad = sum(not c.ok for c in self.checks)
        lines.append("result: all rows match" if not bad else f"result: {bad} row(s) MISMATCH")
        return "\n".join(lines)


def find_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer called `name` in `model` or in any nested sub-model (depth first)."""
    for layer in model.layers:
        if layer.name == name:
            return layer
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            try:
                return find_layer(layer, name)
            except KeyError:
                pass
    raise KeyError(f"model '{model.name}' has no layer '{name}'")


def _geometry(model: keras.Model, row: arch.Row) -> str:
    """The built layer's kernel/stride (conv, res, pool rows) or kernel matrix (dense)."""
    if row.kind in ("conv", "res"):
        layer = find_layer(model, row.layer if row.kind == "conv" else f"{row.layer}_conv_a")
        return f"{arch.format_shape(layer.kernel_size)} / {arch.format_shape(layer.strides)}"
    if row.kind in ("freq_avg_pool", "freq_max_pool"):
        layer = find_layer(model, row.layer)
        return f"{arch.format_shape(layer.pool_size)} / {arch.format_shape(layer.strides)}"
    if row.kind == "dense":
        return arch.format_shape(tuple(find_layer(model, row.layer).kernel.shape))
    return "-"


def _printed_geometry(row: arch.Row) -> str:
    if row.kernel is None:
        return "-"
    if row.stride is None:
        return arch.format_shape(row.kernel)
    return f"{arch.format_shape(row.kernel)} / {arch.format_shape(row.stride)}"


def check_rows(model: keras.Model, rows: tuple[arch.Row, ...]) -> tuple[RowCheck, ...]:
    """Compares each row's printed shape (and kernel/stride) with the built layer."""
    checks = []
    for row in rows:
        try:
            built = tuple(find_layer(model, row.layer).output.shape[1:])
            geometry = _geometry(model, row)
        except KeyError as err:
            checks.append(RowCheck(row.name, row.shape, None, _printed_geometry(row), "-",
                                   MISMATCH, str(err)))
            continue
        printed_geometry = _printed_geometry(row)
        geometry_ok = printed_geometry == "-" or printed_geometry == geometry
        note = "" if geometry_ok else "kernel/stride differ from the table"
        if built == row.shape and geometry_ok:
            status = OK
        elif built == row.read_shape and geometry_ok:
            status = OK_READING
            note = (f"printed {arch.format_shape(row.shape)}; built as read by register "
                    f"{row.register} ({arch.format_shape(row.read_shape)})")
        else:
            status = MISMATCH
            if built != row.shape:
                note = (f"built {arch.format_shape(built)} differs from printed "
                        f"{arch.format_shape(row.shape)}" + (f"; {note}" if note else ""))
        checks.append(RowCheck(row.name, row.shape, built, printed_geometry, geometry, status, note))
    return tuple(checks)


def _count(model: keras.Model) -> tuple[str, int, int]:
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return (model.name, int(model.count_params()), trainable)


def table_report(table: str, *, raw_params: RawCNNParams | None = None,
                 gru_params: CNNGRUParams | None = None,
                 res4_filters: int | None = None) -> ShapeReport:
    """Builds the FULL-size model of Table `table` ("2" or "3") and checks every row.

    Args:
      raw_params / gru_params: parameters to build (default: the paper's, full size).
      res4_filters: Table 3 only; overrides CNNGRUParams.res4_filters (120 = as printed).
    """
    if table == "2":
        if res4_filters is not None:
            raise ValueError("res4_filters applies to Table 3 only")
        p = raw_params or RawCNNParams()
        _require_fixed(p.input_length, "RawCNNParams.input_length")
        model = build_raw_cnn(p)
        title = f"Table 2 (raw waveform CNN), input {arch.format_shape(p.input_shape)}"
        return ShapeReport(title, check_rows(model, arch.TABLE2), (_count(model),))
    if table == "3":
        p = gru_params or CNNGRUParams()
        if res4_filters is not None:
            p = dataclasses.replace(p, res4_filters=res4_filters)
        _require_fixed(p.input_frames, "CNNGRUParams.input_frames")
        model = build_cnn_gru(p, head="gru")
        step1 = build_cnn_gru(p, head="pool")
        title = (f"Table 3 (spectrogram CNN-GRU), input {arch.format_shape(p.input_shape)} "
                 f"[time, frequency, channels], res4_filters={p.res4_filters}")
        counts = (_count(model), _count(step1), _count(model.get_layer("cnn")))
        return ShapeReport(title, check_rows(model, arch.TABLE3), counts)
    raise ValueError(f"no shape check for table '{table}' (choose from 2, 3)")


def _require_fixed(size: int | None, field: str) -> None:
    if size is None:
        raise ValueError(f"the shape check needs a fixed input size, but {field} is None")
