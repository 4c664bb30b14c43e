"""config/ is the ground floor: settings, URLs mounted by name, errors. It imports no app."""

import ast
from pathlib import Path

import config

APPS = {"directory", "referrals", "integrations", "reports"}
CONFIG = Path(config.__file__).parent


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_it_finds_the_config_modules():
    assert {"settings.py", "urls.py", "site_urls.py"} <= {p.name for p in CONFIG.glob("*.py")}


def test_it_imports_no_app_module_from_config():
    leaning = {
        f"{path.name}: {module}"
        for path in sorted(CONFIG.rglob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[0] in APPS
    }
    assert leaning == set()
