"""The folders depend one way (README "Layout"): corpora -> nlp -> index -> the core (planalign/) -> service, eval.

Read from the source (every import, at the top or inside a function), so a new import against the
direction fails here rather than in a review. Two leaf modules import nothing of planalign and are
open to every layer: ``planalign.errors`` (what a user's mistake is) and ``planalign.nlp.normalize``
(Thai text in canonical form, pythainlp only: the readers need it to parse a form's years and names).
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RANK = {"corpora": 0, "nlp": 1, "index": 2, "core": 3, "service": 4, "eval": 5}
LEAVES = {"planalign.errors", "planalign.nlp.normalize"}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "planalign" or len(parts) == 1:
        return None  # another package, or the root package's version
    return parts[1] if parts[1] in RANK else "core"


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def test_every_import_points_down_the_layers_or_at_a_leaf():
    against = []
    for folder in ("corpora", "nlp", "index", "planalign", "service", "eval"):
        for path in (ROOT / folder).rglob("*.py"):
            mine = folder if folder in RANK else "core"
            for line, module in _imports(path):
                theirs = _layer(module)
                if theirs is not None and module not in LEAVES and RANK[theirs] > RANK[mine]:
                    against.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not against, "\n".join(against)


def test_the_leaves_import_nothing_of_planalign():
    for module in LEAVES:
        path = ROOT / (module.replace("planalign.", "", 1).replace(".", "/") + ".py")
        path = path if path.exists() else ROOT / "planalign" / (module.split(".")[-1] + ".py")
        assert not [m for _, m in _imports(path) if m.startswith("planalign")], module
