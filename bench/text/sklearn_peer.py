"""scikit-learn peer of bench/text-vs-sklearn.ts: logistic regression on TF-IDF.

Reads the splits the TypeScript side wrote (train / validation / test texts and label indices),
fits every configuration of a small grid on train, picks the best on validation (macro-F1, then
accuracy), and reports that one's test accuracy and macro-F1 plus the fit times.
Usage: python3 sklearn_peer.py splits.json [--grid=small|--grid=one] > result.json
"""
import json
import sys
import time

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import FeatureUnion


def vectorizer(kind):
    # \w+ (not sklearn's default \w\w+) keeps one-character words: Chinese characters, "I", "a".
    words = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b")
    if kind == "words":
        return words
    chars = TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5))
    return FeatureUnion([("words", words), ("chars", chars)])


def main():
    data = json.load(open(sys.argv[1]))
    tr, va, te = data["train"], data["validation"], data["test"]
    # --grid small: one C (10), i.e. the same four candidates as ours (features x class weights)
    cs = (10.0,) if "--grid=small" in sys.argv else (10.0, 1.0, 100.0)
    grid = [(kind, c, cw) for kind in ("words+chars", "words") for c in cs for cw in ("balanced", None)]
    # --grid one: the first configuration only (words+chars, C = 10, balanced), for datasets where the
    # grid does not finish on a loaded machine; not scikit-learn's best of a search.
    if "--grid=one" in sys.argv:
        grid = grid[:1]
    trials = []
    best = None
    started = time.perf_counter()
    cpu_started = time.process_time()
    features = {}
    for kind, c, cw in grid:
        t0 = time.perf_counter()
        if kind not in features:
            vec = vectorizer(kind)
            xtr = vec.fit_transform(tr["texts"])
            features[kind] = (vec, xtr, vec.transform(va["texts"]), time.perf_counter() - t0)
        vec, xtr, xva, vec_seconds = features[kind]
        t1 = time.perf_counter()
        clf = LogisticRegression(C=c, class_weight=cw, max_iter=1000)
        clf.fit(xtr, tr["labels"])
        fit_seconds = time.perf_counter() - t1
        pred = clf.predict(xva)
        trial = {
            "config": f"{kind}/C={c:g}/{cw or 'none'}",
            "valAccuracy": accuracy_score(va["labels"], pred),
            "valMacroF1": f1_score(va["labels"], pred, average="macro", zero_division=0),
            "fitSeconds": fit_seconds,
            "vectorizeSeconds": vec_seconds,
        }
        trials.append(trial)
        print(json.dumps(trial), file=sys.stderr, flush=True)
        key = (trial["valMacroF1"], trial["valAccuracy"])
        if best is None or key > best[0]:
            best = (key, trial, vec, clf)
    search_seconds = time.perf_counter() - started
    search_cpu_seconds = time.process_time() - cpu_started
    _, trial, vec, clf = best
    pred = clf.predict(vec.transform(te["texts"]))
    print(
        json.dumps(
            {
                "sklearn": sklearn.__version__,
                "grid": len(grid),
                "best": trial["config"],
                "testAccuracy": accuracy_score(te["labels"], pred),
                "testMacroF1": f1_score(te["labels"], pred, average="macro", zero_division=0),
                "valAccuracy": trial["valAccuracy"],
                "valMacroF1": trial["valMacroF1"],
                # the chosen configuration alone: its vectorizer fit + its model fit
                "bestTrainSeconds": trial["vectorizeSeconds"] + trial["fitSeconds"],
                "searchSeconds": search_seconds,
                "searchCpuSeconds": search_cpu_seconds,
                "trials": trials,
            }
        )
    )


if __name__ == "__main__":
    main()
