import pytest

from reprobook.params import (
    ParameterError,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_int_list,
    check_jobs,
    check_known,
    check_size,
    check_subset,
)

MAXIMA = {"smoke": 50, "book": 5_000, "paper": 10_000_000}


def test_valid_values_pass_through():
    assert check_size("steps", 5_000, profile="book", maxima=MAXIMA) == 5_000
    assert check_size("steps", 0, profile="book", maxima=MAXIMA, minimum=0) == 0
    assert check_jobs("jobs", 4) == 4
    assert check_int("n", 3, minimum=1) == 3
    assert check_float("lr", 1, minimum=0) == 1.0
    assert check_bool("flag", False) is False
    assert check_choice("mode", "a", ["a", "b"]) == "a"
    assert check_subset("streams", ("a",), ["a", "b"]) == ["a"]
    assert check_int_list("seeds", [1, 2]) == [1, 2]


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: check_int("window", -1, minimum=3), "'window' must be an integer >= 3, got -1"),
        (lambda: check_int("window", 2.5), "'window' must be an integer"),
        (lambda: check_int("window", True), "'window' must be an integer"),
        (lambda: check_float("rate", float("nan")), "'rate' must be a finite number"),
        (lambda: check_float("rate", 2.0, maximum=1.0), "'rate' must be a number <= 1.0"),
        (lambda: check_bool("flag", "yes"), "'flag' must be True or False"),
        (lambda: check_choice("mode", "c", ["a", "b"]), "'mode' must be one of 'a', 'b'; got 'c'"),
        (lambda: check_subset("streams", ["a", "x"], ["a", "b"]), "unknown entries ['x']; allowed: 'a', 'b'"),
        (lambda: check_subset("streams", "a", ["a"]), "must be a list"),
        (lambda: check_subset("streams", ["a", "a"], ["a"]), "lists an entry twice"),
        (lambda: check_int_list("seeds", []), "at least 1 integers"),
        (lambda: check_int_list("seeds", [1, "2"]), "'seeds[1]' must be an integer"),
        (lambda: check_known({"windw": 3}, ["window", "seed"]), "unknown parameter(s) 'windw'; allowed parameters are: seed, window"),
        (lambda: check_size("steps", 10**15, profile="book", maxima=MAXIMA),
         "'steps' must be an integer in [1, 5000] at the book profile (maxima: smoke 50, book 5000, paper 10000000)"),
        (lambda: check_size("steps", 51, profile="smoke", maxima=MAXIMA), "in [1, 50] at the smoke profile"),
        (lambda: check_size("steps", 0, profile="paper", maxima=MAXIMA), "in [1, 10000000] at the paper profile"),
        (lambda: check_size("steps", 1e3, profile="paper", maxima=MAXIMA), "must be an integer"),
        (lambda: check_size("steps", 10, profile="huge", maxima=MAXIMA), "no maximum for profile 'huge'"),
        (lambda: check_jobs("jobs", 10**6), "'jobs' must be an integer in [1, 256], got 1000000"),
        (lambda: check_jobs("jobs", 0), "'jobs' must be an integer in [1, 256]"),
    ],
)
def test_errors_name_the_parameter_and_what_is_allowed(call, fragment):
    with pytest.raises(ParameterError) as error:
        call()
    assert fragment in str(error.value)
