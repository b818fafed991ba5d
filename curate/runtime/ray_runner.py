"""Ray runner: each stage's parts go to a pool of Ray actors.

An actor builds a stage and calls ``setup()`` once, then runs parts, so a model stage
loads its weights once per worker, not once per part. Actors ask for the stage's declared
``Resources`` (CPUs, GPUs), so GPU stages land on GPU nodes of a cluster. Actors live for
the whole run and serve every stage with the same resources in turn (holding one stage at a
time): a fresh worker process per stage cost seconds of start-up and imports each time. The run directory
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
    def __init__(self, pipeline: Sequence[type[Stage]], config: RunConfig):
        self.pipeline, self.config = list(pipeline), config
        self.stage: Stage | None = None

    def run(self, stage: type[Stage], part: int, config_hash: str) -> dict:
        if type(self.stage) is not stage:
            self.stage = None  # let the previous stage's models go before loading the next
            self.stage = stage(self.config)
            self.stage.setup()
        return execute_part(self.stage, self.pipeline, self.config, part, config_hash)


class RayRunner(Runner):
    """Starts a local Ray on demand, or joins ``config.ray_address`` / ``RAY_ADDRESS``."""

    def __init__(self, config: RunConfig, pipeline: Sequence[type[Stage]],
                 discover: Callable[[RunConfig], list[SourceItem]], progress=None):
        super().__init__(config, pipeline, discover, progress)
        import ray

        self._ray = ray
        self._started_here = False
        self._pools: dict[tuple[float, float], list] = {}
        if not ray.is_initialized():
            address = config.ray_address or os.environ.get("RAY_ADDRESS")
            kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
            if address:
                ray.init(address=address, **kwargs)
            else:
                ray.init(num_cpus=config.num_workers or os.cpu_count() or 1, **kwargs)
            self._started_here = True

    def _pool(self, cpus: float, gpus: float) -> list:
        """The actors for stages needing ``cpus``/``gpus`` each. One pool lives at a time: a
        pool of other sizes is let go first, so its reservations cannot starve the new one."""
        key = (cpus, gpus)
        if key not in self._pools:
            self._release()
            ray = self._ray
            capacity = ray.cluster_resources().get("GPU" if gpus else "CPU", 1)
            n_workers = max(1, int(capacity // (gpus if gpus else max(cpus, 1e-3))) or 1)
            if self.config.num_workers:
                n_workers = min(n_workers, self.config.num_workers)
            actor_cls = ray.remote(num_cpus=cpus, num_gpus=gpus, max_restarts=WORKER_RESTARTS,
                                   max_task_retries=WORKER_RESTARTS)(_PartWorker)
            self._pools[key] = [actor_cls.remote(self.pipeline, self.config) for _ in range(n_workers)]
        return self._pools[key]

    def execute(self, stage: type[Stage], parts: list[int], config_hash: str):
        if not parts:
            return
        ray = self._ray
        res = stage.resources_for(self.config)
        actors = self._pool(res.cpus, res.gpus)[: len(parts)]
        pending = {}
        queue = list(parts)
        for actor in actors:
            if queue:
                part = queue.pop(0)
                pending[actor.run.remote(stage, part, config_hash)] = (actor, part)
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
                pending[actor.run.remote(stage, part, config_hash)] = (actor, part)
            yield marker

    def _release(self) -> None:
        for actors in self._pools.values():
            for actor in actors:
                self._ray.kill(actor)
        self._pools.clear()

    def close(self) -> None:
        self._release()
        if self._started_here:
            self._ray.shutdown()
