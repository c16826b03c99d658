"""Request and response bodies of the API (docs/web-api.md shows them as JSON)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from scalesim_patterns.model.units import parse_duration

__all__ = [
    "MAX_ID",
    "Architecture",
    "ArchitectureSummary",
    "CompareRequest",
    "CreateArchitecture",
    "ErrorBody",
    "Layout",
    "LayoutSaved",
    "Point",
    "RenameArchitecture",
    "Run",
    "RunRequest",
    "UpdateArchitecture",
    "ValidateRequest",
    "ValidateResponse",
    "VersionSummary",
]

MAX_ID = 2**31 - 1
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
NODE_ID = r"^[a-z][a-z-]{0,19}:[^\x00-\x1f]{1,200}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    error: ErrorDetail


class Diagnostic(BaseModel):
    file: str
    line: int
    column: int
    severity: Literal["error", "warning"]
    path: str
    message: str


class ArchitectureSummary(BaseModel):
    id: int
    name: str
    version: int
    valid: bool
    created_at: str
    updated_at: str
    services: int
    databases: int
    traffic: int
    scenarios: list[str]


class Architecture(ArchitectureSummary):
    latest_version: int
    text: str
    diagnostics: list[Diagnostic]


class VersionSummary(BaseModel):
    version: int
    created_at: str
    valid: bool
    bytes: int


class CreateArchitecture(Strict):
    name: str = Field(pattern=NAME, description="Unique in the store.")
    template: str | None = Field(None, max_length=100, description="A template id (catalog).")
    sets: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="`--set`-style edits of the template, e.g. services.order.replicas=5.",
    )
    text: str | None = Field(None, description="YAML text of an architecture file.")
    document: dict[str, Any] | None = Field(None, description="The file's structure as JSON.")

    @model_validator(mode="after")
    def _one_source(self) -> CreateArchitecture:
        given = [x for x in (self.template, self.text, self.document) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of template, text or document")
        if self.sets and self.template is None:
            raise ValueError("sets apply to a template only")
        return self


class UpdateArchitecture(Strict):
    text: str | None = None
    document: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> UpdateArchitecture:
        if (self.text is None) == (self.document is None):
            raise ValueError("give exactly one of text or document")
        return self


COORDINATE = 1e7
"""Largest |x| or |y| of a stored node position (canvas pixels): far beyond any drawing."""
MAX_LAYOUT_KEYS = 4000
"""Most positions one request may carry; the route narrows it to the architecture size limit."""


class Point(Strict):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    x: float = Field(ge=-COORDINATE, le=COORDINATE)
    y: float = Field(ge=-COORDINATE, le=COORDINATE)


class Layout(Strict):
    """Where the designer draws the nodes of an architecture, keyed by topology node id."""

    positions: dict[
        Annotated[str, StringConstraints(min_length=3, max_length=220, pattern=NODE_ID)], Point
    ] = Field(
        default_factory=dict,
        max_length=MAX_LAYOUT_KEYS,
        description='Topology node id (`<kind>:<name>`, e.g. "service:order") -> position.',
    )


class LayoutSaved(BaseModel):
    positions: dict[str, Point]
    ignored: list[str] = Field(
        default_factory=list,
        description="Node ids of the request that name nothing in the architecture (not kept).",
    )


class RenameArchitecture(Strict):
    name: str = Field(pattern=NAME)


class ValidateRequest(Strict):
    text: str


class ValidateResponse(BaseModel):
    valid: bool
    diagnostics: list[Diagnostic]
    topology: dict[str, Any] | None


def _seconds(value: float | str | None) -> float | None:
    if value is None:
        return None
    seconds = parse_duration(value) if isinstance(value, str) else float(value)
    if not seconds > 0:
        raise ValueError("duration must be positive")
    return seconds


class RunSettings(Strict):
    scenario: str | None = Field(None, max_length=100)
    duration: float | str | None = Field(
        None, description='Simulated time: seconds, or a string with a unit ("90s", "5m").'
    )
    replications: int | None = Field(None, ge=1, le=10_000)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: float | str | None) -> float | None:
        return _seconds(v)


class RunRequest(RunSettings):
    architecture_id: int = Field(ge=1, le=MAX_ID)
    version: int | None = Field(None, ge=1, le=MAX_ID, description="Default: the latest.")


class Variant(Strict):
    architecture_id: int = Field(ge=1, le=MAX_ID)
    version: int | None = Field(None, ge=1, le=MAX_ID)


class CompareRequest(RunSettings):
    a: Variant
    b: Variant


class Progress(BaseModel):
    fraction: float
    replication: int
    replications: int
    time: float
    end: float
    requests: int
    events: int
    tasks_done: int | None = None
    """Sweeps: simulations (point × replication) finished."""
    tasks: int | None = None
    """Sweeps: simulations in all."""


class SweepRequest(RunSettings):
    architecture_id: int = Field(ge=1, le=MAX_ID)
    version: int | None = Field(None, ge=1, le=MAX_ID, description="Default: the latest.")
    vary: list[Annotated[str, StringConstraints(max_length=500)]] = Field(
        min_length=1,
        max_length=8,
        description="As `scalesim sweep --vary`: PATH=v1,v2,... or PATH=LOW..HIGH:COUNT.",
    )
    sample: str | None = Field(
        None, max_length=40, description="lhs:N or sobol:N; none: the grid of every combination."
    )


class SweepDimension(BaseModel):
    path: str
    values: list[str]


class SweepPlan(BaseModel):
    method: Literal["grid", "lhs", "sobol"]
    dimensions: list[SweepDimension]
    points: int
    replications: int
    tasks: int


class CompareWith(BaseModel):
    architecture_id: int | None
    version: int | None
    architecture_name: str


class Run(BaseModel):
    id: int
    kind: Literal["simulate", "compare", "sweep"]
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    source: str
    architecture_id: int | None
    version: int | None
    architecture_name: str
    compare_with: CompareWith | None
    scenario: str | None
    duration: float | None
    replications: int | None
    seed: int | None
    estimated_requests: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None
    interrupted: bool
    last_event: int
    progress: Progress | None
    sweep: SweepPlan | None = None
    """For a sweep: what it varies, its points and simulations."""


class GeneratedFile(BaseModel):
    path: str
    bytes: int


class GenerateResponse(BaseModel):
    files: list[GeneratedFile]
    lint: dict[str, Any]


class FileText(BaseModel):
    path: str
    text: str


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    store: str
    workers: int
    queued: int
    running: int


class Info(BaseModel):
    version: str
    store: str
    workers: int
    queue_size: int
    token_required: bool


class LimitsBody(BaseModel):
    requests: int
    replications: int
    duration: float
    file_bytes: int
    services: int
    body_bytes: int
    sweep_tasks: int
    queue: int


class Template(BaseModel):
    id: str
    title: str
    description: str
    patterns: list[str]
    kind: str


class Group(BaseModel):
    id: str
    title: str
    patterns: list[dict[str, Any]]


class Catalog(BaseModel):
    groups: list[Group]
    templates: list[Template]


class PatternPage(BaseModel):
    pattern: dict[str, Any]
    topology: dict[str, Any]


class TemplatePage(BaseModel):
    template: Template
    text: str
    topology: dict[str, Any]
