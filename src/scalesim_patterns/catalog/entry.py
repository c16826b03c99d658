"""What a pattern entry says, as a strict model of the files in `catalog/patterns/`.

The entries are data, not prose in code: the CLI, the web app and the docs all read the same
files, and a strict model (no coercion, no unknown keys) makes a typo in an entry a test failure
instead of a silently missing paragraph.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

__all__ = [
    "GROUPS",
    "Component",
    "Example",
    "ExpectedMetric",
    "GeneratedArtifact",
    "GroupId",
    "LanguageField",
    "PatternEntry",
    "Related",
]

GroupId = Literal[
    "decomposition",
    "data-management",
    "communication",
    "reliability",
    "observability",
    "deployment",
]

GROUPS: dict[str, str] = {
    "decomposition": "Decomposition",
    "data-management": "Data management",
    "communication": "Communication",
    "reliability": "Reliability",
    "observability": "Observability",
    "deployment": "Deployment",
}
"""Group id to title, in the order the product brief presents them."""

PATTERN_ID = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class _Strict(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
    )


class Component(_Strict):
    name: str = Field(min_length=1)
    role: str = Field(min_length=1)


class Example(_Strict):
    """One of the brief's example implementations of the pattern."""

    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    template: str | None = None
    """Catalog template that shows this example, when one exists."""


class LanguageField(_Strict):
    """Where the pattern lives in an architecture file."""

    path: str = Field(min_length=1)
    """Key path with `<name>` placeholders, e.g. `spec.services.<s>.clients.<target>.circuitBreaker`."""
    meaning: str = Field(min_length=1)


class GeneratedArtifact(_Strict):
    """One object the generator writes for the pattern."""

    kind: str = Field(min_length=1)
    api_version: str = Field(min_length=1)
    detail: str = Field(min_length=1)


class ExpectedMetric(_Strict):
    """A figure the product brief expects; quoted as the brief states it, with our reading of it."""

    metric: str = Field(min_length=1)
    expectation: str = Field(min_length=1)
    """The brief's words, verbatim."""
    source: Literal["product-brief"] = "product-brief"
    note: str = Field(min_length=1)
    """How to check it with the simulator, and how far it can be trusted."""


class Related(_Strict):
    id: str = Field(pattern=PATTERN_ID)
    why: str = Field(min_length=1)


class PatternEntry(_Strict):
    """A catalog pattern: what it solves, when to reach for it, and what ScaleSim does with it."""

    id: str = Field(pattern=PATTERN_ID)
    name: str = Field(min_length=1)
    group: GroupId
    summary: str = Field(min_length=1)
    """The problem it solves and how, in a few sentences."""
    use_when: list[str] = Field(min_length=1)
    avoid_when: list[str] = Field(min_length=1)
    components: list[Component] = Field(min_length=1)
    template: str = Field(pattern=PATTERN_ID)
    """Id of the pattern's minimal template."""
    examples: list[Example] = Field(min_length=1)
    language: list[LanguageField] = Field(min_length=1)
    simulation: list[str] = Field(min_length=1)
    """What a simulation run shows about the pattern."""
    generation: list[GeneratedArtifact] = Field(min_length=1)
    expected_metrics: list[ExpectedMetric] = Field(default_factory=list)
    related: list[Related] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    """Parts of the pattern the architecture language cannot express yet."""

    @property
    def group_title(self) -> str:
        return GROUPS[self.group]
