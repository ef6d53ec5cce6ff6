"""The README's strategy sections stay true: one per built-in, every parameter documented, and
every example configuration valid for its strategy."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from strategies import builtin_names, get_strategy

DOC = Path(__file__).resolve().parents[2] / "README.md"


def sections() -> dict[str, str]:
    text = DOC.read_text().split("\n## Strategies\n", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    return {p.split("\n", 1)[0].strip(): p for p in parts}


@pytest.mark.parametrize("name", builtin_names())
def test_each_builtin_has_a_section_documenting_every_parameter(name: str) -> None:
    section = sections()[name]
    for param in get_strategy(name).Params.model_fields:
        assert f"| `{param}` |" in section, f"{name}: parameter {param} is not documented"


@pytest.mark.parametrize("name", builtin_names())
def test_each_example_configuration_is_valid(name: str) -> None:
    blocks = re.findall(r"```toml\n(.*?)```", sections()[name], flags=re.DOTALL)
    assert blocks, f"{name}: no example configuration"
    for block in blocks:
        (hedge,) = tomllib.loads(block)["hedges"]
        assert hedge["strategy"] == name and hedge["enabled"] is True
        get_strategy(name).Params.model_validate(hedge.get("params", {}))
