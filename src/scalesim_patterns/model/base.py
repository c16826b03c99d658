"""The pydantic base every architecture-file model derives from.

Fields are snake_case in Python and camelCase in the file (the Kubernetes convention the audience
reads every day). Unknown keys are errors: a misspelt `timout:` that is silently ignored is the
worst kind of bug in a design tool.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=False,
        validate_default=False,
        use_attribute_docstrings=True,
    )
