"""Paper 1's two network tables as data (Table 2: raw waveform CNN, Table 3: CNN-GRU).

One `Row` per printed table row, with the printed output shape (batch excluded),
kernel, stride and width. The rows are the single source of the architecture: the
defaults of `paper1_ts.model_params` are derived from them, the builders in
`paper1_ts.models` loop over those defaults, and `paper1_ts.shapes` compares every
built layer with its row.

Axis conventions (batch excluded):
  Table 2 maps are [time, channels]; the input is the pre-emphasised stereo waveform
    [479999, 2] (notes Open 1: 10 s x 48 kHz minus the first sample).
  Table 3 maps are [time, frequency, channels]; the input is [249 frames, 256 bins, 2].
    After Res4 the map is [21 time steps, 22 frequency bins, width], so the printed
    1x22 pools span the whole FREQUENCY axis and keep the 21 time steps; the
    concatenation is [21, 480] and the GRU runs over those 21 time steps.

Table 3 prints Res4 as 21x22x120 although both pools output 240 channels and the
concatenation 480; the row carries the printed shape AND the shape under the
register reading (register p1-res4-filters: Res4 has 240 filters).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("conv", "res", "global_max_pool", "freq_avg_pool", "freq_max_pool", "concat",
         "gru", "dense")


@dataclass(frozen=True)
class Row:
    """One printed row of Table 2 or Table 3."""

    name: str                        # row label as printed ("Conv1", "Res4", ...)
    kind: str                        # one of KINDS
    shape: tuple[int, ...]           # printed output shape, batch excluded
    layer: str                       # name of the built Keras layer whose output is this row
    kernel: tuple[int, ...] | None = None   # printed kernel (dense rows: printed weight matrix shape)
    stride: tuple[int, ...] | None = None   # printed stride (None where the table prints "-")
    filters: int | None = None       # width implied by the printed shape (units for dense/gru)
    pool: int | None = None          # /pool after the block (Table 2 shapes, not a printed column)
    read_shape: tuple[int, ...] | None = None  # shape under the register reading when the print is inconsistent
    register: str | None = None      # register id that explains read_shape

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Row {self.name}: kind '{self.kind}' unknown (choose from {KINDS})")

    @property
    def accepted_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Shapes a built layer may have for this row to pass (printed, or register reading)."""
        return (self.shape,) if self.read_shape is None else (self.shape, self.read_shape)


# Table 2: raw-waveform model, input (479999, 2). Res rows: kernel 3, stride 1 inside the
# block, then a /3 max-pool (13333 = 39999 // 3, ...). "GlobalPool" is a global max pool (Sec. 2.1).
TABLE2_INPUT: tuple[int, int] = (479999, 2)
TABLE2: tuple[Row, ...] = (
    Row("Conv1", "conv", (39999, 64), "conv1", (12,), (12,), 64),
    Row("Res1", "res", (13333, 64), "res1", (3,), (1,), 64, pool=3),
    Row("Res2", "res", (4444, 128), "res2", (3,), (1,), 128, pool=3),
    Row("Res3", "res", (1481, 128), "res3", (3,), (1,), 128, pool=3),
    Row("Res4", "res", (493, 128), "res4", (3,), (1,), 128, pool=3),
    Row("Res5", "res", (164, 128), "res5", (3,), (1,), 128, pool=3),
    Row("Res6", "res", (54, 128), "res6", (3,), (1,), 128, pool=3),
    Row("Res7", "res", (18, 128), "res7", (3,), (1,), 128, pool=3),
    Row("GlobalPool", "global_max_pool", (128,), "global_pool"),
    Row("Dense1", "dense", (64,), "embedding", (128, 64), None, 64),
    Row("Output", "dense", (10,), "logits", (64, 10), None, 10),
)

# Table 3: spectrogram CNN-GRU, input (249, 256, 2) = [time, frequency, stereo].
TABLE3_INPUT: tuple[int, int, int] = (249, 256, 2)
TABLE3: tuple[Row, ...] = (
    Row("Conv1", "conv", (249, 256, 30), "conv1", (7, 7), (1, 1), 30),
    Row("Res1", "res", (249, 256, 30), "res1", (3, 3), (1, 1), 30),
    Row("Res2", "res", (125, 128, 60), "res2", (3, 3), (2, 2), 60),
    Row("Res3", "res", (63, 64, 120), "res3", (3, 3), (2, 2), 120),
    Row("Res4", "res", (21, 22, 120), "res4", (3, 3), (3, 3), 120,
        read_shape=(21, 22, 240), register="p1-res4-filters"),
    Row("AvgPool", "freq_avg_pool", (21, 1, 240), "avg_pool", (1, 22), (1, 22)),
    Row("MaxPool", "freq_max_pool", (21, 1, 240), "max_pool", (1, 22), (1, 22)),
    Row("Concat", "concat", (21, 480), "concat"),   # printed "Concan"
    Row("GRU", "gru", (480,), "gru", None, None, 480),
    Row("Dense1", "dense", (64,), "embedding", (480, 64), None, 64),
    Row("Output", "dense", (10,), "logits", (64, 10), None, 10),
)

TABLES: dict[str, tuple[Row, ...]] = {"2": TABLE2, "3": TABLE3}


def rows_of_kind(table: tuple[Row, ...], kind: str) -> tuple[Row, ...]:
    """The rows of `table` with the given kind, in table order."""
    return tuple(r for r in table if r.kind == kind)


def row(table: tuple[Row, ...], name: str) -> Row:
    """The row called `name`; KeyError listing the row names otherwise."""
    for r in table:
        if r.name == name:
            return r
    raise KeyError(f"no row '{name}' (rows: {', '.join(r.name for r in table)})")


def format_shape(shape: tuple[int | None, ...] | None) -> str:
    """(21, 22, 240) -> '21x22x240'; None entries (unknown sizes) print as '?'."""
    if shape is None:
        return "-"
    return "x".join("?" if s is None else str(s) for s in shape)
