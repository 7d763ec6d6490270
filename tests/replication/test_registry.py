"""replication.registry: register, duplicates, unknown names, resolve."""

from __future__ import annotations

import pytest

from replication import registry
from replication.registry import DuplicateNameError, Registry, UnknownNameError


def test_register_decorator_and_build():
    reg = Registry("table")

    @reg.register("paper1/table4")
    def table4(seeds=1):
        return {"table": "paper1/table4", "seeds": seeds}

    reg.register_table("paper2/tableVII", lambda: "vii")
    assert reg.names() == ["paper1/table4", "paper2/tableVII"]
    assert reg.get("paper1/table4") is table4
    assert reg.build("paper1/table4", seeds=3) == {"table": "paper1/table4", "seeds": 3}
    assert "paper2/tableVII" in reg and len(reg) == 2


def test_duplicate_name_raises_and_keeps_the_first():
    reg = Registry()
    reg.register_table("paper1/table5", lambda: 1)
    with pytest.raises(DuplicateNameError, match="paper1/table5.*already registered"):
        reg.register_table("paper1/table5", lambda: 2)
    assert reg.build("paper1/table5") == 1


def test_unknown_name_lists_what_exists():
    reg = Registry("table")
    reg.register_table("paper1/table4", lambda: 0)
    reg.register_table("paper1/table6", lambda: 0)
    with pytest.raises(UnknownNameError) as err:
        reg.get("paper1/table9")
    assert "paper1/table9" in str(err.value) and "paper1/table4, paper1/table6" in str(err.value)
    with pytest.raises(UnknownNameError, match="none registered"):
        Registry().get("paper1/table4")


@pytest.mark.parametrize("bad", ["table4", "Paper1/table4", "paper1/table 4", "paper1/", "", None])
def test_bad_names_and_factories_rejected(bad):
    with pytest.raises(ValueError):
        Registry().register_table(bad, lambda: 0)


def test_factory_must_be_callable():
    with pytest.raises(TypeError):
        Registry().register_table("paper1/table4", "paper1_ts.tables:table4")


def test_resolve_short_names():
    reg = Registry("table")
    for name in ("paper1/table4", "paper2/tableVII", "paper2/tableII"):
        reg.register_table(name, lambda: 0)
    assert reg.resolve("4", paper="paper1") == "paper1/table4"
    assert reg.resolve("table4", paper="paper1") == "paper1/table4"
    assert reg.resolve("7", paper="paper2") == "paper2/tableVII"
    assert reg.resolve("vii", paper="paper2") == "paper2/tableVII"
    assert reg.resolve("paper2/tableII") == "paper2/tableII"
    with pytest.raises(UnknownNameError, match="registered: paper1/table4"):
        reg.resolve("3", paper="paper1")


def test_unregister():
    reg = Registry()
    reg.register_table("paper1/table1", lambda: 0)
    reg.unregister("paper1/table1")
    assert reg.names() == []
    with pytest.raises(UnknownNameError):
        reg.unregister("paper1/table1")


def test_module_level_registry_is_one_instance():
    assert registry.register.__self__ is registry.TABLES
    assert registry.names() == registry.TABLES.names()


def test_every_registered_table_is_published_and_builds():
    """Walks the kit's registry after importing the paper packages that register tables."""
    try:
        import paper2_multirep.experiments  # noqa: F401  (registers paper2/table*)
    except ModuleNotFoundError as err:   # only the module itself missing is tolerated
        if err.name not in ("paper2_multirep", "paper2_multirep.experiments"):
            raise
        pytest.skip(f"paper package missing: {err}")
    try:
        import paper1_ts.experiments  # noqa: F401
    except ModuleNotFoundError as err:
        if err.name not in ("paper1_ts", "paper1_ts.experiments"):
            raise
    from replication.published import load_published
    published = load_published()
    assert registry.names(), "no table registered"
    for name in registry.names():
        assert name in published.tables, f"registered '{name}' has no published table"
        assert registry.build(name) is not None
