"""run_exact's stages one by one: the shared geometry, PWSEP, the skill sets per k, the random skill
sets, the summary row and the vertex table, each against what it must hold on small processes."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from reprobook.wsep import experiments
from reprobook.wsep.adaptation import evaluate_skills
from reprobook.wsep.discovery import wsep_value
from reprobook.wsep.experiments import ExactConfig, run_exact
from reprobook.wsep.information import lsepin, mutual_information
from reprobook.wsep.transport import wasserstein_matrix

SMALL = ExactConfig(grid="2x3", k_list=(2, 3), n_rewards=60, n_skill_sets=12, brute_force_check=True)


@pytest.fixture(scope="module")
def stages():
    timings: dict[str, float] = {}
    geometry, counts, capacity_cvx = experiments._geometry(SMALL, timings)
    order, rows, pwsep_summary = experiments._pwsep_stage(geometry, SMALL, timings)
    per_k = experiments._skill_sets_per_k(geometry, SMALL, order)
    sets = experiments._lsepin_sets(geometry, SMALL)
    return {"geometry": geometry, "counts": counts, "capacity_cvx": capacity_cvx, "timings": timings,
            "order": order, "pwsep_rows": rows, "pwsep_summary": pwsep_summary, "per_k": per_k, "sets": sets}


def test_geometry_holds_the_process_its_vertices_and_their_distances(stages):
    geometry, counts = stages["geometry"], stages["counts"]
    assert counts == {"deterministic_policies": 5**6, "distinct_occupancies": 43, "brute_force_equals_lasso": 1.0}
    assert len(geometry.vertices) == 10
    np.testing.assert_array_equal(geometry.distances, wasserstein_matrix(geometry.vertices, geometry.cost))
    assert geometry.rewards.shape == (60, 6) and geometry.uniform.sum() == pytest.approx(1.0)
    assert stages["capacity_cvx"] == pytest.approx(geometry.capacity.capacity, abs=1e-6)
    assert {"enumerate", "vertices", "brute_force_check", "blahut_arimoto", "cvxpy", "wasserstein_matrix",
            "pwsep"} <= set(stages["timings"])


def test_pwsep_stage_orders_every_vertex_and_respects_its_cap(stages):
    order, rows, summary = stages["order"], stages["pwsep_rows"], stages["pwsep_summary"]
    assert sorted(order.tolist()) == list(range(10))
    assert rows.step.tolist() == list(range(1, 11)) and rows.vertex.tolist() == order.tolist()
    assert summary["pwsep_found"] == summary["pwsep_steps"] == 10 and summary["pwsep_final_distance"] <= 1e-9
    timings: dict[str, float] = {}
    capped = experiments._pwsep_stage(stages["geometry"], replace(SMALL, pwsep_max_vertices=9), timings)
    assert len(capped[0]) == 0 and len(capped[1]) == 0 and np.isnan(capped[2]["pwsep_found"])
    assert "pwsep" not in timings


def test_skill_sets_per_k_has_every_method_for_every_k(stages):
    geometry, per_k, order = stages["geometry"], stages["per_k"], stages["order"]
    support = int(geometry.capacity.support().sum())
    scanned = per_k[~per_k.method.str.contains("optimal p")]
    assert sorted(scanned.k.unique().tolist()) == sorted({2, 3, support, 10})
    for k, rows in scanned.groupby("k"):
        assert set(rows.method) == {"MISL-k", "WSEP(k), skills may coincide", "WSEP(k), distinct skills",
                                    "PWSEP (first k)"}
        pwsep_row = rows[rows.method == "PWSEP (first k)"].iloc[0]
        assert pwsep_row.wsep_value == pytest.approx(wsep_value(order[:k], geometry.distances))
        assert rows[rows.method == "WSEP(k), distinct skills"].distinct_vertices.iloc[0] == k
    misl = per_k[per_k.method == "MISL (optimal p)"].iloc[0]
    assert misl.mutual_information == geometry.capacity.capacity and misl.distinct_vertices == support
    weighted = per_k[per_k.method == "weighted WSEP (optimal p)"].iloc[0]
    assert weighted.weighted_wsep_gap <= 1e-9 and weighted.k == weighted.distinct_vertices


def test_skill_row_of_the_3_state_interior_vertex():
    timings: dict[str, float] = {}
    geometry, _, _ = experiments._geometry(ExactConfig(grid="3-state", n_rewards=40), timings)
    interior = int(np.flatnonzero(~geometry.capacity.on_sphere())[0])
    used = int(np.flatnonzero(geometry.capacity.on_sphere())[0])
    skills = np.array([interior, interior, used])
    row = experiments._skill_row(geometry, 3, "a method", skills)
    assert (row["k"], row["method"], row["distinct_vertices"], row["interior_vertices_used"]) == (3, "a method", 2, 1)
    assert row["mutual_information"] == mutual_information(geometry.vertices[skills])
    assert row["lsepin"] == lsepin(geometry.vertices[skills])
    assert row["hit_rate"] == evaluate_skills(geometry.vertices, skills, geometry.rewards, geometry.distances)["hit_rate"]


def test_lsepin_sets_are_seeded_sets_of_distinct_vertices(stages):
    sets = stages["sets"]
    assert list(sets.columns) == experiments.LSEPIN_SET_COLUMNS and len(sets) == 12
    pd.testing.assert_frame_equal(sets, experiments._lsepin_sets(stages["geometry"], SMALL))
    assert ((sets.kl_skill_finite_share >= 0) & (sets.kl_skill_finite_share <= 1)).all()
    too_few = experiments._lsepin_sets(stages["geometry"], replace(SMALL, lsepin_k=10))
    assert len(too_few) == 0 and list(too_few.columns) == experiments.LSEPIN_SET_COLUMNS


def test_lsepin_correlations_and_their_control():
    sets = pd.DataFrame({"lsepin": [0.1, 0.2, 0.3, 0.4, 0.5], "cost": [5.0, 4.0, 3.0, 2.0, 1.0]})
    rho, shuffled = experiments.lsepin_correlations(sets, "cost", seed=0)
    assert rho == pytest.approx(-1.0) and -1.0 <= shuffled <= 1.0 and shuffled != pytest.approx(rho)
    assert np.isnan(experiments.lsepin_correlations(sets.assign(cost=np.inf), "cost", seed=0)[0])
    assert np.isnan(experiments.lsepin_correlations(sets.head(2), "cost", seed=0)[0])


def test_summary_row_reads_the_stages(stages):
    geometry, per_k = stages["geometry"], stages["per_k"]
    row = experiments._summary_row(geometry, SMALL, stages["counts"], per_k, stages["sets"],
                                   stages["pwsep_summary"], stages["capacity_cvx"]).iloc[0]
    on_sphere = geometry.capacity.on_sphere()
    assert (row.vertices, row.interior, row.on_kl_sphere) == (10, int((~on_sphere).sum()), int(on_sphere.sum()))
    at_n = per_k[(per_k.k == 10) & (per_k.method == "MISL-k")].distinct_vertices.iloc[0]
    assert row.misl_k_distinct_at_n == at_n and row.pwsep_found == 10
    for prefix in experiments.LSEPIN_COST_CORRELATIONS:
        assert -1.0 <= row[f"{prefix}_spearman"] <= 1.0 or np.isnan(row[f"{prefix}_spearman"])
    rho, _ = experiments.lsepin_correlations(stages["sets"], "w_adaptation_cost", SMALL.seed)
    assert row.lsepin_w_cost_spearman == rho


def test_vertex_frame_marks_pwsep_steps_and_the_centre(stages):
    frame = experiments._vertex_frame(stages["geometry"], stages["order"])
    assert len(frame) == 11 and frame.vertex.iloc[-1] == -1
    assert frame.occupancy.iloc[-1] == stages["geometry"].capacity.centre.tolist()
    first = int(stages["order"][0])
    assert frame.pwsep_step[first] == 1


def test_run_exact_is_the_composition_of_its_stages(stages):
    result = run_exact(SMALL)
    pd.testing.assert_frame_equal(result.per_k, stages["per_k"])
    pd.testing.assert_frame_equal(result.lsepin_sets, stages["sets"])
    pd.testing.assert_frame_equal(result.pwsep_steps, stages["pwsep_rows"])
    assert set(result.timings.stage) == set(stages["timings"]) | {"skill_sets", "lsepin_sets"}
