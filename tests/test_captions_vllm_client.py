"""VLM captioning client, cache, prompt and rules, against a loopback OpenAI-protocol test double."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import time

import numpy as np
import pytest
from PIL import Image

from curate.captions.backend import CaptionRequest, VlmCaptioner
from curate.captions.cache import CaptionCache, cache_key
from curate.captions.prompts import PROMPTS_DIR, load_schema, render_prompt
from curate.captions.schema import Annotation, negatives_problems, region_problems, summary_problems
from curate.captions.vllm_client import VllmConfig
from tests.openai_test_server import OpenAITestDouble, rule_breaking_answer, valid_answer

# row -> what the double does on each successive request for that row
SCRIPT = {
    "r00": ["ok"], "r01": ["500", "ok"], "r02": ["503", "500", "ok"], "r03": ["429", "ok"],
    "r04": ["timeout", "ok"], "r05": ["drop", "ok"], "r06": ["badjson", "ok"], "r07": ["badschema", "ok"],
    "r08": ["badschema", "badschema"], "r09": ["500"], "r10": ["slow"], "r11": ["400"], "r12": ["timeout"],
}
EXPECTED_ERRORS = {"r08": "SchemaViolation", "r09": "HTTP500", "r11": "HTTP400", "r12": "Timeout"}
MAX_RETRIES = 2


def png(seed: int, size=(120, 90)) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray((rng.random((size[1], size[0], 3)) * 255).astype("uint8")).save(buf, "PNG")
    return buf.getvalue()


def item(row: str, seed: int = 0, **context) -> CaptionRequest:
    return CaptionRequest(f"PMC1_f1_{row}", "panel", png(seed), {"subcaption": f"[row:{row}] CT of the chest.",
                                                                  **context})


def config(server: OpenAITestDouble, **kw) -> VllmConfig:
    base = dict(endpoint=server.base_url, model_id=server.model_id, timeout_s=0.4, max_retries=MAX_RETRIES,
                backoff_base_s=0.01, backoff_max_s=0.05, concurrency=6, max_side=64)
    return VllmConfig(**{**base, **kw})


@pytest.fixture
def server():
    with OpenAITestDouble(hang_s=1.0, slow_s=0.2) as double:
        yield double


def test_faults_lose_no_row_and_every_failure_has_a_reason(server, tmp_path):
    server.script.update(SCRIPT)
    rows = sorted(SCRIPT)
    captioner = VlmCaptioner(config(server), tmp_path / "cache")
    outcomes = captioner.caption([item(r, i) for i, r in enumerate(rows)])

    assert [o.target_id for o in outcomes] == [f"PMC1_f1_{r}" for r in rows]  # order kept, none lost
    for row, outcome in zip(rows, outcomes, strict=True):
        if row in EXPECTED_ERRORS:
            assert not outcome.ok and outcome.texts is None
            assert outcome.error_class == EXPECTED_ERRORS[row] and outcome.message.strip()
        else:
            assert outcome.ok and not outcome.error_class, (row, outcome)
            assert f" {row} " in outcome.texts["summary"]  # each answer belongs to its own row
            assert outcome.texts["method"] == "vlm" and outcome.texts["model_id"] == server.model_id
    assert {r for r, o in zip(rows, outcomes, strict=True) if o.repaired} == {"r06", "r07"}
    sent = {r: len(server.requests_for(r)) for r in rows}
    assert sent["r00"] == 1 and sent["r02"] == 3 and sent["r11"] == 1  # 400 is not retried
    assert sent["r09"] == sent["r12"] == MAX_RETRIES + 1
    assert sent["r08"] == 2 and [e["repair"] for e in server.requests_for("r08")] == [False, True]
    assert "after one repair re-ask" in outcomes[rows.index("r08")].message
    assert captioner.stats()["failed"] == len(EXPECTED_ERRORS)
    assert captioner.stats()["requested"] == len(rows)


def test_rerun_is_served_from_the_cache(server, tmp_path):
    server.script.update({"r00": ["ok"], "r01": ["ok"], "r02": ["400"]})
    items = [item(r, i) for i, r in enumerate(["r00", "r01", "r02"])]
    first = VlmCaptioner(config(server), tmp_path / "cache").caption(items)
    n_requests = len(server.log)
    again = VlmCaptioner(config(server), tmp_path / "cache")
    second = again.caption(items)
    assert [o.texts for o in first[:2]] == [o.texts for o in second[:2]]
    assert [o.cached for o in second] == [True, True, False]
    assert len(server.log) == n_requests + 1  # only the failed row is asked again
    assert again.stats()["cache_hits"] == 2 and again.stats()["requested"] == 1
    # a different model id or prompt context is a different key: no stale hit
    other = VlmCaptioner(config(server, temperature=0.5), tmp_path / "cache").caption(items[:1])
    assert not other[0].cached


def test_identical_items_are_sent_once(server, tmp_path):
    outcomes = VlmCaptioner(config(server), tmp_path / "c").caption([item("r20", 3), item("r20", 3)])
    assert all(o.ok for o in outcomes) and len(server.log) == 1


def test_retry_after_is_honoured(tmp_path):
    with OpenAITestDouble(retry_after="1") as server:
        server.script["r30"] = ["429", "ok"]
        t0 = time.monotonic()
        outcome = VlmCaptioner(config(server, backoff_max_s=5), tmp_path / "c").caption([item("r30")])[0]
        assert outcome.ok and time.monotonic() - t0 >= 1.0
        log = server.requests_for("r30")
        assert len(log) == 2 and log[1]["t"] - log[0]["t"] >= 1.0


def test_concurrency_is_bounded_and_images_resized(server, tmp_path):
    rows = [f"s{i:02d}" for i in range(9)]
    server.script.update({r: ["slow"] for r in rows})
    big = CaptionRequest("PMC1_f1_big", "figure", png(1, size=(1000, 500)), {"subcaption": "[row:s00] x"})
    items = [big] + [item(r, i) for i, r in enumerate(rows[1:])]
    t0 = time.monotonic()
    outcomes = VlmCaptioner(config(server, concurrency=3, max_side=256), tmp_path / "c").caption(items)
    assert all(o.ok for o in outcomes)
    assert server.max_in_flight <= 3
    assert time.monotonic() - t0 >= 3 * server.slow_s  # 9 slow requests, 3 at a time
    assert server.requests_for("s00")[0]["image_size"] == (256, 128)


def test_sync_wrapper_works_inside_a_running_loop(server, tmp_path):
    captioner = VlmCaptioner(config(server), tmp_path / "c")

    async def inside():
        return captioner.caption([item("r40")])

    assert asyncio.run(inside())[0].ok


def test_outcome_becomes_a_texts_record(server, tmp_path):
    outcome = VlmCaptioner(config(server), tmp_path / "c").caption([item("r50")])[0]
    record = outcome.to_record("PMC1_f1_r50_t", figure_id="PMC1_f1")
    template_sha = hashlib.sha256((PROMPTS_DIR / "annotate.md").read_bytes()).hexdigest()
    assert record.method == "vlm" and record.prompt_name == "annotate" and record.prompt_sha256 == template_sha
    assert json.loads(record.sampling)["max_side"] == 64 and len(record.negatives) == 5


def test_undecodable_image_fails_with_its_reason(server, tmp_path):
    bad = CaptionRequest("PMC1_f1_bad", "panel", b"not an image", {})
    outcome = VlmCaptioner(config(server), tmp_path / "c").caption([bad])[0]
    assert outcome.error_class == "ImageError" and outcome.message and not server.log


# -- rules, schema, prompt, cache -----------------------------------------------------------------

def test_rules_accept_the_valid_answer_and_name_each_violation():
    assert Annotation.model_validate(valid_answer("r1")).to_texts()["region"] == "focal|lesion|left upper"
    assert summary_problems("Too short.") and summary_problems("One, two three four five six seven eight nine ten.")
    assert summary_problems("One two three four five six seven eight nine ten eleven")  # no period
    assert region_problems("Irregular|mass|left") and region_problems("round|mass|top")
    assert region_problems("round|mass|left left") and region_problems("round mass left")
    assert not region_problems("No Finding") and not region_problems("ground-glass|opacity|right lower central")
    assert negatives_problems(["a"] * 5) and negatives_problems(["a", "b", "c", "d"])
    assert negatives_problems(["a", "b", "c", "d", "x|y"])
    with pytest.raises(ValueError, match="comma or semicolon"):
        Annotation.model_validate(rule_breaking_answer("r1"))


def test_json_schema_agrees_with_the_rules():
    jsonschema = pytest.importorskip("jsonschema")
    schema, _ = load_schema("annotate")
    jsonschema.validate(valid_answer("r1"), schema)
    for broken in (rule_breaking_answer("r1"), {**valid_answer("r1"), "region_extraction": "round|mass|top"},
                   {**valid_answer("r1"), "negative_variations": ["a", "b"]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def test_prompt_renders_context_and_hashes_the_template():
    text, sha = render_prompt("annotate", {"level": "panel", "subcaption": "Axial CT (arrow).",
                                           "mentions": ["As Fig. 1A shows, a mass.", "  "], "unused": 1})
    assert sha == hashlib.sha256((PROMPTS_DIR / "annotate.md").read_bytes()).hexdigest()
    assert "Axial CT (arrow)." in text and "- As Fig. 1A shows, a mass." in text
    assert "{{" not in text and "(not given)" in text  # preamble and marker phrases were not given
    assert "No Finding" in text and "left, right, center, central, upper, lower, middle" in text


def test_cache_is_atomic_and_treats_corrupt_files_as_misses(tmp_path):
    cache = CaptionCache(tmp_path)
    key = cache_key(b"img", "p", "s", "m", "{}", {"a": 1})
    assert key != cache_key(b"img", "p", "s", "m", "{}", {"a": 2}) and cache.get(key) is None
    path = cache.put(key, {"x": 1})
    assert cache.get(key) == {"x": 1} and not list(path.parent.glob(".tmp-*"))
    path.write_text("{truncated")
    assert cache.get(key) is None and cache.counters() == {"hits": 1, "misses": 2, "writes": 1, "corrupt": 1}


def test_prompts_dir_from_config_is_used_and_a_missing_one_is_named(tmp_path):
    # an installed wheel has no repository prompts/: the run config points at a copy
    own = tmp_path / "my-prompts"
    own.mkdir()
    (own / "annotate.schema.json").write_bytes((PROMPTS_DIR / "annotate.schema.json").read_bytes())
    (own / "annotate.md").write_text((PROMPTS_DIR / "annotate.md").read_text() + "\nHouse rule: be brief.\n")
    cfg = VllmConfig(model_id="m", prompts_dir=own)
    captioner = VlmCaptioner(cfg, tmp_path / "cache")
    text, sha = render_prompt("annotate", {"level": "figure"}, captioner.prompts_dir)
    assert "House rule: be brief." in text
    assert sha == hashlib.sha256((own / "annotate.md").read_bytes()).hexdigest()
    with pytest.raises(FileNotFoundError, match="captions.vllm.prompts_dir"):
        VlmCaptioner(VllmConfig(model_id="m", prompts_dir=tmp_path / "nowhere"), tmp_path / "cache2")
