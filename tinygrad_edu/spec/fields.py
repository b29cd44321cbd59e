"""The building blocks of every spec section: the number types (an int bound reads "a
positive integer" in messages, a float bound "a number > 0"), the `Section` base that
forbids unknown keys and non-finite floats, and `spec_check`, the one validation error a
cross-field check raises with several (key, message) problems.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

# Integer bounds are written as ints and float bounds as floats: the error formatter
# reads the bound's type to say "a positive integer" or "a number > 0".
PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]
Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]
Normalize = Literal["none", "scale", "standardize"]


class Section(BaseModel):
    """Base of every part of a spec: unknown keys are errors, not silently ignored, and
    every float must be finite: inf and nan (.inf, .nan) mean no learning rate, noise or
    interval, so they are refused here rather than turning the loss into NaN later."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


Problems = list[tuple[tuple[Union[str, int], ...], str]]
"""(key path relative to the checked model, message) of a cross-field check."""


def spec_check(problems: Problems) -> PydanticCustomError:
    """One validation error carrying several (path, message) problems of a cross-field check.

    The path is relative to the model whose validator raises it; `loader` expands
    the problems so that each is reported at its own key.
    """
    return PydanticCustomError(
        "spec_check",
        "{summary}",
        {"summary": "; ".join(m for _, m in problems), "problems": problems},
    )
