"""Reliability of registration under load and under crashes.

16 concurrent writers register versions of one model for STEWARD_RELIABILITY_SECONDS
(60 by default) on SQLite and on PostgreSQL: no 5xx, unique gap-free version numbers,
every acknowledged version readable. A process killed at any point of a registration
leaves either the whole version or nothing visible.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.helpers import settings_for, sklearn_spec, skops_file, upload, version_form

from modelsteward.audit.chain import verify_chain
from modelsteward.context import Steward
from modelsteward.store.tables import Model, ModelVersion

SECONDS = float(os.environ.get("STEWARD_RELIABILITY_SECONDS", "60"))
WRITERS = 16


@pytest.mark.slow
def test_sixteen_writers_get_unique_gap_free_versions(
    any_api: httpx.Client, any_server: str, tmp_path: Path
) -> None:
    any_api.post("/api/v1/models", json={"name": "busy"})
    files = [skops_file(tmp_path / str(i), seed=i) for i in range(4)]
    acknowledged: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def writer(index: int) -> None:
        with httpx.Client(base_url=any_server, headers=dict(any_api.headers), timeout=120) as c:
            while time.monotonic() < deadline:
                response = c.post(
                    "/api/v1/models/busy/versions",
                    data=version_form(sklearn_spec(metrics={"writer": index})),
                    files=[upload(random.choice(files))],
                )
                with lock:
                    if response.status_code == 201:
                        acknowledged.append(response.json()["version"])
                    else:
                        failures.append(f"{response.status_code}: {response.text[:200]}")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures, failures[:5]
    assert len(acknowledged) >= WRITERS
    assert sorted(acknowledged) == list(range(1, len(acknowledged) + 1))
    listed = [v["version"] for v in any_api.get("/api/v1/models/busy/versions").json()]
    assert sorted(listed) == sorted(acknowledged)
    for number in random.sample(acknowledged, min(50, len(acknowledged))):
        assert any_api.get(f"/api/v1/models/busy/versions/{number}").status_code == 200


REGISTER_FOREVER = """
import sys
from pathlib import Path
from modelsteward.config import Settings
from modelsteward.context import Steward
from modelsteward.identity.users import SYSTEM
from modelsteward.registry.specs import VersionSpec
from modelsteward.registry.versions import register_version

steward = Steward(Settings.from_env({"STEWARD_HOME": sys.argv[1]}))
paths = sorted(Path(sys.argv[2]).glob("*/model.skops"))
spec = VersionSpec.model_validate({"flavor": "sklearn", "files": [{"role": "model", "name": "model.skops"}]})
i = 0
while True:
    blob = steward.artifacts.put_file(paths[i % len(paths)])
    register_version(steward, SYSTEM, "crashy", spec, {"model.skops": blob})
    print(i, flush=True)
    i += 1
"""


def test_a_killed_registration_leaves_all_or_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    steward = Steward(settings_for(home))
    from modelsteward.identity.users import SYSTEM
    from modelsteward.registry.models import create_model
    from modelsteward.registry.specs import ModelSpec

    create_model(steward, SYSTEM, ModelSpec(name="crashy"))
    models_dir = tmp_path / "models"
    for i in range(6):
        skops_file(models_dir / str(i), seed=i)
    rng = random.Random(7)
    for _ in range(4):
        process = subprocess.Popen(
            [sys.executable, "-c", REGISTER_FOREVER, str(home), str(models_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert process.stdout is not None
        process.stdout.readline()  # at least one registration went through
        time.sleep(rng.uniform(0.0, 0.4))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()

    with steward.db.read() as session:
        model = session.scalar(select(Model).where(Model.name == "crashy"))
        assert model is not None
        numbers = sorted(
            session.scalars(select(ModelVersion.version).where(ModelVersion.model_id == model.id))
        )
        assert numbers == list(range(1, model.last_version + 1))
        for version in session.scalars(select(ModelVersion)):
            for entry in version.files:
                assert steward.artifacts.verify(entry["sha256"]), (version.version, entry["name"])
        assert verify_chain(session).ok
    steward.close()
