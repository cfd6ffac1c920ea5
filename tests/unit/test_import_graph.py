"""The packages import each other one way only: no circle among controlplane's modules, no import
hidden inside a function to dodge one in controlplane/services, and the rule of the design: `cli`
imports nothing of `controlplane` or `nodeagent`, `nodeagent` nothing of `controlplane`."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, package: str) -> set[str]:
    """Modules of `package` that `path` imports at module level (`from a import b` counts a.b when it is
    a module, else a)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found |= {n for n in names if n.split(".")[0] == package}
    return found


def graph(package: str) -> dict[str, set[str]]:
    files = {module_name(p): p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts}
    return {name: {i for i in imports(path, package) if i in files and i != name} for name, path in files.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(n: str) -> None:
        state[n] = "open"
        stack.append(n)
        for m in sorted(g.get(n, ())):
            # a package's __init__ importing its own modules is how packages export; not a circle
            if n and m.startswith(n + "."):
                continue
            if state.get(m) == "open":
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = "done"

    for n in sorted(g):
        if n not in state:
            visit(n)
    return found


def test_no_import_circle_in_the_control_plane():
    assert cycles(graph("controlplane")) == []


def test_services_import_at_module_level_only():
    for path in (ROOT / "controlplane" / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert not inner, f"{path.relative_to(ROOT)}: {node.name} imports inside a function"


def test_the_packages_depend_one_way():
    for package, forbidden in (("cli", ("controlplane", "nodeagent")), ("nodeagent", ("controlplane",)),
                               ("contracts", ("controlplane", "nodeagent", "cli"))):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                bad = [m for m in mods if m.split(".")[0] in forbidden]
                assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
