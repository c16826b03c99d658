"""The template index: a short description of each template file, for listings and pickers.

The index is read without parsing the templates themselves, so `scalesim catalog` and the web
app's template picker stay fast; a test keeps the index and the files in agreement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .entry import PATTERN_ID

__all__ = ["TemplateIndex", "TemplateIndexEntry", "TemplateInfo", "TemplateKind"]

TemplateKind = Literal["system", "pattern"]


class TemplateIndexEntry(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    id: str = Field(pattern=PATTERN_ID)
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    patterns: list[str] = Field(min_length=1)
    kind: TemplateKind


class TemplateIndex(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    templates: list[TemplateIndexEntry] = Field(min_length=1)


class TemplateInfo(BaseModel):
    """A template as the public API shows it: its index entry plus where the file is."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    description: str
    patterns: tuple[str, ...]
    kind: TemplateKind
    path: Path
