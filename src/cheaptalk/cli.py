"""The ``cheaptalk`` command line (SPEC §4.2).

Every command exits 0 on success and 2 on bad input, printing one clear ``error:`` line
(naming file, row and column where they apply) and no traceback. Files the user gave are only
read; outputs are never written over an existing file unless ``--force`` is given.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from cheaptalk import __version__
from cheaptalk.choice import DEFAULT_TREMBLE, TREMBLE
from cheaptalk.data import InputError, load_data, load_design
from cheaptalk.data.design import Design
from cheaptalk.data.files import read_json
from cheaptalk.models import ParameterError, get_model
from cheaptalk.models.base import Model

app = typer.Typer(
    name="cheaptalk",
    help="Cheap-talk games, behavioural models of over-communication, and their estimation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def _bad_input(func: F) -> F:
    """Turn every bad-input error into one ``error:`` line and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (InputError, ParameterError) as e:
            err_console.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyError as e:  # unknown model / treatment: the message is the argument
            err_console.print(f"error: {e.args[0]}", markup=False, highlight=False,
                              soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        console.print(f"cheaptalk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Cheap-talk games, behavioural models of over-communication, and their estimation."""


# ---------------------------------------------------------------- shared options
DesignOpt = Annotated[str, typer.Option("--design", "-d", help="Design TOML file, or the name "
                                        "of a bundled design (forecast_sharing, crawford_sobel, "
                                        "binary_deception).")]
DataOpt = Annotated[Path, typer.Option("--data", help="Interaction data (CSV or Parquet).")]
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model name (levelk, ch, trust, "
                                       "combination, equilibrium, aqre).")]
ParamsOpt = Annotated[Path | None, typer.Option(
    "--params", "-p", help="JSON file with the model's parameters: either {name: value} or "
    "{\"params\": {...}, \"options\": {...}} (the output of `cheaptalk fit`). Default: the "
    "model's documented defaults.")]
StartsOpt = Annotated[int, typer.Option(min=1, help="Optimiser starts per model.")]
SeedOpt = Annotated[int, typer.Option(help="Seed for starts and folds.")]
EpsOpt = Annotated[float, typer.Option(min=0.0, max=1.0, help="Tremble weight (the start "
                                        "value with --estimate-epsilon).")]
EstimateEpsOpt = Annotated[bool, typer.Option(
    "--estimate-epsilon", help="Estimate the tremble with each model's parameters.")]
ForceOpt = Annotated[bool, typer.Option(help="Replace an existing --json file.")]
SubjectsOpt = Annotated[int, typer.Option(min=1, help="Subjects per role per treatment.")]
RoundsOpt = Annotated[int, typer.Option(min=1, help="Rounds.")]
JobsOpt = Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all "
                                             "cores).")]
OptionOpt = Annotated[list[str] | None, typer.Option(
    "--option", help="Model option [MODEL.]NAME=VALUE, repeatable (e.g. lie_cost=quadratic, "
    "levelk.shares=per_role, aqre.roles=per_role); see docs/models.md.")]
StudyJsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the study as JSON "
                                                   "here.")]


def _load_params(path: Path | None
                 ) -> tuple[dict[str, Any] | None, dict[str, Any], float | None]:
    """(params or None, model options, estimated tremble or None) from a JSON file (the
    tremble is there when the file is a fit with ``--estimate-epsilon``)."""
    if path is None:
        return None, {}, None
    doc = read_json(path, "parameter")
    if not isinstance(doc, dict):
        raise InputError("must be a JSON object of parameter values", file=path)
    options: dict[str, Any] = {}
    if "params" in doc:
        options = doc.get("options") or {}
        doc = doc["params"]
        if not isinstance(doc, dict) or not isinstance(options, dict):
            raise InputError("'params' and 'options' must be JSON objects", file=path)
    tremble = None
    if TREMBLE in doc:
        doc = dict(doc)
        tremble = doc.pop(TREMBLE)
        if not (isinstance(tremble, int | float) and not isinstance(tremble, bool)
                and 0.0 <= tremble <= 1.0):
            raise InputError(f"{TREMBLE} must be a number in [0, 1], got {tremble!r}",
                             file=path, key=TREMBLE)
    return doc, options, tremble


def _model(name: str, options: dict[str, Any], source: Path | None) -> Model:
    try:
        return get_model(name, **options)
    except TypeError as e:
        raise InputError(f"invalid model options for {name}: {e}", file=source) from None
    except ValueError as e:
        raise InputError(f"invalid model options for {name}: {e}", file=source) from None


def _one_model(spec: str, options: dict[str, Any], source: Path | None,
               option_items: list[str] | None = None) -> Model:
    """The model of ``--model NAME[OPTION=VALUE,...]``: ``options`` (from a parameter file)
    under those of ``--option`` (``option_items``), under the bracketed ones."""
    specs = _model_specs(spec)
    if len(specs) != 1:
        raise InputError(f"--model {spec!r}: name one model")
    name, own = _model_options(option_items, specs)[0]
    return _model(name, {**options, **own}, source)


def _params_for(model: Model, design: Design, params: dict[str, Any] | None,
                source: Path | None) -> dict[str, Any]:
    if params is None:  # parameter names do not depend on the game (SPEC §3.5)
        return model.default_params(design.game(design.treatments[0]))
    try:
        model.check_params(params)
    except ParameterError as e:
        raise InputError(str(e), file=source) from None
    return params


def _option_value(raw: str) -> Any:
    """An option's value: JSON where it parses (numbers, true/false), else text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def _model_options(items: list[str] | None, specs: list[tuple[str, dict[str, Any]]]
                   ) -> list[tuple[str, dict[str, Any]]]:
    """Apply ``--option [MODEL.]NAME=VALUE`` to each model spec ``(name, options)``: with
    ``MODEL.`` to every spec of that model, without it to every model whose constructor
    takes the option; options written in the spec itself (``trust[lie_cost=quadratic]``)
    win."""
    import inspect

    from cheaptalk.models import available_models

    classes = available_models()
    names = [n for n, _ in specs]
    extra: list[dict[str, Any]] = [{} for _ in specs]
    for item in items or []:
        key, sep, raw = item.partition("=")
        target, _, name = key.strip().rpartition(".")
        if not sep or not name:
            raise InputError(f"--option {item!r}: expected NAME=VALUE or MODEL.NAME=VALUE")
        if target and target not in names:
            raise InputError(f"--option {item!r}: model {target!r} is not among "
                             f"{', '.join(dict.fromkeys(names))}")
        takers = [i for i, n in enumerate(names) if n == target or (not target
                  and name in inspect.signature(classes[n].__init__).parameters)]
        if not takers:
            raise InputError(f"--option {item!r}: no model here takes option {name!r}")
        for i in takers:
            extra[i][name] = _option_value(raw)
    return [(n, {**e, **o}) for (n, o), e in zip(specs, extra, strict=True)]


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise InputError("output file exists; pass --force to replace it", file=path)
    if not path.parent.exists():
        raise InputError("output folder does not exist", file=path.parent)


def _write_json(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=1, allow_nan=True) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------- commands
@app.command()
@_bad_input
def validate(
    design: DesignOpt,
    data: DataOpt,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the summary as "
                                                  "JSON here.")] = None,
    force: ForceOpt = False,
) -> None:
    """Check interaction data against a design and print a summary."""
    d = load_design(design)
    if json_out is not None:
        _refuse_overwrite(json_out, force)
    ds = load_data(data, d)
    s = ds.summary()
    sender_role, receiver_role = d.kind.roles
    table = Table(title=f"{data} against {d.source} ({d.kind.name})")
    for col in ("treatment", "rows", f"{sender_role}s", f"{receiver_role}s", "rounds"):
        table.add_column(col, justify="left" if col == "treatment" else "right")
    for row in s["treatments"]:
        table.add_row(row["treatment"], str(row["rows"]), str(row["senders"]),
                      str(row["receivers"]),
                      f"{row['rounds']} ({row['first_round']}–{row['last_round']})")
    console.print(table)
    console.print(f"{s['rows']} rows = {s['decisions']} decisions "
                  f"({s['rows']} {sender_role} + {s['rows']} {receiver_role}); "
                  f"{s['senders']} {sender_role}s, {s['receivers']} {receiver_role}s.")
    if s["role_switchers"]:
        console.print(f"{s['role_switchers']} subjects appear in both roles: each "
                      "(subject, role) is one unit of type analysis.")
    unused = [t for t in d.treatments if t not in {r["treatment"] for r in s["treatments"]}]
    if unused:
        console.print(f"Treatments of the design without data: {', '.join(unused)}.")
    for line in s["mapped"]:
        console.print(f"Grid mapping: {line}.")
    if "session" in ds.table.columns and (ds.table["session"] == "synthetic").any():
        console.print("[bold]These data are labelled synthetic (session = 'synthetic').[/]")
    if json_out is not None:
        _write_json(s, json_out)
    console.print("[green]OK[/]: the data are valid for this design.")


@app.command()
@_bad_input
def simulate(
    design: DesignOpt,
    model: ModelOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output table (.csv or .parquet).")],
    params: ParamsOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same "
                                      "table.")] = 0,
    subjects: Annotated[int, typer.Option(min=1, help="Subjects per role per "
                                          "treatment.")] = 16,
    rounds: Annotated[int, typer.Option(min=1, help="Rounds (random re-matching each "
                                        "round).")] = 30,
    epsilon: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Tremble weight (default: the tremble estimated in --params, "
        "else 0.001).")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
) -> None:
    """Simulate an experiment from a model (synthetic data, labelled as such)."""
    from cheaptalk.simulation import Simulation

    d = load_design(design)
    values, options, estimated = _load_params(params)
    m = _one_model(model, options, params)
    values = _params_for(m, d, values, params)
    if epsilon is None:
        epsilon = DEFAULT_TREMBLE if estimated is None else float(estimated)
    _refuse_overwrite(out, force)
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError("output must end in .csv or .parquet", file=out)
    sim = Simulation(d, m, values, subjects_per_role=subjects, rounds=rounds, epsilon=epsilon)
    with console.status("simulating…"):
        df = sim.run(seed)
    if out.suffix.lower() == ".csv":
        df.to_csv(out, index=False)
    else:
        try:
            df.to_parquet(out, index=False)
        except ImportError:
            raise InputError("writing Parquet needs pyarrow: pip install "
                             "'cheaptalk[parquet]'", file=out) from None
    console.print(f"Wrote {len(df)} rows of synthetic data ({m.name}, seed {seed}) to {out}.")


@app.command()
@_bad_input
def predict(
    design: DesignOpt,
    model: ModelOpt,
    treatment: Annotated[str | None, typer.Option("--treatment", "-t", help="Treatment "
                                                  "(default: the design's first).")] = None,
    params: ParamsOpt = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the strategies as "
                                                  "JSON here.")] = None,
    force: ForceOpt = False,
) -> None:
    """A model's strategies in one treatment (population and per type; no trembles)."""
    from cheaptalk.report.predictions import mean_action_by_message, mean_report_by_state

    d = load_design(design)
    name = treatment or d.treatments[0]
    game = d.game(name)
    values, options, _ = _load_params(params)  # predictions carry no tremble
    m = _one_model(model, options, params)
    values = _params_for(m, d, values, params)
    if json_out is not None:
        _refuse_overwrite(json_out, force)
    with console.status(f"computing {m.name} strategies…"):
        pred = m.predict(game, values)
    if json_out is not None:
        doc = pred.to_dict()
        doc["treatment"] = name
        _write_json(doc, json_out)
        console.print(f"Wrote {m.name} strategies for treatment {name} to {json_out}.")
    state_name, message_name, action_name = d.kind.variables
    reports = mean_report_by_state(pred)
    actions = mean_action_by_message(pred)
    pick = sorted({round(i) for i in
                   [0, (len(reports) - 1) / 4, (len(reports) - 1) / 2,
                    3 * (len(reports) - 1) / 4, len(reports) - 1]})
    shown = ", ".join(f"{t.name} ({t.weight:.2f})" for t in pred.types[:5])
    more = f", … ({len(pred.types)} types in all)" if len(pred.types) > 5 else ""
    console.print(f"{m.name} in treatment {name}: types {shown}{more}", markup=False,
                  highlight=False)
    table = Table(title="population means (no tremble)")
    for col in (state_name, f"mean {message_name}", message_name, f"mean {action_name}"):
        table.add_column(col, justify="right")
    for i in pick:
        r, a = reports.iloc[i], actions.iloc[min(i, len(actions) - 1)]
        table.add_row(f"{r.iloc[0]:g}", f"{r.iloc[1]:.2f}", f"{a.iloc[0]:g}", f"{a.iloc[1]:.2f}")
    console.print(table)


MODEL_ORDER = ("equilibrium", "aqre", "levelk", "ch", "trust", "combination")


def _model_specs(text: str | None) -> list[tuple[str, dict[str, Any]]]:
    """``"levelk,trust[lie_cost=quadratic,point_masses=true]"`` → ``[(name, options)]``;
    all models (default options) when empty. Commas inside brackets separate options."""
    if not text:
        return [(n, {}) for n in _model_list(None)]
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    specs = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        name, bracket, rest = part.partition("[")
        options: dict[str, Any] = {}
        if bracket:
            if not rest.endswith("]"):
                raise InputError(f"model {part!r}: expected NAME[OPTION=VALUE,...]")
            for item in filter(None, (x.strip() for x in rest[:-1].split(","))):
                key, sep, raw = item.partition("=")
                if not sep or not key.strip():
                    raise InputError(f"model {part!r}: expected OPTION=VALUE, got {item!r}")
                options[key.strip()] = _option_value(raw.strip())
        _model_list(name.strip())  # a known model?
        specs.append((name.strip(), options))
    if not specs:
        raise InputError(f"no model named in {text!r}")
    return specs


def _model_list(names: str | None) -> list[str]:
    from cheaptalk.models import available_models

    known = list(available_models())
    ordered = [m for m in MODEL_ORDER if m in known] + sorted(set(known) - set(MODEL_ORDER))
    if not names:
        return ordered
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    for n in chosen:
        if n not in known:
            raise InputError(f"unknown model {n!r}; known models: {', '.join(ordered)}")
    return chosen


def _run_comparison(d: Design, ds: Any, models: list[tuple[str, dict[str, Any]]], folds: int,
                    seed: int, starts: int, epsilon: float,
                    estimate_epsilon: bool = False) -> Any:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from cheaptalk.estimation.compare import compare

    n_treat = len({*ds.table["treatment"]})
    total = len(models) * (1 + (folds if folds > 1 else 0) + (n_treat if n_treat > 1 else 0))
    with Progress(SpinnerColumn(), TextColumn("{task.description:<48}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(f"fitting {len(models)} models", total=total)

        def step(msg: str) -> None:
            bar.update(task, description=msg, advance=1)

        built = [_model(m, opts, None) for m, opts in models]
        labels = [b.label for b in built]
        for i, label in enumerate(labels):
            if label in labels[:i]:
                raise InputError(f"model {label!r} is listed twice")
        return compare(built, ds, folds=folds, seed=seed,
                       n_starts=starts, epsilon=epsilon, progress=step,
                       estimate_epsilon=estimate_epsilon)


@app.command()
@_bad_input
def fit(
    design: DesignOpt,
    data: DataOpt,
    model: ModelOpt,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the fit as JSON "
                                                  "here.")] = None,
    starts: StartsOpt = 3,
    seed: SeedOpt = 0,
    epsilon: EpsOpt = 1e-3,
    estimate_epsilon: EstimateEpsOpt = False,
    option: OptionOpt = None,
    bootstrap: Annotated[int, typer.Option(min=0, help="Bootstrap replications over "
                                           "subjects (0: none).")] = 0,
    force: ForceOpt = False,
) -> None:
    """Fit one model by maximum likelihood and print its summary."""
    from cheaptalk.estimation.mle import MaximumLikelihood
    from cheaptalk.report.tables import write_json

    d = load_design(design)
    ds = load_data(data, d)
    m = _one_model(model, {}, None, option)
    if json_out is not None:
        _refuse_overwrite(json_out, force)
    with console.status(f"fitting {m.name}…"):
        res = MaximumLikelihood(m, ds, epsilon=epsilon, estimate_epsilon=estimate_epsilon
                                ).fit(n_starts=starts, seed=seed)
    if bootstrap:
        from cheaptalk.estimation.bootstrap import bootstrap as run_bootstrap

        run_bootstrap(res, ds, replications=bootstrap, seed=seed, show_progress=True)
    console.print(res.summary(), markup=False, highlight=False, soft_wrap=True)
    if not res.converged:
        err_console.print("warning: the optimiser did not converge; see the convergence line")
    if json_out is not None:
        write_json(res.to_dict(), json_out)
        console.print(f"Wrote {json_out}.")


@app.command()
@_bad_input
def compare(
    design: DesignOpt,
    data: DataOpt,
    json_out: Annotated[Path, typer.Option("--json", help="Write the comparison as JSON "
                                           "here.")],
    models: Annotated[str | None, typer.Option(
        help="Comma-separated models (default: all); a variant takes its options in "
        "brackets, e.g. trust,trust[lie_cost=quadratic].")] = None,
    folds: Annotated[int, typer.Option(min=0, help="Folds of cross-validation by subject "
                                       "(0: none).")] = 5,
    report: Annotated[Path | None, typer.Option(help="Write the report folder here.")] = None,
    starts: StartsOpt = 3,
    seed: SeedOpt = 0,
    epsilon: EpsOpt = 1e-3,
    estimate_epsilon: EstimateEpsOpt = False,
    option: OptionOpt = None,
    force: ForceOpt = False,
) -> None:
    """Fit several models and compare them: AIC/BIC, Vuong, cross-validation, LOTO."""
    from cheaptalk.report.tables import (
        comparison_text,
        prepare_folder,
        write_json,
        write_report,
    )

    d = load_design(design)
    ds = load_data(data, d)
    specs = _model_options(option, _model_specs(models))
    _refuse_overwrite(json_out, force)
    if report is not None:
        prepare_folder(report)
    c = _run_comparison(d, ds, specs, folds, seed, starts, epsilon, estimate_epsilon)
    console.print(comparison_text(c), markup=False, highlight=False, soft_wrap=True)
    write_json(c.to_dict(), json_out)
    console.print(f"Wrote {json_out}.")
    if report is not None:
        with console.status("drawing the report…"):
            page = write_report(c, ds, report)
        console.print(f"Wrote the report to {report}/ (open {page}).")


@app.command()
@_bad_input
def demo(
    report: Annotated[Path, typer.Option(help="Report folder to write.")] = Path(
        "cheaptalk-report"),
    models: Annotated[str | None, typer.Option(help="Comma-separated model names "
                                               "(default: all).")] = None,
    folds: Annotated[int, typer.Option(min=0, help="Folds of cross-validation.")] = 5,
    starts: StartsOpt = 1,
    seed: SeedOpt = 0,
) -> None:
    """The whole study on the bundled design and bundled SYNTHETIC data: fit every model,
    compare them in and out of sample, write the report."""
    from cheaptalk.demo import DEMO_TRUTH, demo_data_path
    from cheaptalk.report.tables import comparison_text, prepare_folder, write_report

    d = load_design(DEMO_TRUTH["design"])
    ds = load_data(demo_data_path(), d)
    specs = _model_specs(models)
    prepare_folder(report)
    truth = DEMO_TRUTH["params"]
    console.print(f"[bold]cheaptalk demo[/]: design {d.source} ({d.description})")
    console.print(f"[bold yellow]DATA: SYNTHETIC[/] — {ds.summary()['rows']} interactions "
                  f"({ds.n_decisions} decisions) simulated by cheaptalk from a mixture of "
                  f"trust-embedded (pi = {truth['pi']}) and level-k types; the generating "
                  "parameters are in demo_data.json beside the data.")
    c = _run_comparison(d, ds, specs, folds, seed, starts, DEMO_TRUTH["epsilon"])
    console.print(comparison_text(c), markup=False, highlight=False, soft_wrap=True)
    if "combination" in c.fits:
        f = c.fits["combination"]
        console.print("Combination estimates against the truth that generated the data:")
        for k in ("pi", "alpha_a", "alpha_b", "beta_mu", "p1", "lambda_s", "lambda_r"):
            if k in f.params:
                console.print(f"  {k:<10} true {truth[k]:>7.3g}   estimate {f.params[k]:>7.3g}"
                              f"   (se {f.bse_sandwich[k]:.2g})")
    with console.status("drawing the report…"):
        page = write_report(c, ds, report)
    console.print(f"Wrote the report to {report}/ (open {page}).")


def _recorded(option: Any, raw: dict[str, Any], key: str, comparison: Path) -> str:
    """The design or data of a saved comparison: the option if given, else the path the
    JSON records (as it is, or relative to the JSON's folder)."""
    if option is not None:
        return str(option)
    recorded = raw.get(key)
    if not recorded:
        raise InputError(f"the comparison does not record its {key}; pass --{key}",
                         file=comparison, key=key)
    beside = comparison.parent / recorded
    if not Path(recorded).exists() and beside.exists():
        return str(beside)
    if key == "data" and not Path(recorded).exists():
        raise InputError(f"the data file it records ({recorded}) is not there; pass --data",
                         file=comparison, key=key)
    return recorded


@app.command()
@_bad_input
def report(
    comparison: Annotated[Path, typer.Option(
        "--comparison", "--json", help="Comparison JSON written by `cheaptalk compare --json` "
        "(or comparison.json in a report folder).")],
    report: Annotated[Path, typer.Option(help="Report folder to write.")],
    design: Annotated[str | None, typer.Option(
        "--design", "-d", help="Design file (default: the one the JSON records).")] = None,
    data: Annotated[Path | None, typer.Option(
        help="Interaction data (default: the file the JSON records).")] = None,
) -> None:
    """Rebuild the report (tables, figures, HTML) from a saved comparison, without refitting.

    Each model's likelihood is evaluated once at its saved estimates to recover posterior
    types, Vuong tests and diagnostics; the data must be the data the comparison was fitted on.
    """
    from cheaptalk.estimation.saved import read_comparison, rebuild_comparison
    from cheaptalk.report.tables import comparison_text, prepare_folder, write_report

    raw = read_comparison(comparison)
    d = load_design(_recorded(design, raw, "design", comparison))
    ds = load_data(_recorded(data, raw, "data", comparison), d)
    with console.status("re-evaluating the saved fits…"):
        c = rebuild_comparison(raw, ds, source=str(comparison))
    prepare_folder(report)
    console.print(comparison_text(c), markup=False, highlight=False, soft_wrap=True)
    with console.status("drawing the report…"):
        page = write_report(c, ds, report)
    console.print(f"Wrote the report to {report}/ (open {page}).")


@app.command()
@_bad_input
def recover(
    design: DesignOpt,
    model: ModelOpt,
    params: ParamsOpt = None,
    subjects: SubjectsOpt = 16,
    rounds: RoundsOpt = 30,
    replications: Annotated[int, typer.Option(min=2, help="Simulated datasets.")] = 20,
    seed: SeedOpt = 0,
    jobs: JobsOpt = None,
    json_out: StudyJsonOpt = None,
    force: ForceOpt = False,
) -> None:
    """Parameter recovery: simulate from known parameters, fit, report bias, RMSE, coverage."""
    from cheaptalk.estimation.studies import recover as run_recover
    from cheaptalk.report.tables import write_json

    d = load_design(design)
    values, options, estimated = _load_params(params)
    m = _one_model(model, options, params)
    values = _params_for(m, d, values, params)
    if json_out is not None:
        _refuse_overwrite(json_out, force)
    summary, draws = run_recover(d, m, values, subjects=subjects, rounds=rounds,
                                 replications=replications, seed=seed, jobs=jobs,
                                 show_progress=True,
                                 epsilon=DEFAULT_TREMBLE if estimated is None else estimated)
    console.print(f"Parameter recovery for {m.name}: {replications} synthetic datasets, "
                  f"{subjects} subjects per role per treatment, {rounds} rounds "
                  f"({int(draws['converged'].sum())} fits converged).")
    console.print(summary.to_string(float_format=lambda x: f"{x:.4g}"), markup=False,
                  highlight=False)
    if json_out is not None:
        write_json({"model": m.name, "summary": summary.reset_index().to_dict("records"),
                    "draws": draws.to_dict("records")}, json_out)


@app.command()
@_bad_input
def power(
    design: DesignOpt,
    models: Annotated[str | None, typer.Option(help="Comma-separated candidate models, each "
                                               "also a truth (default: levelk,trust).")] = None,
    params: Annotated[Path | None, typer.Option(help="JSON {model: {param: value}} of true "
                                                "parameters (default: each model's "
                                                "defaults).")] = None,
    subjects: SubjectsOpt = 16,
    rounds: RoundsOpt = 30,
    replications: Annotated[int, typer.Option(min=1, help="Datasets per true model.")] = 20,
    seed: SeedOpt = 0,
    jobs: JobsOpt = None,
    json_out: StudyJsonOpt = None,
    force: ForceOpt = False,
) -> None:
    """Design power: how often each model wins (BIC) when each model is the truth."""
    from cheaptalk.estimation.studies import power as run_power
    from cheaptalk.report.tables import write_json

    d = load_design(design)
    names = _model_list(models or "levelk,trust")
    given, _, _ = _load_params(params)
    given = given or {}
    if json_out is not None:
        _refuse_overwrite(json_out, force)
    truths = {}
    game = d.game(d.treatments[0])
    for n in names:
        m = get_model(n)
        values = given.get(n)
        if values is None:
            values = m.default_params(game)
        elif not isinstance(values, dict):
            raise InputError(f"parameters of {n} must be a JSON object", file=params)
        else:
            _params_for(m, d, values, params)
        truths[n] = (m, values)
    shares, draws = run_power(d, truths, [m for m, _ in truths.values()], subjects=subjects,
                              rounds=rounds, replications=replications, seed=seed, jobs=jobs,
                              show_progress=True)
    console.print(f"Share of {replications} synthetic datasets won by each model (BIC); rows: "
                  f"true model; {subjects} subjects per role per treatment, {rounds} rounds.")
    console.print(shares.to_string(float_format=lambda x: f"{x:.2f}"), markup=False,
                  highlight=False)
    if json_out is not None:
        write_json({"shares": shares.to_dict("index"), "draws": draws.to_dict("records")},
                   json_out)


def main() -> None:
    """Console-script entry point."""
    from cheaptalk._threads import single_blas_thread

    with single_blas_thread():
        app(prog_name="cheaptalk")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
