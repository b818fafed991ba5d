"""Ray runner: each stage's parts go to a pool of Ray actors.

An actor builds a stage and calls ``setup()`` once, then runs parts, so a model stage
loads its weights once per worker, not once per part. Actors ask for the stage's declared
``Resources`` (CPUs, GPUs), so GPU stages land on GPU nodes of a cluster. Actors live for
the whole run and serve every stage with the same resources in turn (holding one stage at a
time): a fresh worker process per stage cost seconds of start-up and imports each time. The run directory
must be on storage every node sees (a shared filesystem) when joining a multi-node cluster.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from curate.records import SourceItem
from curate.runtime.config import RunConfig
from curate.runtime.runner import Runner, execute_part
from curate.runtime.stage import Stage


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
            actor_cls = ray.remote(num_cpus=cpus, num_gpus=gpus)(_PartWorker)
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
                pending[actor.run.remote(stage, queue.pop(0), config_hash)] = actor
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            actor = pending.pop(ready[0])
            marker = ray.get(ready[0])  # re-raises a stage crash with its traceback
            if queue:
                pending[actor.run.remote(stage, queue.pop(0), config_hash)] = actor
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
