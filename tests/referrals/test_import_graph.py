"""No import circle between the apps: referrals call integrations (the outbox) and the
integrations app never imports the referral services back. Read from the source, every
import counted, those inside functions too."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("config", "directory", "referrals", "integrations")


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {target for target in targets if target in known and target != name}


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(component)
    return circles


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def test_it_finds_no_import_circle_between_the_apps():
    crossing = [
        sorted(circle)
        for circle in _circles(_graph())
        if len({module.split(".")[0] for module in circle}) > 1
    ]
    assert crossing == []


def test_the_outbox_services_and_their_tasks_make_no_circle():
    # The services publish the deliver task by name; only the tasks import the services.
    inside = [
        circle
        for circle in _circles(_graph())
        if any(m.startswith("integrations.") for m in circle)
    ]
    assert inside == []


def test_it_finds_a_circle_when_there_is_one():
    graph = {"a.x": {"b.y"}, "b.y": {"b.z"}, "b.z": {"a.x"}, "c.w": {"a.x"}}
    assert _circles(graph) == [{"a.x", "b.y", "b.z"}]


def test_the_delivery_outbox_and_its_tasks_never_import_the_referral_services():
    graph = _graph()
    for module in (
        "integrations.outbox",
        "integrations.sending",
        "integrations.queueing",
        "integrations.operator_alerts",
        "integrations.tasks",
        "integrations.transports",
    ):
        assert "referrals.services" not in graph[module], module
