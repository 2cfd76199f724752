"""PyPI datasketch's MinHash LSH on the corpus `experience pipeline-bench --out` wrote.

Each article's word 3-shingles (as ours: lower-cased runs of letters and digits) go into a
datasketch MinHash of 128 permutations, indexed in a MinHashLSH at threshold 0.5; every
article is queried, and the articles it finds are joined into one cluster (union-find).
Prints pairwise precision and recall against the planted stories beside ours.
"""
import json
import re
import sys
import time

from datasketch import MinHash, MinHashLSH


def shingles(text):
    words = re.findall(r"[^\W_]+", text.lower())
    width = min(3, len(words))
    return {" ".join(words[i:i + width]).encode() for i in range(len(words) - width + 1)} if words else set()


def pairwise(clusters, stories):
    def pairs(groups):
        return sum(len(m) * (len(m) - 1) // 2 for m in groups.values())
    by_cluster, by_story = {}, {}
    for i, (c, s) in enumerate(zip(clusters, stories)):
        by_cluster.setdefault(c, []).append(i)
        by_story.setdefault(s, []).append(i)
    right = 0
    for members in by_cluster.values():
        counts = {}
        for m in members:
            counts[stories[m]] = counts.get(stories[m], 0) + 1
        right += sum(n * (n - 1) // 2 for n in counts.values())
    found, truth = pairs(by_cluster), pairs(by_story)
    return (right / found if found else 1.0), (right / truth if truth else 1.0)


def main(path):
    articles = [json.loads(line) for line in open(path)]
    stories = [a["story"] for a in articles]
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    hashes = []
    for i, article in enumerate(articles):
        m = MinHash(num_perm=128)
        m.update_batch(list(shingles(article["text"])))
        hashes.append(m)
        lsh.insert(str(i), m)
    parent = list(range(len(articles)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            a, b = root(i), root(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    clusters = [root(i) for i in range(len(articles))]
    seconds = time.perf_counter() - started
    theirs = pairwise(clusters, stories)
    ours = pairwise([a["cluster"] for a in articles], stories)
    print(f"datasketch {__import__('datasketch').__version__} MinHashLSH (128 permutations, threshold 0.5): {len(articles)} articles in {seconds:.1f} s")
    print(f"datasketch  precision {theirs[0]:.3f}  recall {theirs[1]:.3f}")
    print(f"ours        precision {ours[0]:.3f}  recall {ours[1]:.3f}")
    return ours, theirs


if __name__ == "__main__":
    # --check (make test): fail unless ours is as precise as a near-duplicate finder must be
    # and finds nearly as many of the planted pairs as datasketch does.
    check = "--check" in sys.argv
    arguments = [a for a in sys.argv[1:] if a != "--check"]
    ours, theirs = main(arguments[0] if arguments else ".dev/pipeline.jsonl")
    if check and (ours[0] < 0.95 or ours[1] < theirs[1] - 0.05):
        sys.exit(f"near-duplicates: ours (precision {ours[0]:.3f}, recall {ours[1]:.3f}) below the bar beside datasketch's recall {theirs[1]:.3f}")
