"""The package's imports stay on their floors (dev/import_floors.py draws them)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "dev" / "import_floors.py"


def _floors():
    spec = importlib.util.spec_from_file_location("import_floors", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_import_points_down() -> None:
    floors = _floors()
    found = floors.edges()
    assert len(found) > 100  # the parser sees the package's imports
    assert floors.violations(found) == []


def test_the_check_sees_an_upward_import() -> None:
    floors = _floors()
    bad = floors.violations([("codec.api", "training.trainer", True),
                             ("nodes.encoder_node", "codec.nn.model", False),
                             ("codec.api", "codec.nn.weights", True),
                             ("codec.api", "codec.nn.weights", False)])
    assert len(bad) == 3, bad
