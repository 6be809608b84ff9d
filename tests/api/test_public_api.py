"""Every public name is exported, documented in the API reference, and has a docstring."""

import re
from pathlib import Path

import pymc_ais as pa
import pymc_ais.core as core

API = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()


def _listed(module_prefix: str) -> set:
    blocks = re.split(r"\.\. currentmodule:: ", API)
    names = set()
    for block in blocks[1:]:
        module, _, body = block.partition("\n")
        if module.strip() == module_prefix:
            names |= set(re.findall(r"^   ([A-Za-z_][\w.]*)$", body, flags=re.M))
    return names


def test_every_public_name_is_in_the_api_reference():
    listed = _listed("pymc_ais")
    missing = sorted(set(pa.__all__) - {"__version__"} - listed)
    assert not missing, f"not in docs/api.md: {missing}"
    # a core name also exported at the top (EvaluationError) is documented once, there
    listed_core = _listed("pymc_ais.core") | {n for n in listed if getattr(pa, n, None) is not None}
    assert not sorted(set(core.__all__) - listed_core)


def test_every_public_name_has_a_docstring():
    for module in (pa, core):
        for name in module.__all__:
            if name == "__version__":
                continue
            doc = getattr(module, name).__doc__
            assert doc and doc.strip(), f"{module.__name__}.{name} has no docstring"


def test_version_is_defined_once():
    from importlib.metadata import version

    assert pa.__version__ == version("pymc-ais")
