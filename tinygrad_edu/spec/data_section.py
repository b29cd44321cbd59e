"""The ``data`` section: one model per source, told apart by ``source``. Each source says
the sample shape and number of classes it is known to give (the cross-field checks of
`schema` compare them with the model); relative paths are made relative to the spec's
folder (`ResolvedPath`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from ..data.mnist import DEFAULT_SHA256, DEFAULT_URL
from ..data.synthetic import FUNCTION_ALIASES, FUNCTIONS
from .fields import Fraction, NonNegativeFloat, Normalize, Section


def _resolve_path(value: str | None, info: ValidationInfo) -> str | None:
    """Make a relative path relative to the spec file's folder (``context["base_dir"]``)."""
    if value is None:
        return value
    if "\0" in value:
        raise ValueError("the path holds a NUL character (\\0); remove it")
    try:
        absolute = Path(value).expanduser().is_absolute()
    except RuntimeError:  # ~name of a user who does not exist
        raise ValueError(
            f"cannot expand {value.split('/')[0]!r}: there is no such user; write the path out"
        ) from None
    base_dir = (info.context or {}).get("base_dir")
    if base_dir is None or absolute:
        return value
    return str((Path(base_dir) / value).resolve())


ResolvedPath = Annotated[str, AfterValidator(_resolve_path)]


def _one_error(expected: str) -> Callable[[Any, Any], Any]:
    """Replace the errors of each member of a union by one error, "expected ..."."""

    def validate(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(
                "expected", "expected {expected}", {"expected": expected}
            ) from None

    return validate


class DataSource(Section):
    """Options every source has. ``sample_shape`` and ``num_classes`` are what the source
    is known to produce (None: it depends on the file), for the cross-field checks."""

    sample_shape: ClassVar[tuple[int, ...] | None] = None
    num_classes: ClassVar[int | None] = None  # None: depends on the file, 0: regression

    source: str = Field(description="where the samples come from")

    validation_fraction: float = Field(
        0.0, ge=0.0, lt=1.0, description="share of the training part held out for validation"
    )
    shuffle: bool = Field(True, description="shuffle the training set every epoch")


class SplitSource(DataSource):
    test_fraction: Fraction = Field(0.2, description="share of the samples held out for testing")


class Mnist5k(SplitSource):
    """The 5,000-image MNIST subset shipped with the package."""

    sample_shape = (784,)
    num_classes = 10
    source: Literal["mnist-5k"]
    normalize: Normalize = "scale"


class Mnist(DataSource):
    """Full MNIST (60,000 + 10,000 official test images) from a folder or a download."""

    sample_shape = (784,)
    num_classes = 10
    source: Literal["mnist"]
    path: Annotated[ResolvedPath | None, Field(description="folder with the four IDX files")] = None
    download: bool = Field(False, description="download the files if they are missing")
    url: str = Field(DEFAULT_URL, description="where to download from")
    sha256: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SHA256), description="file name -> SHA-256"
    )
    normalize: Normalize = "scale"


class PlaneSource(SplitSource):
    """A 2-D two-class teaching set, generated from the seed."""

    sample_shape = (2,)
    num_classes = 2
    n_samples: int = Field(500, ge=2, description="number of points")
    noise: NonNegativeFloat = Field(0.1, description="standard deviation of the jitter")
    normalize: Normalize = "none"


class Moons(PlaneSource):
    source: Literal["moons"]


class Circles(PlaneSource):
    source: Literal["circles"]
    noise: NonNegativeFloat = 0.05
    factor: Fraction = Field(0.5, description="radius of the inner circle")


class Xor(PlaneSource):
    source: Literal["xor"]
    noise: NonNegativeFloat = 0.05


class Spiral(PlaneSource):
    source: Literal["spiral"]
    noise: NonNegativeFloat = 0.05


class Gaussian(PlaneSource):
    source: Literal["gaussian"]


class PlaneRegression(SplitSource):
    """TensorFlow Playground's 2-D regression sets: targets in [-1, 1] over [-1, 1]^2."""

    sample_shape = (2,)
    num_classes = 0
    n_samples: int = Field(1200, ge=2, description="number of points")
    noise: NonNegativeFloat = Field(0.0, description="jitter of where a target is read")
    normalize: Normalize = "none"


class RegPlane(PlaneRegression):
    source: Literal["reg-plane"]


class RegGauss(PlaneRegression):
    source: Literal["reg-gauss"]


class Function(SplitSource):
    """Regression of y = f(x) + noise on x drawn uniformly from the interval."""

    sample_shape = (1,)
    num_classes = 0
    source: Literal["function"]
    function: Literal[(*FUNCTIONS, *FUNCTION_ALIASES)] = "sin"  # type: ignore[valid-type]
    interval: tuple[float, float] = Field((-3.0, 3.0), description="[low, high]")
    n_samples: int = Field(200, ge=2)
    noise: NonNegativeFloat = 0.0
    normalize: Normalize = "none"

    @field_validator("interval")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not (math.isfinite(value[0]) and math.isfinite(value[1]) and value[0] < value[1]):
            raise ValueError(f"expected [low, high] with low < high, found {list(value)}")
        return value


class Csv(SplitSource):
    """A table: numeric feature columns and one target column."""

    source: Literal["csv"]
    path: ResolvedPath = Field(description="the CSV file")
    target: Annotated[
        Union[int, str], WrapValidator(_one_error("a column name or a 0-based column index"))
    ] = Field(description="the target column: its name or 0-based index (-1: the last)")
    header: Annotated[
        Union[Literal["auto"], bool], WrapValidator(_one_error("auto, true or false"))
    ] = Field("auto", description="whether the first row names the columns")
    delimiter: str = Field(",", min_length=1, max_length=1)
    normalize: Normalize = "standardize"


class Npz(SplitSource):
    """A NumPy ``.npz`` file with arrays X (samples) and y (targets)."""

    source: Literal["npz"]
    path: ResolvedPath = Field(description="the .npz file")
    normalize: Normalize = "standardize"


_PLANES = Union[Moons, Circles, Xor, Spiral, Gaussian, RegPlane, RegGauss]
DataSpec = Annotated[
    Union[Mnist5k, Mnist, _PLANES, Function, Csv, Npz],
    Field(discriminator="source"),
]
