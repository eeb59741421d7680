"""The chapter's claims ledger: claims, rules, controls and evidence, and the numbers they read.

:func:`build_ledger` states the claims before anything runs (the "paper" column is computed from
the published table, :func:`~reprobook.hasard.experiments.published_table`); :func:`claim_results`
computes every metric, control, guard and check from the experiments' frames: the learning curves
of the constrained learners on the 5 × 5 LavaGrid (``run_cmdp``, a stand-in built to show the
mechanism), random play on the scenarios (``run_random``), the pixel runs (``run_pixel``), random
play on the pixel runs' own environments (``run_pixel_random``) and the published table. Properties
of the published table are checks, not claims.

Claims c2–c5 compare the constrained learners. With ``claims_on_pixels`` (a profile setting, fixed
before anything runs; the book and paper profiles) they are judged on the pixel runs on a HASARD
scenario (``miniature`` evidence), each only if every learner it rests on beats random play;
without it, on the LavaGrid (``stand-in``). Both metric sets are always computed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reprobook import claims

__all__ = ["build_ledger", "claim_results", "published_facts", "per_seed_final", "pixel_final", "beats_random_guard",
           "FINAL_ITERATIONS", "COMPARED", "RESTS_ON", "LABELS"]

FINAL_ITERATIONS = 20  # a learner's final reward and cost: the mean over its last iterations
FIRST_ITERATIONS = 5  # the noise floor: the same learner's first iterations (a uniform random policy)
#: the learners c2–c5 compare; the learned guard covers these (Saute and P3O are shown, not judged)
COMPARED = ("ppo", "ppo_cost", "ppo_lag", "ppo_pid")
LABELS = {"ppo": "PPO", "ppo_cost": "PPO-Cost", "ppo_lag": "PPO-Lag", "ppo_pid": "PPO-PID", "ppo_saute": "PPO-Saute",
          "p3o": "P3O"}
#: the methods each learner claim rests on (its metric's and its controls'): each must beat random play
RESTS_ON = {"c2_ppo_breaks_budget": ("ppo", "ppo_lag"), "c3_lagrangian_tracks_budget": ("ppo_lag", "ppo"),
            "c4_pid_within_budget": ("ppo_pid", "ppo"), "c5_penalty_overconservative": ("ppo_cost", "ppo_lag", "ppo"),
            "c7_pixel_lagrangian_lowers_cost": ("ppo_lag", "ppo")}
AGENTS = ("PPO", "PPOCost", "PPOLag", "PPOSaute", "PPOPID", "P3O")
HUMAN_SCENARIOS = ("armament_burden", "volcanic_venture")  # where the paper says humans beat every agent
ABBREVIATION = {"armament_burden": "AB", "volcanic_venture": "VV", "remedy_rush": "RR",
                "collateral_damage": "CD", "precipice_plunge": "PP", "detonators_dilemma": "DD"}


def _where(row: pd.Series) -> str:
    return f"{ABBREVIATION[row.scenario]} L{int(row.level)}"


def published_facts(published: pd.DataFrame) -> dict[str, Any]:
    """What the published table itself says: the paper column's numbers and the checks' values."""
    by_method = {method: frame.set_index(["scenario", "level"]) for method, frame in published.groupby("method")}
    ppo = by_method["PPO"].assign(ratio=lambda f: f.cost / f.budget).reset_index()
    low, high = ppo.loc[ppo.ratio.idxmin()], ppo.loc[ppo.ratio.idxmax()]
    pid = by_method["PPOPID"].assign(excess=lambda f: (f.cost - f.budget) / f.budget).reset_index()
    worst = pid.loc[pid.excess.idxmax()]
    lag = by_method["PPOLag"]
    cost_below_lag = (by_method["PPOCost"].reward < lag.reward)
    compared = published[published.scenario.isin(HUMAN_SCENARIOS)]
    agents = compared[compared.method.isin(AGENTS)].groupby(["scenario", "level"]).reward.max()
    human = compared[compared.method == "Human"].set_index(["scenario", "level"]).reward
    margins = (human - agents.reindex(human.index)).reset_index(name="margin")
    beaten = margins[margins.margin <= 0]
    best_agent = compared[compared.method.isin(AGENTS)].loc[
        lambda f: f.groupby(["scenario", "level"]).reward.idxmax()].set_index(["scenario", "level"])
    return {
        "ppo_ratio_low": float(low.ratio), "ppo_ratio_low_where": _where(low),
        "ppo_ratio_high": float(high.ratio), "ppo_ratio_high_where": _where(high),
        "ppo_over_budget_share": float((ppo.ratio > 1).mean()), "settings": len(ppo),
        "pid_max_excess": float(worst.excess), "pid_max_excess_where": _where(worst),
        "cost_below_lag_reward": int(cost_below_lag.sum()),
        "human_beats_all_share": float((margins.margin > 0).mean()),
        "human_beaten_at": [f"{_where(row)} (human {human[(row.scenario, row.level)]:.2f} vs "
                            f"{best_agent.method[(row.scenario, row.level)]} "
                            f"{best_agent.reward[(row.scenario, row.level)]:.2f})" for row in beaten.itertuples()],
    }


def build_ledger(profile: str, published: pd.DataFrame, claims_on_pixels: bool = False,
                 pixel_scenario: str = "remedy_rush", pixel_setting: str = "",
                 paper_only: tuple[str, ...] = ()) -> claims.Ledger:
    """The hasard claims and checks, fixed before any of our results is seen.

    With ``claims_on_pixels`` c2–c5 read the pixel runs (``miniature``), each guarded by every method
    it rests on (:data:`RESTS_ON`) beating random play; ``pixel_setting`` describes the runs' size and
    ``paper_only`` names the pixel methods this profile leaves to the paper profile (both for the notes).
    """
    facts = published_facts(published)
    lag = published[(published.method == "PPOLag") & (published.level == 1)].set_index("scenario")
    ppo_l1 = published[(published.method == "PPO") & (published.level == 1)].set_index("scenario")
    if claims_on_pixels:
        source, evidence = "pixel", claims.MINIATURE
        where_measured = (f"measured from pixels on {ABBREVIATION[pixel_scenario]} L1 at a miniature scale"
                          + (f" ({pixel_setting})" if pixel_setting else "")
                          + "; per seed, the mean of the last fifth of the rollouts that finished an episode"
                          + (f"; {', '.join(LABELS.get(m, m) for m in paper_only)} run only at the paper profile"
                             if paper_only else ""))
        why = "the pixel learners need the paper profile's steps and seeds"
    else:
        source, evidence = "cmdp", claims.STAND_IN
        where_measured = ("measured on the 5 × 5 LavaGrid, a constrained MDP built to show the mechanism, not on "
                    "the scenarios (this profile does not judge them from pixels); per seed, the mean of "
                    "the last iterations")
        why = "the smoke profile trains for a few iterations only"

    def learned(claim_id: str) -> tuple[str, ...]:
        if not claims_on_pixels:
            return ("cmdp_learned",)
        return tuple(f"pixel_{method}_beats_random" for method in RESTS_ON[claim_id])
    ledger_claims = [
        claims.Claim(
            "c2_ppo_breaks_budget",
            "Unconstrained PPO ignores the cost and breaks the budget.",
            paper=(f"PPO cost {facts['ppo_ratio_low']:.2f}× ({facts['ppo_ratio_low_where']}) to "
                   f"{facts['ppo_ratio_high']:.1f}× ({facts['ppo_ratio_high_where']}) the budget"),
            source="results figures (published table)", metric=f"{source}_ppo_cost_over_budget",
            rule=claims.AtLeast(1.5), evidence=evidence,
            controls=(claims.Control(f"{source}_lag_cost_over_budget", "PPO-Lagrangian"),),
            guards=learned("c2_ppo_breaks_budget"), testable_in=("book", "paper"), why_untestable=why,
            notes="cost / budget; " + where_measured),
        claims.Claim(
            "c3_lagrangian_tracks_budget",
            "PPO-Lagrangian keeps the episode cost near the budget.",
            paper=", ".join(f"{ABBREVIATION[s]} {lag.cost[s]:.2f} / {lag.budget[s]:g}"
                            for s in ("armament_burden", "volcanic_venture", "remedy_rush")) + " (L1)",
            source="results figures (published table)", metric=f"{source}_lag_cost_over_budget",
            rule=claims.Between(0.8, 1.2), evidence=evidence,
            controls=(claims.Control(f"{source}_ppo_cost_over_budget", "unconstrained PPO"),),
            guards=learned("c3_lagrangian_tracks_budget"), testable_in=("book", "paper"), why_untestable=why,
            notes="cost / budget; " + where_measured),
        claims.Claim(
            "c4_pid_within_budget",
            "PPO-PID stays within a few per cent of the budget.",
            paper=f"max excess {facts['pid_max_excess']:+.1%} ({facts['pid_max_excess_where']})",
            source="results figures (published table)", metric=f"{source}_pid_excess", rule=claims.AtMost(0.16),
            evidence=evidence,
            controls=(claims.Control(f"{source}_ppo_excess", "unconstrained PPO"),),
            guards=learned("c4_pid_within_budget"), testable_in=("book", "paper"), why_untestable=why,
            notes="(cost − budget) / budget; " + where_measured),
        claims.Claim(
            "c5_penalty_overconservative",
            "A fixed cost penalty (PPO-Cost) is over-conservative: it gives up reward a Lagrangian keeps.",
            paper=f"PPO-Cost below PPO-Lag in reward in {facts['cost_below_lag_reward']} of {facts['settings']} "
                  "settings",
            source="results figures (published table)", metric=f"{source}_cost_minus_lag_reward",
            rule=claims.AtMost(-0.05), evidence=evidence,
            controls=(claims.Control(f"{source}_ppo_minus_lag_reward", "unconstrained PPO"),),
            guards=learned("c5_penalty_overconservative"), testable_in=("book", "paper"), why_untestable=why,
            notes=(("(reward of PPO-Cost − PPO-Lag) / |PPO-Lag reward|" if claims_on_pixels
                    else "reward of PPO-Cost − PPO-Lag") + ", paired by seed (penalty scaling: the scenario's, 1 on the grid); "
                   + where_measured)),
        claims.Claim(
            "c7_pixel_lagrangian_lowers_cost",
            "From pixels, PPO-Lagrangian incurs markedly less cost than PPO.",
            paper=(f"{ABBREVIATION[pixel_scenario]} L1: PPO-Lag cost {lag.cost[pixel_scenario]:.2f} vs PPO "
                   f"{ppo_l1.cost[pixel_scenario]:.2f}"), source="results figures (published table)",
            metric="pixel_lag_vs_ppo_cost", rule=claims.AtMost(-0.25), evidence=claims.MINIATURE,
            controls=(claims.Control("pixel_ppo_seed_vs_seed_cost", "a second PPO seed"),),
            guards=tuple(f"pixel_{method}_beats_random" for method in RESTS_ON["c7_pixel_lagrangian_lowers_cost"]),
            testable_in=("paper",),
            why_untestable="its control pairs PPO seeds with each other, which needs twice the seeds the book "
                           "runs; judged only at the paper profile",
            notes="(PPO-Lag − PPO) / PPO final episode cost, paired by seed"),
    ]
    checks = [
        claims.Check("k1_published_ppo_breaks_all", "Published PPO exceeds the budget in every scenario-level",
                     "published_ppo_over_budget_share", claims.AtLeast(1.0)),
        claims.Check("k2_published_humans_beat_agents",
                     "Published human players beat every agent on Armament Burden and Volcanic Venture, "
                     "every level (the paper's statement)",
                     "published_human_beats_all_share", claims.AtLeast(1.0)),
        claims.Check("k3_random_below_published_ppo",
                     "Our random play scores below the published PPO reward in every scenario-level run",
                     "random_below_ppo_share", claims.AtLeast(1.0)),
    ]
    return claims.Ledger("hasard", ledger_claims, profile=profile, checks=checks,
                         headline=("c2_ppo_breaks_budget", "c3_lagrangian_tracks_budget"))


def per_seed_final(curves: pd.DataFrame, last: int = FINAL_ITERATIONS, first: int = FIRST_ITERATIONS,
                   order: str = "iteration") -> pd.DataFrame:
    """Per method and seed: final reward and cost (mean over the last ``last`` iterations) and the
    reward of the first ``first`` iterations (the uniform initial policy: the noise floor)."""
    rows = []
    for (method, seed), frame in curves.sort_values(order).groupby(["method", "seed"]):
        rows.append({"method": method, "seed": seed,
                     "reward": float(frame.episode_reward.tail(last).mean()),
                     "cost": float(frame.episode_cost.tail(last).mean()),
                     "first_reward": float(frame.episode_reward.head(first).mean())})
    return pd.DataFrame(rows, columns=["method", "seed", "reward", "cost", "first_reward"])


def _paired(final: pd.DataFrame, first: str, second: str, column: str, relative: bool = False) -> list[float] | None:
    """Per seed, ``first − second`` (divided by |second| when ``relative``); None if either is missing."""
    table = final.pivot(index="seed", columns="method", values=column)
    if first not in table or second not in table:
        return None
    both = table[[first, second]].dropna()
    difference = both[first] - both[second]
    return list(difference / both[second].abs() if relative else difference)


def _method(final: pd.DataFrame, method: str, column: str) -> list[float] | None:
    values = final[final.method == method].sort_values("seed")[column]
    return list(values) if len(values) else None


def _learned_guard(final: pd.DataFrame) -> claims.Guard:
    """Every compared learner in ``final`` ends above its own initial uniform policy."""
    final = final[final.method.isin(COMPARED)]
    below = final[~(final.reward > final.first_reward)]
    reason = ", ".join(f"{row.method} seed {row.seed} ({row.reward:.3g} ≤ {row.first_reward:.3g})"
                       for row in below.itertuples())
    return claims.guard(len(final) > 0 and below.empty,
                        f"final reward not above the initial uniform policy's: {reason}" if reason
                        else "no learner ran")


def _pixel_results(pixel: pd.DataFrame | None) -> dict[str, Any]:
    """c7's metric and control: PPO-Lag's cost relative to PPO's, paired by seed; PPO seed against seed."""
    out: dict[str, Any] = {"pixel_lag_vs_ppo_cost": None, "pixel_ppo_seed_vs_seed_cost": None}
    if pixel is None or not len(pixel):
        return out
    costs = pixel_final(pixel).pivot(index="seed", columns="method", values="cost")
    if {"ppo", "ppo_lag"} <= set(costs.columns):
        both = costs[["ppo", "ppo_lag"]].dropna()
        out["pixel_lag_vs_ppo_cost"] = list((both.ppo_lag - both.ppo) / both.ppo)
    if "ppo" in costs and costs.ppo.notna().sum() >= 2:
        ppo = costs.ppo.dropna().to_numpy()
        pairs = len(ppo) // 2
        out["pixel_ppo_seed_vs_seed_cost"] = list((ppo[1::2][:pairs] - ppo[0::2][:pairs]) / ppo[0::2][:pairs])
    return out


def _learner_metrics(final: pd.DataFrame, budget: float, source: str, relative: bool) -> dict[str, Any]:
    """c2–c5's metrics and controls from per-seed final rewards and costs (``source``: cmdp or pixel)."""
    results: dict[str, Any] = {}
    for method, key in (("ppo", "ppo"), ("ppo_lag", "lag")):
        values = _method(final, method, "cost")
        results[f"{source}_{key}_cost_over_budget"] = (None if values is None or budget <= 0
                                                       else [v / budget for v in values])
    for method, key in (("ppo_pid", "pid"), ("ppo", "ppo")):
        values = _method(final, method, "cost")
        results[f"{source}_{key}_excess"] = None if values is None or budget <= 0 else [(v - budget) / budget
                                                                                        for v in values]
    for method, key in (("ppo_cost", "cost"), ("ppo", "ppo")):
        results[f"{source}_{key}_minus_lag_reward"] = _paired(final, method, "ppo_lag", "reward", relative)
    return results


def pixel_final(pixel: pd.DataFrame) -> pd.DataFrame:
    """Per method and seed of pixel runs: final reward and cost (the mean over the last fifth of the
    rollouts that finished an episode) and the first fifth's reward."""
    finished = pixel.dropna(subset=["episode_reward"])
    if not len(finished):
        return pd.DataFrame(columns=["method", "seed", "reward", "cost", "first_reward"])
    ordered = finished.assign(iteration=finished.groupby(["method", "seed"]).cumcount())
    rollouts = int(ordered.groupby(["method", "seed"]).size().min())
    window = max(1, rollouts // 5)
    return per_seed_final(ordered, last=window, first=window)


def beats_random_guard(final: pd.DataFrame, random_play: pd.DataFrame | None, method: str) -> claims.Guard:
    """``method``'s final reward beats random play's on the same environments: paired by seed, the
    lower end of the 95 % interval of the difference is above 0."""
    label = LABELS.get(method, method)
    rewards = final[final.method == method].set_index("seed").reward
    if not len(rewards):
        return claims.guard(False, f"{label} was not run from pixels")
    if random_play is None or not len(random_play):
        return claims.guard(False, "random play was not measured on the pixel runs' environments")
    floor = random_play.groupby("seed").reward.mean()
    seeds = sorted(set(rewards.index) & set(floor.index))
    if len(seeds) < 2:
        return claims.guard(False, f"{label} and random play share {len(seeds)} seed(s); the interval needs 2")
    difference = claims.paired_difference([rewards[s] for s in seeds], [floor[s] for s in seeds], unit="seeds")
    return claims.guard(difference.low > 0, f"{label}'s final reward does not beat random play's on the same "
                        f"environments (difference {claims.format_estimate(difference)})")


def _pixel_learners(pixel: pd.DataFrame | None, random_play: pd.DataFrame | None) -> dict[str, Any]:
    """c2–c5 judged from pixels: per seed, the last fifth of the rollouts; each compared method must
    beat random play on the same environments (a guard per method)."""
    if pixel is None or not len(pixel) or "budget" not in pixel:
        final = pd.DataFrame(columns=["method", "seed", "reward", "cost", "first_reward"])
        out = _learner_metrics(final, 1.0, "pixel", relative=True)
    else:
        final = pixel_final(pixel)
        out = _learner_metrics(final, float(pixel.budget.iloc[0]), "pixel", relative=True)
    for method in COMPARED:
        out[f"pixel_{method}_beats_random"] = beats_random_guard(final, random_play, method)
    return out


def claim_results(curves: pd.DataFrame, budget: float, random_table: pd.DataFrame, published: pd.DataFrame,
                  pixel: pd.DataFrame | None = None, pixel_random: pd.DataFrame | None = None) -> dict[str, Any]:
    """Every number the ledger reads (per seed where learners are compared).

    ``pixel_random``: random play on the pixel runs' own environments (one row per episode, with its
    seed; :func:`~reprobook.hasard.experiments.run_pixel_random`), the floor of the beats-random guards.
    """
    final = per_seed_final(curves)
    results: dict[str, Any] = _learner_metrics(final, budget, "cmdp", relative=False)
    results["cmdp_learned"] = _learned_guard(final)
    results.update(_pixel_learners(pixel, pixel_random))
    results.update(_pixel_results(pixel))
    facts = published_facts(published)
    results["published_ppo_over_budget_share"] = facts["ppo_over_budget_share"]
    results["published_human_beats_all_share"] = facts["human_beats_all_share"]
    ppo = published[published.method == "PPO"].set_index(["scenario", "level"]).reward
    joined = random_table.assign(ppo_reward=[ppo.get((s, lv), np.nan)
                                             for s, lv in zip(random_table.scenario, random_table.level, strict=True)])
    results["random_below_ppo_share"] = float((joined.reward < joined.ppo_reward).mean()) if len(joined) else np.nan
    return results

