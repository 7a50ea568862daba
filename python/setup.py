"""Build hook: generate aspace/aspace_pb2.py from aspace.proto with protoc.

The metadata is in pyproject.toml.  The proto is the project's
(../proto/aspace.proto, when installing from a source tree), the one
named by ASPACE_PROTO, or an installed one (PREFIX/share/aspace/).
protoc is Debian's protobuf-compiler; its output matches Debian's
python3-protobuf runtime.
"""

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_PLACES = [
    os.path.join(HERE, "..", "proto", "aspace.proto"),
    os.path.join(sys.prefix, "share", "aspace", "aspace.proto"),
    "/usr/local/share/aspace/aspace.proto",
    "/usr/share/aspace/aspace.proto",
]


def find_proto() -> str:
    """The aspace.proto to generate from."""
    places = [os.environ["ASPACE_PROTO"]] if "ASPACE_PROTO" in os.environ \
        else PROTO_PLACES
    for place in places:
        if os.path.isfile(place):
            return os.path.abspath(place)
    sys.exit("aspace.proto not found (looked in %s); set ASPACE_PROTO"
             % ", ".join(places))


def generate(out_dir: str) -> None:
    """Run protoc on the proto, writing out_dir/aspace_pb2.py."""
    protoc = os.environ.get("PROTOC") or shutil.which("protoc")
    if not protoc:
        sys.exit("protoc not found (Debian: apt-get install "
                 "protobuf-compiler)")
    proto = find_proto()
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run([protoc, "--python_out=" + out_dir,
                    "-I" + os.path.dirname(proto), proto], check=True)


class BuildPyWithProto(build_py):
    """build_py, and aspace_pb2.py generated into the build tree."""

    def run(self) -> None:
        super().run()
        if not self.dry_run:
            generate(os.path.join(self.build_lib, "aspace"))


setup(cmdclass={"build_py": BuildPyWithProto})
