"""``train(config, shards_dir, out_dir) -> summary``: the curriculum loop.

Phases run in order (warmup -> global -> roi -> joint); each has its own lr, epochs and batch, and
a linear-warmup + cosine lr that is a pure function of the position (phase, epoch, step), so the
position *is* the scheduler state. ``out_dir`` receives ``checkpoint.pt`` (written to ``.tmp``
then ``os.replace``d), ``metrics.jsonl`` (one line per logged step), ``vocab.txt`` and
``summary.json``. Re-running with an existing checkpoint resumes exactly (weights, optimiser, RNG,
phase, data position); a checkpoint from a different config fails loudly. Under torchrun
(``WORLD_SIZE`` > 1) it joins the process group and wraps the model in DDP.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch

from curate.train.config import TrainConfig
from curate.train.data import ROI_PHASES, ShardStream, build_vocab, load_tokenizer, shard_urls, split_size
from curate.train.losses import region_clip_loss, world_info
from curate.train.model import RegionClip

CHECKPOINT = "checkpoint.pt"


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def setup_distributed(device: torch.device) -> tuple[int, int]:
    """Join the process group when launched by torchrun; returns (rank, world)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        torch.distributed.init_process_group(backend)
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return world_info()


def lr_at(phase, step: int, total: int) -> float:
    """Linear warmup over ``warmup_frac`` of the phase, then cosine down to ``min_lr_frac * lr``."""
    warm = int(phase.warmup_frac * total)
    if step < warm:
        return phase.lr * (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    floor = phase.min_lr_frac * phase.lr
    return floor + (phase.lr - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """Decay matrices only: biases, norms, embeddings' scalars and the temperature are left alone."""
    decay, keep = [], []
    for name, p in model.named_parameters():
        (decay if p.ndim >= 2 and "embeddings" not in name else keep).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": keep, "weight_decay": 0.0}]


def rng_state() -> dict:
    # numpy's state as a list and a tensor, so the checkpoint loads with weights_only=True
    name, keys, pos, has_gauss, cached = np.random.get_state()
    numpy_state = [name, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)]
    state = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": numpy_state}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def check_identity(saved: dict, config: TrainConfig) -> None:
    mine = config.identity()
    diff = sorted(k for k in set(saved) | set(mine) if saved.get(k) != mine.get(k))
    if diff:
        raise ValueError(f"checkpoint was written by a different config (differs in {diff}); "
                         "use a fresh out_dir or the checkpoint's config")


def _vocab(config: TrainConfig, shards_dir: Path) -> list[str]:
    if config.data.vocab:
        return Path(config.data.vocab).read_text().splitlines()
    return build_vocab(shard_urls(shards_dir, config.data.split), config.data.vocab_size)


def _write_vocab(out_dir: Path, words: list[str]) -> Path:
    path = out_dir / "vocab.txt"
    tmp = path.with_name("vocab.txt.tmp")
    tmp.write_text("\n".join(words) + "\n")
    os.replace(tmp, path)
    return path


def _init_weights(model: RegionClip, config: TrainConfig) -> None:
    if config.init_checkpoint:
        from curate.train.biomedclip_keys import load_biomedclip

        load_biomedclip(model, torch.load(config.init_checkpoint, map_location="cpu", weights_only=True))


class Trainer:
    """State of one run; ``run()`` walks the curriculum from ``self.pos``."""

    def __init__(self, config: TrainConfig, shards_dir: Path, out_dir: Path):
        self.cfg, self.shards, self.out = config, Path(shards_dir), Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.device = resolve_device(config.device)
        self.rank, self.world = setup_distributed(self.device)
        if config.cpu_threads:
            torch.set_num_threads(config.cpu_threads)
        torch.manual_seed(config.seed)
        random.seed(config.seed)
        np.random.seed(config.seed)
        ckpt_path = self.out / CHECKPOINT
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True) if ckpt_path.exists() else None
        if ckpt is not None:
            check_identity(ckpt["identity"], config)
        self.vocab = ckpt["vocab"] if ckpt else _vocab(config, self.shards)
        vocab_path = _write_vocab(self.out, self.vocab) if self.rank == 0 else None
        if self.world > 1:
            torch.distributed.barrier()
        self.tokenizer = load_tokenizer(vocab_path or self.out / "vocab.txt")
        self.model = RegionClip(config.model, len(self.vocab)).to(self.device)
        self.opt = torch.optim.AdamW(param_groups(self.model, config.weight_decay), lr=config.phases[0].lr,
                                     betas=config.betas)
        self.pos = {"phase": 0, "epoch": 0, "step": 0, "global_step": 0}
        self.history: list[float] = []
        self.history_phase: list[str] = []   # the phase of each history entry: losses differ per phase
        if ckpt is None:
            _init_weights(self.model, config)
        else:
            self.model.load_state_dict(ckpt["model"])
            self.opt.load_state_dict(ckpt["optimizer"])
            self.pos, self.history = ckpt["position"], ckpt["history"]
            self.history_phase = ckpt.get("history_phase", [])
            set_rng_state(ckpt["rng"][min(self.rank, len(ckpt["rng"]) - 1)])
        self.net = self.model
        if self.world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, find_unused_parameters=True)
        self.n_train = split_size(self.shards, config.data.split)

    def steps_per_epoch(self, phase) -> int:
        return max(1, self.n_train // (phase.batch_size * self.world))

    def checkpoint(self) -> None:
        states = [rng_state()]
        if self.world > 1:  # every rank's RNG, so a resumed rank r continues its own stream
            states = [None] * self.world
            torch.distributed.all_gather_object(states, rng_state())
        if self.rank == 0:
            save_checkpoint(self.out / CHECKPOINT, {
                "config": self.cfg.model_dump(mode="json"), "identity": self.cfg.identity(),
                "model": self.model.state_dict(), "optimizer": self.opt.state_dict(), "position": dict(self.pos),
                "rng": states, "vocab": self.vocab, "history": self.history,
                "history_phase": self.history_phase})

    def log(self, record: dict) -> None:
        if self.rank == 0:
            with open(self.out / "metrics.jsonl", "a") as fh:
                fh.write(json.dumps(record) + "\n")

    def _stream(self, phase, epoch_id: int, skip_micro: int):
        micro = phase.batch_size // self.cfg.accum_steps
        m = self.cfg.model
        stream = ShardStream(shard_urls(self.shards, self.cfg.data.split), seed=self.cfg.seed, epoch=epoch_id,
                             rank=self.rank, world=self.world, batch_size=micro, tokenizer=self.tokenizer,
                             context_length=m.text.context_length, image_size=m.vision.image_size,
                             roi_size=m.roi_size, phase=phase.name, crop_rois=m.roi_mode == "crop",
                             shuffle_buffer=self.cfg.data.shuffle_buffer,
                             max_bad_fraction=self.cfg.data.max_bad_fraction,
                             bad_min_seen=self.cfg.data.bad_min_seen, skip_batches=skip_micro)
        workers = self.cfg.data.num_workers
        return iter(torch.utils.data.DataLoader(stream, batch_size=None, num_workers=workers,
                                                pin_memory=self.device.type == "cuda"))

    def _step(self, phase, batches, lr: float) -> dict[str, float]:
        for group in self.opt.param_groups:
            group["lr"] = lr
        use_amp = self.cfg.amp and self.device.type == "cuda"
        totals: dict[str, float] = {}
        for micro in range(self.cfg.accum_steps):
            batch = {k: v.to(self.device, non_blocking=True) for k, v in next(batches).items()}
            sync = micro == self.cfg.accum_steps - 1 or self.world == 1
            ctx = contextlib.nullcontext() if sync else self.net.no_sync()
            with ctx, torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
                out = self.net(batch, with_roi=phase.name in ROI_PHASES)
                losses = region_clip_loss(out, batch, self.model, phase.name, self.cfg.loss)
                # a term-less batch (no ROI in an roi step) still touches every output: DDP needs it
                total = sum(losses.values()) if losses else sum(v.sum() * 0 for v in out.values())
                (total / self.cfg.accum_steps).backward()
            for k, v in losses.items():
                totals[k] = totals.get(k, 0.0) + v.item() / self.cfg.accum_steps
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        totals["loss"] = sum(totals.values())
        return totals

    def run(self, stop_after: int | None = None) -> bool:
        """Train to the end (True) or until ``global_step == stop_after`` (False, checkpointed)."""
        phases = self.cfg.phases
        while self.pos["phase"] < len(phases):
            phase = phases[self.pos["phase"]]
            spe = self.steps_per_epoch(phase)
            while self.pos["epoch"] < phase.epochs:
                if not self._run_epoch(phase, spe, stop_after):
                    return False
                self.pos.update(epoch=self.pos["epoch"] + 1, step=0)
                self.checkpoint()
            self.pos.update(phase=self.pos["phase"] + 1, epoch=0, step=0)
        self.checkpoint()
        return True

    def _run_epoch(self, phase, spe: int, stop_after: int | None) -> bool:
        epoch_id = self.pos["phase"] * 10_000 + self.pos["epoch"]
        batches = self._stream(phase, epoch_id, self.pos["step"] * self.cfg.accum_steps)
        t0, done = time.perf_counter(), 0
        while self.pos["step"] < spe:
            if stop_after is not None and self.pos["global_step"] >= stop_after:
                self.checkpoint()
                return False
            total = phase.epochs * spe
            lr = lr_at(phase, self.pos["epoch"] * spe + self.pos["step"], total)
            losses = self._step(phase, batches, lr)
            self.pos["step"] += 1
            self.pos["global_step"] += 1
            done += phase.batch_size * self.world
            self.history.append(losses["loss"])
            self.history_phase.append(phase.name)
            every = self.cfg.checkpoint_every
            if every and self.pos["global_step"] % every == 0:
                self.checkpoint()
            if self.pos["global_step"] % self.cfg.log_every == 0 or self.pos["step"] == spe:
                self.log({"step": self.pos["global_step"], "phase": phase.name, "epoch": self.pos["epoch"],
                          "lr": lr, "logit_scale": self.model.logit_scale.exp().item(),
                          "samples_per_s": done / max(time.perf_counter() - t0, 1e-9), **losses})
        return True


def train(config: TrainConfig, shards_dir: Path | str, out_dir: Path | str, *,
          stop_after: int | None = None, evaluate: bool = True) -> dict:
    """Run (or resume) the curriculum; returns and writes ``summary.json`` (rank 0 evaluates
    retrieval on ``data.eval_split``). ``stop_after`` stops at that global step with a checkpoint,
    as a kill would, for time-boxed jobs and resume tests."""
    start = time.perf_counter()
    trainer = Trainer(config, Path(shards_dir), Path(out_dir))
    finished = trainer.run(stop_after)
    history = trainer.history
    summary = {"finished": finished, "steps": trainer.pos["global_step"], "world": trainer.world,
               "first_loss": history[0] if history else None, "last_loss": history[-1] if history else None,
               "phase_loss": phase_loss(trainer.history, trainer.history_phase),
               "checkpoint": str(Path(out_dir) / CHECKPOINT), "wall_s": time.perf_counter() - start}
    if finished and evaluate and trainer.rank == 0:
        from curate.eval.retrieval import split_retrieval

        summary["retrieval"] = split_retrieval(trainer.model, trainer.tokenizer, config, shards_dir,
                                               config.data.eval_split, trainer.device)
    if trainer.rank == 0:
        (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def phase_loss(history: list[float], phases: list[str]) -> dict[str, list[float]]:
    """First and last loss of each phase, in curriculum order. Phases sum different loss terms,
    so only a within-phase comparison says whether training made progress."""
    out: dict[str, list[float]] = {}
    for name, loss in zip(phases, history[len(history) - len(phases):], strict=True):
        out.setdefault(name, [loss, loss])[1] = loss
    return out


def summary_line(summary: dict) -> str:
    """One line for logs and ``make stages``: steps, loss first -> last per phase, R@1 next to chance."""
    per_phase = summary.get("phase_loss") or {}
    if per_phase:
        losses = ", ".join(f"{name} {a:.3f} -> {b:.3f}" for name, (a, b) in per_phase.items())
    else:
        losses = f"{summary['first_loss']:.3f} -> {summary['last_loss']:.3f}"
    line = f"{summary['steps']} steps, loss {losses}"
    r = (summary.get("retrieval") or {}).get("all")
    if r:
        line += (f"; R@1 image->text {r['i2t_r1']:.3f}, text->image {r['t2i_r1']:.3f} "
                 f"(chance {r['chance_r1']:.3f}, n={r['n']})")
    return line + f"; {summary['wall_s']:.1f}s"
