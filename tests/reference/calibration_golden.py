#!/usr/bin/env python3
"""Golden values for conformal threshold calibration, by brute force from the definitions.

Written from the definitions below (Tan et al., arXiv 2510.17897; Angelopoulos et al. for CRC),
independently of the C++, and deterministic (seeded numpy).

Usage: calibration_golden.py OUT.json

Definitions (a voxel is predicted lesion iff p >= t):
  FNR_i(t) = #{lesion p of case i with p < t} / m_i, 0 for an empty mask (m_i = 0).
  Critical threshold t_i = the largest t with FNR_i(t) <= epsilon (+inf if FNR stays within
    epsilon above every value, i.e. an empty mask).
  CLS: k = floor((n + 1) * alpha); tau = the k-th smallest t_i; k = 0 is an error.
    Empty masks: policy "satisfied" keeps them (t_i = +inf), "exclude" drops them from n.
  CRC: tau = the largest t with n/(n+1) * mean_i FNR_i(t) + 1/(n+1) <= epsilon, empty masks
    counting as FNR 0; an error when no t qualifies.
User-given decimals (epsilon, alpha) are taken as the exact decimals they are written as, and
all comparisons are done in exact rational arithmetic.

Why brute force over data values is exact: FNR_i is a left-continuous step function, constant
on (v_a, v_b] between consecutive lesion values and on (v_max, +inf]; so the largest qualifying
t is always a lesion value or +inf, and FNR is evaluated at each candidate v as #{p < v}.

Output JSON:
{"scenarios": [{
   "name": str,
   "cases": [{"name": str, "voxels": int,
              "lesion_probabilities": [float, ...]}],   # float32 values, NOT sorted
   "critical_thresholds": [{"epsilon": float, "thresholds": [float | null, ...]}],  # per case
   "checks": [{"epsilon": float, "alpha": float, "method": "cls" | "crc",
               "policy": "satisfied" | "exclude",
               "error": false, "n": int, "k": int (cls only), "threshold": float | null}
            | {"epsilon", "alpha", "method", "policy",
               "error": true, "minimum_cases": int (cls only)}]
}]}
null stands for +inf. CRC checks use policy "satisfied" only, and are repeated for every alpha
(CRC must ignore it).
"""

import itertools
import json
import math
import os
import sys
from fractions import Fraction

import numpy as np

EPSILONS = [0, 0.05, 0.1, 0.25, 0.3, 0.5, 0.9]
ALPHAS = [0.05, 0.1, 0.2, 0.5, 0.9]
INF = math.inf


def exact(decimal):
    # Fraction(0.1) would be the binary double; Fraction("0.1") is the decimal a user means.
    return Fraction(str(decimal))


def as_json_number(value):
    return None if value == INF else value


def count_below(lesion, candidates):
    """#{p < v} for each candidate v: the numerator of FNR(v), straight from the definition."""
    return (np.asarray(lesion)[None, :] < np.asarray(candidates)[:, None]).sum(axis=1)


def critical_threshold(lesion, epsilon):
    """Largest candidate v (a lesion value, or +inf) with #{p < v} <= epsilon * m."""
    candidates = np.append(np.unique(lesion), INF)
    bound = exact(epsilon) * len(lesion)
    return max(float(v) for v, count in zip(candidates, count_below(lesion, candidates))
               if int(count) <= bound)


def conformal_rank(n, alpha):
    return math.floor((n + 1) * exact(alpha))


def minimum_cases(alpha):
    return next(n for n in itertools.count() if conformal_rank(n, alpha) >= 1)


def cls_check(thresholds, empty, alpha, policy):
    kept = sorted(t for t, e in zip(thresholds, empty) if not (e and policy == "exclude"))
    n = len(kept)
    k = conformal_rank(n, alpha)
    if k == 0:
        return {"error": True, "minimum_cases": minimum_cases(alpha)}
    return {"error": False, "n": n, "k": k, "threshold": as_json_number(kept[k - 1])}


def crc_risks(lesions):
    """[(v, risk(v))] for every candidate v, where risk = n/(n+1) * mean FNR(v) + 1/(n+1)
    = (sum_i FNR_i(v) + 1) / (n+1), exactly. Independent of epsilon."""
    n = len(lesions)
    candidates = np.unique(np.concatenate([[INF]] + [np.asarray(lesion, float) for lesion in lesions]))
    # A common denominator keeps the sum of n fractions in (exact) integers.
    denominator = math.lcm(1, *[len(lesion) for lesion in lesions if lesion])
    numerators = np.zeros(len(candidates), dtype=object)
    for lesion in lesions:
        if lesion:
            numerators += count_below(lesion, candidates).astype(object) * (
                denominator // len(lesion))
    return [(float(v), Fraction(total + denominator, denominator * (n + 1)))
            for v, total in zip(candidates, numerators)]


def crc_check(risks, n, epsilon):
    qualifying = [v for v, risk in risks if risk <= exact(epsilon)]
    if not qualifying:
        return {"error": True}
    return {"error": False, "n": n, "threshold": as_json_number(max(qualifying))}


def scenario(name, lesions, rng):
    lesions = [[float(p) for p in np.asarray(lesion, dtype=np.float32)] for lesion in lesions]
    empty = [not lesion for lesion in lesions]
    critical = {eps: [critical_threshold(lesion, eps) for lesion in lesions] for eps in EPSILONS}
    risks = crc_risks(lesions)
    checks = []
    for epsilon in EPSILONS:
        crc = crc_check(risks, len(lesions), epsilon)
        for alpha in ALPHAS:
            settings = {"epsilon": epsilon, "alpha": alpha}
            for policy in ("satisfied", "exclude"):
                cls = cls_check(critical[epsilon], empty, alpha, policy)
                checks.append({**settings, "method": "cls", "policy": policy, **cls})
            checks.append({**settings, "method": "crc", "policy": "satisfied", **crc})
    return {
        "name": name,
        "cases": [{"name": f"case_{i:03d}",
                   "voxels": len(lesion) + int(rng.integers(0, 1000)),
                   "lesion_probabilities": lesion}
                  for i, lesion in enumerate(lesions)],
        "critical_thresholds": [{"epsilon": eps, "thresholds": [as_json_number(t) for t in ts]}
                                for eps, ts in critical.items()],
        "checks": checks,
    }


def random_sizes(rng, n, high):
    return rng.integers(1, high, size=n)


def build(rng):
    scenarios = []

    def add(name, lesions):
        scenarios.append(scenario(name, lesions, rng))

    # Continuous probabilities, no ties: n around the boundaries of k = floor((n + 1) alpha),
    # where (n + 1) * alpha is an integer (9, 19, 39) and just below it.
    for n in (1, 2, 3, 4, 8, 9, 10, 18, 19, 29, 39, 60):
        add(f"uniform_n{n}", [rng.uniform(size=m) for m in random_sizes(rng, n, 80)])
    for a, b in ((0.5, 0.5), (5.0, 1.0), (1.0, 5.0)):
        for n in (11, 47):
            add(f"beta_{a}_{b}_n{n}", [rng.beta(a, b, size=m) for m in random_sizes(rng, n, 80)])
    # Heavy ties on a k/8 grid (exact in binary, 0 and 1 included).
    for n in (3, 9, 19, 33):
        add(f"ties_grid8_n{n}",
            [rng.integers(0, 9, size=m) / 8 for m in random_sizes(rng, n, 10)])
    # Masks of 1, 2 or 4 voxels on a k/4 grid: the sum of FNRs often lands exactly on the CRC
    # budget epsilon * (n + 1) - 1 (1.5, 2, 4 and 8 for n = 9), testing the "<=" boundary.
    add("ties_grid4_n9", [rng.integers(0, 5, size=m) / 4 for m in rng.choice([1, 2, 4], size=9)])
    add("ties_all_equal_n12", [np.full(m, 0.5) for m in random_sizes(rng, 12, 20)])
    # One-voxel lesions: the critical threshold is that voxel for any epsilon < 1.
    add("one_voxel_n15", [rng.choice([0.0, 1.0, rng.uniform()], size=1) for _ in range(15)])
    add("zeros_and_ones_n10", [rng.integers(0, 2, size=m).astype(float)
                                for m in random_sizes(rng, 10, 6)])
    # Neighbouring float32 values: a threshold off by one ulp would be caught.
    tiny = np.nextafter(np.float32(0.5), np.float32(1))
    add("adjacent_float32_n9", [rng.choice([np.float32(0.5), tiny], size=m)
                                 for m in random_sizes(rng, 9, 6)])
    # Empty masks mixed in (the policies differ), only empty masks, and no cases at all.
    for n in (5, 12, 30, 59):
        add(f"some_empty_n{n}",
            [rng.uniform(size=m if rng.uniform() > 0.3 else 0) for m in random_sizes(rng, n, 40)])
    for n in (1, 9, 20):
        add(f"all_empty_n{n}", [np.empty(0)] * n)
    add("no_cases", [])
    # Large masks whose FNRs at 0.75 sum to 1.5 + 1/(40000 * 40001): above the CRC budget for
    # epsilon = 0.25 and n = 9 by only 6.25e-10, so 0.75 must not qualify (tau = 0.25).
    near_tie = [np.repeat([0.25, 0.75], [20001, 19999]), np.repeat([0.25, 0.75], [40000, 1])]
    add("crc_near_tie_n9", near_tie + [np.full(3, 0.75)] * 7)
    return scenarios


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT.json")
    scenarios = build(np.random.default_rng(2510_17897))
    os.makedirs(os.path.dirname(os.path.abspath(sys.argv[1])), exist_ok=True)
    with open(sys.argv[1], "w") as out:
        json.dump({"scenarios": scenarios}, out)


if __name__ == "__main__":
    main()
