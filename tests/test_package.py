"""The package's public surface and the purity of its core."""

from __future__ import annotations

import ast
from pathlib import Path

import salus
import salus.errors

CORE = Path(salus.__file__).parent / "core"
# The core must not reach the outside world: no files, clocks, randomness,
# environment, sockets or threads (see STYLE.md, "Pure core, I/O at the edges").
FORBIDDEN = {
    "asyncio",
    "datetime",
    "httpx",
    "os",
    "pathlib",
    "random",
    "secrets",
    "socket",
    "sqlite3",
    "subprocess",
    "sys",
    "tempfile",
    "threading",
    "time",
    "uuid",
    "nacl.utils",
}


def test_public_exports() -> None:
    assert set(salus.__all__) == {
        "MEMBER",
        "PUBLIC",
        "ActionArgs",
        "Context",
        "Contract",
        "Genesis",
        "Ledger",
        "SalusError",
        "SignedTransaction",
        "Signer",
        "Transaction",
        "Verdict",
        "__version__",
        "action",
        "check_bundle",
        "did_from_public_key",
        "public_key_from_did",
        "sign_transaction",
        "verify_bundle",
    }
    for name in salus.__all__:
        assert hasattr(salus, name), name


def test_every_error_derives_from_the_root_and_has_a_code() -> None:
    codes = set()
    for name in salus.errors.__all__:
        cls = getattr(salus.errors, name)
        assert issubclass(cls, salus.errors.SalusError), name
        assert cls.__doc__, f"{name} must say when it is raised"
        codes.add(cls.code)
    assert len(codes) == len(salus.errors.__all__), "error codes must be distinct"


def test_core_modules_do_no_io() -> None:
    for path in sorted(CORE.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name not in FORBIDDEN and name.split(".")[0] not in FORBIDDEN, (
                    f"{path.name} imports {name}: the core must stay pure"
                )


def test_core_modules_declare_their_exports() -> None:
    for path in sorted(CORE.glob("*.py")):
        if path.name == "__init__.py":
            continue
        assert "__all__" in path.read_text(), f"{path.name} has no __all__"
