"""The reference tools, each run in its own virtual environment on the same Parquet files.

    python peers.py evidently|nannyml|whylogs REFERENCE.parquet CURRENT.parquet OUT.json

- Evidently 0.7: ``Report([DataDriftPreset()])`` (Wasserstein / Jensen-Shannon above
  1 000 rows, as its defaults choose).
- NannyML 0.13: ``UnivariateDriftCalculator`` with its defaults (Jensen-Shannon for every
  column, 10 chunks a side).
- whylogs 1.6: a profile of each side (``why.log``) and ``calculate_drift_scores``.
"""

from __future__ import annotations

import json
import sys

import pandas as pd

CATEGORICAL = [f"c{i}" for i in range(5)]


def evidently(ref: pd.DataFrame, cur: pd.DataFrame) -> dict:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=[c for c in ref.columns if c not in CATEGORICAL],
        categorical_columns=CATEGORICAL,
    )
    snapshot = Report([DataDriftPreset()]).run(
        current_data=Dataset.from_pandas(cur, data_definition=definition),
        reference_data=Dataset.from_pandas(ref, data_definition=definition),
    )
    return json.loads(snapshot.json())


def nannyml(ref: pd.DataFrame, cur: pd.DataFrame) -> dict:
    import nannyml as nml

    calculator = nml.UnivariateDriftCalculator(
        column_names=list(ref.columns), treat_as_categorical=CATEGORICAL
    )
    calculator.fit(ref)
    frame = calculator.calculate(cur).filter(period="analysis").to_df()
    return {"rows": len(frame), "columns": len(frame.columns)}


def whylogs(ref: pd.DataFrame, cur: pd.DataFrame) -> dict:
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    reference_view = why.log(ref).view()
    current_view = why.log(cur).view()
    scores = calculate_drift_scores(
        target_view=current_view, reference_view=reference_view, with_thresholds=True
    )
    return {name: (score or {}).get("drift_category") for name, score in scores.items()}


def main() -> None:
    tool, reference, current, out = sys.argv[1:]
    ref, cur = pd.read_parquet(reference), pd.read_parquet(current)
    result = {"evidently": evidently, "nannyml": nannyml, "whylogs": whylogs}[tool](ref, cur)
    with open(out, "w") as handle:
        json.dump(result, handle, default=str)


if __name__ == "__main__":
    main()
