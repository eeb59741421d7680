"""The chapter's claims ledger: the claims, their rules, controls and evidence, and the numbers they read.

:func:`build_ledger` states the claims before anything runs; :func:`claim_results` computes every
metric, control and check the ledger reads from the experiments' frames: the per-process summary
of the named processes (``run_exact``), the random-process families (``run_family``) and the
learned runs (``run_learned``). Theorems checked by exact computation are ``exact=True`` claims;
what holds by construction (PWSEP over a given vertex list, three capacity routes) is a check.
Counts over random processes are proportions with Clopper–Pearson intervals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reprobook import claims
from reprobook.wsep.families import FAMILIES

__all__ = ["build_ledger", "claim_results", "FAMILY_CLAIMS"]

#: the claims asked per random-process family: (claim id prefix, metric prefix)
FAMILY_CLAIMS = (("c2_interior", "wsep_interior"), ("c2_more", "wsep_more"))
SHARE = 0.5  # "in most processes": the share of a family a per-process claim must hold in


def _family_claims(families: tuple[str, ...]) -> list[claims.Claim]:
    out = []
    for family in families:
        label = FAMILIES[family].label
        out.append(claims.Claim(
            f"c2_interior_{family}",
            f"With at most as many skills as vertices, the WSEP optimum uses an optimal initial policy that "
            f"MISL's optimum never uses (a vertex strictly inside MISL's KL ball), in most processes of the "
            f"family '{label}'.",
            paper="WSEP discovers more initial policies than MISL (qualitative)", source="abstract",
            metric=f"wsep_interior_{family}", rule=claims.AtLeast(SHARE), evidence=claims.MINIATURE,
            controls=(claims.Control(f"misl_interior_{family}", "MISL-k with the same k"),),
            notes="share of the family's processes that have an interior vertex; skills may coincide "
                  "(local-search optima); k scanned from 2 to #vertices"))
        out.append(claims.Claim(
            f"c2_more_{family}",
            f"With as many skills as vertices, WSEP's optimum uses more distinct vertices than MISL's, in "
            f"most processes of the family '{label}'.",
            paper="WSEP discovers more initial policies than MISL (qualitative)", source="abstract",
            metric=f"wsep_more_{family}", rule=claims.AtLeast(SHARE), evidence=claims.MINIATURE,
            controls=(claims.Control(f"random_more_{family}", "a random multiset of as many vertices"),),
            notes="share of the family's processes; skills may coincide (local-search optima)"))
    return out


def build_ledger(profile: str, families: tuple[str, ...] = tuple(FAMILIES)) -> claims.Ledger:
    """The wsep claims and checks, fixed before any result is seen."""
    unknown = [family for family in families if family not in FAMILIES]
    if unknown:
        raise ValueError(f"families must be among {', '.join(FAMILIES)}; got {unknown}")
    ledger_claims = [
        claims.Claim(
            "c1_misl_interior",
            "MISL cannot reach every optimal initial policy: some vertices of the occupancy polytope lie "
            "strictly inside MISL's KL ball, so no MISL optimum uses them.",
            paper="MISL does not guarantee diverse, separable skills (qualitative)", source="abstract",
            metric="interior_vertices", rule=claims.AtLeast(1), evidence=claims.MINIATURE, exact=True,
            notes="exact count (Blahut–Arimoto to a 1e-10 gap, three capacity routes agree) summed over the "
                  "named processes"),
        *_family_claims(families),
        claims.Claim(
            "c3_pwsep_all",
            "PWSEP discovers all optimal initial policies: run with an RL oracle (value iteration on the hull "
            "LP's potential) and no vertex list, it finds every vertex.",
            paper="all (theorem)", source="abstract", metric="pwsep_share_found", rule=claims.AtLeast(1.0),
            evidence=claims.MINIATURE,
            controls=(claims.Control("random_reward_share_found",
                                     "as many skills from the optima of random rewards"),),
            notes="share of the enumerated vertices found, per seed of the learned PWSEP"),
        claims.Claim(
            "c4_lsepin_cost",
            "Higher LSEPIN goes with lower downstream adaptation cost.",
            paper="connection (theorem)", source="abstract", metric="lsepin_cost_spearman",
            rule=claims.AtMost(-0.1), evidence=claims.MINIATURE,
            controls=(claims.Control("lsepin_cost_spearman_shuffled", "LSEPIN shuffled across skill sets"),),
            testable_in=("book", "paper"),
            why_untestable="the smoke profile draws too few skill sets for a correlation",
            notes="Spearman ρ of LSEPIN vs mean W-adaptation cost over random skill sets, one value per named "
                  "process with enough vertices"),
        claims.Claim(
            "c4_lsepin_kl_cost",
            "Higher LSEPIN goes with lower information-geometric (KL) adaptation cost.",
            paper="connection (theorem)", source="abstract", metric="lsepin_kl_cost_spearman",
            rule=claims.AtMost(-0.1), evidence=claims.MINIATURE,
            controls=(claims.Control("lsepin_kl_cost_spearman_shuffled", "LSEPIN shuffled across skill sets"),),
            testable_in=("book", "paper"),
            why_untestable="the smoke profile draws too few skill sets for a correlation",
            notes="Spearman ρ of LSEPIN vs the mean KL(v*_r ‖ skills' mixture) over random skill sets (∞ when the "
                  "skills never visit a state the task's optimum visits; ranked last), one value per named process"),
    ]
    checks = [
        claims.Check("k1_lasso_equals_brute_force", "Lasso enumeration = all A^S deterministic policies",
                     "lasso_equals_brute_force"),
        claims.Check("k2_capacity_three_ways", "Capacity: Blahut–Arimoto = cvxpy = max_v KL(v ‖ q*) (to 1e-6)",
                     "capacity_three_ways"),
        claims.Check("k3_misl_support_on_sphere", "MISL's optimal weights sit only on the KL sphere",
                     "misl_support_on_sphere"),
        claims.Check("k4_pwsep_list_all", "PWSEP scanning the vertex list ends with every vertex",
                     "pwsep_list_all"),
        claims.Check("k5_learned_below_exact", "Learned MISL/WSEP objectives never exceed the exact optimum",
                     "learned_below_exact"),
    ]
    return claims.Ledger("wsep", ledger_claims, profile=profile, checks=checks,
                         headline=("c3_pwsep_all", "c1_misl_interior"))


def _share(hits: pd.Series, trials: int) -> claims.Estimate | None:
    return claims.proportion(int(hits.sum()), trials) if trials > 0 else None


def family_metrics(frame: pd.DataFrame, family: str) -> dict[str, Any]:
    """The per-family proportions of ``run_family``'s rows (one per process)."""
    rows = frame[frame.family == family]
    with_interior = rows[rows.interior > 0]
    return {
        f"wsep_interior_{family}": _share(with_interior.wsep_interior_k.notna(), len(with_interior)),
        f"misl_interior_{family}": _share(with_interior.misl_interior_k.notna(), len(with_interior)),
        f"wsep_more_{family}": _share(rows.wsep_distinct_at_n > rows.misl_distinct_at_n, len(rows)),
        f"random_more_{family}": _share(rows.random_distinct_at_n > rows.misl_distinct_at_n, len(rows)),
    }


def claim_results(summary: pd.DataFrame, family_frame: pd.DataFrame, learned: pd.DataFrame | None,
                  families: tuple[str, ...] = tuple(FAMILIES)) -> dict[str, Any]:
    """Every number the ledger reads.

    ``summary``: one row per named process (``run_exact``); ``family_frame``: one row per random
    process (``run_family``); ``learned``: one row per learned run (``run_learned``), or None.
    """
    results: dict[str, Any] = {"interior_vertices": claims.exact(float(summary.interior.sum()))}
    for family in families:
        results.update(family_metrics(family_frame, family))
    pwsep = learned[learned.objective == "pwsep"] if learned is not None and len(learned) else pd.DataFrame()
    if len(pwsep):
        results["pwsep_share_found"] = list(pwsep.vertices_found / pwsep.vertices)
        results["random_reward_share_found"] = list(pwsep.random_reward_vertices_found / pwsep.vertices)
    else:
        results["pwsep_share_found"] = results["random_reward_share_found"] = None
    spearman = summary[np.isfinite(summary.lsepin_cost_spearman.astype(float))]
    results["lsepin_cost_spearman"] = list(spearman.lsepin_cost_spearman)
    results["lsepin_cost_spearman_shuffled"] = list(spearman.lsepin_cost_spearman_shuffled)
    kl_column = summary.get("lsepin_kl_cost_spearman", pd.Series(np.nan, index=summary.index)).astype(float)
    kl = summary[np.isfinite(kl_column)]
    results["lsepin_kl_cost_spearman"] = list(kl.lsepin_kl_cost_spearman) if len(kl) else []
    results["lsepin_kl_cost_spearman_shuffled"] = list(kl.lsepin_kl_cost_spearman_shuffled) if len(kl) else []
    checked = summary.brute_force_equals_lasso.dropna()
    results["lasso_equals_brute_force"] = bool(len(checked) and (checked == 1.0).all())
    gaps = np.abs(summary[["capacity_cvxpy", "capacity_minimax"]].to_numpy(float)
                  - summary[["capacity"]].to_numpy(float))
    results["capacity_three_ways"] = bool(np.all(gaps < 1e-6))
    results["misl_support_on_sphere"] = bool((summary.support_off_sphere == 0).all())
    listed = summary.dropna(subset=["pwsep_found"])
    results["pwsep_list_all"] = bool(len(listed) and (listed.pwsep_found == listed.vertices).all())
    gradient = learned[learned.objective != "pwsep"] if learned is not None and len(learned) else pd.DataFrame()
    results["learned_below_exact"] = bool(len(gradient) == 0
                                          or (gradient.learned_value <= gradient.exact_optimum + 1e-9).all())
    return results
