"""Ray runner: each stage's parts go to a pool of Ray actors.

An actor builds its stage and calls ``setup()`` once, then runs parts, so a model stage
loads its weights once per worker, not once per part. Actors ask for the stage's declared
``Resources`` (CPUs, GPUs), so GPU stages land on GPU nodes of a cluster. The run directory
must be on storage every node sees (a shared filesystem) when joining a multi-node cluster.

A worker process that dies (killed, out of memory, a segfault in a native library) is
restarted by Ray and its part is run again (``max_restarts``/``max_task_retries``): a part
publishes atomically and always writes the same files, so a retry adds no rows. A part
whose worker dies on every try fails the stage with its part number.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from curate.records import SourceItem
from curate.runtime.config import RunConfig
from curate.runtime.runner import PipelineError, Runner, execute_part
from curate.runtime.stage import Stage

WORKER_RESTARTS = 3


class _PartWorker:
    def __init__(self, stage: type[Stage], pipeline: Sequence[type[Stage]], config: RunConfig):
        self.stage = stage(config)
        self.stage.setup()
        self.pipeline, self.config = list(pipeline), config

    def run(self, part: int, config_hash: str) -> dict:
        return execute_part(self.stage, self.pipeline, self.config, part, config_hash)


class RayRunner(Runner):
    """Starts a local Ray on demand, or joins ``config.ray_address`` / ``RAY_ADDRESS``."""

    def __init__(self, config: RunConfig, pipeline: Sequence[type[Stage]],
                 discover: Callable[[RunConfig], list[SourceItem]], progress=None):
        super().__init__(config, pipeline, discover, progress)
        import ray

        self._ray = ray
        self._started_here = False
        if not ray.is_initialized():
            address = config.ray_address or os.environ.get("RAY_ADDRESS")
            kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
            if address:
                ray.init(address=address, **kwargs)
            else:
                ray.init(num_cpus=config.num_workers or os.cpu_count() or 1, **kwargs)
            self._started_here = True

    def execute(self, stage: type[Stage], parts: list[int], config_hash: str):
        if not parts:
            return
        ray = self._ray
        res = stage.resources_for(self.config)
        capacity = ray.cluster_resources().get("GPU" if res.gpus else "CPU", 1)
        per_worker = res.gpus if res.gpus else max(res.cpus, 1e-3)
        n_workers = max(1, min(len(parts), int(capacity // per_worker) or 1))
        if self.config.num_workers:
            n_workers = min(n_workers, self.config.num_workers)
        actor_cls = ray.remote(num_cpus=res.cpus, num_gpus=res.gpus, max_restarts=WORKER_RESTARTS,
                               max_task_retries=WORKER_RESTARTS)(_PartWorker)
        actors = [actor_cls.remote(stage, self.pipeline, self.config) for _ in range(n_workers)]
        pending = {}
        queue = list(parts)
        for actor in actors:
            if queue:
                part = queue.pop(0)
                pending[actor.run.remote(part, config_hash)] = (actor, part)
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                actor, part = pending.pop(ready[0])
                try:
                    marker = ray.get(ready[0])  # re-raises a stage crash with its traceback
                except ray.exceptions.RayActorError as exc:
                    raise PipelineError(f"stage {stage.name} part {part}: its worker died "
                                        f"{WORKER_RESTARTS + 1} times: {exc}") from exc
                if queue:
                    part = queue.pop(0)
                    pending[actor.run.remote(part, config_hash)] = (actor, part)
                yield marker
        finally:
            for actor in actors:
                ray.kill(actor)

    def close(self) -> None:
        if self._started_here:
            self._ray.shutdown()
