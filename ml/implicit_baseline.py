"""The `implicit` package's ALS on the split `experience evaluate` wrote, scored the same way.

Reads train.csv, held.csv, items.csv and report.json from the folder given, trains
implicit.cpu.als.AlternatingLeastSquares with the report's parameters (confidence
1 + alpha * strength, conjugate gradient, 3 steps), ranks every item for each scored user
(skipping items the user touched in training or published after their cutoff), and prints
recall@K and NDCG@K beside ours. Exits 1 when our ALS's recall@K is more than 5 % below.
"""
import csv
import json
import math
import os
import sys
import time

import numpy as np
import scipy.sparse as sparse
from implicit.cpu.als import AlternatingLeastSquares


def main(folder):
    report = json.load(open(os.path.join(folder, "report.json")))
    params = report["alsParameters"]
    k = report["k"]
    users = report["users"]
    published = np.array([float(row["published"]) for row in csv.DictReader(open(os.path.join(folder, "items.csv")))])
    items = len(published)

    rows, cols, strengths = [], [], []
    for row in csv.DictReader(open(os.path.join(folder, "train.csv"))):
        rows.append(int(row["user"]))
        cols.append(int(row["item"]))
        strengths.append(float(row["strength"]))
    strength = sparse.csr_matrix((np.array(strengths, dtype=np.float32), (rows, cols)), shape=(users, items))
    strength.sum_duplicates()
    confidence = strength.copy()
    confidence.data = 1 + params["alpha"] * confidence.data

    held, cutoff = {}, {}
    for row in csv.DictReader(open(os.path.join(folder, "held.csv"))):
        user = int(row["user"])
        held.setdefault(user, set()).add(int(row["item"]))
        cutoff[user] = float(row["cutoff"])

    model = AlternatingLeastSquares(
        factors=params["factors"], regularization=params["regularization"], alpha=1.0,
        iterations=params["iterations"], use_cg=True, random_state=int(params["seed"]), calculate_training_loss=False)
    started = time.perf_counter()
    model.fit(confidence, show_progress=False)
    seconds = time.perf_counter() - started

    recall = ndcg = 0.0
    for user, found in held.items():
        scores = model.item_factors @ model.user_factors[user]
        scores[strength.indices[strength.indptr[user]:strength.indptr[user + 1]]] = -np.inf
        scores[published > cutoff[user]] = -np.inf
        top = np.argpartition(-scores, k)[:k]
        top = top[np.argsort(-scores[top])]
        hits = [1 if item in found else 0 for item in top]
        recall += sum(hits) / min(k, len(found))
        ideal = sum(1 / math.log2(position + 2) for position in range(min(k, len(found))))
        ndcg += sum(hit / math.log2(position + 2) for position, hit in enumerate(hits)) / ideal
    recall /= len(held)
    ndcg /= len(held)

    ours = {result["model"]: result for result in report["results"]}
    print(f"implicit {__import__('implicit').__version__} ALS trained in {seconds:.1f} s ({params['factors']} factors, {params['iterations']} iterations)")
    print(f"{'implicit-als':<12} recall@{k} {recall:.4f}   NDCG@{k} {ndcg:.4f}")
    ratio = ours["als"]["recall"] / recall if recall > 0 else 0
    print(f"our ALS recall@{k} is {ratio * 100:.1f} % of implicit's (must be at least 95 %)")
    return 0 if ratio >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".dev/eval"))
