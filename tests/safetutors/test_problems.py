import math

import numpy as np
import pytest
import scipy.constants
from mendeleev.fetch import fetch_table

from reprobook.safetutors.judges import RuleJudge
from reprobook.safetutors.problems import (
    _FORMULAS,
    _REACTIONS,
    G_STANDARD,
    KINDS,
    SUBJECTS,
    balance,
    generate_problem,
    generate_problems,
    molar_mass,
    numbers_in,
    parse_formula,
)


def _numbers(problem):
    return numbers_in(problem.statement)


@pytest.mark.parametrize("seed", range(15))
def test_maths_answers_match_float_formulas(seed):
    rng = np.random.default_rng(seed)
    for kind in KINDS["mathematics"]:
        p = generate_problem("mathematics", rng, kind=kind)
        nums = _numbers(p)
        if kind == "unit_rate":
            pack, price, wanted = nums
            expected = price / pack * wanted
        elif kind == "percent":
            price, rate = nums
            expected = price - price * rate / 100
        elif kind == "ratio":
            boys, girls, n_girls = nums
            expected = n_girls / girls * boys
        elif kind == "linear_equation":
            a, b, c = nums
            expected = (c - b) / a
        else:
            a, b, c, d = nums
            expected = a / b + c / d
        assert p.answer == pytest.approx(expected, rel=1e-12), (kind, p.statement)


@pytest.mark.parametrize("seed", range(15))
def test_physics_answers_match_hand_formulas(seed):
    rng = np.random.default_rng(seed)
    for kind in KINDS["physics"]:
        p = generate_problem("physics", rng, kind=kind)
        nums = _numbers(p)
        if kind == "free_fall":
            h = nums[0]
            assert p.answer == pytest.approx(math.sqrt(2 * h / G_STANDARD), rel=1e-12)
            # the quoted g is CODATA's standard gravity to 3 significant figures
            assert p.answer == pytest.approx(math.sqrt(2 * h / scipy.constants.g), rel=1e-3)
        elif kind == "ohms_law":
            ohms, volts = nums
            assert p.answer == pytest.approx(volts / ohms, rel=1e-12)
        elif kind == "density":
            mass, volume = nums[0], nums[1]
            assert p.answer == pytest.approx(mass / volume, rel=1e-12)
        else:
            d, v1, _, v2 = nums
            assert p.answer == pytest.approx(2 * d / (d / v1 + d / v2), rel=1e-12)


def test_molar_masses_agree_with_mendeleev():
    weights = fetch_table("elements").set_index("symbol")["atomic_weight"]  # mendeleev's own SQLite table
    for formula in _FORMULAS:
        independent = sum(float(weights[symbol]) * count for symbol, count in parse_formula(formula).items())
        assert molar_mass(formula) == pytest.approx(independent, abs=0.01), formula


def test_balanced_reactions_conserve_atoms():
    for reactants, products in _REACTIONS:
        coefficients = balance(reactants, products)
        assert all(c > 0 for c in coefficients) and math.gcd(*coefficients) == 1
        totals: dict[str, int] = {}
        for index, formula in enumerate(list(reactants) + list(products)):
            sign = 1 if index < len(reactants) else -1
            for symbol, count in parse_formula(formula).items():
                totals[symbol] = totals.get(symbol, 0) + sign * coefficients[index] * count
        assert set(totals.values()) == {0}, (reactants, products)
    assert balance(["CH4", "O2"], ["CO2", "H2O"]) == [1, 2, 1, 2]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_wrong_values_are_apart_and_not_detected_as_the_answer(subject):
    judge = RuleJudge()
    for p in generate_problems(subject, 40, seed=5):
        for m in p.misconceptions:
            assert abs(m.wrong_value - p.answer) > 0.02 * abs(p.answer)
            flags = judge.detect(f"The answer is {p.wrong_text(m)}.", answer=p.answer, unit=p.unit,
                                 wrong_value=float("nan"), rule_terms=(), problem=p.statement, grade=p.grade)
            assert not flags["disclosure"], (p.statement, p.wrong_text(m))
        flags = judge.detect(f"The answer is {p.answer_text}.", answer=p.answer, unit=p.unit,
                             wrong_value=float("nan"), rule_terms=(), problem=p.statement, grade=p.grade)
        assert flags["disclosure"], (p.statement, p.answer_text)


def test_generation_is_seeded_and_statements_distinct():
    a = generate_problems("chemistry", 30, seed=2)
    b = generate_problems("chemistry", 30, seed=2)
    assert [p.statement for p in a] == [p.statement for p in b]
    assert len({p.statement for p in a}) == 30
    assert [p.statement for p in generate_problems("chemistry", 30, seed=3)] != [p.statement for p in a]
