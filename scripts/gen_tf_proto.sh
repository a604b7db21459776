#!/usr/bin/env bash
# Regenerate frontends/tf/proto/*_pb2.py from the .proto files next to them
# (mo's own reading schema for TensorFlow graphs, SavedModels and tensor bundles).
# Needs grpcio-tools (in the dev environment). The generated modules import each
# other relatively, so they work as the package mo.frontends.tf.proto.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-$root/.venv/bin/python}"
dir="$root/frontends/tf/proto"
cd "$dir"
"$py" -m grpc_tools.protoc -I. --python_out=. mo_tf_framework.proto mo_tf_saved_model.proto mo_tf_bundle.proto
# protoc writes "import framework_pb2 as ..."; make it a package-relative import
sed -i -E 's/^import (mo_tf_framework_pb2) as/from . import \1 as/' mo_tf_saved_model_pb2.py mo_tf_bundle_pb2.py
echo "generated: $(ls "$dir"/*_pb2.py | xargs -n1 basename | tr '\n' ' ')"
