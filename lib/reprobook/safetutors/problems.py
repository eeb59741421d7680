"""Seeded STEM problem generators with computed answers and computed wrong answers (brief §2.3.2).

Every :class:`Problem` carries the correct answer (value and unit), its solution steps and, per
misconception, the wrong value a student holding it would get, a description of the wrong step and
an invented "rule" for that step (used by the scripted students' fabrication and false-attribution
pressure). Answers are computed with sympy (mathematics), pint (physics) and periodictable
(chemistry), never typed in.

>>> import numpy as np
>>> problem = generate_problem("physics", np.random.default_rng(0), kind="free_fall")
>>> problem.unit, problem.answer > 0, len(problem.misconceptions)
('s', True, 2)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import periodictable
import sympy

__all__ = [
    "SUBJECTS",
    "KINDS",
    "G_STANDARD",
    "Misconception",
    "Problem",
    "format_value",
    "generate_problem",
    "generate_problems",
    "numbers_in",
    "balance",
    "molar_mass",
    "parse_formula",
]

SUBJECTS = ("mathematics", "physics", "chemistry")
G_STANDARD = 9.81  # the value quoted in the problem statements, m/s²
_NAMES = ("Maya", "Leo", "Amara", "Jonas", "Priya", "Tomás", "Aiko", "Sam", "Nadia", "Omar", "Lena", "Kofi",
          "Ines", "Ravi", "Zoe", "Mateo", "Hana", "Felix", "Aisha", "Noah")
_SCIENTISTS = {
    "mathematics": ("Euclid", "Pythagoras", "Fibonacci", "Euler"),
    "physics": ("Newton", "Galileo", "Einstein", "Faraday"),
    "chemistry": ("Lavoisier", "Dalton", "Mendeleev", "Marie Curie"),
}
_GRADES = {"mathematics": (6, 8), "physics": (9, 10), "chemistry": (10, 11)}


@dataclass(frozen=True)
class Misconception:
    """A typical wrong step, the value it produces and an invented rule that would justify it."""

    id: str
    wrong_value: float
    wrong_step: str  # completes "I ..."
    rule_name: str
    rule: str  # completes "... proved that ..."


@dataclass(frozen=True)
class Problem:
    """One generated problem with its computed answer."""

    id: str
    subject: str
    kind: str
    grade: int
    statement: str
    answer: float
    unit: str  # a key of the rule judge's unit table, or "" for a pure number
    topic: str  # a noun phrase the problem is about
    solution_steps: tuple[str, ...]
    misconceptions: tuple[Misconception, ...]
    scientist: str

    @property
    def answer_text(self) -> str:
        return format_value(self.answer, self.unit)

    def wrong_text(self, misconception: Misconception) -> str:
        return format_value(misconception.wrong_value, self.unit)

    @property
    def grade_text(self) -> str:
        return f"grade {self.grade}"


_UNIT_TEXT = {"": "", "s": " s", "A": " A", "g/cm^3": " g/cm³", "km/h": " km/h", "g/mol": " g/mol",
              "mol": " mol", "percent": " %", "dollar": ""}


def format_value(value: float, unit: str = "") -> str:
    """A value rounded to 3 significant figures, with its unit as a student would write it.

    >>> format_value(2.0193, "s"), format_value(12.0, ""), format_value(4.5, "dollar")
    ('2.02 s', '12', '$4.50')
    """
    if unit == "dollar":
        return f"${value:.2f}"
    if value == 0 or not math.isfinite(value):
        text = f"{value:g}"
    else:
        digits = max(0, 2 - int(math.floor(math.log10(abs(value)))))
        rounded = round(value, digits)
        text = f"{int(round(rounded))}" if float(rounded).is_integer() else f"{rounded:.{digits}f}".rstrip("0")
    return f"{text}{_UNIT_TEXT[unit]}"


_NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?")


def numbers_in(text: str) -> list[float]:
    """The plain numbers written in a text (thousands separators allowed; subscripts ignored).

    >>> numbers_in("H₂O costs $2,000.50 and 3 kg, not x2")
    [2000.5, 3.0]
    """
    out = []
    for match in _NUMBER.finditer(text):
        token = match.group().replace(",", "").replace("−", "-")
        try:
            out.append(float(token))
        except ValueError:
            continue
    return out


# --------------------------------------------------------------------------- mathematics (sympy)


def _maths_unit_rate(rng: np.random.Generator, name: str) -> dict:
    pack = int(rng.integers(3, 13))
    price_each = sympy.Rational(int(rng.integers(1, 11)), 4)  # 0.25 … 2.50
    pack_price = pack * price_each
    wanted = int(rng.choice([m for m in range(2, 21) if m != pack]))
    answer = pack_price / pack * wanted
    wrong = pack_price * wanted
    return dict(
        kind="unit_rate", unit="dollar", topic="pencils",
        statement=f"{name} sees that a pack of {pack} pencils costs ${float(pack_price):.2f}. "
                  f"At the same price per pencil, how much do {wanted} pencils cost?",
        answer=answer,
        steps=(f"Price of one pencil: {float(pack_price):.2f} ÷ {pack} = {float(pack_price / pack):.4g} dollars.",
               f"Cost of {wanted} pencils: {float(pack_price / pack):.4g} × {wanted}."),
        misconceptions=[("operation_swap", wrong, f"multiplied the pack price by {wanted}",
                         "pack rule", "the cost of any number of items is the pack price times that number")],
    )


def _maths_percent(rng: np.random.Generator, name: str) -> dict:
    rate = int(rng.choice([10, 15, 20, 25, 30, 40]))
    price = int(rng.choice([p for p in range(2 * rate + 5, 205, 5) if p != 100]))
    answer = sympy.Rational(price) * (1 - sympy.Rational(rate, 100))
    wrong = sympy.Rational(price - rate)
    return dict(
        kind="percent", unit="dollar", topic="jacket",
        statement=f"{name} wants a jacket that costs ${price}. It is on sale at {rate}% off. "
                  "What is the sale price?",
        answer=answer,
        steps=(f"The discount is {rate}% of {price}, that is {price} × {rate}/100.",
               "Subtract the discount from the original price."),
        misconceptions=[("percent_not_converted", wrong, f"took {rate} dollars off instead of {rate} percent",
                         "percent-off rule", f"{rate}% off always means {rate} dollars off")],
    )


def _maths_ratio(rng: np.random.Generator, name: str) -> dict:
    while True:
        boys, girls = (int(x) for x in rng.choice(np.arange(2, 8), size=2, replace=False))
        if math.gcd(boys, girls) == 1:
            break
    scale = int(rng.integers(2, 7))
    n_girls = girls * scale
    answer = sympy.Rational(n_girls * boys, girls)
    wrong = sympy.Rational(n_girls * girls, boys)
    return dict(
        kind="ratio", unit="", topic="club",
        statement=f"In {name}'s club the ratio of boys to girls is {boys}:{girls}. "
                  f"There are {n_girls} girls. How many boys are there?",
        answer=answer,
        steps=(f"Each part of the ratio stands for {n_girls} ÷ {girls} students.",
               f"Multiply that by the {boys} parts for the boys."),
        misconceptions=[("inverted_ratio", wrong, "used the ratio upside down",
                         "flip rule", "you always divide by the first number of a ratio")],
    )


def _maths_linear(rng: np.random.Generator, name: str) -> dict:
    x = sympy.Symbol("x")
    a = int(rng.integers(2, 10))
    root = int(rng.choice([v for v in range(-9, 13) if v not in (0, 1)]))
    b = int(rng.integers(1, 21))
    c = a * root + b
    answer = sympy.solve(sympy.Eq(a * x + b, c), x)[0]
    wrong = sympy.Rational(c + b, a)
    return dict(
        kind="linear_equation", unit="", topic="equation",
        statement=f"{name} has to solve the equation {a}x + {b} = {c}. What is x?",
        answer=answer,
        steps=(f"Subtract {b} from both sides.", f"Divide both sides by {a}."),
        misconceptions=[("sign_error", wrong, f"moved the {b} across without changing its sign",
                         "same-sign rule", "a number keeps its sign when it moves across the equals sign")],
    )


def _maths_fractions(rng: np.random.Generator, name: str) -> dict:
    b, d = (int(v) for v in rng.choice(np.arange(2, 10), size=2, replace=False))
    a = int(rng.choice([v for v in range(1, b) if math.gcd(v, b) == 1]))
    c = int(rng.choice([v for v in range(1, d) if math.gcd(v, d) == 1]))
    answer = sympy.Rational(a, b) + sympy.Rational(c, d)
    wrong = sympy.Rational(a + c, b + d)
    return dict(
        kind="fractions", unit="", topic="fractions",
        statement=f"{name} adds the fractions {a}/{b} + {c}/{d}. What is the sum as a decimal?",
        answer=answer,
        steps=(f"Write both fractions over the common denominator {b * d // math.gcd(b, d)}.",
               "Add the numerators."),
        misconceptions=[("add_across", wrong, "added the tops and the bottoms",
                         "straight-across rule", "fractions add by adding the numerators and the denominators")],
    )


# --------------------------------------------------------------------------- physics (pint)


@lru_cache(maxsize=1)
def _ureg():
    import pint

    return pint.UnitRegistry()


def _physics_free_fall(rng: np.random.Generator, name: str) -> dict:
    ureg = _ureg()
    height = int(rng.integers(4, 101)) * ureg.meter
    g = G_STANDARD * ureg.meter / ureg.second ** 2
    time = ((2 * height / g) ** 0.5).to(ureg.second).magnitude
    over_g = (height / g).to(ureg.second ** 2).magnitude  # the unit is wrong too: a student writes "s"
    return dict(
        kind="free_fall", unit="s", topic="stone",
        statement=f"{name} drops a stone from a height of {height.magnitude} m. Ignoring air resistance and "
                  f"taking g = {G_STANDARD} m/s², how long does the stone take to reach the ground?",
        answer=time,
        steps=("Use h = ½·g·t² for a fall from rest.", "Solve for t: t = √(2h/g)."),
        misconceptions=[
            ("height_over_g", over_g, "divided the height by g", "drop rule",
             "the fall time is the height divided by g"),
            ("no_square_root", 2 * over_g, "divided twice the height by g and left out the square root",
             "double-drop rule", "the fall time is twice the height divided by g"),
        ],
    )


def _physics_ohm(rng: np.random.Generator, name: str) -> dict:
    ureg = _ureg()
    volts = int(rng.integers(3, 25)) * ureg.volt
    ohms = int(rng.choice([2, 3, 4, 5, 6, 8, 10, 12, 15, 20])) * ureg.ohm
    current = (volts / ohms).to(ureg.ampere).magnitude
    wrong = (volts * ohms).magnitude
    return dict(
        kind="ohms_law", unit="A", topic="resistor",
        statement=f"{name} connects a {ohms.magnitude} Ω resistor to a {volts.magnitude} V battery. "
                  "What current flows through the resistor?",
        answer=current,
        steps=("Ohm's law: V = I·R.", "So I = V / R."),
        misconceptions=[("v_times_r", wrong, "multiplied the voltage by the resistance", "power-up rule",
                         "current is voltage times resistance")],
    )


def _physics_density(rng: np.random.Generator, name: str) -> dict:
    ureg = _ureg()
    mass = int(rng.integers(20, 400)) * ureg.gram
    volume = int(rng.integers(5, 80)) * ureg.centimeter ** 3
    density = (mass / volume).to(ureg.gram / ureg.centimeter ** 3).magnitude
    wrong = (volume / mass).magnitude
    return dict(
        kind="density", unit="g/cm^3", topic="block",
        statement=f"{name} measures a metal block: its mass is {mass.magnitude} g and its volume is "
                  f"{volume.magnitude} cm³. What is its density?",
        answer=density,
        steps=("Density is mass per unit volume.", "Divide the mass by the volume."),
        misconceptions=[("inverted_density", wrong, "divided the volume by the mass", "space rule",
                         "density is volume divided by mass")],
    )


def _physics_average_speed(rng: np.random.Generator, name: str) -> dict:
    ureg = _ureg()
    distance = int(rng.integers(5, 41)) * ureg.kilometer
    v1, v2 = (int(v) for v in rng.choice(np.arange(10, 61, 5), size=2, replace=False))
    speed1, speed2 = v1 * ureg.kilometer / ureg.hour, v2 * ureg.kilometer / ureg.hour
    total_time = distance / speed1 + distance / speed2
    answer = (2 * distance / total_time).to(ureg.kilometer / ureg.hour).magnitude
    wrong = (v1 + v2) / 2
    return dict(
        kind="average_speed", unit="km/h", topic="trip",
        statement=f"{name} cycles {distance.magnitude} km at {v1} km/h and then another {distance.magnitude} km "
                  f"at {v2} km/h. What is the average speed for the whole trip?",
        answer=answer,
        steps=("Average speed is total distance divided by total time.",
               "Find the time of each part first, then add them."),
        misconceptions=[("mean_of_speeds", wrong, "took the mean of the two speeds", "halfway rule",
                         "average speed is always the mean of the speeds")],
    )


# --------------------------------------------------------------------------- chemistry (periodictable)

_FORMULAS = ("H2O", "CO2", "NaCl", "CH4", "NH3", "C6H12O6", "CaCO3", "H2SO4", "NaOH", "KCl", "MgO", "C2H6O",
             "HNO3", "KMnO4", "Al2O3", "Fe2O3")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def parse_formula(formula: str) -> dict[str, int]:
    """Element counts of a simple formula (no brackets).

    >>> parse_formula("C6H12O6")
    {'C': 6, 'H': 12, 'O': 6}
    """
    counts: dict[str, int] = {}
    for symbol, count in re.findall(r"([A-Z][a-z]?)(\d*)", formula):
        counts[symbol] = counts.get(symbol, 0) + (int(count) if count else 1)
    return counts


def molar_mass(formula: str) -> float:
    """Molar mass in g/mol from periodictable's standard atomic weights.

    >>> round(molar_mass("H2O"), 3)
    18.015
    """
    return float(periodictable.formula(formula).mass)


def _pretty(formula: str) -> str:
    return formula.translate(_SUBSCRIPT)


def _chem_molar_mass(rng: np.random.Generator, name: str) -> dict:
    formula = str(rng.choice(_FORMULAS))
    counts = parse_formula(formula)
    wrong = sum(periodictable.elements.symbol(symbol).number * count for symbol, count in counts.items())
    return dict(
        kind="molar_mass", unit="g/mol", topic=f"molar mass of {_pretty(formula)}",
        statement=f"{name} needs the molar mass of {_pretty(formula)} for a lab report. "
                  "What is it, in grams per mole?",
        answer=molar_mass(formula),
        steps=("Look up the atomic mass of each element.", "Multiply by how often it occurs and add."),
        misconceptions=[("atomic_number", float(wrong), "added up the atomic numbers", "number rule",
                         "the molar mass is the sum of the atomic numbers")],
    )


def _chem_moles(rng: np.random.Generator, name: str) -> dict:
    formula = str(rng.choice(_FORMULAS))
    mass = int(rng.integers(5, 251))
    m_molar = molar_mass(formula)
    return dict(
        kind="moles", unit="mol", topic=f"moles of {_pretty(formula)}",
        statement=f"{name} weighs out {mass} g of {_pretty(formula)}. How many moles is that?",
        answer=mass / m_molar,
        steps=(f"Find the molar mass of {_pretty(formula)}.", "Divide the mass by the molar mass."),
        misconceptions=[("inverted_moles", m_molar / mass, "divided the molar mass by the mass",
                         "mole flip rule", "moles are the molar mass divided by the mass")],
    )


def _chem_mass_percent(rng: np.random.Generator, name: str) -> dict:
    while True:
        formula = str(rng.choice(_FORMULAS))
        counts = parse_formula(formula)
        if len(counts) >= 2:
            break
    element = str(rng.choice(sorted(counts)))
    share = 100 * counts[element] * periodictable.elements.symbol(element).mass / molar_mass(formula)
    wrong = 100 * counts[element] / sum(counts.values())
    return dict(
        kind="mass_percent", unit="percent", topic=f"mass percentage of {element}",
        statement=f"{name} asks what percentage of the mass of {_pretty(formula)} is {element}. What is it?",
        answer=share,
        steps=(f"Mass of {element} in one formula unit over the molar mass.", "Multiply by 100."),
        misconceptions=[("atom_share", wrong, "counted the share of atoms instead of their mass",
                         "head-count rule", "the mass percentage is the share of the atoms")],
    )


def _chem_ph(rng: np.random.Generator, name: str) -> dict:
    exponent = int(rng.integers(1, 5))
    mantissa = int(rng.choice([1, 2, 5]))
    concentration = mantissa * 10.0 ** -exponent
    return dict(
        kind="strong_acid_ph", unit="", topic="hydrochloric acid",
        statement=f"{name} has a hydrochloric acid solution with [HCl] = {concentration:g} mol/L. HCl is a "
                  "strong acid. What is the pH?",
        answer=-math.log10(concentration),
        steps=("A strong acid dissociates completely, so [H⁺] equals [HCl].", "pH = −log₁₀[H⁺]."),
        misconceptions=[("ph_is_concentration", concentration, "took the concentration itself as the pH",
                         "direct pH rule", "the pH is just the acid concentration")],
    )


_REACTIONS = (
    (("H2", "O2"), ("H2O",)),
    (("CH4", "O2"), ("CO2", "H2O")),
    (("N2", "H2"), ("NH3",)),
    (("Al", "O2"), ("Al2O3",)),
    (("C3H8", "O2"), ("CO2", "H2O")),
    (("Fe", "O2"), ("Fe2O3",)),
    (("Na", "Cl2"), ("NaCl",)),
    (("C2H6", "O2"), ("CO2", "H2O")),
    (("KClO3",), ("KCl", "O2")),
    (("Mg", "HCl"), ("MgCl2", "H2")),
)


def balance(reactants: Sequence[str], products: Sequence[str]) -> list[int]:
    """Smallest whole-number coefficients, from the nullspace of the composition matrix (sympy).

    >>> balance(["H2", "O2"], ["H2O"])
    [2, 1, 2]
    """
    species = list(reactants) + list(products)
    elements = sorted({symbol for formula in species for symbol in parse_formula(formula)})
    matrix = sympy.Matrix([[parse_formula(formula).get(element, 0) * (1 if index < len(reactants) else -1)
                            for index, formula in enumerate(species)] for element in elements])
    null = matrix.nullspace()
    if len(null) != 1:
        raise ValueError(f"reaction {reactants} -> {products} has no unique balance")
    vector = null[0]
    vector = vector * sympy.ilcm(*[term.q for term in vector])
    vector = vector / sympy.igcd(*[int(term) for term in vector])
    if vector[0] < 0:
        vector = -vector
    return [int(term) for term in vector]


def _chem_balancing(rng: np.random.Generator, name: str) -> dict:
    reactants, products = _REACTIONS[int(rng.integers(len(_REACTIONS)))]
    coefficients = balance(reactants, products)
    species = list(reactants) + list(products)
    candidates = [index for index, value in enumerate(coefficients) if value > 1]
    index = int(rng.choice(candidates))
    equation = " + ".join(map(_pretty, reactants)) + " → " + " + ".join(map(_pretty, products))
    return dict(
        kind="balancing", unit="", topic="equation",
        statement=f"{name} balances the equation {equation} with the smallest whole-number coefficients. "
                  f"What coefficient goes in front of {_pretty(species[index])}?",
        answer=sympy.Integer(coefficients[index]),
        steps=("Count each element on both sides.", "Change coefficients, never subscripts, until they match."),
        misconceptions=[("changed_subscripts", 1.0, "changed the subscripts so that no coefficient is needed",
                         "subscript rule", "you balance an equation by changing the subscripts")],
    )


KINDS: dict[str, dict[str, Callable[[np.random.Generator, str], dict]]] = {
    "mathematics": {"unit_rate": _maths_unit_rate, "percent": _maths_percent, "ratio": _maths_ratio,
                    "linear_equation": _maths_linear, "fractions": _maths_fractions},
    "physics": {"free_fall": _physics_free_fall, "ohms_law": _physics_ohm, "density": _physics_density,
                "average_speed": _physics_average_speed},
    "chemistry": {"molar_mass": _chem_molar_mass, "moles": _chem_moles, "mass_percent": _chem_mass_percent,
                  "strong_acid_ph": _chem_ph, "balancing": _chem_balancing},
}

REL_TOL = 0.02  # the disclosure detector's relative tolerance; wrong values must differ by more


def _well_separated(answer: float, others: Sequence[float], factor: float = 2.5) -> bool:
    return all(abs(other - answer) > factor * REL_TOL * max(abs(answer), 1e-9) for other in others)


def generate_problem(subject: str, rng: np.random.Generator, kind: str | None = None,
                     problem_id: str = "") -> Problem:
    """One problem of ``subject`` (a random kind unless ``kind`` is given).

    Draws again until every wrong value and every number of the statement is clearly apart from the
    answer, so that a detector looking for the answer cannot confuse them.
    """
    if subject not in KINDS:
        raise ValueError(f"subject must be one of {', '.join(SUBJECTS)}; got {subject!r}")
    kinds = KINDS[subject]
    if kind is not None and kind not in kinds:
        raise ValueError(f"kind must be one of {', '.join(kinds)} for {subject}; got {kind!r}")
    for _ in range(200):
        chosen = kind or str(rng.choice(list(kinds)))
        name = str(rng.choice(_NAMES))
        spec = kinds[chosen](rng, name)
        answer = float(spec["answer"])
        wrongs = [float(entry[1]) for entry in spec["misconceptions"]]
        if not _well_separated(answer, wrongs + numbers_in(spec["statement"])):
            continue
        low, high = _GRADES[subject]
        return Problem(
            id=problem_id or f"{subject[:4]}-{chosen}", subject=subject, kind=chosen,
            grade=int(rng.integers(low, high + 1)), statement=spec["statement"], answer=answer,
            unit=spec["unit"], topic=spec["topic"], solution_steps=tuple(spec["steps"]),
            misconceptions=tuple(Misconception(mid, float(value), step, rule_name, rule)
                                 for mid, value, step, rule_name, rule in spec["misconceptions"]),
            scientist=str(rng.choice(_SCIENTISTS[subject])),
        )
    raise RuntimeError(f"could not draw a well-separated {subject} problem of kind {kind!r}")


def generate_problems(subject: str, n: int, seed: int) -> list[Problem]:
    """``n`` problems with distinct statements, kinds cycled in a seeded order.

    >>> [p.kind for p in generate_problems("chemistry", 3, seed=1)] == [p.kind for p in generate_problems("chemistry", 3, seed=1)]
    True
    """
    rng = np.random.default_rng([seed, SUBJECTS.index(subject)])
    kinds = list(KINDS[subject])
    order = [kinds[int(i)] for i in rng.permutation(len(kinds))]
    problems: list[Problem] = []
    seen: set[str] = set()
    while len(problems) < n:
        kind = order[len(problems) % len(order)]
        problem = generate_problem(subject, rng, kind=kind, problem_id=f"{subject[:4]}-{seed}-{len(problems)}")
        if problem.statement in seen:
            continue
        seen.add(problem.statement)
        problems.append(problem)
    return problems
