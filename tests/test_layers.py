"""The package reads as one pipeline: every import inside pagegen points down it, never up."""

import ast
from pathlib import Path

import pagegen

# Bottom to top. Shared helpers first; a stage may import any stage listed before it, never one after.
ORDER = (
    "errors", "vocabulary", "seeding", "progress", "files", "ranking", "embeddings",
    "data", "generators", "ranker", "rows", "layout", "optimizer", "metrics", "llm", "serving", "batch",
    "evaluation", "bench", "app", "cli",
)  # fmt: skip
PACKAGE = Path(pagegen.__file__).parent


def _stage(module: str) -> str:
    return module.split(".")[1].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    """The pagegen modules ``path`` imports, each once per name: ``from pagegen import data`` counts as
    ``pagegen.data``, ``from pagegen.data import load_dataset`` as ``pagegen.data``."""
    modules = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from pagegen.data import schema`` imports the module pagegen.data.schema
            modules.extend(
                f"{node.module}.{alias.name}" if _is_module(f"{node.module}.{alias.name}") else node.module
                for alias in node.names
            )
        elif isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
    return [m for m in modules if m.startswith("pagegen.")]


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def _module_name(path: Path) -> str:
    """``pagegen.optimizer`` for its ``__init__.py``: the name other modules import it by."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_stage_is_in_the_order():
    stages = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in _modules()}
    assert stages <= set(ORDER), f"place {sorted(stages - set(ORDER))} in ORDER"


def test_no_import_points_up_the_pipeline():
    rank = {stage: i for i, stage in enumerate(ORDER)}
    upward = []
    for path in _modules():
        here = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        for module in _imports(path):
            if rank[_stage(module)] > rank[here]:
                upward.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert upward == []


def test_no_two_modules_import_each_other():
    names = {_module_name(p): p for p in _modules()}
    edges = {name: {m for m in _imports(path) if m in names} for name, path in names.items()}
    mutual = sorted(f"{a} <-> {b}" for a, targets in edges.items() for b in targets if a < b and a in edges.get(b, ()))
    assert mutual == []


def test_the_import_reader_sees_every_form(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "import pagegen.rows\nfrom pagegen import data, serving\nfrom pagegen.layout import Layout, model\n"
    )
    assert _imports(source) == [
        "pagegen.rows",
        "pagegen.data",
        "pagegen.serving",
        "pagegen.layout",
        "pagegen.layout.model",
    ]
    assert _module_name(PACKAGE / "optimizer" / "__init__.py") == "pagegen.optimizer"
