"""Benchmark section "peers" (the paper models in PyTorch): the peers have the kit's weights
(count and, copied over, the same outputs), the section says how to install PyTorch when it
is absent, a tiny-shape run reports every figure, and the summary / report logic is driven
by made-up child results, so no verdict here depends on this machine's speed or load."""

from __future__ import annotations

import builtins
import json
import sys

import numpy as np
import pytest

from replication.drivers import bench, bench_peers, bench_report
from replication.drivers.bench_peers import PAPER_CASES, TINY_CASES

NO_TORCH = bench_peers.torch_missing()
needs_torch = pytest.mark.skipif(NO_TORCH is not None, reason=NO_TORCH or "")


def _kit_counts(model) -> tuple[int, int]:
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return trainable, sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)


def _peer_counts(peer) -> tuple[int, int]:
    buffers = sum(b.numel() for n, b in peer.named_buffers() if not n.endswith("num_batches_tracked"))
    return sum(p.numel() for p in peer.parameters()), buffers


# ----------------------------------------------------------------------------- parity
@needs_torch
@pytest.mark.parametrize("name", list(PAPER_CASES))
def test_peer_has_the_kit_models_weights_at_paper_shape(name):
    from replication.drivers.peers_torch import build_peer

    case = PAPER_CASES[name]
    kit = bench_peers.build_kit_model(case)
    peer = build_peer(case.arch, case.input_shape, bench_peers.NUM_CLASSES)
    # trainable weights, and BatchNormalization's moving mean / variance (the peer's buffers)
    assert _peer_counts(peer) == _kit_counts(kit)
    assert _kit_counts(kit)[0] > 500_000               # a paper model, not a stand-in


def _copy_layer(layer, module) -> None:
    """Copies one Keras layer's weights into the PyTorch module doing the same job."""
    import torch

    weights = layer.get_weights()
    kind = type(module).__name__
    with torch.no_grad():
        if kind in ("Conv1d", "Conv2d"):
            kernel = weights[0]                        # [k..., cin, cout] -> [cout, cin, k...]
            axes = (kernel.ndim - 1, kernel.ndim - 2, *range(kernel.ndim - 2))
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(axes))))
            module.bias.copy_(torch.from_numpy(weights[1]))
        elif kind == "Linear":
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(weights[0].T)))
            module.bias.copy_(torch.from_numpy(weights[1]))
        elif kind.startswith("BatchNorm"):
            for target, w in zip((module.weight, module.bias, module.running_mean,
                                  module.running_var), weights):
                target.copy_(torch.from_numpy(w))
        elif kind == "GRU":                            # Keras gates (z, r, h), PyTorch (r, z, n)
            def gates(a):
                z, r, h = np.split(a, 3, axis=-1)
                return np.concatenate([r, z, h], axis=-1)
            kernel, recurrent, bias = weights
            module.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(gates(kernel).T)))
            module.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(gates(recurrent).T)))
            module.bias_ih_l0.copy_(torch.from_numpy(gates(bias[0])))
            module.bias_hh_l0.copy_(torch.from_numpy(gates(bias[1])))
        else:
            raise AssertionError(f"no copy rule for {kind}")


def _p1_pairs(p, peer) -> dict[str, str]:
    """PyTorch module path -> Keras layer name, paper 1 (names of paper1_ts.models.blocks)."""
    n = len(p.block_filters) if hasattr(p, "block_filters") else len(p.res_filters)
    pairs = {"trunk.0.conv": "conv1", "trunk.1.0": "conv1_bn", f"trunk.{n + 2}.0": "trunk_out_bn",
             "gru": "gru", "head.embedding": "embedding", "head.logits": "logits"}
    for i in range(1, n + 1):
        b = f"trunk.{i + 1}"
        pairs.update({f"{b}.pre.0": f"res{i}_pre_bn", f"{b}.conv_a.conv": f"res{i}_conv_a",
                      f"{b}.mid.0": f"res{i}_mid_bn", f"{b}.conv_b.conv": f"res{i}_conv_b",
                      f"{b}.shortcut.conv": f"res{i}_shortcut"})
    modules = dict(peer.named_modules())
    return {k: v for k, v in pairs.items() if k in modules}


def _p2_pairs(arch: str, peer) -> dict[str, str]:
    """PyTorch module path -> Keras layer name, keras.applications VGG19 / ResNet101."""
    from replication.drivers.peers_torch import RESNET101_STACKS, VGG19_BLOCKS

    modules = dict(peer.named_modules())
    pairs = {f"head.body.{len(peer.head.body) - 1}": "logits"}
    if arch == "vgg19":
        convs = [n for n, m in modules.items() if type(m).__name__ == "Conv2d"]
        names = [f"block{b}_conv{c}" for b, (_, k) in enumerate(VGG19_BLOCKS, start=1)
                 for c in range(1, k + 1)]
        assert len(convs) == len(names)
        return {**pairs, **dict(zip(convs, names))}
    pairs.update({"features.0": "conv1_conv", "features.1": "conv1_bn"})
    i = 4
    for s, (_, blocks, _) in enumerate(RESNET101_STACKS, start=2):
        for b in range(1, blocks + 1):
            k = f"conv{s}_block{b}"
            pairs.update({f"features.{i}.body.{j}": f"{k}_{n}_{kind}" for j, n, kind in
                          [(0, 1, "conv"), (1, 1, "bn"), (3, 2, "conv"), (4, 2, "bn"),
                           (6, 3, "conv"), (7, 3, "bn")]})
            if b == 1:
                pairs.update({f"features.{i}.shortcut.0": f"{k}_0_conv",
                              f"features.{i}.shortcut.1": f"{k}_0_bn"})
            i += 1
    assert all(k in modules for k in pairs)
    return pairs


def _keras_layers(model) -> dict:
    out = {}
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            out.update(_keras_layers(layer))
        else:
            out[layer.name] = layer
    return out


@needs_torch
@pytest.mark.parametrize("name", list(TINY_CASES))
def test_peer_computes_the_kit_models_function(name):
    """Kit weights (BatchNormalization statistics made non-trivial) copied into the peer give
    the same logits: the same layers in the same order, 'same' padding included."""
    import torch

    from replication.drivers.peers_torch import build_peer, kit_params, to_channels_first

    case = TINY_CASES[name]
    kit = bench_peers.build_kit_model(case)
    peer = build_peer(case.arch, case.input_shape, bench_peers.NUM_CLASSES).eval()
    layers = _keras_layers(kit)
    rng = np.random.default_rng(1)
    for layer in layers.values():
        if type(layer).__name__ == "BatchNormalization":
            g, b, m, v = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, g.shape).astype("float32"),
                               rng.normal(0, 0.1, b.shape).astype("float32"),
                               rng.normal(0, 0.1, m.shape).astype("float32"),
                               rng.uniform(0.5, 1.5, v.shape).astype("float32")])
    pairs = (_p1_pairs(kit_params(case.arch, case.input_shape, 10), peer)
             if case.arch in ("raw_cnn", "cnn_gru") else _p2_pairs(case.arch, peer))
    modules = dict(peer.named_modules())
    with_weights = {n for n, m in modules.items()
                    if any(True for _ in m.parameters(recurse=False))}
    assert with_weights == set(pairs), "every peer module with weights has its Keras layer"
    for path, layer_name in pairs.items():
        _copy_layer(layers[layer_name], modules[path])
    x, _ = bench_peers.batch_of(case)
    out = kit(x, training=False)
    want = np.asarray(out["logits"] if isinstance(out, dict) else out)
    with torch.no_grad():
        got = peer(to_channels_first(torch.from_numpy(x))).numpy()
    assert got.shape == want.shape == (case.batch, bench_peers.NUM_CLASSES)
    scale = float(np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * max(scale, 1.0))


# ----------------------------------------------------------------------------- without torch
def _ctx(tmp_path, **extra):
    lines = []
    ctx = bench.BenchContext(quick=True, clips=[], source="none", workdir=tmp_path, log=lines.append,
                             extra=extra)
    return ctx, lines


def test_section_is_skipped_with_the_install_message_without_torch(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"No module named '{name}'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_torch)
    ctx, lines = _ctx(tmp_path)
    got = bench_peers.bench_peers(ctx)
    assert set(got) == {"skipped"}
    assert "requirements-peers.txt" in got["skipped"] and "PyTorch is not installed" in got["skipped"]
    assert lines == [f"  {got['skipped']}"]
    assert not list(tmp_path.iterdir())                   # no child was started
    text = bench_peers.render_peers({"sections": {"peers": got}}, "peers.json")
    assert text.startswith("Not measured: PyTorch is not installed")


def test_peers_section_runs_only_when_asked():
    assert "peers" in bench.SECTIONS and "peers" not in bench.default_sections()


# ----------------------------------------------------------------------------- tiny run
@needs_torch
def test_tiny_shape_run_of_the_section(tmp_path):
    ctx, lines = _ctx(tmp_path, peers_models=["p1_cnn_gru_tiny"], peer_rounds=2, steps=2)
    got = bench_peers.bench_peers(ctx)
    assert got["tiny"] and got["rounds"] == 2 and got["threads"] == bench_peers.THREADS
    m = got["models"]["p1_cnn_gru_tiny"]
    assert not m["errors"], m["errors"]
    assert m["params"]["kit"] == m["params"]["torch"] > 0
    assert len(m["rounds"]) == 2 and len(m["ratios"]) == 2
    for r in m["rounds"]:
        assert r["torch"]["omp_wait_policy"] == "PASSIVE"
        for child in r.values():
            assert child["steps"] >= 2 and len(child["step_times"]) == child["steps"]
            assert child["clips_per_s"] == pytest.approx(2 / child["step_seconds"])
            assert child["matmul_gflops_per_s"] > 0 and child["host_peak_mb"] > 50
    assert m["ratios"] == pytest.approx([r["kit"]["clips_per_s"] / r["torch"]["clips_per_s"]
                                         for r in m["rounds"]])
    assert m["ratio"] == pytest.approx(float(np.median(m["ratios"])))
    assert got["ceiling_gflops_per_s"] == max(got["matmul_gflops_per_s"]) and len(got["matmul_gflops_per_s"]) == 4
    assert m["verdict"] in ("ratio", "ceiling", "not met")
    assert set(got["versions"]) == {"kit", "torch"}
    assert any("kit/peer" in line for line in lines)


def test_unknown_model_is_refused_naming_the_choices(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_peers, "torch_missing", lambda: None)
    ctx, _ = _ctx(tmp_path, peers_models=["p1_nope"])
    with pytest.raises(ValueError, match="p1_nope.*p1_cnn_gru_tiny"):
        bench_peers.bench_peers(ctx)


# ----------------------------------------------------------------------------- summary logic
def _child(clips: float, matmul: float = 100.0, **more) -> dict:
    return {"clips_per_s": clips, "matmul_gflops_per_s": matmul, "params": 7,
            "train_flops": 2e9, **more}


def test_summary_takes_the_median_of_per_round_ratios_and_judges_the_targets():
    case = PAPER_CASES["p2_vgg19_paper"]
    rounds = [{"kit": _child(6.0), "torch": _child(4.0)},          # 1.5
              {"kit": _child(3.0), "torch": _child(3.0)},          # 1.0 (a slow round for both)
              {"kit": _child(8.0), "torch": _child(4.0)}]          # 2.0
    m = bench_peers.summarise(case, rounds, ceiling=100.0)
    assert m["ratios"] == [1.5, 1.0, 2.0] and m["ratio"] == 1.5
    assert m["kit_clips_per_s"] == {"median": 6.0, "min": 3.0, "max": 8.0, "values": [6.0, 3.0, 8.0]}
    assert m["kit_share_of_ceiling"] == pytest.approx(6.0 * 2.0 / 100.0)
    assert m["torch_share_of_ceiling"] == pytest.approx(4.0 * 2.0 / 100.0)
    assert m["ratio_bound_at_ceiling"] == pytest.approx(1 / 0.08)
    assert m["verdict"] == "ratio"
    near = bench_peers.summarise(case, [{"kit": _child(46.0), "torch": _child(40.0)}], ceiling=100.0)
    assert near["kit_share_of_ceiling"] == pytest.approx(0.92) and near["verdict"] == "ceiling"
    slow = bench_peers.summarise(case, [{"kit": _child(5.0), "torch": _child(4.0)}], ceiling=100.0)
    assert slow["verdict"] == "not met"


def test_summary_keeps_failed_rounds_out_of_the_figures():
    case = PAPER_CASES["p1_raw_cnn_paper"]
    rounds = [{"kit": {"error": "exit -9: killed"}, "torch": _child(4.0)},
              {"kit": _child(2.0), "torch": _child(4.0)}]
    m = bench_peers.summarise(case, rounds, ceiling=50.0)
    assert m["errors"] == ["exit -9: killed"] and m["ratios"] == [0.5]
    none = bench_peers.summarise(case, rounds[:1], ceiling=50.0)
    assert "ratio" not in none and none["errors"]


def test_time_steps_counts_warmup_gauge_and_timed_steps_on_a_fake_clock():
    now = [0.0]
    calls = []

    def step():
        calls.append(1)
        now[0] += 0.25

    got = bench_peers.time_steps(step, warmup=2, steps=3, min_seconds=2.0, clock=lambda: now[0])
    assert got["steps"] == 8                       # 2 s / 0.25 s, more than the 3 asked
    assert len(calls) == 2 + 1 + 8 and got["step_seconds"] == 0.25
    assert got["warmup_seconds"] == 0.5


def test_report_renders_the_peers_table_into_its_markers(tmp_path):
    case = PAPER_CASES["p2_resnet101_paper"]
    sec = {"threads": 2, "rounds": 1, "steps": 2, "warmup": 1, "matmul_n": 2048,
           "ceiling_gflops_per_s": 100.0, "loadavg": [1.0, 2.0, 3.0],
           "targets": {"ratio": 1.5, "share_of_ceiling": 0.9},
           "versions": {"kit": "TensorFlow x", "torch": "PyTorch y"},
           "models": {case.name: bench_peers.summarise(
               case, [{"kit": _child(6.0), "torch": _child(3.0)}], 100.0),
                      "p2_vgg19_paper": bench_peers.summarise(                # peer at 40 %
               PAPER_CASES["p2_vgg19_paper"], [{"kit": _child(22.0), "torch": _child(20.0)}], 100.0),
                      "p1_cnn_gru_paper": bench_peers.summarise(              # peer at 80 %
               PAPER_CASES["p1_cnn_gru_paper"], [{"kit": _child(30.0), "torch": _child(40.0)}], 100.0)}}
    src = tmp_path / "peers.json"
    src.write_text(json.dumps({"sections": {"peers": sec}}))
    doc = tmp_path / "scale.md"
    doc.write_text("intro\n<!-- BEGIN peers -->\nold\n<!-- END peers -->\nrest\n")
    assert bench_report.main(["--after", str(src), "--into", str(doc), "--section", "peers"]) == 0
    text = doc.read_text()
    assert "old" not in text and text.startswith("intro\n") and text.endswith("rest\n")
    row = next(line for line in text.splitlines() if line.startswith(f"| {case.name} "))
    assert "6.00 (6.00-6.00)" in row and "3.00 (3.00-3.00)" in row and "2.00x (2.00)" in row
    assert "12 %, 6 %" in row and "**met** (ratio)" in row and "7 = 7" in row
    assert "PyTorch y" in text and "100 GFLOP/s" in text
    assert f"- {case.name}: meets the ratio target (2.00x; the kit at 12.0 % of the ceiling)." in text
    assert ("- p2_vgg19_paper: not met: 1.5x the peer (median of the clips/s) would need the kit at "
            "60.0 % of the ceiling and it reaches 44.0 % (1.10x the peer, median of the rounds' "
            "ratios).") in text
    assert ("- p1_cnn_gru_paper: not met: the peer already runs at 80.0 % of the ceiling, so 1.5x it "
            "would need the kit at 120.0 % of the ceiling, above the ceiling; the kit reaches 60.0 %, "
            "short of the 90 % clause.") in text
    assert "--section peers --rounds 1 --steps 2 --json" in text


def test_a_stopped_run_resumes_from_the_kept_children(tmp_path, monkeypatch):
    """--peers-dir: children already measured (same warm-up, enough steps) are read back,
    the others are measured; a kept child of other settings is measured again."""
    monkeypatch.setattr(bench_peers, "torch_missing", lambda: None)
    spawned = []

    def fake_spawn(fw, case, workdir, warmup, steps, min_seconds, mm_n, tag):
        spawned.append((case.name, fw, tag))
        return {**_child(1.0), "warmup_steps": warmup, "steps": steps, "version": fw}

    monkeypatch.setattr(bench_peers, "_spawn", fake_spawn)
    keep = tmp_path / "kept"
    keep.mkdir()
    case = TINY_CASES["p1_cnn_gru_tiny"]
    kept = {**_child(3.0), "warmup_steps": 1, "steps": 2, "version": "kit"}
    (keep / bench_peers.child_file(case, "kit", "r0")).write_text(json.dumps(kept))
    stale = {**_child(5.0), "warmup_steps": 4, "steps": 2, "version": "torch"}   # other warm-up
    (keep / bench_peers.child_file(case, "torch", "r0")).write_text(json.dumps(stale))
    ctx, _ = _ctx(tmp_path / "work", peers_models=[case.name], peer_rounds=2, steps=2,
                  peers_dir=keep)
    got = bench_peers.bench_peers(ctx)
    assert spawned == [(case.name, "torch", "r0"), (case.name, "torch", "r1"), (case.name, "kit", "r1")]
    assert got["reused_children"] == 1
    assert got["models"][case.name]["ratios"] == [3.0, 1.0]

