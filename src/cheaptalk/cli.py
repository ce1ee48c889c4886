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
from cheaptalk.data import InputError, load_data, load_design
from cheaptalk.data.design import Design
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


def _load_params(path: Path | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(params or None, model options) from a JSON file."""
    if path is None:
        return None, {}
    if not path.exists():
        raise InputError("parameter file not found", file=path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=path) from None
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} (column {e.colno})", file=path,
                         line=e.lineno) from None
    if not isinstance(doc, dict):
        raise InputError("must be a JSON object of parameter values", file=path)
    options: dict[str, Any] = {}
    if "params" in doc:
        options = doc.get("options") or {}
        doc = doc["params"]
        if not isinstance(doc, dict) or not isinstance(options, dict):
            raise InputError("'params' and 'options' must be JSON objects", file=path)
    return doc, options


def _model(name: str, options: dict[str, Any], source: Path | None) -> Model:
    try:
        return get_model(name, **options)
    except TypeError as e:
        raise InputError(f"invalid model options for {name}: {e}", file=source) from None
    except ValueError as e:
        raise InputError(f"invalid model options for {name}: {e}", file=source) from None


def _params_for(model: Model, design: Design, params: dict[str, Any] | None,
                source: Path | None) -> dict[str, Any]:
    game = design.game(design.treatments[0])
    if params is None:
        return model.default_params(game)
    try:
        model.check_params(game, params)
    except ParameterError as e:
        raise InputError(str(e), file=source) from None
    return params


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
    force: Annotated[bool, typer.Option(help="Replace an existing --json file.")] = False,
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
    epsilon: Annotated[float, typer.Option(min=0.0, max=1.0, help="Tremble weight.")] = 1e-3,
    force: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
) -> None:
    """Simulate an experiment from a model (synthetic data, labelled as such)."""
    from cheaptalk.simulation import Simulation

    d = load_design(design)
    values, options = _load_params(params)
    m = _model(model, options, params)
    values = _params_for(m, d, values, params)
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
    force: Annotated[bool, typer.Option(help="Replace an existing --json file.")] = False,
) -> None:
    """A model's strategies in one treatment (population and per type; no trembles)."""
    from cheaptalk.report.predictions import mean_action_by_message, mean_report_by_state

    d = load_design(design)
    name = treatment or d.treatments[0]
    game = d.game(name)
    values, options = _load_params(params)
    m = _model(model, options, params)
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
    table = Table(title=f"{m.name} in {name}: types "
                  + ", ".join(f"{t.name} ({t.weight:.2f})" for t in pred.types[:6])
                  + (" …" if len(pred.types) > 6 else ""))
    for col in (state_name, f"mean {message_name}", message_name, f"mean {action_name}"):
        table.add_column(col, justify="right")
    for i in pick:
        r, a = reports.iloc[i], actions.iloc[min(i, len(actions) - 1)]
        table.add_row(f"{r.iloc[0]:g}", f"{r.iloc[1]:.2f}", f"{a.iloc[0]:g}", f"{a.iloc[1]:.2f}")
    console.print(table)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="cheaptalk")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
