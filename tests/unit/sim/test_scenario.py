"""Scenario loading: the default, every distribution kind, overrides, the TOML writer and every validation error."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from pavilion.errors import InputError
from pavilion.sim import DEFAULT_SCENARIO_TOML, load_scenario, scenario_to_toml
from pavilion.sim.distributions import lognormal_log_params


def test_default_is_design_section_4() -> None:
    design = Path(__file__).resolve().parents[3] / ".." / "shared" / "DESIGN.md"
    if design.exists():  # outside this machine (CI on a clean clone) the contract file is not at hand
        text = design.read_text(encoding="utf-8")
        block = text.split("```toml\n", 1)[1].split("```", 1)[0]
        assert block == DEFAULT_SCENARIO_TOML
    s = load_scenario(None)
    assert (s.name, s.policy.name, s.policy.max_waiting) == ("default", "pavilion", 3)
    assert s.workload.arrivals.rate_per_hour == 48 and s.workload.waiting_exit.abandoned == 0.2
    assert s.workload.assignment_duration_s == 1800 and s.workload.abandoned_slot_reopens == "at_deadline"
    assert s.workload.abandon_detection_s.kind == "constant" and s.run.horizon_s == 28800
    assert s.payment.platform_fee == pytest.approx(0.2) and s.run.replications == 20 and s.run.seed == 1


def test_file_is_merged_onto_the_default(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('name = "mine"\n[policy]\nmax_waiting = 5\n[workload]\n'
                    'hire_delay_s = { dist = "uniform", low = 1, high = 3 }\n', encoding="utf-8")
    s = load_scenario(path)
    assert (s.name, s.policy.max_waiting, s.policy.max_active) == ("mine", 5, 3)
    assert s.workload.hire_delay_s.kind == "uniform" and s.workload.hire_delay_s.params == {"low": 1.0, "high": 3.0}
    assert load_scenario(str(path)) == s


# (table, exact mean): each kind is sampled 40,000 times; the sample mean must be within 4 standard errors.
KINDS = [
    ({"dist": "exponential", "mean": 60}, 60.0, 60.0),
    ({"dist": "constant", "value": 5}, 5.0, 0.0),
    ({"dist": "uniform", "low": 10, "high": 30}, 20.0, 20 / math.sqrt(12)),
    ({"dist": "lognormal", "mean": 72.01, "sd": 87.09}, 72.01, 87.09),
    ({"dist": "weibull", "shape": 1.5, "scale": 100}, 100 * math.gamma(1 + 1 / 1.5),
     100 * math.sqrt(math.gamma(1 + 2 / 1.5) - math.gamma(1 + 1 / 1.5) ** 2)),
]


@pytest.mark.parametrize(("table", "mean", "sd"), KINDS, ids=[t["dist"] for t, _, _ in KINDS])
def test_each_kind_samples_its_mean(table: dict[str, object], mean: float, sd: float) -> None:
    s = load_scenario(None, overrides={"workload.active_duration_s": table})
    dist = s.workload.active_duration_s
    assert dist.mean == pytest.approx(mean)
    x = dist.sample(np.random.default_rng(7), 40_000)
    assert (x >= 0).all()
    assert abs(x.mean() - mean) <= 4 * sd / math.sqrt(len(x)) + 1e-12
    if sd > 0:
        assert abs(x.std() - sd) <= 0.1 * sd  # sd of the sample: within 10% (lognormal tails converge slowly)


def test_lognormal_parameters_are_the_distributions_own_mean_and_sd() -> None:
    mu, sigma = lognormal_log_params(72.01, 87.09)
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(72.01)
    assert math.sqrt((math.exp(sigma**2) - 1) * math.exp(2 * mu + sigma**2)) == pytest.approx(87.09)


def test_empirical_from_a_csv_relative_to_the_scenario_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "waits.csv").write_text("seconds\n10\n20\n\n60\n", encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text('[workload]\nhire_delay_s = { dist = "empirical", file = "data/waits.csv" }\n', encoding="utf-8")
    dist = load_scenario(path).workload.hire_delay_s
    assert dist.kind == "empirical" and dist.mean == pytest.approx(30.0)
    assert Path(dist.params["file"]) == (tmp_path / "data" / "waits.csv").resolve()
    x = dist.sample(np.random.default_rng(1), 30_000)
    assert set(np.unique(x)) == {10.0, 20.0, 60.0}
    # each value drawn with probability 1/3: within 4 standard errors
    assert abs((x == 60.0).mean() - 1 / 3) <= 4 * math.sqrt(2 / 9 / len(x))


@pytest.mark.parametrize(("content", "message"), [
    ("", "holds no values"),
    ("1,2\n", "expected one column"),
    ("5\nabc\n", "line 2: 'abc' is not a number"),
    ("5\n-1\n", "finite and >= 0"),
])
def test_empirical_bad_files(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "x.csv").write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as info:
        load_scenario(None, overrides={"workload.hire_delay_s": {"dist": "empirical", "file": str(tmp_path / "x.csv")}})
    assert str(info.value).startswith("workload.hire_delay_s.file: ") and "\n" not in str(info.value)


def test_empirical_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^workload.hire_delay_s.file: cannot read .*nope.csv"):
        missing = {"dist": "empirical", "file": str(tmp_path / "nope.csv")}
        load_scenario(None, overrides={"workload.hire_delay_s": missing})


def test_overrides_typed_or_text() -> None:
    s = load_scenario(None, overrides={
        "policy.max_waiting": "2", "payment.platform_fee": "0.5", "policy.name": "on-demand",
        "workload.hire_delay_s": '{dist="constant", value=5}', "workload.waiting_patience_s.mean": 300,
        "workload.arrivals.mode": "per_slot", "run.horizon_s": "3600", "name": "2",
    })
    assert (s.policy.max_waiting, s.payment.platform_fee, s.policy.name, s.name) == (2, 0.5, "on-demand", "2")
    assert s.workload.hire_delay_s.params == {"value": 5.0} and s.workload.waiting_patience_s.mean == 300
    assert s.workload.arrivals.mode == "per_slot" and s.run.horizon_s == 3600


def test_changing_a_kind_drops_the_old_parameters_in_either_order() -> None:
    a = load_scenario(None, overrides={"workload.hire_delay_s.mean": 30, "workload.hire_delay_s.dist": "exponential"})
    b = load_scenario(None, overrides={"workload.hire_delay_s.dist": "exponential", "workload.hire_delay_s.mean": 30})
    assert a == b and a.workload.hire_delay_s.params == {"mean": 30.0}


def test_with_overrides_leaves_the_original_alone() -> None:
    s = load_scenario(None)
    t = s.with_overrides({"policy.max_waiting": 1, "workload.active_exit.submitted": 0.9,
                          "workload.active_exit.returned": 0.05, "workload.active_exit.abandoned": 0.05})
    assert s.policy.max_waiting == 3 and t.policy.max_waiting == 1 and t.workload.active_exit.submitted == 0.9
    assert s.data["policy"]["max_waiting"] == 3


@pytest.mark.parametrize("overrides", [
    {},
    {"workload.hire_delay_s": {"dist": "lognormal", "mean": 72.01, "sd": 87.09}},
    {"workload.active_duration_s": {"dist": "weibull", "shape": 0.7, "scale": 1e3}, "policy.name": "on-demand"},
    {"workload.waiting_patience_s": {"dist": "constant", "value": math.inf}, "name": 'quote " and \\ back'},
    {"workload.abandon_detection_s": {"dist": "uniform", "low": 0, "high": 0.1}, "run.warmup_s": 1.5},
    {"workload.arrivals": {"mode": "per_slot", "time_to_fill_s": {"dist": "weibull", "shape": 0.9, "scale": 60}},
     "workload.assignment_duration_s": math.inf, "workload.abandoned_slot_reopens": "at_once"},
])
def test_toml_round_trip(overrides: dict[str, object], tmp_path: Path) -> None:
    s = load_scenario(None, overrides=overrides)
    text = scenario_to_toml(s)
    tomllib.loads(text)
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    assert load_scenario(path) == s


def test_toml_round_trip_of_an_empirical(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("1\n2\n", encoding="utf-8")
    s = load_scenario(None, overrides={"workload.hire_delay_s": {"dist": "empirical", "file": str(tmp_path / "d.csv")}})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "scenario.toml").write_text(scenario_to_toml(s), encoding="utf-8")
    back = load_scenario(tmp_path / "out" / "scenario.toml")
    assert back == s and back.workload.hire_delay_s.mean == 1.5


BAD = [
    ({"workload.arrivals.rate_per_hour": -3}, "workload.arrivals.rate_per_hour: must be > 0 and finite, got -3"),
    ({"workload.arrivals.rate_per_hour": "fast"}, "workload.arrivals.rate_per_hour: must be a number, got 'fast'"),
    ({"workload.arrivals.mode": "bursty"}, "workload.arrivals.mode: must be one of pooled, per_slot, got 'bursty'"),
    ({"policy.max_wating": 2}, "unknown key 'policy.max_wating'"),
    ({"polcy.name": "x"}, "unknown key 'polcy.name'"),
    ({"workload.hire_delay_s.mean": 3},
     "unknown key 'workload.hire_delay_s.mean' (a constant distribution takes value)"),
    ({"workload.waiting_exit.submitted": 0.4}, "workload.waiting_exit: probabilities sum to 0.9, not 1"),
    ({"workload.waiting_exit.returned": -0.1, "workload.waiting_exit.submitted": 0.9},
     "workload.waiting_exit.returned: must be a probability in [0, 1], got -0.1"),
    ({"workload.waiting_exit.gone": 0.1}, "unknown key 'workload.waiting_exit.gone'"),
    ({"policy.min_active": 4}, "policy.max_active (3) must be >= min_active (4)"),
    ({"policy.min_waiting": 5}, "policy.max_waiting (3) must be >= min_waiting (5)"),
    ({"policy.min_active": 0}, "policy.min_active must be >= 1, got 0"),
    ({"policy.max_waiting": 2.5}, "policy.max_waiting: must be an integer, got 2.5"),
    ({"policy.name": "fifo"}, "policy.name: unknown policy 'fifo'; known policies: on-demand, pavilion"),
    ({"workload.active_duration_s.dist": "gamma"}, "workload.active_duration_s.dist: must be one of exponential, "
                                                   "constant, uniform, lognormal, weibull, empirical, got 'gamma'"),
    ({"workload.active_duration_s.dist": "weibull"}, "workload.active_duration_s.shape: missing"),
    ({"workload.active_duration_s.mean": 0}, "workload.active_duration_s.mean: must be > 0 and finite, got 0"),
    ({"workload.abandon_detection_s.value": -1}, "workload.abandon_detection_s.value: must be >= 0, got -1"),
    ({"workload.hire_delay_s": {"dist": "uniform", "low": 5, "high": 2}},
     "workload.hire_delay_s.high: must be >= low (5) and finite, got 2"),
    ({"workload.hire_delay_s": {"dist": "lognormal", "mean": 5, "sd": -2}},
     "workload.hire_delay_s.sd: must be >= 0 and finite, got -2"),
    ({"workload.hire_delay_s": {"dist": "weibull", "shape": 0, "scale": 2}},
     "workload.hire_delay_s.shape: must be > 0 and finite, got 0"),
    ({"workload.hire_delay_s": 5}, "workload.hire_delay_s: must be a table like"),
    ({"payment.reward": -0.1}, "payment.reward: must be >= 0 and finite, got -0.1"),
    ({"payment.platform_fee": 1.5}, "payment.platform_fee: must be a fraction below 1 (0.20 is 20%), got 1.5"),
    ({"run.horizon_s": 0}, "run.horizon_s: must be > 0 and finite, got 0"),
    ({"run.warmup_s": 28800}, "run.warmup_s: must be >= 0 and below run.horizon_s (28800), got 28800"),
    ({"run.replications": 0}, "run.replications: must be >= 1, got 0"),
    ({"run.seed": -1}, "run.seed: must be >= 0, got -1"),
    ({"run.seed": True}, "run.seed: must be an integer, got True"),
    ({"name": 3}, "name: must be a string, got 3"),
    # the platforms' slot rules
    ({"workload.assignment_duraton_s": 60}, "unknown key 'workload.assignment_duraton_s'"),
    ({"workload.arrivals.time_to_fil_s": 60}, "unknown key 'workload.arrivals.time_to_fil_s'"),
    ({"workload.arrivals.time_to_fill_s.median": 60}, "unknown key 'workload.arrivals.time_to_fill_s.median'"),
    ({"workload.assignment_duration_s": 0}, "workload.assignment_duration_s: must be > 0 seconds (inf: no time "
                                            "limit), got 0"),
    ({"workload.assignment_duration_s": -60}, "workload.assignment_duration_s: must be > 0 seconds"),
    ({"workload.assignment_duration_s": "long"}, "workload.assignment_duration_s: must be a number, got 'long'"),
    ({"workload.abandoned_slot_reopens": "later"},
     "workload.abandoned_slot_reopens: must be one of at_once, at_deadline, got 'later'"),
    ({"workload.arrivals.time_to_fill_s": {"dist": "exponential", "mean": 60}},
     "workload.arrivals.time_to_fill_s: give it or workload.arrivals.rate_per_hour, not both"),
    ({"workload.arrivals": {"mode": "pooled", "time_to_fill_s": {"dist": "exponential", "mean": 60}}},
     "workload.arrivals.time_to_fill_s: only per_slot arrivals take it"),
    ({"workload.arrivals": {"mode": "per_slot", "time_to_fill_s": {"dist": "uniform", "low": 9, "high": 1}}},
     "workload.arrivals.time_to_fill_s.high: must be >= low (9) and finite, got 1"),
    ({"workload.arrivals": {"mode": "per_slot"}}, "workload.arrivals.rate_per_hour: missing (per_slot arrivals may "
                                                  "give time_to_fill_s instead)"),
    ({"workload.assignment_duration_s": math.inf},
     "workload.abandoned_slot_reopens: at_deadline with assignment_duration_s = inf and abandonment possible: an "
     "abandoned slot would never re-open"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD, ids=[m.split(":")[0][:40] for _, m in BAD])
def test_validation_errors_name_the_key_on_one_line(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as info:
        load_scenario(None, overrides=overrides)
    text = str(info.value)
    assert text.startswith(message) and "\n" not in text


def test_slot_rules_accepted() -> None:
    """inf with at_once, inf with at_deadline when nobody abandons, and a per-slot fill distribution."""
    old = load_scenario(None, overrides={"workload.assignment_duration_s": "inf",
                                         "workload.abandoned_slot_reopens": "at_once"})
    assert old.workload.assignment_duration_s == math.inf and old.workload.abandoned_slot_reopens == "at_once"
    never = load_scenario(None, overrides={"workload.assignment_duration_s": math.inf,
                                           "workload.waiting_exit": {"submitted": 1},
                                           "workload.active_exit": {"returned": 1}})
    assert never.workload.abandoned_slot_reopens == "at_deadline"
    fill = load_scenario({"workload": {"arrivals": {"mode": "per_slot", "time_to_fill_s": {
        "dist": "lognormal", "mean": 72.01, "sd": 87.09}}}})
    a = fill.workload.arrivals
    assert a.rate_per_hour is None and a.time_to_fill_s is not None and a.time_to_fill_s.mean == 72.01
    tuned = fill.with_overrides({"workload.arrivals.time_to_fill_s.mean": 30})
    assert tuned.workload.arrivals.time_to_fill_s is not None and tuned.workload.arrivals.time_to_fill_s.mean == 30
    shorthand = load_scenario(None, overrides={"workload.arrivals.mode": "per_slot"}).workload.arrivals
    assert shorthand.time_to_fill_s is not None and shorthand.time_to_fill_s.params == {"mean": 75.0}


def test_bad_dict_keys(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^unknown key 'payment.tip'$"):
        load_scenario({"payment": {"tip": 1}})
    with pytest.raises(InputError, match=r"^unknown key 'extra'$"):
        load_scenario({"extra": 1})
    with pytest.raises(InputError, match=r"^run: must be a table"):
        load_scenario({"run": 5})


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"scenario file .*missing.toml: not found"):
        load_scenario(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[policy\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"scenario file .*bad.toml: not valid TOML") as info:
        load_scenario(tmp_path / "bad.toml")
    assert "\n" not in str(info.value)


def test_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        load_scenario(None, overrides={"run.seed": -1})


def test_a_dotted_key_below_a_value_is_named() -> None:
    with pytest.raises(InputError, match=r"^workload.hire_delay_s: is 5, not a table, so workload.hire_delay_s.value"):
        load_scenario(None, overrides={"workload.hire_delay_s": 5, "workload.hire_delay_s.value": 3})
