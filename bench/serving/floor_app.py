"""The floor: the least a Python HTTP server can do around the model's predict.

One FastAPI route on uvicorn (one worker), the body parsed and the answer written with
orjson, the rows put in a DataFrame with the fitted column names and ``predict`` called
directly on the event loop: no validation, no logging, no thread hop. Runs in
``bench/.venv-floor``, which pins the project's FastAPI, uvicorn, pandas and
scikit-learn releases, so its HTTP stack is the one modelsteward runs on.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import orjson
import pandas as pd
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response


def create_app(model_path: Path) -> FastAPI:
    with open(model_path, "rb") as source:
        model = pickle.load(source)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        frame = pd.DataFrame(orjson.loads(await request.body()))
        answer = {"predictions": model.predict(frame)}
        return Response(
            orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY),
            media_type="application/json",
        )

    @app.get("/health")
    async def health() -> Response:
        return Response(b"{}", media_type="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.model),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
