"""Load ``aspace_pb2``, the protobuf module generated from aspace.proto.

The module is generated, never written by hand: ``pip install ./python``
runs ``protoc`` on the project's ``proto/aspace.proto`` (or the installed
one) and puts the module into the package; the build tree's ``make``
generates ``python/aspace_pb2.py``, which the tests point to with the
environment variable ``ASPACE_PB2_DIR``.
"""

import importlib.util
import os
import sys
from types import ModuleType

_HINT = ("aspace_pb2 not found: install the package with "
         "'pip install --no-build-isolation ./python' (it needs protoc: "
         "Debian's protobuf-compiler) or set ASPACE_PB2_DIR to a directory "
         "holding aspace_pb2.py (the build tree's python/, made by 'make')")


def _load_from(directory: str) -> ModuleType:
    """Import aspace_pb2.py from directory, once."""
    if "aspace_pb2" in sys.modules:
        return sys.modules["aspace_pb2"]
    path = os.path.join(directory, "aspace_pb2.py")
    spec = importlib.util.spec_from_file_location("aspace_pb2", path)
    if spec is None or spec.loader is None or not os.path.exists(path):
        raise ImportError(f"{path}: no such file; {_HINT}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["aspace_pb2"] = module
    spec.loader.exec_module(module)
    return module


def load() -> ModuleType:
    """Return the generated module, from ASPACE_PB2_DIR or the package."""
    try:
        import google.protobuf  # noqa: F401
    except ImportError as e:
        raise ImportError("the protobuf runtime is missing "
                          "(Debian: apt-get install python3-protobuf)") from e
    directory = os.environ.get("ASPACE_PB2_DIR")
    if directory:
        return _load_from(directory)
    try:
        from . import aspace_pb2  # type: ignore[attr-defined]
    except ImportError as e:
        raise ImportError(_HINT) from e
    return aspace_pb2


pb = load()
