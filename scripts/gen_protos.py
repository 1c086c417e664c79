"""Regenerate the Python protobuf modules of the CometBFT wire schema.

    .venv/bin/python scripts/gen_protos.py [--check]

Reads ``proto/salus/core/pb/**/*.proto`` and writes ``*_pb2.py`` and ``*_pb2.pyi`` under
``src/salus/core/pb/`` with grpcio-tools' protoc and mypy-protobuf. ``--check``
regenerates into a temporary directory and fails if the committed files differ
(tests/core/test_pb.py runs it).
"""

from __future__ import annotations

import filecmp
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]
PROTO = ROOT / "proto"
OUT = ROOT / "src"


def generate(out: Path) -> list[Path]:
    sources = sorted(PROTO.rglob("*.proto"))
    args = [
        "protoc",
        f"--proto_path={PROTO}",
        f"--proto_path={Path(protoc.__file__).parent / '_proto'}",
        f"--python_out={out}",
        f"--plugin=protoc-gen-mypy={Path(sys.executable).parent / 'protoc-gen-mypy'}",
        f"--mypy_out={out}",
        *(str(p) for p in sources),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    generated = []
    for source in sources:
        stem = source.relative_to(PROTO).with_suffix("")
        for suffix in ("_pb2.py", "_pb2.pyi"):
            generated.append(stem.parent / (stem.name + suffix))
    # Every directory on the way must be a package.
    for rel in {p.parent for p in generated}:
        for parent in [rel, *rel.parents]:
            if parent.parts[:3] == ("salus", "core", "pb"):
                init = out / parent / "__init__.py"
                if not init.exists():
                    init.write_text('"""Generated protobuf modules (see scripts/gen_protos.py)."""\n')
    return generated


def main() -> None:
    if "--check" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            for rel in generate(Path(tmp)):
                committed = OUT / rel
                if not committed.exists() or not filecmp.cmp(Path(tmp) / rel, committed, shallow=False):
                    raise SystemExit(f"{committed} is stale: run scripts/gen_protos.py")
        print("generated protobuf modules are current")
        return
    for rel in generate(OUT):
        print(OUT / rel)


if __name__ == "__main__":
    main()
