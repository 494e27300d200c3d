"""The house of wings holds (docs/architecture.md): imports point down, nothing cycles.

The import graph is read from the source (every ``import``, also those inside
functions), so a new module that reaches up a layer or closes a cycle fails here with
the names to look at.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "helper" / "oahelper"
# Bottom first. A wing may import its own modules and the wings of lower layers only;
# the shared vocabulary (the package's loose modules) is layer 0.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("",),  # errors, models, identifiers, text, settings, files, keys, logtext
    ("scrape", "net", "snapshot"),
    ("sources",),
    ("links",),
    ("access",),
    ("resolve",),
    ("engine",),
    ("audit",),
    ("daemon",),
    ("cli",),
    ("__main__",),
)
LAYER_OF = {wing: n for n, wings in enumerate(LAYERS) for wing in wings}
MAX_LOOSE_MODULES = 10


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports (``from x import y`` counts ``x.y``
    when that is a module, else ``x``)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def wing(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return ""  # the package itself
    return parts[1] if (PACKAGE / parts[1]).is_dir() or parts[1] == "__main__" else ""


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, set(known)) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_every_wing_has_a_layer() -> None:
    wings = {wing(m) for m in modules()}
    assert wings - set(LAYER_OF) == set(), "add the new wing to LAYERS and docs/architecture.md"


def test_no_module_imports_a_higher_layer_or_a_sibling_wing() -> None:
    wrong = []
    for source, targets in graph().items():
        for target in targets:
            here, there = wing(source), wing(target)
            if here == there:
                continue
            if LAYER_OF[there] >= LAYER_OF[here]:
                wrong.append(f"{source} -> {target} ({there or 'vocabulary'} is not below "
                             f"{here or 'vocabulary'})")
    assert wrong == []


def test_no_import_cycle_between_modules() -> None:
    assert cycles(graph()) == []


def test_no_import_cycle_between_wings() -> None:
    between: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph().items():
        between[wing(source)].update(wing(t) for t in targets if wing(t) != wing(source))
    assert cycles(dict(between)) == []


def test_the_shared_vocabulary_stays_small() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, loose


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    """The graph reader itself: a made-up cycle is found, and a real downward import."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    edges = graph()
    assert "oahelper.engine.build" in edges["oahelper.daemon.app"]
    assert "oahelper.identifiers" in edges["oahelper.scrape.doi_tiers"]
