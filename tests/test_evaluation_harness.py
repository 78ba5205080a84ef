"""The FastSRB harness end to end without a model: the planted perfect predictor scores 100%, the constant predictor
0%, failures are scored, sweeps vary what they should, and a --subset CLI run writes its files."""

import json

import numpy as np
import pytest

from lawfinder.evaluation import plots
from lawfinder.evaluation.baselines import _gplearn_tokens
from lawfinder.evaluation.cli import parse_budgets
from lawfinder.evaluation.datasets import FastSRBConfig, generate
from lawfinder.evaluation.harness import RunSpec, evaluate, score, summarize
from lawfinder.evaluation.methods import ConstantMethod, PlantedMethod, make_method
from lawfinder.evaluation.protocol import Budget, Prediction
from lawfinder.evaluation.metrics import load_simplifier
from lawfinder.evaluation.axis_sweeps import Selection, run_sweep, specs_for
from lawfinder.cli import main


@pytest.fixture(scope="module")
def datasets64():
    return generate(FastSRBConfig(precision="float64")).datasets


def _value(summary, metric, group="main"):
    return summary[group][metric]["value"]


def test_planted_scores_100_and_constant_0_on_every_equation(datasets64):
    planted = summarize(evaluate(PlantedMethod(), datasets64, Budget()), n_resamples=200)
    constant = summarize(evaluate(ConstantMethod(), datasets64, Budget()), n_resamples=200)
    assert planted["main"]["n_equations"] == 115 and planted["excluded"]["n_equations"] == 4
    for metric in ("fNRR", "vNRR", "SRR", "accuracy_r2", "length_ratio"):
        assert _value(planted, metric) == 1.0
        assert planted["main"][metric]["low"] == planted["main"][metric]["high"] == 1.0
    for metric in ("fNRR", "vNRR", "SRR", "accuracy_r2"):
        assert _value(constant, metric) == 0.0
        assert _value(constant, metric, "excluded") == 0.0
    assert _value(constant, "length_ratio") < 0.5


def test_float32_ceiling_names_the_equations_the_cast_breaks():
    data = generate(FastSRBConfig()).datasets
    records = evaluate(PlantedMethod(), data, Budget())
    missed = {r["equation"] for r in records if not r["recovered_val"]}
    # II.11.28 is constant to 1e-7 (the cast leaves FVU ~ 0.04 for the truth), the others are ill-conditioned.
    assert "II.11.28" in missed
    assert len(missed) <= 5


class _Crashing:
    name = "crashing"

    def fit_predict(self, task, budget):
        raise RuntimeError("no luck")


class _Flaky:
    name = "flaky"

    def __init__(self):
        self.calls = 0

    def fit_predict(self, task, budget):
        self.calls += 1
        if self.calls % 2:
            raise RuntimeError(f"no luck {self.calls}")
        return PlantedMethod().fit_predict(task, budget)


def test_a_crashing_method_is_scored_as_a_failure(datasets64):
    records = evaluate(_Flaky(), datasets64[:4], Budget(7))
    assert [r["success"] for r in records] == [False, True, False, True]
    assert [r["recovered_val"] for r in records] == [False, True, False, True]
    assert "no luck 1" in records[0]["error"]
    assert _value(summarize(records, n_resamples=50), "fit_success") == 0.5


def test_the_same_error_on_the_first_problems_aborts_the_run(datasets64):
    with pytest.raises(ValueError, match="no luck"):
        evaluate(_Crashing(), datasets64[:5], Budget(7))


def test_a_model_too_narrow_for_every_table_is_scored_not_aborted(datasets64):
    # A 1-variable model on tables of 2+ columns: each search reads the one column a random forest ranks first
    # (and the full table's baselines every column), so every problem is fitted and scored, and the run goes on.
    wide = [d for d in datasets64 if len(d.equation.variables) > 1][:5]
    records = evaluate(make_method("lawfinder", model=str(_one_variable_model())), wide, Budget(4))
    assert len(records) == 5 and all(r["success"] and "error" not in r for r in records)


def test_asking_a_model_for_more_columns_than_it_reads_is_a_scored_failure(datasets64):
    wide = [d for d in datasets64 if len(d.equation.variables) > 1][:4]
    method = make_method("lawfinder", model=str(_one_variable_model()), options={"select_k_features": 2})
    records = evaluate(method, wide, Budget(4))
    assert len(records) == 4 and not any(r["success"] for r in records)
    assert all("the model reads at most 1" in r["error"] for r in records)


def _one_variable_model():
    import tempfile
    from pathlib import Path

    from lawfinder.model.build import build_model
    from lawfinder.model.checkpoint import save_model
    from lawfinder.model.presets import get_preset

    path = Path(tempfile.mkdtemp()) / "narrow.pt"
    save_model(path, build_model(get_preset("flash-tiny", max_variables=1)))
    return path


def test_non_finite_predictions_fail_numerically(datasets64):
    bad = Prediction(tokens=["log", "neg", "x1"], predict=lambda X: np.log(-np.abs(X[:, 0]) - 1.0))
    record = score(datasets64[0], bad)
    assert record["fvu_fit"] is None and not record["recovered_fit"] and not record["accurate_val"]
    assert record["length_ratio"] == pytest.approx(3 / 7)


def test_noise_hurts_the_fit_split_only_and_sparsity_keeps_the_truth_exact():
    selection = Selection(subset=5, datasets=2)
    methods = {"planted": PlantedMethod()}
    budgets = {"planted": [Budget()]}
    config = FastSRBConfig(precision="float64")
    noise = run_sweep("noise", specs_for("noise", ["planted"], budgets, "float64", (0.0, 0.1)), methods, config,
                      selection, n_resamples=100)
    clean, noisy = (run["summary"]["main"] for run in noise.runs)
    assert clean["fNRR"]["value"] == 1.0 and noisy["fNRR"]["value"] == 0.0
    assert noisy["vNRR"]["value"] == 1.0
    sparse = run_sweep("sparsity", specs_for("sparsity", ["planted"], budgets, "float64", points=(8, 64)),
                       methods, config, selection, n_resamples=100)
    assert [run["n_fit"] for run in sparse.runs] == [8, 64]
    assert all(run["summary"]["main"]["vNRR"]["value"] == 1.0 for run in sparse.runs)


def test_budgets_parse_per_method_and_shared():
    budgets = parse_budgets(["16,64", "pyoperon:5"], ["lawfinder", "pyoperon", "planted"], 3.0)
    assert budgets["lawfinder"] == [Budget(16, 3.0), Budget(64, 3.0)]
    assert budgets["pyoperon"] == [Budget(5, 3.0)]
    assert budgets["planted"] == [Budget(None, 3.0)]
    with pytest.raises(ValueError, match="gplearn"):
        parse_budgets(["gplearn:5"], ["lawfinder"], None)
    with pytest.raises(ValueError, match="unknown method"):
        make_method("pysr")
    assert RunSpec("planted", Budget(4)).as_dict()["budget_label"] == "4"


def test_gplearn_programs_become_tokens():
    class Fn:
        def __init__(self, name):
            self.name = name

    program = [Fn("add"), Fn("mul"), 0, 0.5, Fn("sqrt"), 1]
    assert _gplearn_tokens(program) == ["+", "*", "x1", "0.5", "pow1_2", "x2"]
    with pytest.raises(ValueError, match="max"):
        _gplearn_tokens([Fn("max"), 0, 1])


def test_subset_cli_run_writes_json_markdown_and_plots(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["bench", "fastsrb", "--method", "planted,constant", "--subset", "4", "--datasets", "2",
                 "--resamples", "200", "--out", str(out), "--quiet"])
    assert code == 0
    document = json.loads((out / "results.json").read_text())
    assert document["data_sha256"] and document["protocol"]["precision"] == "float32"
    by_method = {run["method"]: run for run in document["runs"]}
    assert by_method["planted"]["summary"]["main"]["n_datasets"] == 8
    assert by_method["planted"]["summary"]["main"]["vNRR"]["value"] == 1.0
    assert by_method["constant"]["summary"]["main"]["vNRR"]["value"] == 0.0
    table = (out / "results.md").read_text()
    assert "| planted | default | float32 |" in table and "100.0 [100.0, 100.0]" in table
    assert "planted" in capsys.readouterr().out


def test_plots_are_skipped_with_a_message_without_matplotlib(monkeypatch, tmp_path, capsys):
    run = {"method": "m", "budget_label": "1", "noise": 0.0, "n_fit": 512, "records": [],
           "summary": {"main": {k: {"value": 0.5, "low": 0.4, "high": 0.6} for k in ("vNRR", "fNRR",
                                                                                         "length_ratio", "seconds")}}}
    monkeypatch.setattr(plots, "_pyplot", lambda: None)
    assert plots.write_plots("budget", [run], tmp_path) == []
    assert "matplotlib is not installed" in capsys.readouterr().out


def test_budget_plot_is_written_when_matplotlib_is_there(tmp_path):
    pytest.importorskip("matplotlib")
    runs = [{"method": "m", "budget_label": str(b), "noise": 0.0, "n_fit": 512, "records": [],
             "summary": {"main": {"vNRR": {"value": v, "low": v - 0.1, "high": v + 0.1},
                                  "fNRR": {"value": v, "low": v - 0.1, "high": v + 0.1},
                                  "length_ratio": {"value": 1.5, "low": 1.2, "high": 1.9},
                                  "seconds": {"value": s, "low": s, "high": s}}}}
            for b, v, s in ((1, 0.2, 0.1), (4, 0.5, 0.4))]
    written = plots.write_plots("budget", runs, tmp_path)
    assert [p.name for p in written] == ["fastsrb-budget.png"]
    assert written[0].read_bytes()[:4] == b"\x89PNG"


def test_operon_baseline_runs_one_problem_when_installed(datasets64):
    pytest.importorskip("pyoperon")
    records = evaluate(make_method("pyoperon"), datasets64[:1], Budget(2))
    assert records[0]["success"] and records[0]["fvu_val"] is not None


def test_skeleton_oracle_recovers_a_simple_law_through_the_regressor(datasets64):
    # II.38.3 (v1*v2*v3/v4): lawfinder's constant fitting and ranking, fed the true skeleton, must find it.
    simplify = load_simplifier()
    records = evaluate(make_method("skeleton-oracle"), datasets64[:1], Budget(), simplify=simplify)
    assert records[0]["success"], records[0].get("error")
    assert records[0]["recovered_fit"] and records[0]["recovered_val"]
    # The Regressor returns its simplified form; only the same simplifier on both sides makes them comparable.
    assert records[0]["symbolic"] == (simplify is not None)


def test_results_page_renders_measured_and_quoted_parts(tmp_path):
    from lawfinder.evaluation.page import build_page
    from lawfinder.evaluation.report import result_document, write_json

    with pytest.raises(ValueError, match="no results"):
        build_page(tmp_path, render_only=True)
    result = run_sweep("budget", [RunSpec("planted", Budget())], {"planted": PlantedMethod()}, FastSRBConfig(),
                       Selection(subset=2, datasets=1), n_resamples=100)
    document = result_document(result, "constant folding only", keep_records=False)
    document["title"] = "Planted check"
    write_json(document, tmp_path / "results" / "planted.json")
    page = build_page(tmp_path, render_only=True).read_text()
    assert "## Planted check" in page and "| planted | default | float32 |" in page
    assert "reproduced exactly" in page
    assert "Published figures (quoted, not measured here)" in page and "arXiv 2602.08885" in page


def test_bench_set_passes_regressor_arguments_and_names_unknown_ones():
    from lawfinder.evaluation.cli import regressor_options
    from lawfinder.evaluation.methods import make_method

    options = regressor_options(["refine_share=0", "refine_top=2", "model_selection=accuracy"])
    assert options == {"refine_share": 0, "refine_top": 2, "model_selection": "accuracy"}
    # JSON or Python spellings alike: false and False, null and None.
    assert regressor_options(["refine_splice=False", "time_budget=None", "unary_operators=('sin', 'exp')"]) == \
        {"refine_splice": False, "time_budget": None, "unary_operators": ("sin", "exp")}
    assert regressor_options(["refine_splice=false"]) == {"refine_splice": False}
    assert make_method("lawfinder", options=options).options["refine_share"] == 0
    with pytest.raises(ValueError, match="--set 'refine=1'"):
        regressor_options(["refine=1"])
