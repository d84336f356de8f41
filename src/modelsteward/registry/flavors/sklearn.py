"""scikit-learn estimators and pipelines, stored with skops (``model.skops``).

The default flavor for any fitted scikit-learn estimator, unless a library with its own
native format (XGBoost, LightGBM) made it. skops rebuilds objects from a JSON schema
instead of unpickling, and only instantiates types on an allow-list, so it needs no
trust decision (``needs_trust`` is False). The allow-list is the server's: skops' own
defaults, ``DEFAULT_TRUSTED_TYPES`` below and the operator's ``STEWARD_TRUSTED_TYPES``;
the list a file declares about itself is never consulted.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

from modelsteward.config import Settings
from modelsteward.errors import InvalidInput, StewardError, Unavailable

FILE_NAME = "model.skops"
MAX_EXPANSION = 50  # skops stores arrays uncompressed by default
READ_WHOLE_BYTES = 64 * 1024 * 1024

# Inert building blocks of common fitted scikit-learn models that skops does not trust
# by default: sklearn's own compiled state holders (trees, neighbour indexes, distance
# metrics, optimiser state) and numpy dtypes. Each is rebuilt from arrays and numbers;
# none names a function to call. Anything else (custom classes, user functions) needs
# the operator to list it in STEWARD_TRUSTED_TYPES.
DEFAULT_TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.ChebyshevDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
)

# Estimators from these libraries follow the sklearn API but have a safer native format.
_NATIVE_FORMAT_LIBRARIES = ("xgboost", "lightgbm", "catboost")


def server_trusted_types(settings: Settings) -> list[str]:
    """Types this server lets skops build beyond skops' own defaults."""
    return sorted({*DEFAULT_TRUSTED_TYPES, *settings.trusted_types})


def _skops_io() -> Any:
    try:
        import skops.io as sio
    except ImportError as exc:
        raise Unavailable(
            "the sklearn flavor needs skops: pip install 'modelsteward[sklearn]'"
        ) from exc
    return sio


def _schema_facts(schema: dict[str, Any]) -> dict[str, Any]:
    """The top-level class and versions recorded in ``schema.json``; best effort."""
    facts: dict[str, Any] = {
        "estimator": f"{schema.get('__module__')}.{schema.get('__class__')}",
        "skops_version": schema.get("_skops_version"),
    }
    content = schema.get("content")
    state = content.get("content") if isinstance(content, dict) else None
    version = state.get("_sklearn_version") if isinstance(state, dict) else None
    if isinstance(version, dict) and isinstance(version.get("content"), str):
        facts["sklearn_version"] = json.loads(version["content"])
    return facts


class _TypesOnly(zipfile.ZipFile):
    """A skops file opened to list the types it would build, not to build them.

    skops' audit reads every array member while it walks the schema, but only looks
    at those bytes when it constructs the object; which types a file asks for comes
    from ``schema.json`` alone. Members other than the schema are looked up (a missing
    one is still an error) and handed over empty, so a large forest is not
    decompressed just to be audited. The file's bytes were hash-verified when stored.
    """

    def read(self, name: Any, pwd: bytes | None = None) -> bytes:
        if name == "schema.json":
            return super().read(name, pwd)
        self.getinfo(name)
        return b""


def _audit_internals() -> tuple[Any, Any] | None:
    """skops' ``read_schema`` and ``get_tree`` (what ``get_untrusted_types`` runs), if present."""
    try:
        from skops.io._audit import get_tree
        from skops.io._utils import read_schema
    except ImportError:
        return None
    return read_schema, get_tree


def _inspect(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Schema facts and the types skops would have to build, opening the file once.

    The types are what ``skops.io.get_untrusted_types`` answers (a test holds the two
    equal); with a skops too old or too new to expose its audit steps, that function
    itself is used.
    """
    sio = _skops_io()
    size = path.stat().st_size
    source: Path | io.BytesIO = path if size > READ_WHOLE_BYTES else io.BytesIO(path.read_bytes())
    internals = _audit_internals()
    with _TypesOnly(source) as archive:
        expanded = sum(info.file_size for info in archive.infolist())
        if expanded > MAX_EXPANSION * max(size, 1 << 20):
            raise InvalidInput(f"{path.name} expands to {expanded >> 20} MiB; refusing a zip bomb")
        if internals is not None:
            read_schema, get_tree = internals
            schema, context = read_schema(archive)
            tree = get_tree(schema, load_context=context, trusted=None)
            return _schema_facts(schema), sorted(tree.get_unsafe_set())
        schema = json.loads(archive.read("schema.json"))
    return _schema_facts(schema), sio.get_untrusted_types(file=path)


class SklearnFlavor:
    name = "sklearn"
    description = "scikit-learn estimators and pipelines in the skops format (no pickle)"
    needs_trust = False
    self_contained = True

    def can_save(self, model: object) -> bool:
        if "sklearn" not in sys.modules:
            return False  # not imported, so this cannot be an estimator
        from sklearn.base import BaseEstimator

        library = type(model).__module__.split(".")[0]
        return isinstance(model, BaseEstimator) and library not in _NATIVE_FORMAT_LIBRARIES

    def save(self, model: object, directory: Path) -> list[Path]:
        target = directory / FILE_NAME
        _skops_io().dump(model, target)
        return [target]

    def validate(self, path: Path, settings: Settings) -> dict[str, Any]:
        try:
            facts, found = _inspect(path)
        except StewardError:
            raise
        except Exception as exc:  # any parser failure means the file is unreadable
            raise InvalidInput(
                f"{path.name} is not a readable skops file ({type(exc).__name__})"
            ) from exc
        allowed = set(server_trusted_types(settings))
        refused = sorted(t for t in found if t not in allowed)
        if refused:
            raise InvalidInput(
                f"{path.name} contains untrusted types: {', '.join(refused[:20])}; "
                "an operator may allow them with STEWARD_TRUSTED_TYPES",
                details={"untrusted_types": refused},
            )
        return {"untrusted_types": found, **facts}

    def load(self, path: Path, settings: Settings, meta: dict[str, Any]) -> Any:
        sio = _skops_io()
        try:
            return sio.load(path, trusted=server_trusted_types(settings))
        except sio.exceptions.UntrustedTypesFoundException as exc:
            raise InvalidInput(
                f"{path.name} contains types this server does not trust: {exc}; "
                "an operator may allow them with STEWARD_TRUSTED_TYPES"
            ) from exc
