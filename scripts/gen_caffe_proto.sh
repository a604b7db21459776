#!/usr/bin/env bash
# Regenerate frontends/caffe/caffe_pb2.py from frontends/caffe/caffe.proto
# (mo's own reading schema for Caffe, with BVLC's field names and numbers).
#
# Needs grpcio-tools (in the dev environment): its bundled protoc writes gencode for
# the protobuf runtime it ships with. That gencode checks at import time that the
# installed runtime is not older than the generator (same major version); with the
# protobuf 7 runtime and grpcio-tools' protoc the check passes. The module is committed,
# so users need only the `protobuf` runtime (mo[caffe]), never protoc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-$root/.venv/bin/python}"
dir="$root/frontends/caffe"
cd "$dir"
"$py" -m grpc_tools.protoc -I. --python_out=. caffe.proto
# the generated module must import with the runtime that is installed
"$py" -c "import sys; sys.path.insert(0, '.'); import caffe_pb2; caffe_pb2.NetParameter()" \
  || { echo "caffe_pb2.py does not import with the installed protobuf runtime" >&2; exit 1; }
echo "generated: $dir/caffe_pb2.py ($("$py" -c 'import google.protobuf as p; print("protobuf", p.__version__)'))"
