"""scikit-learn peer of bench/tabular-vs-sklearn.ts: trains on the bench's own split files.

Usage: python3 tabular_sklearn.py <dir> <task> <threads>
<dir> holds train.csv, validation.csv, test.csv (numeric features, last column the target; class
indices for classification). Prints one JSON object: per model, fit seconds (wall and process CPU) and test metrics.
Models: HistGradientBoosting (defaults, random_state 0) and a standardized linear model
(LogisticRegression, or Ridge for regression), both fitted on train only. HistGradientBoosting
early-stops on its own 10% of train when it has over 10,000 rows (its default 'auto').
"""
import json
import os
import sys
import time

import numpy as np


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1]


def main():
    d, task, threads = sys.argv[1], sys.argv[2], sys.argv[3]
    os.environ["OMP_NUM_THREADS"] = threads
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, mean_squared_error, r2_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    import sklearn

    xtr, ytr = load(os.path.join(d, "train.csv"))
    xte, yte = load(os.path.join(d, "test.csv"))
    models = {}
    if task == "classification":
        models["hgb"] = HistGradientBoostingClassifier(random_state=0)
        models["logreg"] = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    else:
        models["hgb"] = HistGradientBoostingRegressor(random_state=0)
        models["ridge"] = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    out = {"sklearn": sklearn.__version__, "models": {}}
    for name, m in models.items():
        t0 = time.perf_counter()
        c0 = time.process_time()
        m.fit(xtr, ytr.astype(int) if task == "classification" else ytr)
        fit = time.perf_counter() - t0
        cpu = time.process_time() - c0
        p = m.predict(xte)
        if task == "classification":
            y = yte.astype(int)
            metrics = {"accuracy": accuracy_score(y, p), "macroF1": f1_score(y, p, average="macro")}
        else:
            metrics = {
                "rmse": float(np.sqrt(mean_squared_error(yte, p))),
                "mae": mean_absolute_error(yte, p),
                "r2": r2_score(yte, p),
            }
        out["models"][name] = {"fitSeconds": fit, "cpuSeconds": cpu, **metrics}
        if name == "hgb":
            out["models"][name]["iterations"] = int(m.n_iter_)
    print(json.dumps(out))


main()
