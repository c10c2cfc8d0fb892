"""The suite's layout (tests/README.md): test folders mirror the code
folders, and no module imports another folder's ``conftest.py``; fixtures
that several folders use live in tests/conftest.py and tests/fixtures/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# Suites named for what they check across the code, not for one folder of it.
CROSS_CUTTING = {"browser", "fixtures", "ops", "security", "spid"}
SKIPPED = {"__pycache__", "node_modules"}


def suite_modules(tests: Path = TESTS) -> list[Path]:
    return [p for p in tests.rglob("*.py") if not SKIPPED & set(p.relative_to(tests).parts)]


def package_of(path: Path) -> str:
    return ".".join(path.parent.relative_to(ROOT).parts)


def conftests_imported(source: str, package: str) -> set[str]:
    """The dotted names of the conftest modules that ``source`` (a module of
    ``package``) imports.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[-1] == "conftest")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .conftest import x, from ..api import conftest
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            if base.split(".")[-1] == "conftest":
                found.add(base)
            found.update(f"{base}.conftest" for a in node.names if a.name == "conftest")
    return found


def foreign_conftests(source: str, package: str) -> list[str]:
    """The conftests ``source`` imports other than its own folder's and the root one."""
    return sorted(
        name
        for name in conftests_imported(source, package)
        if name != "tests.conftest" and name.rpartition(".")[0] != package
    )


def unmirrored_folders(root: Path = ROOT) -> list[str]:
    """Test folders with tests whose path names no code folder."""
    tests = root / "tests"
    folders = {
        p.parent.relative_to(tests) for p in suite_modules(tests) if p.name.startswith("test_")
    }
    return sorted(
        f"tests/{folder.as_posix()}"
        for folder in folders
        if folder.parts and folder.parts[0] not in CROSS_CUTTING and not (root / folder).is_dir()
    )


def test_no_module_imports_another_folders_conftest() -> None:
    offenders = {
        str(path.relative_to(ROOT)): names
        for path in suite_modules()
        if (names := foreign_conftests(path.read_text(), package_of(path)))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "source",
    [
        "from tests.sso.jwt.conftest import Keyring",
        "from tests.sso.jwt import conftest",
        "import tests.api.conftest",
        "from ..api.conftest import results",
        "from ..sso.saml import conftest as saml_fixtures",
    ],
)
def test_the_check_sees_an_import_of_another_folders_conftest(source: str) -> None:
    assert len(foreign_conftests(source, "tests.security")) == 1


def test_the_check_allows_the_folders_own_conftest_and_the_root_one() -> None:
    source = "\n".join(
        [
            "from tests.security.conftest import x",
            "from .conftest import y",
            "import tests.conftest",
        ]
    )
    assert foreign_conftests(source, "tests.security") == []


def test_test_folders_mirror_code_folders() -> None:
    assert unmirrored_folders() == []


def test_the_check_sees_a_folder_that_mirrors_no_code(tmp_path: Path) -> None:
    for folder in ("tenants", "tests/tenants", "tests/admin", "tests/security", "tests/sso/saml"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "test_x.py").write_text("")
    (tmp_path / "tests" / "test_top.py").write_text("")
    assert unmirrored_folders(tmp_path) == ["tests/admin", "tests/sso/saml"]


def cache_flushes(source: str) -> int:
    """How many ``cache.clear()`` calls ``source`` makes (each a FLUSHDB of
    the Redis database the test broker shares).
    """
    return sum(
        1
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "clear"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "cache"
    )


def test_no_test_flushes_the_shared_redis_database() -> None:
    flushing = [
        str(path.relative_to(ROOT))
        for path in suite_modules()
        if cache_flushes(path.read_text()) and path.name != "cache.py"
    ]
    assert flushing == [], "use tests.fixtures.cache.app_cache_clear() instead"


def test_the_check_sees_a_cache_flush() -> None:
    assert cache_flushes("from django.core.cache import cache\ncache.clear()\n") == 1
    assert cache_flushes("app_cache_clear()\nsomething.clear()\n") == 0
