"""The VLM's answer as a pydantic model, and the caption format rules as code.

Rules (shared with the text-mined backend's output):
- summary: 10-15 words, no commas or semicolons, ends with a period;
- region: ``adjective|term|position`` where position is 1-3 distinct words from
  ``POSITIONS`` separated by spaces, or exactly ``No Finding``;
- negatives: exactly five, non-empty, distinct, none equal to the summary or the region; a
  negative written with ``|`` must itself follow the region grammar.

Each ``*_problems`` function returns human-readable reasons (empty when the text is fine);
the reasons are what a repair re-ask sends back to the model.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

NO_FINDING = "No Finding"
POSITIONS = ("left", "right", "center", "central", "upper", "lower", "middle")
N_NEGATIVES = 5
SUMMARY_WORDS = (10, 15)
_ADJECTIVE = re.compile(r"^[a-z][a-z-]*( [a-z][a-z-]*)?$")
_TERM = re.compile(r"^[a-z][a-z0-9-]*( [a-z][a-z0-9-]*){0,2}$")


def summary_problems(text: str) -> list[str]:
    """Why ``text`` is not a valid summary sentence (empty list when it is)."""
    problems = []
    n = len(text.split())
    if not SUMMARY_WORDS[0] <= n <= SUMMARY_WORDS[1]:
        problems.append(f"summary has {n} words, needs {SUMMARY_WORDS[0]}-{SUMMARY_WORDS[1]}")
    if "," in text or ";" in text:
        problems.append("summary contains a comma or semicolon")
    if not text.rstrip().endswith("."):
        problems.append("summary does not end with a period")
    if text != text.strip() or "\n" in text:
        problems.append("summary has leading/trailing whitespace or a line break")
    return problems


def position_problems(position: str) -> list[str]:
    words = position.split(" ")
    if not 1 <= len(words) <= 3:
        return [f"position {position!r} must have 1-3 words"]
    bad = [w for w in words if w not in POSITIONS]
    if bad:
        return [f"position words {bad} are not in {list(POSITIONS)}"]
    if len(set(words)) != len(words):
        return [f"position {position!r} repeats a word"]
    return []


def region_problems(text: str) -> list[str]:
    """Why ``text`` is not ``adjective|term|position`` or ``No Finding`` (empty when valid)."""
    if text == NO_FINDING:
        return []
    parts = text.split("|")
    if len(parts) != 3:
        return [f"region {text!r} must be 'adjective|term|position' or '{NO_FINDING}'"]
    adjective, term, position = parts
    problems = []
    if not _ADJECTIVE.match(adjective):
        problems.append(f"region adjective {adjective!r} must be one or two lowercase words")
    if not _TERM.match(term):
        problems.append(f"region term {term!r} must be one to three lowercase words")
    return problems + position_problems(position)


def negatives_problems(negatives: list[str], summary: str = "", region: str = "") -> list[str]:
    """Why the five negatives are not usable hard negatives (empty when they are)."""
    problems = []
    if len(negatives) != N_NEGATIVES:
        problems.append(f"{len(negatives)} negatives given, needs exactly {N_NEGATIVES}")
    stripped = [n.strip() for n in negatives]
    if any(not n for n in stripped):
        problems.append("a negative is empty")
    if len(set(stripped)) != len(stripped):
        problems.append("negatives repeat each other")
    if any(n in (summary.strip(), region.strip()) for n in stripped if n):
        problems.append("a negative equals the summary or the region")
    for n in stripped:
        if "|" in n and region_problems(n):
            problems.append(f"negative {n!r} uses '|' but is not 'adjective|term|position'")
    return problems


def _raise(problems: list[str]) -> None:
    if problems:
        raise ValueError("; ".join(problems))


class Annotation(BaseModel):
    """One VLM answer: the four fields the prompt asks for, with every rule checked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    summary_caption: str
    detailed_report: str
    region_extraction: str
    negative_variations: list[str]

    @field_validator("summary_caption")
    @classmethod
    def _summary(cls, v: str) -> str:
        _raise(summary_problems(v))
        return v

    @field_validator("detailed_report")
    @classmethod
    def _report(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("detailed_report is empty")
        return v.strip()

    @field_validator("region_extraction")
    @classmethod
    def _region(cls, v: str) -> str:
        _raise(region_problems(v))
        return v

    @model_validator(mode="after")
    def _negatives(self) -> Annotation:
        _raise(negatives_problems(self.negative_variations, self.summary_caption, self.region_extraction))
        return self

    def to_texts(self) -> dict:
        """The four texts under the ``Texts`` record's field names."""
        return {"summary": self.summary_caption, "report": self.detailed_report,
                "region": self.region_extraction, "negatives": [n.strip() for n in self.negative_variations]}
