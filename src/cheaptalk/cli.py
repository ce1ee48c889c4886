"""The ``cheaptalk`` command line (SPEC §4.2).

Every command exits 0 on success and 2 on bad input, printing one clear ``error:`` line
(naming file, row and column where they apply) and no traceback. Files the user gave are only
read; outputs are never written over an existing file unless ``--force`` is given.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

try:  # typer >= 0.20 carries its own click
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException, UsageError

from cheaptalk import __version__
from cheaptalk.choice import DEFAULT_TREMBLE
from cheaptalk.data import InputError, bundled_designs, load_data, load_design
from cheaptalk.data.columns import parse_column_map
from cheaptalk.data.design import Design
from cheaptalk.data.files import tracking_inputs
from cheaptalk.data.interactions import SYNTHETIC_LABEL
from cheaptalk.models import ParameterError, available_models
from cheaptalk.models.base import Model
from cheaptalk.models.spec import (
    ModelSpec,
    ParameterFile,
    apply_options,
    build_model,
    model_from,
    parse_specs,
    read_params,
    read_params_by_model,
)
from cheaptalk.outputs import check_folder, check_output, write_atomic, write_json
from cheaptalk.runner import Backend, ClusterError, default_backend
from cheaptalk.simulation import rounds_by_treatment


class _OneLineErrors(TyperGroup):
    """The command group, with every usage error (a flag out of range or of the wrong type,
    an unknown option, a missing one) printed as one ``error:`` line, exit status 2, like
    every other bad input; ``--help`` and the help shown without arguments are unchanged."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            status = super().main(*args, standalone_mode=False, **kwargs)
        except ClickException as e:
            if type(e).__name__ == "NoArgsIsHelpError":  # the help, as click shows it
                e.show()
                sys.exit(e.exit_code)
            ctx = getattr(e, "ctx", None)
            see = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            message = " ".join(e.format_message().split())
            err_console.print(f"error: {message}{see}", markup=False, highlight=False,
                              soft_wrap=True)
            sys.exit(2 if isinstance(e, UsageError) else e.exit_code)
        except typer.Abort:
            err_console.print("Aborted!", markup=False, highlight=False)
            sys.exit(1)
        sys.exit(status if isinstance(status, int) else 0)


app = typer.Typer(
    name="cheaptalk",
    cls=_OneLineErrors,
    help="Cheap-talk games, behavioural models of over-communication, and their estimation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def _error_line(message: str) -> None:
    """``error: message`` on one line (a library's message may hold line breaks)."""
    err_console.print(f"error: {' '.join(message.split())}", markup=False, highlight=False,
                      soft_wrap=True)


#: The options that name files a command reads (none of its outputs may replace them).
_INPUT_OPTIONS = ("design", "data", "params", "history", "comparison")


def _bad_input(func: F) -> F:
    """Turn every bad-input error into one ``error:`` line and exit status 2; record the
    command's input files, from its options and as they are read, so that no output of the
    command replaces one."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with tracking_inputs() as inputs:
                inputs.update(Path(kwargs[k]).resolve() for k in _INPUT_OPTIONS
                              if kwargs.get(k) is not None and Path(kwargs[k]).is_file())
                return func(*args, **kwargs)
        except (InputError, ParameterError) as e:
            _error_line(str(e))
            raise typer.Exit(2) from None
        except KeyError as e:  # unknown model / treatment: the message is the argument
            _error_line(str(e.args[0]))
            raise typer.Exit(2) from None
        except ClusterError as e:  # not bad input: the cluster failed; nothing is reported
            _error_line(str(e))
            raise typer.Exit(1) from None

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
#: The registered models and bundled designs, as the help texts list them.
_MODELS = ", ".join(available_models())
_DESIGNS = ", ".join(sorted(bundled_designs()))

DesignOpt = Annotated[str, typer.Option("--design", "-d", help="Design TOML file, or the name "
                                        f"of a bundled design ({_DESIGNS}).")]
DataOpt = Annotated[Path, typer.Option("--data", help="Interaction data: a CSV file, a Parquet "
                                      "file or a folder of Parquet files.")]
ColumnsOpt = Annotated[str | None, typer.Option(
    "--columns", help="Column map NAME=COLUMN,... for a data file whose columns have other "
    "names, e.g. state=forecast,message=report,action=capacity (names: treatment, round, "
    "sender, receiver, state, message, action, session, demand).")]
ModelOpt = Annotated[str, typer.Option("--model", "-m", help=f"Model ({_MODELS}), with "
                                       "options in brackets where wanted, e.g. "
                                       "trust\\[lie_cost=quadratic].")]
ParamsOpt = Annotated[Path | None, typer.Option(
    "--params", "-p", help="JSON file with the model's parameters: either {name: value} or "
    "{\"params\": {...}, \"options\": {...}} (the output of `cheaptalk fit`). Default: the "
    "model's documented defaults.")]
#: Upper bounds of the counting options: far above any study, low enough that what they
#: size (a list of tasks, arrays of simulated partners) is checked before it is allocated.
MAX_STARTS, MAX_REPLICATIONS, MAX_PARTNERS, MAX_ROUNDS = 1_000, 100_000, 1_000_000, 10_000
StartsOpt = Annotated[int, typer.Option(min=1, max=MAX_STARTS,
                                        help="Optimiser starts per model.")]
SeedOpt = Annotated[int, typer.Option(min=0, help="Seed for starts and folds (>= 0).")]
EpsOpt = Annotated[float, typer.Option(min=0.0, max=1.0, help="Tremble weight (the start "
                                        "value with --estimate-epsilon).")]
EstimateEpsOpt = Annotated[bool, typer.Option(
    "--estimate-epsilon", help="Estimate the tremble with each model's parameters.")]
ForceOpt = Annotated[bool, typer.Option(help="Replace an existing --json file.")]
SubjectsOpt = Annotated[int, typer.Option(min=1, help="Subjects per role per treatment.")]
IntervalsOpt = Annotated[str, typer.Option(
    help="95% intervals: wald (transformed Wald from the CR1 sandwich), auto (wald, plus "
    "profile-likelihood intervals where Wald is unreliable: at or near a bound, or skewed), "
    "profile (profile likelihood for every parameter and derived quantity). See "
    "docs/inference.md.")]


def _intervals_choice(value: str) -> str:
    from cheaptalk.estimation.mle import INTERVAL_CHOICES

    if value not in INTERVAL_CHOICES:
        raise InputError(f"expected one of {', '.join(INTERVAL_CHOICES)}, found {value!r}",
                         key="--intervals")
    return value
RoundsOpt = Annotated[int | None, typer.Option(
    min=1, max=MAX_ROUNDS, help="Rounds per treatment (default: the design's rounds, else "
    "30).")]
JobsOpt = Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all "
                                             "cores).")]
WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Run the independent fits on a local Dask cluster of N worker "
    "processes instead of the process pool (needs cheaptalk[dask]).")]
SchedulerOpt = Annotated[str | None, typer.Option(
    "--scheduler", help="Run the independent fits on an existing Dask cluster: its "
    "scheduler's address, e.g. tcp://10.0.0.5:8786 (needs cheaptalk[dask] here and "
    "cheaptalk on the workers). Same seed, same numbers.")]
OptionOpt = Annotated[list[str] | None, typer.Option(
    "--option", help="Model option [MODEL.]NAME=VALUE, repeatable (e.g. lie_cost=quadratic, "
    "levelk.shares=per_role, aqre.roles=per_role); see docs/models.md.")]
StudyJsonOpt = Annotated[Path | None, typer.Option("--json", help="Write the study as JSON "
                                                   "here.")]


@contextmanager
def _backend(jobs: int | None = None, workers: int | None = None,
             scheduler: str | None = None) -> Iterator[Backend]:
    """The runner of a command's independent fits: the local process pool (``--jobs``), a
    local Dask cluster (``--workers``) or an existing one (``--scheduler``); a local cluster
    is stopped on leaving."""
    if workers is not None and scheduler is not None:
        raise InputError("--workers starts a local Dask cluster and --scheduler uses an "
                         "existing one: give one of them")
    if jobs is not None and (workers is not None or scheduler is not None):
        raise InputError("--jobs sets the local process pool; with --workers or --scheduler "
                         "the Dask cluster runs the fits: give one of them")
    if workers is None and scheduler is None:
        yield default_backend(jobs)
        return
    from importlib.util import find_spec

    flag = "--workers" if workers is not None else "--scheduler"
    if find_spec("distributed") is None:
        raise InputError(f"{flag} needs Dask: pip install 'cheaptalk[dask]'")
    from cheaptalk.runner import Dask

    with Dask(workers=workers, address=scheduler) as backend:
        if scheduler is not None:
            try:
                _ = backend.client  # connect now: no scheduler at the address is bad input
            except ClusterError as e:
                raise InputError(f"--scheduler: {e}") from None
        yield backend


def column_map(text: str | None) -> dict[str, str]:
    """The ``--columns NAME=COLUMN,...`` option as a dict (``{}`` when not given); bad text is
    an :class:`InputError`. Every command that reads data takes the option and passes the
    dict to :func:`~cheaptalk.data.load_data`."""
    return parse_column_map(text)


def _load_params(path: Path | None) -> ParameterFile | None:
    return None if path is None else read_params(path)


def _params_for(model: Model, design: Design, params: ParameterFile | None
                ) -> dict[str, Any]:
    """The parameters of a parameter file (checked against the model), or the model's
    defaults."""
    if params is None:  # parameter names do not depend on the game (SPEC §3.5)
        return model.default_params(design.game(design.treatments[0]))
    try:
        model.check_values(params.params)
    except ParameterError as e:
        raise InputError(str(e), file=params.path) from None
    return params.params


ReportForceOpt = Annotated[bool, typer.Option(
    help="Replace an existing report folder (only a folder cheaptalk wrote as a report is "
    "ever replaced).")]


def _print_comparison(tables: Any) -> None:
    from cheaptalk.report.text import comparison_text

    console.print(comparison_text(tables), markup=False, highlight=False, soft_wrap=True)


def _write_report(c: Any, ds: Any, folder: Path, force: bool, tables: Any) -> None:
    from cheaptalk.report.folder import write_report

    with _status("drawing the report…"):
        page = write_report(c, ds, folder, force, tables=tables)
    console.print(f"Wrote the report to {folder}/ (open {page}).")


# ---------------------------------------------------------------------- commands
@app.command()
@_bad_input
def validate(
    design: DesignOpt,
    data: DataOpt,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the summary as "
                                                  "JSON here.")] = None,
    columns: ColumnsOpt = None,
    force: ForceOpt = False,
) -> None:
    """Check interaction data against a design and print a summary."""
    columns_map = column_map(columns)
    d = load_design(design)
    if json_out is not None:
        check_output(json_out, force)
    ds = load_data(data, d, columns=columns_map)
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
    if ds.columns:
        console.print("Columns read through the map: " + ", ".join(
            f"{name} = {column!r}" for name, column in ds.columns.items()) + ".",
            markup=False, highlight=False)
    for line in s["mapped"]:
        console.print(f"Grid mapping: {line}.")
    console.print(f"Feedback: {s['feedback']}.", markup=False, highlight=False)
    if ds.synthetic_rows:
        share = ("" if ds.synthetic_rows == len(ds.table)
                 else f"{ds.synthetic_rows} of {len(ds.table)} rows; ")
        console.print(f"[bold]These data are labelled synthetic ({share}session = "
                      f"'{SYNTHETIC_LABEL}').[/]")
    if json_out is not None:
        write_json(s, json_out, force)
    console.print("[green]OK[/]: the data are valid for this design.")


def _models_for(ds: Any, static_only: bool = False) -> list[ModelSpec]:
    """Every model, less those whose play depends on history where the data cannot inform
    them (no feedback column, or one round) or where ``static_only``."""
    can_learn = ds.feedback is not None and ds.table["round"].nunique() > 1
    return [ModelSpec(name) for name, cls in available_models().items()
            if not cls.history_roles or (can_learn and not static_only)]


def _rounds_text(design: Design, rounds: int | None) -> str:
    counts = sorted(set(rounds_by_treatment(design, rounds).values()))
    return f"{'/'.join(map(str, counts))} rounds"


@app.command()
@_bad_input
def simulate(
    design: DesignOpt,
    model: ModelOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output table (.csv or .parquet).")],
    params: ParamsOpt = None,
    seed: Annotated[int, typer.Option(min=0, help="Random seed (>= 0): the same seed gives "
                                      "the same table.")] = 0,
    subjects: Annotated[int, typer.Option(min=1, help="Subjects per role per "
                                          "treatment.")] = 16,
    rounds: RoundsOpt = None,
    epsilon: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Tremble weight (default: the tremble estimated in --params, "
        "else 0.001).")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
) -> None:
    """Simulate an experiment from a model (synthetic data, labelled as such)."""
    from cheaptalk.simulation import Simulation

    d = load_design(design)
    given = _load_params(params)
    m = model_from(model, given)
    values = _params_for(m, d, given)
    if epsilon is None:
        epsilon = DEFAULT_TREMBLE if given is None or given.epsilon is None else given.epsilon
    check_output(out, force)
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError("output must end in .csv or .parquet", file=out)
    if out.suffix.lower() != ".csv":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError("writing Parquet needs pyarrow: pip install "
                             "'cheaptalk[parquet]'", file=out) from None
    sim = Simulation(d, m, values, subjects_per_role=subjects, rounds=rounds, epsilon=epsilon)
    with _status("simulating…"):
        if out.suffix.lower() == ".csv":
            df = sim.run(seed)
            n_rows = len(df)
            write_atomic(out, lambda tmp: df.to_csv(tmp, index=False), force)
        else:  # written one treatment at a time: memory holds one treatment's rows
            written: list[int] = []
            write_atomic(out, lambda tmp: written.append(sim.write_parquet(tmp, seed)), force)
            n_rows = written[0]
    console.print(f"Wrote {n_rows} rows of synthetic data ({m.name}, seed {seed}) to {out}.")


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
    given = _load_params(params)  # predictions carry no tremble
    m = model_from(model, given)
    values = _params_for(m, d, given)
    if json_out is not None:
        check_output(json_out, force)
    with _status(f"computing {m.name} strategies…"):
        pred = m.predict(game, values)
        rounds = rounds_by_treatment(d)[name]
        path = m.dynamics(game, values, rounds)
    if json_out is not None:
        doc = pred.to_dict()
        doc["treatment"] = name
        if path is not None:
            doc["rounds"] = path
        write_json(doc, json_out, force)
        console.print(f"Wrote {m.name} strategies for treatment {name} to {json_out}.")
    state_name, message_name, action_name = d.kind.variables
    reports = mean_report_by_state(pred)
    actions = mean_action_by_message(pred)
    labels = pred.game.message_labels

    def spread(n: int) -> list[int]:  # at most five rows, ends included
        return sorted({round(k * (n - 1) / 4) for k in range(5)})

    by_state, by_message = spread(len(reports)), spread(len(actions))
    shown = ", ".join(f"{t.name} ({t.weight:.2f})" for t in pred.types[:5])
    more = f", … ({len(pred.types)} types in all)" if len(pred.types) > 5 else ""
    console.print(f"{m.name} in treatment {name}: types {shown}{more}", markup=False,
                  highlight=False)
    table = Table(title="population means (no tremble)")
    for col in (state_name, f"mean {message_name}", message_name, f"mean {action_name}"):
        table.add_column(col, justify="right")
    for k in range(max(len(by_state), len(by_message))):
        left = right = ["", ""]
        if k < len(by_state):
            r = reports.iloc[by_state[k]]
            left = [f"{r.iloc[0]:g}", f"{r.iloc[1]:.2f}"]
        if k < len(by_message):
            i = by_message[k]
            a = actions.iloc[i]
            right = [labels[i] if labels is not None else f"{a.iloc[0]:g}", f"{a.iloc[1]:.2f}"]
        table.add_row(*left, *right)
    console.print(table)
    if path is not None:
        shown_rounds = sorted({1, 2, 5, 10, rounds // 2, rounds} & set(path["round"]))
        by_round = Table(title=f"round by round, rounds 1–{rounds} (population; the types "
                         "above are round 1)")
        for col in path:
            by_round.add_column(col.replace("_", " "), justify="right")
        for r in shown_rounds:
            by_round.add_row(*(f"{path[c][r - 1]:g}" if c == "round" else
                               f"{path[c][r - 1]:.3f}" for c in path))
        console.print(by_round)


def _status(text: str) -> Any:
    """A spinner with ``text`` on a terminal; nothing otherwise (rich would still end with a
    newline, before an error line, say)."""
    return console.status(text) if console.is_terminal else nullcontext()


@contextmanager
def _progress_bar(description: str, total: int | None) -> Iterator[Callable[[str], None]]:
    """A progress bar on standard error; yields the callback that advances it (the
    ``progress`` of :mod:`cheaptalk.runner`)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    if not err_console.is_terminal:  # nothing to animate; rich would still end with a newline
        yield lambda msg: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description:<48}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda msg: bar.update(task, description=msg, advance=1)


def _run_comparison(d: Design, ds: Any, models: list[ModelSpec], folds: int,
                    seed: int, starts: int, epsilon: float,
                    estimate_epsilon: bool = False, intervals: str = "wald",
                    backend: Backend | None = None) -> Any:
    from cheaptalk.estimation.compare import compare

    n_subjects = len(set(ds.senders) | set(ds.receivers))
    if folds == 1 or folds > n_subjects:
        raise InputError(f"--folds {folds}: cross-validation needs from 2 folds to one per "
                         f"subject ({n_subjects} here); 0 for none")
    n_treat = len({*ds.table["treatment"]})
    total = len(models) * (1 + (folds if folds > 1 else 0) + (n_treat if n_treat > 1 else 0))
    with _progress_bar(f"fitting {len(models)} models", total) as step:
        built = [build_model(spec) for spec in models]
        labels = [b.label for b in built]
        for i, label in enumerate(labels):
            if label in labels[:i]:
                raise InputError(f"model {label!r} is listed twice")
        return compare(built, ds, folds=folds, seed=seed,
                       n_starts=starts, epsilon=epsilon, progress=step,
                       estimate_epsilon=estimate_epsilon, intervals=intervals,
                       backend=backend)


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
    bootstrap: Annotated[int, typer.Option(min=0, max=MAX_REPLICATIONS,
                                           help="Bootstrap replications over "
                                           "subjects (0: none); adds percentile and BCa "
                                           "intervals.")] = 0,
    intervals: IntervalsOpt = "auto",
    columns: ColumnsOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
) -> None:
    """Fit one model by maximum likelihood and print its summary."""
    from cheaptalk.estimation.mle import INTERVAL_CHOICES, MaximumLikelihood

    _intervals_choice(intervals)
    columns_map = column_map(columns)
    if (workers is not None or scheduler is not None) and not bootstrap:
        raise InputError("--workers and --scheduler run the bootstrap's fits on a Dask "
                         "cluster: give --bootstrap N too")
    d = load_design(design)
    ds = load_data(data, d, columns=columns_map)
    m = model_from(model, None, option)
    if json_out is not None:
        check_output(json_out, force)
    with _status(f"fitting {m.name}…"):
        est = MaximumLikelihood(m, ds, epsilon=epsilon, estimate_epsilon=estimate_epsilon)
        res = est.fit(n_starts=starts, seed=seed)
    if intervals != "wald":
        with _progress_bar(f"profile intervals {m.name}", None) as step:
            est.add_profile_intervals(res, INTERVAL_CHOICES[intervals],
                                      progress=step)
    if bootstrap:
        from cheaptalk.estimation.bootstrap import bootstrap as run_bootstrap

        with _backend(None, workers, scheduler) as backend, \
                _progress_bar(f"bootstrap {m.name}", bootstrap) as step:
            run_bootstrap(res, ds, replications=bootstrap, seed=seed, progress=step,
                          backend=backend)
    console.print(res.summary(), markup=False, highlight=False, soft_wrap=True)
    if not res.converged:
        err_console.print("warning: the optimiser did not converge; see the convergence line")
    if json_out is not None:
        doc = res.to_dict()
        if ds.columns:
            doc["columns"] = dict(ds.columns)
        write_json(doc, json_out, force)
        console.print(f"Wrote {json_out}.")


@app.command()
@_bad_input
def compare(
    design: DesignOpt,
    data: DataOpt,
    json_out: Annotated[Path, typer.Option("--json", help="Write the comparison as JSON "
                                           "here.")],
    models: Annotated[str | None, typer.Option(
        help=f"Comma-separated models (default: all: {_MODELS}; those whose play depends on "
        "history only for data with feedback and several rounds); a variant takes its "
        "options in brackets, e.g. trust,trust\\[lie_cost=quadratic].")] = None,
    folds: Annotated[int, typer.Option(min=0, help="Folds of cross-validation by subject "
                                       "(0: none).")] = 5,
    report: Annotated[Path | None, typer.Option(help="Write the report folder here.")] = None,
    starts: StartsOpt = 3,
    seed: SeedOpt = 0,
    epsilon: EpsOpt = 1e-3,
    estimate_epsilon: EstimateEpsOpt = False,
    option: OptionOpt = None,
    intervals: IntervalsOpt = "auto",
    columns: ColumnsOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    force: Annotated[bool, typer.Option(help="Replace an existing --json file and --report "
                                        "folder (only a cheaptalk report is ever "
                                        "replaced).")] = False,
) -> None:
    """Fit several models and compare them: AIC/BIC, Vuong, cross-validation, LOTO."""
    from cheaptalk.report.tables import ReportTables

    _intervals_choice(intervals)
    columns_map = column_map(columns)
    d = load_design(design)
    ds = load_data(data, d, columns=columns_map)
    specs = apply_options(parse_specs(models) if models else _models_for(ds), option)
    check_output(json_out, force)
    if report is not None:
        check_folder(report, force)
    with _backend(None, workers, scheduler) as backend:
        c = _run_comparison(d, ds, specs, folds, seed, starts, epsilon, estimate_epsilon,
                            intervals, backend)
    tables = ReportTables(c, ds)
    _print_comparison(tables)
    write_json(c.to_dict(), json_out, force)
    console.print(f"Wrote {json_out}.")
    if report is not None:
        _write_report(c, ds, report, force, tables)


@app.command()
@_bad_input
def demo(
    report: Annotated[Path, typer.Option(help="Report folder to write (a new folder; an "
                                         "earlier report only with --force).")] = Path(
        "cheaptalk-report"),
    models: Annotated[str | None, typer.Option(help="Comma-separated models (default: the "
                                               "static models of the study: those whose play "
                                               "does not depend on history).")] = None,
    folds: Annotated[int, typer.Option(min=0, help="Folds of cross-validation.")] = 5,
    starts: StartsOpt = 1,
    seed: SeedOpt = 0,
    force: ReportForceOpt = False,
) -> None:
    """The whole study on the bundled design and bundled SYNTHETIC data: fit every model,
    compare them in and out of sample, write the report (./cheaptalk-report unless --report;
    an existing report is replaced only with --force)."""
    from cheaptalk.demo import DEMO_TRUTH, demo_data_path
    from cheaptalk.report.tables import ReportTables

    d = load_design(DEMO_TRUTH["design"])
    ds = load_data(demo_data_path(), d)
    specs = parse_specs(models) if models else _models_for(ds, static_only=True)
    check_folder(report, force)
    truth = DEMO_TRUTH["params"]
    console.print(f"[bold]cheaptalk demo[/]: design {d.source} ({d.description})")
    console.print(f"[bold yellow]DATA: SYNTHETIC[/] — {ds.summary()['rows']} interactions "
                  f"({ds.n_decisions} decisions) simulated by cheaptalk from a mixture of "
                  f"trust-embedded (pi = {truth['pi']}) and level-k types; the generating "
                  "parameters are in demo_data.json beside the data.")
    c = _run_comparison(d, ds, specs, folds, seed, starts, DEMO_TRUTH["epsilon"])
    tables = ReportTables(c, ds)
    _print_comparison(tables)
    generator = DEMO_TRUTH["model"]
    if generator in c.fits:
        f = c.fits[generator]
        ci = f.reported_intervals()
        console.print(f"{generator.capitalize()} estimates against the truth that generated "
                      "the data:")
        for k in truth:
            if k in f.params:
                console.print(f"  {k:<10} true {truth[k]:>7.3g}   estimate {f.params[k]:>7.3g}"
                              f"   (se {f.bse_sandwich[k]:.2g}; 95% CI {ci.loc[k, 'lower']:.3g}"
                              f" to {ci.loc[k, 'upper']:.3g})", soft_wrap=True)
        console.print("  (95% CI: Wald, built on the estimation scale; see docs/inference.md)")
    _write_report(c, ds, report, force, tables)


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
    columns: Annotated[str | None, typer.Option(
        "--columns", help="Column map NAME=COLUMN,... for the data (default: the map the "
        "JSON records).")] = None,
    force: ReportForceOpt = False,
) -> None:
    """Rebuild the report (tables, figures, HTML) from a saved comparison, without refitting.

    Each model's likelihood is evaluated once at its saved estimates to recover posterior
    types, Vuong tests and diagnostics; the data must be the data the comparison was fitted on.
    An existing report folder (the one the JSON came from, say) is replaced only with --force.
    """
    from cheaptalk.estimation.saved import read_comparison, rebuild_comparison
    from cheaptalk.report.tables import ReportTables

    columns_map = column_map(columns)
    raw = read_comparison(comparison)
    if columns is None:
        try:
            columns_map = parse_column_map(raw.get("columns"))
        except InputError as e:
            raise InputError(f"the recorded column map: {e.message}", file=comparison,
                             key="columns") from None
    d = load_design(_recorded(design, raw, "design", comparison))
    ds = load_data(_recorded(data, raw, "data", comparison), d, columns=columns_map)
    check_folder(report, force)
    with _status("re-evaluating the saved fits…"):
        c = rebuild_comparison(raw, ds, source=str(comparison))
    tables = ReportTables(c, ds)
    _print_comparison(tables)
    _write_report(c, ds, report, force, tables)


@app.command()
@_bad_input
def recover(
    design: DesignOpt,
    model: ModelOpt,
    params: ParamsOpt = None,
    subjects: SubjectsOpt = 16,
    rounds: RoundsOpt = None,
    replications: Annotated[int, typer.Option(min=2, max=MAX_REPLICATIONS,
                                              help="Simulated datasets.")] = 20,
    seed: SeedOpt = 0,
    jobs: JobsOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    json_out: StudyJsonOpt = None,
    force: ForceOpt = False,
    intervals: Annotated[str, typer.Option(
        help="Intervals whose coverage is reported: wald (natural-scale and transformed "
        "Wald), auto (also profile likelihood where Wald is unreliable), profile (also "
        "profile likelihood for every parameter; slow).")] = "wald",
) -> None:
    """Parameter recovery: simulate from known parameters, fit, report bias, RMSE, the
    coverage of each interval type and the share of estimates at a bound."""
    from cheaptalk.estimation.mle import INTERVAL_CHOICES
    from cheaptalk.estimation.studies import recover as run_recover

    _intervals_choice(intervals)
    d = load_design(design)
    given = _load_params(params)
    m = model_from(model, given)
    values = _params_for(m, d, given)
    estimated = None if given is None else given.epsilon
    if json_out is not None:
        check_output(json_out, force)
    with _backend(jobs, workers, scheduler) as backend, \
            _progress_bar(f"recovering {m.name}", replications) as step:
        summary, draws = run_recover(
            d, m, values, subjects=subjects, rounds=rounds, replications=replications,
            seed=seed, backend=backend, progress=step,
            epsilon=DEFAULT_TREMBLE if estimated is None else estimated,
            profile=INTERVAL_CHOICES[intervals])
    console.print(f"Parameter recovery for {m.name}: {replications} synthetic datasets, "
                  f"{subjects} subjects per role per treatment, {_rounds_text(d, rounds)} "
                  f"({int(draws['converged'].sum())} fits converged).")
    console.print(summary.to_string(float_format=lambda x: f"{x:.4g}"), markup=False,
                  highlight=False)
    if json_out is not None:
        write_json({"model": m.name, "summary": summary.reset_index().to_dict("records"),
                    "draws": draws.to_dict("records")}, json_out, force)


@app.command()
@_bad_input
def power(
    design: DesignOpt,
    models: Annotated[str | None, typer.Option(help="Comma-separated candidate models, each "
                                               f"also a truth ({_MODELS}; default: "
                                               "levelk,trust).")] = None,
    params: Annotated[Path | None, typer.Option(help="JSON {model: {param: value}} of true "
                                                "parameters (default: each model's "
                                                "defaults).")] = None,
    subjects: SubjectsOpt = 16,
    rounds: RoundsOpt = None,
    replications: Annotated[int, typer.Option(min=1, max=MAX_REPLICATIONS,
                                              help="Datasets per true model.")] = 20,
    seed: SeedOpt = 0,
    jobs: JobsOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    json_out: StudyJsonOpt = None,
    force: ForceOpt = False,
) -> None:
    """Design power: how often each model wins (BIC) when each model is the truth."""
    from cheaptalk.estimation.studies import power as run_power

    d = load_design(design)
    specs = parse_specs(models or "levelk,trust")
    for spec in specs:
        if spec.options:
            raise InputError(f"--models {models!r}: power compares models with their default "
                             f"options; {spec} has options")
    names = [spec.name for spec in specs]
    given = {} if params is None else read_params_by_model(params, names)
    if json_out is not None:
        check_output(json_out, force)
    truths = {}
    for spec in specs:
        m = build_model(spec)
        values = None if spec.name not in given else ParameterFile(params, given[spec.name])
        truths[spec.name] = (m, _params_for(m, d, values))
    with _backend(jobs, workers, scheduler) as backend, \
            _progress_bar("power study", len(truths) * replications) as step:
        shares, draws = run_power(d, truths, [m for m, _ in truths.values()],
                                  subjects=subjects, rounds=rounds, replications=replications,
                                  seed=seed, backend=backend, progress=step)
    console.print(f"Share of {replications} synthetic datasets won by each model (BIC); rows: "
                  f"true model; {subjects} subjects per role per treatment, "
                  f"{_rounds_text(d, rounds)}.")
    console.print(shares.to_string(float_format=lambda x: f"{x:.2f}"), markup=False,
                  highlight=False)
    if json_out is not None:
        write_json({"shares": shares.to_dict("index"), "draws": draws.to_dict("records")},
                   json_out, force)


@app.command()
@_bad_input
def advise(
    design: DesignOpt,
    model: ModelOpt,
    treatment: Annotated[str | None, typer.Option("--treatment", "-t", help="Treatment "
                                                  "(default: the design's first).")] = None,
    params: ParamsOpt = None,
    report: Annotated[str | None, typer.Option(
        "--report", help="The partner's new report: a value on the design's grid of "
        "reports, or its label where the messages are labels (as in the data); needed for "
        "--role receiver.")] = None,
    history: Annotated[Path | None, typer.Option(
        "--history", help="CSV file of the partner's earlier rounds, one row each, with the "
        "columns message and the feedback column (demand in forecast sharing, state "
        "elsewhere); other columns are ignored. Default: no record (the population).")
    ] = None,
    role: Annotated[str, typer.Option(
        "--role", help="receiver: what to do after the report; sender: what each report "
        "earns in --state against the fitted receivers.")] = "receiver",
    state: Annotated[float | None, typer.Option(
        "--state", help="The sender's state (--role sender).")] = None,
    policy: Annotated[str | None, typer.Option(
        "--policy", help="--role sender with a model whose receivers learn (dynamic_trust): "
        "project the partner's trust and the sender's earnings under a reporting policy, "
        "truthful or inflate:X (report the state plus X), over --rounds rounds.")] = None,
    rounds: Annotated[int, typer.Option(min=1, max=MAX_ROUNDS,
                                        help="Rounds projected (--policy).")] = 20,
    replications: Annotated[int, typer.Option(
        min=2, max=MAX_PARTNERS, help="Simulated partners (--policy).")] = 1000,
    seed: Annotated[int, typer.Option(min=0, help="Random seed of the projection (--policy; "
                                      ">= 0): the same seed gives the same numbers.")] = 0,
    columns: ColumnsOpt = None,
    epsilon: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Tremble weight (default: the tremble estimated in --params, "
        "else 0.001).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the advice as JSON "
                                                  "here.")] = None,
    report_dir: Annotated[Path | None, typer.Option(
        "--report-dir", help="Write a figure of the advice (PNG and SVG) into this new "
        "folder.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing --json file and "
                                        "--report-dir folder (only one cheaptalk wrote).")
                     ] = False,
) -> None:
    """Decision support (SPEC §6): the action to take after a partner's report, given its
    record — with what taking the report at face value or ignoring it would earn, the
    effective trust, and the posterior over the partner's type; or, with --role sender, what
    each report earns against the fitted receivers and what telling the truth costs; with
    --policy and a model whose receivers learn, where a reporting policy leads the partner's
    trust and the sender's earnings over the coming rounds."""
    from cheaptalk import advice as advice_module

    if role not in ("receiver", "sender"):
        raise InputError(f"--role {role!r}: expected receiver or sender")
    if role == "receiver" and report is None:
        raise InputError("--role receiver needs --report (the partner's new report)")
    if role == "receiver" and state is not None:
        raise InputError("--state is for --role sender; the receiver never sees the state")
    if policy is not None:
        if role != "sender":
            raise InputError("--policy is for --role sender (the sender's reporting policy)")
        chosen_policy = advice_module.parse_policy(policy)
    if role == "sender" and state is None and policy is None:
        raise InputError("--role sender needs --state (the sender's state) or --policy")
    if role == "sender" and (report is not None or history is not None):
        raise InputError("--report and --history are for --role receiver")
    d = load_design(design)
    name = treatment or d.treatments[0]
    if report is not None:
        advice_module.report_index(d.game(name), report, "--report")
    if state is not None:
        advice_module.state_index(d.game(name), state, "--state")
    given = _load_params(params)
    m = model_from(model, given)
    values = _params_for(m, d, given)
    if epsilon is None:
        epsilon = DEFAULT_TREMBLE if given is None or given.epsilon is None else given.epsilon
    if json_out is not None:
        check_output(json_out, force)
    if report_dir is not None:
        check_folder(report_dir, force)
    with _status(f"computing {m.name} advice…"):
        if role == "receiver":
            assert report is not None
            result: Any = advice_module.advise(d, m, values, name, history, report,
                                               epsilon=epsilon, columns=column_map(columns))
        elif policy is not None:
            result = advice_module.project_trust(d, m, values, name, chosen_policy, rounds,
                                                 seed=seed, replications=replications,
                                                 epsilon=epsilon)
        else:
            assert state is not None
            result = advice_module.advise_sender(d, m, values, name, state, epsilon=epsilon)
    if policy is not None and state is not None:
        console.print(advice_module.advise_sender(d, m, values, name, state,
                                                  epsilon=epsilon).summary(),
                      markup=False, highlight=False, soft_wrap=True)
    console.print(result.summary(), markup=False, highlight=False, soft_wrap=True)
    if json_out is not None:
        write_json(result.to_dict(), json_out, force)
        console.print(f"Wrote {json_out}.")
    if report_dir is not None:
        from cheaptalk.outputs import atomic_folder

        figure = advice_module.advice_figure(result)
        with atomic_folder(report_dir, force) as tmp:
            figure.savefig(tmp / "advice.png", dpi=150, metadata={"Software": None})
            figure.savefig(tmp / "advice.svg", metadata={"Date": None})
        console.print(f"Wrote the figure to {report_dir}/advice.png.")


@app.command()
@_bad_input
def experiment(
    design: DesignOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the oTree project (new "
                                      "or empty).")],
    bots: Annotated[str | None, typer.Option(
        help=f"Model the project's bots play by ({_MODELS}; strategies computed now and "
        "stored in the project); default: bots choose at random.")] = None,
    params: ParamsOpt = None,
    rounds: RoundsOpt = None,
    force: Annotated[bool, typer.Option(help="Replace a project cheaptalk wrote there "
                                        "(never one holding session data).")] = False,
) -> None:
    """Write an oTree 6 project that runs the design with people (SPEC §7)."""
    from cheaptalk.experiment import (
        bot_strategies,
        check_feasible,
        check_project_folder,
        write_project,
    )
    from cheaptalk.simulation import rounds_by_treatment

    d = load_design(design)
    if params is not None and bots is None:
        raise InputError("--params sets the bots' model parameters: give --bots MODEL too",
                         file=params)
    check_feasible(d)
    check_project_folder(out, force)
    strategies = None
    if bots is not None:
        given = _load_params(params)
        m = model_from(bots, given)
        values = _params_for(m, d, given)
        with _status(f"computing {m.name} strategies for the bots…"):
            strategies = bot_strategies({t: m.predict(d.game(t), values)
                                         for t in d.treatments}, str(bots))
    per_treatment = rounds_by_treatment(d, rounds)
    command = " ".join(["cheaptalk experiment --design", str(design), "--out", str(out),
                        *(["--bots", bots] if bots else []),
                        *(["--params", str(params)] if params else []),
                        *(["--rounds", str(rounds)] if rounds else [])])
    write_project(d, out, per_treatment, bots=strategies, force=force, command=command)
    first = next(iter(per_treatment))
    console.print(f"Wrote the oTree project for {d.kind.name} ({len(d.treatments)} "
                  f"treatments, {_rounds_text(d, rounds)}) to {out}. Run it: cd {out} && "
                  "otree prodserver 8000 (see its README.md; bots: otree test "
                  f"{first} 4).", markup=False, highlight=False)


def main() -> None:
    """Console-script entry point."""
    from cheaptalk._threads import single_blas_thread
    from cheaptalk.runner import Interrupted, interrupt_on_signals

    try:
        with single_blas_thread(), interrupt_on_signals():
            app(prog_name="cheaptalk")
    except Interrupted as e:
        # The runner has stopped its workers; outputs are written only after the work.
        err_console.print(f"error: interrupted by {e}; the work was stopped", markup=False,
                          highlight=False)
        sys.exit(128 + e.signum)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
