"""Generated volfiles against committed golden files. Regenerate after an intended change with
`KADALU_REGEN_GOLDEN=1 pytest tests/unit/volgen` and review the diff."""
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.volgen.samples import CASES, NODE_UUID
from volgen import brick_volfile, client_volfile, shd_volfile

GOLDEN = Path(__file__).parent / "golden"
REGEN = os.environ.get("KADALU_REGEN_GOLDEN") == "1"


def _outputs() -> list[tuple[str, str, Callable[[], str]]]:
    out = []
    for case, spec in CASES.items():
        out.append((f"{case}.client.vol", case, lambda s=spec: client_volfile(s)))
        if spec.type != "distribute":
            out.append((f"{case}.shd.vol", case, lambda s=spec: shd_volfile(s)))
        # The first brick of every volume; for arbiter also the arbiter brick, the one that differs.
        picks = [0, len(spec.bricks) - 1] if spec.type == "arbiter" else [0]
        for i in picks:
            brick = spec.bricks[i]
            out.append((f"{case}.brick{i}.vol", case,
                        lambda s=spec, b=brick: brick_volfile(s, b, NODE_UUID[b.node_id])))
    return out


@pytest.mark.parametrize("filename,case,generate", _outputs(), ids=[o[0] for o in _outputs()])
def test_volfile_matches_golden(filename, case, generate):
    text = generate()
    path = GOLDEN / filename
    if REGEN:
        path.write_text(text)
    assert path.exists(), f"no golden file {path}: run with KADALU_REGEN_GOLDEN=1"
    assert text == path.read_text(), f"{filename} differs from its golden file (regenerate if intended)"


def test_no_golden_file_is_orphaned():
    expected = {o[0] for o in _outputs()}
    assert {p.name for p in GOLDEN.glob("*.vol")} == expected
