"""Draw the package's imports on floors and check that every arrow points down.

Floors, top to bottom: tools; nodes and training; the PyTorch modules (``codec/nn``); the
runtime a robot runs (``codec/`` without ``nn``, ``image``, ``extras``). A module may import
its own group or any floor below. Nodes never import training or the PyTorch modules. The
runtime reaches ``codec/nn`` only inside a function (the torch backend, loaded when chosen):
those arrows are drawn dashed. ``python dev/import_floors.py`` writes ``docs/imports.png``
and exits 1 if an arrow points up or sideways; ``test/test_import_floors.py`` runs the check.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gan_compress_ros"
#: group -> floor (higher floors may import lower ones)
FLOORS = {"tools": 3, "nodes": 2, "training": 2, "codec.nn": 1, "runtime": 0}
#: imports allowed between groups of the same floor: none (nodes and training stay apart)


def group(module: str) -> str:
    """The group of a module path relative to the package (``codec.nn.model`` -> codec.nn)."""
    head = module.split(".")
    if head[0] in ("tools", "nodes", "training"):
        return head[0]
    if head[:2] == ["codec", "nn"]:
        return "codec.nn"
    return "runtime"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(parts) or "__init__"


def _resolve(current: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """Package-relative module names that an ``import from`` statement names."""
    if node.level:
        base = current.split(".") if is_package else current.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
        target = ".".join([*base, *(node.module.split(".") if node.module else [])])
    elif node.module and node.module.startswith("gan_compress_ros"):
        target = node.module[len("gan_compress_ros"):].lstrip(".")
    else:
        return []
    if node.module is None:  # from . import a, b
        return [f"{target}.{a.name}".lstrip(".") for a in node.names]
    return [target]


def edges() -> list[tuple[str, str, bool]]:
    """(importer, imported, at module level) for every import inside the package."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        tree = ast.parse(path.read_text(), str(path))
        top = {id(n) for n in tree.body}
        typing_only: set[int] = set()
        for stmt in tree.body:  # imports guarded by try/if at module level count as top
            if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
                typing_only |= {id(n) for n in ast.walk(stmt)}  # annotations, never run
            elif isinstance(stmt, (ast.Try, ast.If)):
                top |= {id(n) for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(name, path.name == "__init__.py", node)
            elif isinstance(node, ast.Import):
                targets = [a.name[len("gan_compress_ros."):] for a in node.names
                           if a.name.startswith("gan_compress_ros.")]
            for target in targets:
                if target and target != name:
                    out.append((name, target, id(node) in top))
    return out


def violations(found: list[tuple[str, str, bool]] | None = None) -> list[str]:
    """Every arrow that breaks the floors, as a readable line."""
    bad = []
    for src, dst, top in edges() if found is None else found:
        a, b = group(src), group(dst)
        if a == b or (a == "runtime" and b == "codec.nn" and not top):
            continue  # the torch backend, imported when a user chooses it
        if FLOORS[b] >= FLOORS[a]:
            bad.append(f"{src} ({a}) imports {dst} ({b}): not a lower floor")
        elif a == "nodes" and b == "codec.nn":
            bad.append(f"{src} imports the PyTorch module {dst}")
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        if group(name) in ("runtime", "nodes") and name != "codec.nn":
            for node in ast.parse(path.read_text()).body:
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and \
                    not node.level else []
                if any(n == "torch" or n.startswith("torch.") for n in names):
                    bad.append(f"{name} imports torch at module level")
    return bad


def draw(out: Path) -> None:
    """The floors as boxes, module-level imports solid, lazy ones dashed (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found = edges()
    counts: dict[tuple[str, str, bool], int] = {}
    for src, dst, top in found:
        a, b = group(src), group(dst)
        if a != b:
            counts[(a, b, top)] = counts.get((a, b, top), 0) + 1
    pos = {"tools": (0.5, 3), "nodes": (0.25, 2), "training": (0.75, 2),
           "codec.nn": (0.75, 1), "runtime": (0.5, 0)}
    labels = {"tools": "tools/\n(executables)", "nodes": "nodes/\n(rclpy)",
              "training": "training/\n(torch)", "codec.nn": "codec/nn/\n(torch modules)",
              "runtime": "runtime: codec/, image, extras\n(NumPy, OpenCV, onnxruntime)"}
    modules: dict[str, int] = {}
    for path in PACKAGE.rglob("*.py"):
        g = group(_module_name(path))
        modules[g] = modules.get(g, 0) + 1
    fig, ax = plt.subplots(figsize=(7, 6))
    for (a, b, top), n in sorted(counts.items()):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        shift = 0.0 if top else 0.05
        ax.annotate("", xy=(x1 + shift, y1 + 0.22), xytext=(x0 + shift, y0 - 0.22),
                    arrowprops={"arrowstyle": "->", "lw": 1 + 0.15 * n,
                                "ls": "-" if top else "--",
                                "color": "black" if top else "grey"})
        ax.text((x0 + x1) / 2 + shift + 0.02, (y0 + y1) / 2, str(n), fontsize=8,
                color="black" if top else "grey")
    for g, (x, y) in pos.items():
        ax.text(x, y, f"{labels[g]}\n{modules.get(g, 0)} modules", ha="center", va="center",
                fontsize=9, bbox={"boxstyle": "round", "fc": "#e8f0fe", "ec": "#355"})
    for floor in range(4):
        ax.axhline(floor - 0.5, color="#ccc", lw=0.5)
    bad = violations(found)
    ax.set_title("gan_compress_ros imports: every module-level arrow points down "
                 f"({len(found)} imports, {len(bad)} breaking the floors)\nsolid: at module "
                 "level; dashed: inside a function (the runtime's one up: the torch backend, "
                 "when chosen); numbers: imports", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, 3.6)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> int:
    """Write docs/imports.png and print any arrow that breaks the floors."""
    bad = violations()
    for line in bad:
        print(line)
    draw(ROOT / "docs" / "imports.png")
    print(f"{len(edges())} imports, {len(bad)} breaking the floors; docs/imports.png written")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
