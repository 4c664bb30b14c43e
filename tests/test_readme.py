"""The README links only to what a clone of the repository has."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_it_links_only_to_files_inside_the_repository():
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#\s]+)", readme)
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    missing = [t for t in local if not (ROOT / t).resolve().is_relative_to(ROOT)]
    missing += [t for t in local if not (ROOT / t).exists()]
    assert missing == []
