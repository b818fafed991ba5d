"""Each loss against a value computed by hand on 2-3 rows, the same-figure/paper mask, and the
gather-with-grad path at world size 2 (gloo, spawned processes) against one big batch."""

from __future__ import annotations

import math
import os

import pytest
import torch
import torch.nn.functional as F

from curate.train.config import LossConfig
from curate.train.losses import hard_negative_loss, info_nce, negative_mask


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def meta(levels, figures, papers):
    return {"level": torch.tensor(levels), "figure": torch.tensor(figures), "paper": torch.tensor(papers)}


A = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
B = torch.tensor([[0.6, 0.8], [1.0, 0.0]])


def test_info_nce_matches_hand_value():
    # logits a->b = 2 * A @ B.T = [[1.2, 2.0], [1.6, 0.0]]; b->a is its transpose.
    a_to_b = (softplus(2.0 - 1.2) + softplus(1.6 - 0.0)) / 2
    b_to_a = (softplus(1.6 - 1.2) + softplus(2.0 - 0.0)) / 2
    got = info_nce(A, B, torch.tensor(2.0), meta([0, 0], [1, 2], [1, 2]), LossConfig(mask_same="none"))
    assert got.item() == pytest.approx((a_to_b + b_to_a) / 2, abs=1e-6)


def test_level_weights_and_temperatures():
    cfg = LossConfig(mask_same="none", level_weight={"figure": 1.0, "panel": 1.0, "patch": 3.0},
                     level_temperature={"figure": 1.0, "panel": 1.0, "patch": 0.5})
    # row 0 is a figure (scale 2), row 1 a patch (scale 2 / 0.5 = 4, weight 3)
    a_to_b = (1 * softplus(2.0 - 1.2) + 3 * softplus(3.2 - 0.0)) / 4
    b_to_a = (1 * softplus(1.6 - 1.2) + 3 * softplus(4.0 - 0.0)) / 4
    got = info_nce(A, B, torch.tensor(2.0), meta([0, 2], [1, 2], [1, 2]), cfg)
    assert got.item() == pytest.approx((a_to_b + b_to_a) / 2, abs=1e-6)


def test_mask_drops_same_figure_or_paper_but_never_the_positive():
    rows = cols = {"figure": torch.tensor([1, 1, 2]), "paper": torch.tensor([7, 7, 7])}
    labels = torch.arange(3)
    by_figure = negative_mask(rows, cols, labels, "figure")
    assert by_figure.tolist() == [[False, True, False], [True, False, False], [False, False, False]]
    by_paper = negative_mask(rows, cols, labels, "paper")
    assert by_paper.tolist() == [[i != j for j in range(3)] for i in range(3)]
    assert not negative_mask(rows, cols, labels, "none").any()
    # both rows from one figure: no negatives left, each row's only candidate is its positive
    got = info_nce(A, B, torch.tensor(2.0), meta([0, 0], [5, 5], [1, 2]), LossConfig(mask_same="figure"))
    assert got.item() == pytest.approx(0.0, abs=1e-7)


def test_invalid_rows_have_no_weight_and_no_candidates():
    a = F.normalize(torch.randn(3, 4), dim=-1)
    b = F.normalize(torch.randn(3, 4), dim=-1)
    cfg = LossConfig(mask_same="none")
    valid = torch.tensor([True, False, True])
    got = info_nce(a, b, torch.tensor(3.0), meta([0, 0, 0], [1, 2, 3], [1, 2, 3]), cfg, valid=valid)
    keep = valid.nonzero().flatten()
    want = info_nce(a[keep], b[keep], torch.tensor(3.0), meta([0, 0], [1, 3], [1, 3]), cfg)
    assert torch.isfinite(got) and got.item() == pytest.approx(want.item(), abs=1e-6)


def test_hard_negative_loss_matches_hand_value():
    roi = torch.tensor([[1.0, 0.0]])
    pos = torch.tensor([[0.6, 0.8]])
    neg = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    # z = 2 * cos - 1: positive 0.2, negatives 1.0 and -1.0
    want = softplus(-0.2) + softplus(1.0) + softplus(-1.0)
    got = hard_negative_loss(roi, pos, neg, torch.tensor(2.0), torch.tensor(-1.0), torch.ones(1))
    assert got.item() == pytest.approx(want, abs=1e-6)
    none = hard_negative_loss(roi, pos, neg, torch.tensor(2.0), torch.tensor(-1.0), torch.zeros(1))
    assert none.item() == 0.0


def _rank_worker(rank: int, world: int, init: str, out: str):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    torch.manual_seed(0)
    a_all = F.normalize(torch.randn(4, 3), dim=-1)
    b_all = F.normalize(torch.randn(4, 3), dim=-1)
    a = a_all[2 * rank:2 * rank + 2].clone().requires_grad_(True)
    b = b_all[2 * rank:2 * rank + 2].clone().requires_grad_(True)
    m = meta([0, 1], [10 * rank, 10 * rank + 1], [rank, rank])  # both local rows from one paper
    loss = info_nce(a, b, torch.tensor(2.0), m, LossConfig(mask_same="paper"))
    loss.backward()
    torch.save({"loss": loss.detach(), "grad_a": a.grad, "grad_b": b.grad}, f"{out}/rank{rank}.pt")
    dist.barrier()
    # Leave without running gloo's destructors: on a loaded machine its background thread
    # sometimes aborts the child at teardown ("terminate called without an active
    # exception") after the results are safely written.
    os._exit(0)


def test_gather_with_grad_world_two_equals_one_big_batch(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_rank_worker, args=(2, f"file://{tmp_path}/rendezvous", str(tmp_path)), nprocs=2, join=True)
    torch.manual_seed(0)
    a_all = F.normalize(torch.randn(4, 3), dim=-1).requires_grad_(True)
    b_all = F.normalize(torch.randn(4, 3), dim=-1).requires_grad_(True)
    m = meta([0, 1, 0, 1], [0, 1, 10, 11], [0, 0, 1, 1])
    full = info_nce(a_all, b_all, torch.tensor(2.0), m, LossConfig(mask_same="paper"))
    full.backward()
    parts = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    # each rank's loss is the mean over its rows, so their mean is the big-batch loss ...
    assert ((parts[0]["loss"] + parts[1]["loss"]) / 2).item() == pytest.approx(full.item(), abs=1e-6)
    # ... and all_gather's backward sums every rank's gradient: twice the big batch's mean-loss grad
    for r in range(2):
        rows = slice(2 * r, 2 * r + 2)
        assert torch.allclose(parts[r]["grad_a"], 2 * a_all.grad[rows], atol=1e-6)
        assert torch.allclose(parts[r]["grad_b"], 2 * b_all.grad[rows], atol=1e-6)
