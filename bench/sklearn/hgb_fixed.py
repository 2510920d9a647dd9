"""One GBDT fit per model, fixed work: scikit-learn HistGradientBoosting with early stopping off and
max_iter 100 (its defaults otherwise: 31 leaves, 20 rows per leaf, 255 bins, learning rate 0.1),
fitted `repeats` times on the bench's train.csv. Prints the CPU seconds of each fit as JSON.

Usage: python3 hgb_fixed.py <dir> <task> <repeats>
"""
import json
import os
import sys
import time

import numpy as np


def main():
    d, task, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    data = np.loadtxt(os.path.join(d, "train.csv"), delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1]
    cpu = []
    for _ in range(repeats):
        if task == "classification":
            m = HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=0)
            y_ = y.astype(int)
        else:
            m = HistGradientBoostingRegressor(max_iter=100, early_stopping=False, random_state=0)
            y_ = y
        c0 = time.process_time()
        m.fit(x, y_)
        cpu.append(time.process_time() - c0)
    print(json.dumps({"cpuSeconds": cpu, "iterations": int(m.n_iter_)}))


main()
