"""``modelsteward.Client``: register fitted models and work with the inventory.

client = Client()                      # STEWARD_URL / local admin token
client.register(model, name="churn", sample=X_test, training_data=train_df,
                metrics={"auc": 0.91})
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from modelsteward.errors import InvalidInput, NotFound, Unavailable
from modelsteward.registry.materialize import safe_join
from modelsteward.sdk.transport import Credentials, credentials, default_url, raise_for_error

_MODEL_FIELDS = ("description", "owner", "team", "use_case", "risk_tier", "tags")
"""Fields a model is created with; all but ``owner`` may be updated (see transfer_ownership)."""


class Client:
    def __init__(
        self, url: str | None = None, token: str | None = None, *, timeout: float = 120.0
    ) -> None:
        self.url = (url or default_url()).rstrip("/")
        found = Credentials(token, "the token given to Client()") if token else credentials()
        self._hint = found.hint(self.url)
        token = found.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        raise_for_error(response, self._hint)
        return response.json() if response.content else None

    # -- inventory ---------------------------------------------------------------
    def create_model(self, name: str, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/api/v1/models", json={"name": name, **fields})

    def get_model(self, name: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/models/{name}")

    def list_models(self, **filters: Any) -> dict[str, Any]:
        """Filters: q, tag, owner, risk_tier, alias, status, limit, offset."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._call("GET", "/api/v1/models", params=params)

    def update_model(self, name: str, **fields: Any) -> dict[str, Any]:
        return self._call("PATCH", f"/api/v1/models/{name}", json=fields)

    def transfer_ownership(self, name: str, owner: str | None, reason: str) -> dict[str, Any]:
        """Hand model ``name`` to user ``owner`` (None: no owner); needs
        models.transfer_ownership and is audited with ``reason``."""
        return self._call(
            "POST", f"/api/v1/models/{name}/owner", json={"owner": owner, "reason": reason}
        )

    def archive(self, name: str, version: int | None = None) -> dict[str, Any]:
        path = f"/api/v1/models/{name}" + (f"/versions/{version}" if version else "")
        return self._call("POST", path + "/archive")

    def restore(self, name: str, version: int | None = None) -> dict[str, Any]:
        path = f"/api/v1/models/{name}" + (f"/versions/{version}" if version else "")
        return self._call("POST", path + "/restore")

    # -- versions ----------------------------------------------------------------
    def list_versions(self, name: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/api/v1/models/{name}/versions")

    def get_version(self, name: str, ref: int | str = "latest") -> dict[str, Any]:
        if ref == "latest":
            ref = self.get_model(name)["latest_version"]
        return self._call("GET", f"/api/v1/models/{name}/versions/{ref}")

    def set_alias(self, name: str, alias: str, version: int) -> dict[str, Any]:
        return self._call(
            "PUT", f"/api/v1/models/{name}/aliases/{alias}", json={"version": version}
        )

    def remove_alias(self, name: str, alias: str) -> dict[str, Any]:
        return self._call("DELETE", f"/api/v1/models/{name}/aliases/{alias}")

    def alias_history(self, name: str, alias: str | None = None) -> list[dict[str, Any]]:
        params = {"alias": alias} if alias else {}
        return self._call("GET", f"/api/v1/models/{name}/aliases", params=params)

    def grant_trust(self, name: str, version: int, reason: str) -> dict[str, Any]:
        return self._call(
            "POST", f"/api/v1/models/{name}/versions/{version}/trust", json={"reason": reason}
        )

    def download(self, name: str, ref: int | str, dest: str | Path) -> list[Path]:
        """Write every file of a version under ``dest`` by its manifest name."""
        version = self.get_version(name, ref)
        root = Path(dest)
        root.mkdir(parents=True, exist_ok=True)
        written = []
        for entry in version["files"]:
            target = safe_join(root, entry["name"])
            target.parent.mkdir(parents=True, exist_ok=True)
            url = f"/api/v1/models/{name}/versions/{version['version']}/files/{entry['name']}"
            with self._http.stream("GET", url) as response:
                if not response.is_success:
                    response.read()
                    raise_for_error(response, self._hint)
                with open(target, "wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
            written.append(target)
        return written

    # -- serving -----------------------------------------------------------------
    def deploy(
        self,
        name: str,
        version: int | str,
        *,
        environment: str = "production",
        strategy: str = "direct",
        traffic: int | None = None,
        override: str | None = None,
        wait: bool = True,
        timeout_s: float = 300.0,
    ) -> dict[str, Any]:
        """Ask for a deployment change; with ``wait`` return once it is applied or failed.

        ``override`` is a break-glass reason to serve a version its life cycle does not
        admit in ``environment`` (needs the ``deployment.override`` permission).
        """
        body: dict[str, Any] = {
            "model": name,
            "version": version,
            "environment": environment,
            "strategy": strategy,
            "traffic": traffic,
        }
        if override is not None:
            body["override"] = override
        revision: dict[str, Any] = self._call("POST", "/api/v1/deployments", json=body)
        deadline = time.monotonic() + timeout_s
        path = f"/api/v1/deployments/{revision['deployment']}/revisions/{revision['revision']}"
        while wait and revision["status"] in ("pending", "running"):
            if time.monotonic() > deadline:
                raise Unavailable(
                    f"{revision['deployment']} revision {revision['revision']} is still rolling out"
                )
            time.sleep(0.1)
            revision = self._call("GET", path)
        return revision

    def predict(self, deployment: str, records: Any, *, key: str | None = None) -> dict[str, Any]:
        """Predictions for a list of row dicts (or a DataFrame) from a deployment."""
        if hasattr(records, "to_dict"):
            records = records.to_dict("records")
        headers = {"X-Request-Key": key} if key else {}
        return self._call(
            "POST", f"/api/v1/deployments/{deployment}/predict", json=records, headers=headers
        )

    def export_bundle(self, name: str, ref: int | str, dest: str | Path) -> Path:
        """Write a version as one signed bundle file."""
        target = Path(dest)
        with self._http.stream("GET", f"/api/v1/models/{name}/versions/{ref}/bundle") as response:
            if not response.is_success:
                response.read()
                raise_for_error(response, self._hint)
            with open(target, "wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        return target

    def import_bundle(self, path: str | Path) -> dict[str, Any]:
        """Verify and import a bundle exported by an instance this one trusts."""
        with open(path, "rb") as handle:
            return self._call(
                "POST",
                "/api/v1/bundles",
                content=handle,
                headers={"content-type": "application/octet-stream"},
            )

    def register_files(
        self, name: str, spec: Mapping[str, Any], files: Mapping[str, str | Path]
    ) -> dict[str, Any]:
        """Upload already-saved files: ``files`` maps each manifest name to a local path."""
        with ExitStack() as stack:
            parts = [
                (
                    "file",
                    (file_name, stack.enter_context(open(path, "rb")), "application/octet-stream"),
                )
                for file_name, path in files.items()
            ]
            return self._call(
                "POST",
                f"/api/v1/models/{name}/versions",
                data={"spec": json.dumps(spec, default=str)},
                files=parts,
            )

    def register(
        self,
        model: object,
        *,
        name: str,
        sample: Any = None,
        training_data: Any = None,
        training_data_uri: str | None = None,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        flavor: str | None = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
        lineage: Mapping[str, Any] | None = None,
        code: Mapping[str, Any] | None = None,
        source_files: Sequence[str | Path] = (),
        test_files: Sequence[str | Path] = (),
        tests: Sequence[Mapping[str, Any]] = (),
        metadata: Mapping[str, Any] | None = None,
        dependencies: Mapping[str, Any] | None = None,
        trust_reason: str | None = None,
        **model_fields: Any,
    ) -> dict[str, Any]:
        """Save a fitted model with its flavor and register it as the next version.

        The model entry is created on first use (``owner=``, ``risk_tier=``... apply then).
        Schemas are inferred from ``sample``; ``training_data`` (a DataFrame) is
        fingerprinted and profiled; dependencies are captured from this environment.
        """
        from modelsteward.registry.environment import capture_dependencies
        from modelsteward.registry.flavors.base import flavor_for, get_flavor
        from modelsteward.registry.schema_inference import infer_schema

        unknown = set(model_fields) - set(_MODEL_FIELDS)
        if unknown:
            raise InvalidInput(f"unknown arguments: {', '.join(sorted(unknown))}")
        self._ensure_model(name, model_fields)
        chosen = get_flavor(flavor) if flavor else flavor_for(model)
        with tempfile.TemporaryDirectory(prefix="steward-register-") as tmp:
            saved = chosen.save(model, Path(tmp))
            files: dict[str, Path] = {p.name: p for p in saved}
            manifest = [
                {"role": "model" if i == 0 else "extra", "name": p.name}
                for i, p in enumerate(saved)
            ]
            for role, paths in (("source", source_files), ("test", test_files)):
                for path in map(Path, paths):
                    files[path.name] = path
                    manifest.append({"role": role, "name": path.name})
            spec: dict[str, Any] = {
                "flavor": chosen.name,
                "description": description,
                "files": manifest,
                "metrics": dict(metrics or {}),
                "params": dict(params or {}),
                "tags": dict(tags or {}),
                "metadata": dict(metadata or {}),
                "lineage": dict(lineage or {}),
                "tests": list(tests),
                "dependencies": dict(dependencies or capture_dependencies()),
                "trust_reason": trust_reason,
            }
            if code:
                spec["code"] = dict(code)
            if sample is not None:
                spec["input_schema"] = infer_schema(sample)
                predict = getattr(model, "predict", None)
                if callable(predict):
                    spec["output_schema"] = infer_schema(predict(_head(sample)))
            if training_data is not None or training_data_uri:
                spec["training_data"] = _training_data_ref(training_data, training_data_uri)
            if training_data is not None and "prediction_profile" not in spec["metadata"]:
                baseline = _prediction_profile(model, training_data, spec.get("input_schema"))
                if baseline is not None:
                    spec["metadata"]["prediction_profile"] = baseline
            return self.register_files(name, spec, files)

    def _ensure_model(self, name: str, fields: Mapping[str, Any]) -> None:
        try:
            self.get_model(name)
        except NotFound:
            self.create_model(name, **fields)

    # -- reports -----------------------------------------------------------------
    def report(
        self,
        reference: Any,
        current: Any,
        *,
        model: str | None = None,
        columns: Sequence[str] | None = None,
        html_path: str | Path | None = None,
    ) -> dict[str, Any]:
        """Drift, data quality and distributions of ``current`` against ``reference``,
        computed by the server (``POST /api/v1/reports``); returns the report's JSON.

        Each side is a pandas DataFrame or an Arrow table (sent as Parquet, only
        ``columns`` when given) or a .csv/.parquet path (sent as it is). With
        ``model="NAME:VERSION"`` its input columns are compared, and ``reference=None``
        means its training-data profile. ``html_path`` also writes the one-file HTML
        page. In-process, without a server: ``modelsteward.monitoring.report.build_report``.
        """
        if reference is None and model is None:
            raise InvalidInput("reference is needed unless model names a version with a profile")
        wanted = list(columns) if columns else None
        form = {"format": "json+html" if html_path is not None else "json"}
        if model:
            form["model"] = model
        if wanted:
            form["columns"] = ",".join(wanted)
        with (
            tempfile.TemporaryDirectory(prefix="steward-sdk-report-") as tmp,
            ExitStack() as stack,
        ):
            parts = [
                (part, _report_upload(stack, Path(tmp), part, data, wanted))
                for part, data in (("reference", reference), ("current", current))
                if data is not None
            ]
            body: dict[str, Any] = self._call("POST", "/api/v1/reports", data=form, files=parts)
        page = body.pop("html", None)
        if html_path is not None and page is not None:
            Path(html_path).write_text(page, encoding="utf-8")
        return body


def _head(sample: Any, rows: int = 5) -> Any:
    return sample.head(rows) if hasattr(sample, "head") else sample[:rows]


def _report_upload(
    stack: ExitStack, folder: Path, part: str, data: Any, columns: list[str] | None
) -> tuple[str, Any, str]:
    """(file name, open file, media type): a path as it is, a frame or table as Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(data, str | Path):
        path = Path(data)
        if not path.is_file():
            raise InvalidInput(f"{part}: {str(path)[:200]} is not a file")
        return path.name, stack.enter_context(open(path, "rb")), "application/octet-stream"
    try:
        if isinstance(data, pa.RecordBatch):
            data = pa.Table.from_batches([data])
        elif not isinstance(data, pa.Table):
            if not hasattr(data, "to_parquet"):
                raise InvalidInput(
                    f"{part}: expected a DataFrame, an Arrow table or a file path, "
                    f"not {type(data).__name__}"
                )
            data = pa.Table.from_pandas(data, preserve_index=False)
        if columns is not None:
            data = data.select([c for c in columns if c in data.column_names])
        target = folder / f"{part}.parquet"
        pq.write_table(data, target)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidInput(f"{part}: cannot be written as Parquet: {exc}") from None
    return target.name, stack.enter_context(open(target, "rb")), "application/vnd.apache.parquet"


def _prediction_profile(
    model: Any, data: Any, input_schema: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The training-time predictions' profile, prediction drift's baseline."""
    import pandas as pd

    from modelsteward.monitoring.families.drift.prediction_baseline import profile_predictions

    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    return profile_predictions(model, frame, input_schema)


def _training_data_ref(data: Any, uri: str | None) -> dict[str, Any]:
    from contextlib import suppress

    import pandas as pd

    from modelsteward.monitoring.multivariate.baseline import fit_baseline
    from modelsteward.registry.profile import dataframe_sha256, profile_dataframe
    from modelsteward.registry.specs import MAX_DOC_BYTES

    if data is None:
        return {"uri": uri}
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    sha = dataframe_sha256(frame)
    profile = profile_dataframe(frame)
    # The multivariate baseline rides inside the profile (the registry's training-data
    # reference takes no other keys), in the room the profile leaves of the 256 KiB limit;
    # without one (no usable numeric column, too few rows), monitors capture a first window.
    room = MAX_DOC_BYTES - len(json.dumps(profile, default=str)) - 1024
    with suppress(InvalidInput):
        fitted = fit_baseline(frame.rename(columns=str), max_bytes=room)
        profile["multivariate"] = fitted.to_dict()
    return {
        "uri": uri or f"dataframe-{sha[:16]}",
        "sha256": sha,
        "rows": int(len(frame)),
        "columns": [str(c) for c in frame.columns],
        "profile": profile,
    }
