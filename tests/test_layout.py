"""No test module imports another: what two test modules share lives in tests/support/ (helpers) or in a
conftest.py (fixtures). Importing a test module runs its collection-time code again under a second name
and ties one suite's layout to another's; every ``tests/**/*.py`` is parsed (imports inside functions
too) and any import of a module under ``tests.`` other than ``tests.support`` is named."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (importing file, imported test module) pairs tolerated for now; each must still be there (so the list
# only shrinks). Empty: the backend suites share one parametrized fixture (tests/backends/conftest.py).
KNOWN_OFFENDERS: frozenset[tuple[str, str]] = frozenset()


def _is_module(root: Path, dotted: str) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _module_of(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(root: Path, path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in ``path``: ``from a import b`` counts as module ``a.b`` when that
    is a module under ``root``, else as ``a``; relative imports are resolved against the file's package."""
    module = _module_of(root, path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield node.lineno, sub if alias.name != "*" and _is_module(root, sub) else base


def _is_test_module(name: str) -> bool:
    return name.startswith("tests.") and not (name == "tests.support" or name.startswith("tests.support."))


def offenders(root: Path) -> list[tuple[str, int, str]]:
    """(file, line, module) for each import of a test module by any file under ``root``/tests."""
    found = []
    for path in sorted((root / "tests").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for line, name in imported_modules(root, path):
            if _is_test_module(name) and (rel, line, name) not in found:
                found.append((rel, line, name))
    return found


def test_no_module_imports_a_test_module() -> None:
    new = [(f, line, m) for f, line, m in offenders(ROOT) if (f, m) not in KNOWN_OFFENDERS]
    assert not new, (
        "import from tests.support (or a conftest.py fixture), not from a test module:\n"
        + "\n".join(f"  {f}:{line} imports {m}" for f, line, m in new)
    )


def test_known_offenders_are_still_there() -> None:
    """An entry whose import is gone comes off the list, so the list only shrinks."""
    found = {(f, m) for f, _, m in offenders(ROOT)}
    stale = sorted(KNOWN_OFFENDERS - found)
    assert not stale, "no longer imported; remove from KNOWN_OFFENDERS:\n" + "\n".join(
        f"  {f} imports {m}" for f, m in stale
    )


@pytest.mark.parametrize(
    ("where", "source", "module"),
    [
        ("tests/test_a.py", "import tests.test_b\n", "tests.test_b"),
        ("tests/test_a.py", "from tests.test_b import helper\n", "tests.test_b"),
        ("tests/test_a.py", "from tests import test_b\n", "tests.test_b"),
        ("tests/test_a.py", "def f():\n    from tests.test_b import helper\n", "tests.test_b"),
        ("tests/pkg/test_a.py", "from . import test_c\n", "tests.pkg.test_c"),
        ("tests/pkg/test_a.py", "from .test_c import helper\n", "tests.pkg.test_c"),
        ("tests/pkg/test_a.py", "from ..test_b import helper\n", "tests.test_b"),
        ("tests/pkg/test_a.py", "from tests.pkg import test_c as _c\n", "tests.pkg.test_c"),
        ("tests/support/x.py", "from tests.test_b import helper\n", "tests.test_b"),
    ],
)
def test_the_check_finds_each_form_of_import(tmp_path: Path, where: str, source: str, module: str) -> None:
    for name in (
        "tests/__init__.py",
        "tests/test_b.py",
        "tests/pkg/__init__.py",
        "tests/pkg/test_c.py",
        "tests/support/__init__.py",
        "tests/support/helpers.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / where).write_text(source)
    assert [(f, m) for f, _, m in offenders(tmp_path)] == [(where, module)]


def test_the_check_passes_imports_of_support(tmp_path: Path) -> None:
    for name in ("tests/__init__.py", "tests/support/__init__.py", "tests/support/helpers.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "tests/test_a.py").write_text(
        "import tests.support.helpers\nfrom tests.support import helpers\nfrom tests import support\n"
        "from tests.support.helpers import x\nimport tests\nfrom verifier import cometbft\n"
    )
    (tmp_path / "tests/support/more.py").write_text("from . import helpers\nfrom .helpers import x\n")
    assert offenders(tmp_path) == []
