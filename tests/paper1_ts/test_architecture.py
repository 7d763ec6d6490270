"""Tables 2 and 3 as data: rows against the paper text, internal arithmetic, params and presets."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from paper1_ts import architecture as arch
from paper1_ts.model_params import CNNGRUParams, ModelParams, RawCNNParams, demo_params
from shared.config import ConfigError, load_config

PAPER = Path(__file__).resolve().parents[2].parent / "shared" / "papers" / "paper1_ts_heo2019.txt"
PRINTED_NAMES = {"Concat": "Concan"}   # the paper's spelling of that row


def _printed_line(row: arch.Row) -> str:
    """The row as the paper's text prints it, e.g. 'Res4 21× 22× 120 3× 3 3× 3'."""
    def cell(values):
        return "-" if values is None else "× ".join(str(v) for v in values)
    return " ".join([PRINTED_NAMES.get(row.name, row.name), cell(row.shape), cell(row.kernel),
                     cell(row.stride)])


@pytest.mark.parametrize("table", ["2", "3"])
def test_rows_match_the_paper_text(table):
    if not PAPER.exists():
        pytest.skip(f"paper text not found at {PAPER}")
    text = PAPER.read_text(encoding="utf-8")
    for row in arch.TABLES[table]:
        assert _printed_line(row) in text, f"Table {table} row {row.name} not printed as stored"


def test_table2_shapes_follow_from_kernel_stride_and_pools():
    length = arch.TABLE2_INPUT[0]
    conv1 = arch.row(arch.TABLE2, "Conv1")
    length = (length - conv1.kernel[0]) // conv1.stride[0] + 1      # 'valid' padding
    assert conv1.shape == (length, conv1.filters)
    for row in arch.rows_of_kind(arch.TABLE2, "res"):
        length = length // row.pool
        assert row.shape == (length, row.filters)
    assert arch.row(arch.TABLE2, "GlobalPool").shape == (arch.rows_of_kind(arch.TABLE2, "res")[-1].filters,)


def test_table3_shapes_follow_from_same_padding_strides():
    frames, bins, _ = arch.TABLE3_INPUT
    for row in (arch.row(arch.TABLE3, "Conv1"), *arch.rows_of_kind(arch.TABLE3, "res")):
        frames, bins = math.ceil(frames / row.stride[0]), math.ceil(bins / row.stride[1])
        assert row.shape[:2] == (frames, bins)
    # the pools span the whole frequency axis (22 bins) and keep the 21 time steps
    for name in ("AvgPool", "MaxPool"):
        pool = arch.row(arch.TABLE3, name)
        assert pool.kernel == (1, bins) and pool.shape[0] == frames


def test_res4_print_is_inconsistent_and_the_reading_resolves_it():
    res4, pool = arch.row(arch.TABLE3, "Res4"), arch.row(arch.TABLE3, "AvgPool")
    concat = arch.row(arch.TABLE3, "Concat")
    assert res4.shape[-1] != pool.shape[-1]                  # printed 120 vs pooled 240
    assert res4.read_shape[-1] == pool.shape[-1] == concat.shape[-1] // 2
    assert res4.register == "p1-res4-filters"
    assert res4.accepted_shapes == (res4.shape, res4.read_shape)


def test_param_defaults_are_the_table_rows():
    raw = RawCNNParams()
    assert raw.input_shape == (479999, 2)
    assert (raw.conv1_filters, raw.conv1_kernel, raw.conv1_stride) == (64, 12, 12)
    assert raw.res_filters == (64, 128, 128, 128, 128, 128, 128)
    assert (raw.res_kernel, raw.res_stride, raw.res_pool) == (3, 1, 3)
    assert (raw.embedding_units, raw.num_classes) == (64, 10)
    gru = CNNGRUParams()
    assert gru.input_shape == (249, 256, 2)
    assert gru.block_filters == (30, 60, 120, 240)
    assert gru.res_strides == (1, 2, 2, 3)
    assert gru.freq_after_cnn == 22
    assert (gru.gru_units, gru.embedding_units, gru.num_classes) == (480, 64, 10)


@pytest.mark.parametrize("cls, changes, message", [
    (RawCNNParams, {"block_order": "middle"}, "block_order"),
    (RawCNNParams, {"res_filters": ()}, "res_filters"),
    (RawCNNParams, {"input_length": 5}, "input_length"),
    (CNNGRUParams, {"res_strides": (1, 2)}, "res_strides"),
    (CNNGRUParams, {"embedding_activation": "relu"}, "embedding_activation"),
    (CNNGRUParams, {"leaky_slope": 1.5}, "leaky_slope"),
])
def test_bad_params_raise_naming_the_field(cls, changes, message):
    with pytest.raises(ValueError, match=message):
        cls(**changes)


def test_demo_preset_loads_smaller_models_of_the_same_structure():
    demo = demo_params()
    assert demo.raw_cnn.input_shape == (63999, 2)
    assert len(demo.raw_cnn.res_filters) == len(RawCNNParams().res_filters)
    assert demo.cnn_gru.input_shape[1:] == (64, 2)
    assert len(demo.cnn_gru.res_strides) == len(CNNGRUParams().res_strides)
    assert demo.cnn_gru.res4_filters < CNNGRUParams().res4_filters


def test_unknown_preset_key_is_an_error_naming_key_and_file(tmp_path):
    preset = tmp_path / "bad.yaml"
    preset.write_text("cnn_gru:\n  res5_filters: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"res5_filters.*bad\.yaml"):
        load_config(ModelParams, preset)


def test_format_shape():
    assert arch.format_shape((21, 22, 240)) == "21x22x240"
    assert arch.format_shape((None, 64)) == "?x64"
    assert arch.format_shape(None) == "-"
