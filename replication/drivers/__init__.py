"""Drivers: the commands that run the papers (main job, claims, benchmark, ISA probe).

They import paper1_ts / paper2_multirep, so they live here and not in the harness core
(replication/*.py, which never imports a paper package; tests/replication/test_layering.py).

    python -m replication                          # the main job (drivers/demo.py)
    python -m replication.drivers.claims ...       # the papers' claims over seeds
    python -m replication.drivers.bench ...        # speed benchmark
    python -m replication.drivers.bench_report ... # its before/after report
    python -m replication.drivers.isa_probe        # bit-identity under other vector ISAs
"""
