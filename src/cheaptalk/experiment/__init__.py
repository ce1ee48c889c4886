"""An oTree 6 project that runs a design with people (SPEC §7).

:func:`write_project` turns a design into a complete oTree project: ``settings.py`` with one
session config per treatment and one that runs all treatments in sequence, one app for the
design's game family, its templates, ``requirements.txt`` and a README for the experimenter.
The app is the same for every family: every game is a finite sender–receiver game
(:class:`~cheaptalk.games.base.Game`), stored in the app's ``game.json`` with its grids,
labels, payoff tables, generated instructions and comprehension questions; only the payoff
*rule* differs. Forecast sharing pays realised sales, ``min(D, K)`` with ``D = ξ + ε``
(``u_S = (r − w)·sales``, ``u_R = (w − c)·sales − c_k·K``), whose expectation is the game's
payoff table; the other games pay ``u[t, a]`` from their tables.

Timeouts: a decision not made within the session config's ``decision_timeout_seconds``
(default :data:`DEFAULT_TIMEOUT_SECONDS`; 0: no limit) gets the documented default — the
sender sends the truthful message (the one whose literal value is nearest the state), the
receiver takes the action best under the prior — and the export marks it
(``sender_timeout`` / ``receiver_timeout`` = 1).

Bots (``--bots MODEL``): each treatment's type strategies ``σ[t, m]`` and ``ρ[m, a]`` are
computed here and stored in ``bots.json`` (each row sparse: the most likely entries that
hold all but :data:`BOT_TAIL` of its mass, renormalised), so the oTree project never imports
cheaptalk.
"""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, StrictUndefined

from cheaptalk.data.design import Design
from cheaptalk.data.errors import InputError
from cheaptalk.games.base import Game
from cheaptalk.models.base import Prediction
from cheaptalk.outputs import REPORT_MARKER, atomic_folder, check_own_files

__all__ = ["BOT_TAIL", "DEFAULT_TIMEOUT_SECONDS", "MAX_CHOICE_BUTTONS", "MAX_INPUT_VALUES",
           "OTREE_VERSION", "bot_strategies", "check_feasible", "check_project_folder", "game_spec",
           "session_config_names", "write_project"]

#: The oTree release the project is written for (its ``requirements.txt`` pins it).
OTREE_VERSION = "6.0.15"
#: The most values one decision may take: a browser input beyond this is not usable.
MAX_INPUT_VALUES = 1001
#: Decisions with at most this many values are shown as buttons, larger ones as a number
#: input on the grid.
MAX_CHOICE_BUTTONS = 12
#: Seconds per decision before the default is used (the session config can change it).
DEFAULT_TIMEOUT_SECONDS = 120
#: Probability mass a stored bot strategy row may drop (its least likely entries).
BOT_TAIL = 1e-6
#: The one session config that plays every treatment in turn.
SEQUENCE_CONFIG = "all_treatments"

_FILES = "files"


# --------------------------------------------------------------------- game families
@dataclass(frozen=True)
class _Words:
    """What the state, message, action and feedback are called, and their labels."""

    state: str
    message: str
    action: str
    feedback: str
    state_labels: Callable[[Game], list[str]]
    message_labels: Callable[[Game], list[str]]
    action_labels: Callable[[Game], list[str]]


def _pts(x: float) -> str:
    """Points as the app pays them (two decimals), without trailing zeros."""
    return f"{round(float(x), 2):g}"


def _per_unit(x: float) -> str:
    return f"{x:g} point" if x == 1 else f"{x:g} points"


def _numbers(values: Any) -> list[str]:
    return [f"{float(v):g}" for v in values]


def _family_words(kind_name: str, variables: tuple[str, str, str], feedback: str) -> _Words:
    if kind_name == "binary_deception":
        return _Words("better option for the receiver", "message", "option chosen", "state",
                      lambda g: ["A", "B"],
                      lambda g: ["Option A will earn you more money than option B",
                                 "Option B will earn you more money than option A"],
                      lambda g: ["A", "B"])
    state, message, action = variables
    return _Words(state, message, action, feedback if feedback != "state" else state,
                  lambda g: _numbers(g.states),
                  lambda g: (list(g.message_labels) if g.message_labels is not None
                             else _numbers(g.messages)),
                  lambda g: _numbers(g.actions))


def _table_html(game: Game, words: _Words, roles: tuple[str, str]) -> str:
    states = words.state_labels(game)
    actions = words.action_labels(game)
    head = "".join(f"<th>{html.escape(a)}</th>" for a in actions)
    rows = []
    for i, s in enumerate(states):
        cells = "".join(f"<td>{_pts(game.sender_payoff[i, j])} / "
                        f"{_pts(game.receiver_payoff[i, j])}</td>" for j in range(len(actions)))
        rows.append(f"<tr><th>{html.escape(s)}</th>{cells}</tr>")
    return (f'<table class="table table-sm table-bordered" id="payoff-table"><thead><tr>'
            f"<th>{html.escape(words.state)} \\ {html.escape(words.action)}</th>{head}</tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p>Each cell: points of the {roles[0]} / points of the {roles[1]}.</p>")


def _prior_text(game: Game, labels: list[str]) -> str:
    if np.allclose(game.prior, game.prior[0]):
        return "each equally likely"
    return ", ".join(f"{lab} with probability {p:.3g}" for lab, p in zip(labels, game.prior,
                                                                        strict=True))


def _forecast_texts(game: Game, roles: tuple[str, str]) -> dict[str, Any]:
    p = game.parameters
    m, s = roles
    e = game.feedback_noise
    lo, hi, step = p["forecast_low"], p["forecast_high"], p["step"]
    k_max = float(game.actions[-1])
    ms, mr, ck = p["margin_sender"], p["margin_receiver"], p["capacity_cost"]
    rule = (
        f"<p>Each round the {m} privately learns a demand <b>forecast</b>: a number from "
        f"{lo:g} to {hi:g} in steps of {step:g}, each equally likely. Demand is the forecast "
        f"plus a random error drawn uniformly between {-e:g} and {e:g}.</p>"
        f"<p>The {m} sends a <b>report</b> of the forecast to the {s} (any value from {lo:g} "
        f"to {hi:g} in steps of {step:g}; it need not equal the forecast). The {s} sees the "
        f"report, not the forecast, and builds a <b>capacity</b> from 0 to {k_max:g} in steps "
        f"of {step:g}. Then demand is revealed to both.</p>"
        f"<p><b>Sales</b> = the smaller of demand and capacity. The {m} earns {_per_unit(ms)} "
        f"per unit sold: points = {ms:g} × sales. The {s} earns {_per_unit(mr)} per unit "
        f"sold and pays {_per_unit(ck)} per unit of capacity: points = {mr:g} × sales − "
        f"{ck:g} × capacity.</p>")
    mid = float(game.states[game.n_states // 2])
    demand = round(mid - e / 2, 2)
    sales = min(demand, mid)
    example = (
        f"<p>The forecast is {mid:g}; the {m} reports {mid:g}; the {s} builds capacity "
        f"{mid:g}; demand turns out to be {demand:g}. Sales = min({demand:g}, {mid:g}) = "
        f"{sales:g}. The {m} earns {ms:g} × {sales:g} = {ms * sales:g} points; the {s} earns "
        f"{mr:g} × {sales:g} − {ck:g} × {mid:g} = {mr * sales - ck * mid:g} points.</p>")
    k1 = float(game.actions[np.argmin(np.abs(game.actions - mid))])
    d1 = round(mid + e / 2, 2)
    sales1 = min(d1, k1)
    question = (f"Suppose the {s} builds capacity {k1:g} and demand turns out to be {d1:g}. "
                "How many points do you earn this round?")
    quiz = {m: {"question": question, "answer": round(ms * sales1, 2)},
            s: {"question": question, "answer": round(mr * sales1 - ck * k1, 2)}}
    return {"instructions_html": rule, "example_html": example, "quiz": quiz}


def _table_texts(game: Game, words: _Words, roles: tuple[str, str]) -> dict[str, Any]:
    snd, rcv = roles
    states = words.state_labels(game)
    messages = words.message_labels(game)
    actions = words.action_labels(game)
    formula = ""
    p = game.parameters
    if {"base", "scale", "exponent", "bias"} <= set(p):  # Crawford–Sobel
        formula = (f"<p>The {rcv} earns {p['base']:g} − {p['scale']:g} × |{words.state} − "
                   f"{words.action}|<sup>{p['exponent']:g}</sup> points; the {snd} earns "
                   f"{p['base']:g} − {p['scale']:g} × |{words.state} + {p['bias']:g} − "
                   f"{words.action}|<sup>{p['exponent']:g}</sup> points (rounded in the table "
                   "below).</p>")
    rule = (
        f"<p>Each round the {snd} privately learns the <b>{html.escape(words.state)}</b>: "
        f"{html.escape(', '.join(states))} ({_prior_text(game, states)}). The {snd} sends "
        f"one of these messages to the {rcv}: "
        f"{'; '.join(html.escape(x) for x in messages)}. The {rcv} sees the message, not the "
        f"{html.escape(words.state)}, and chooses the <b>{html.escape(words.action)}</b>: "
        f"{html.escape(', '.join(actions))}. Then both learn the "
        f"{html.escape(words.state)}.</p>{formula}"
        f"<p>Points depend only on the {html.escape(words.state)} and the "
        f"{html.escape(words.action)}:</p>"
        + _table_html(game, words, roles))
    t, a = 0, game.n_actions - 1
    example = (f"<p>If the {html.escape(words.state)} is {html.escape(states[t])} and the "
               f"{rcv} chooses {html.escape(actions[a])}, the {snd} earns "
               f"{_pts(game.sender_payoff[t, a])} points and the {rcv} "
               f"{_pts(game.receiver_payoff[t, a])} points, whatever message was sent.</p>")
    t1, a1 = game.n_states - 1, 0
    question = (f"Suppose the {words.state} is {states[t1]} and the {rcv} chooses "
                f"{actions[a1]}. How many points do you earn this round?")
    quiz = {snd: {"question": question, "answer": round(float(game.sender_payoff[t1, a1]), 2)},
            rcv: {"question": question,
                  "answer": round(float(game.receiver_payoff[t1, a1]), 2)}}
    return {"instructions_html": rule, "example_html": example, "quiz": quiz}


# --------------------------------------------------------------------- checks
def _step(values: np.ndarray) -> float | None:
    """The common step of an evenly spaced grid, or None."""
    if values.size < 2:
        return 1.0
    d = np.diff(values)
    return float(d[0]) if np.allclose(d, d[0], rtol=1e-9, atol=1e-9) else None


def check_feasible(design: Design) -> None:
    """Refuse a design the browser app cannot run, before anything is written.

    Each decision (message, action) may take at most :data:`MAX_INPUT_VALUES` values; one
    with more than :data:`MAX_CHOICE_BUTTONS` values is entered as a number, so its values
    must be evenly spaced; messages given as labels (``matrix`` games) are buttons, so at
    most :data:`MAX_CHOICE_BUTTONS` of them.

    Raises
    ------
    InputError
        Naming the design file and the treatment.

    Examples
    --------
    >>> from cheaptalk.data import load_design
    >>> check_feasible(load_design("crawford_sobel"))
    """
    names = session_config_names(design)
    for name in design.treatments:
        if "," in name:  # session configs list their treatments separated by commas
            raise InputError("a treatment name for the experiment cannot contain a comma",
                             file=design.source, key=f"treatments.{name}")
        game = design.game(name)
        for what, values in (("message", game.messages), ("action", game.actions)):
            label = dict(zip(("state", "message", "action"), design.kind.variables,
                             strict=True))[what]
            if values.size > MAX_INPUT_VALUES:
                raise InputError(
                    f"{values.size} {label} values: a browser input takes at most "
                    f"{MAX_INPUT_VALUES}; use a coarser grid for the experiment",
                    file=design.source, key=f"treatments.{name}")
            if (what == "message" and game.message_labels is not None
                    and values.size > MAX_CHOICE_BUTTONS):
                raise InputError(
                    f"{values.size} {label}s given as labels: the app offers labelled "
                    f"{label}s as buttons, at most {MAX_CHOICE_BUTTONS}", file=design.source,
                    key=f"treatments.{name}")
            if values.size > MAX_CHOICE_BUTTONS and _step(values) is None:
                raise InputError(
                    f"{values.size} {label} values that are not evenly spaced: the app shows "
                    f"more than {MAX_CHOICE_BUTTONS} values as a number input on an even grid",
                    file=design.source, key=f"treatments.{name}")
    if len(set(names.values())) != len(names):
        raise InputError("two treatment names give the same oTree session name; rename one",
                         file=design.source, key="treatments")


def session_config_names(design: Design) -> dict[str, str]:
    """oTree session-config name of each treatment (letters, digits and ``_`` only).

    >>> from cheaptalk.data import load_design
    >>> session_config_names(load_design("forecast_sharing"))
    {'LL': 'LL', 'LH': 'LH', 'HL': 'HL', 'HH': 'HH'}
    """
    out = {}
    for name in design.treatments:
        clean = re.sub(r"\W", "_", name, flags=re.ASCII)
        if not clean[0].isalpha():
            clean = "t_" + clean
        if clean == SEQUENCE_CONFIG:
            clean += "_treatment"
        out[name] = clean
    return out


def check_project_folder(out: str | Path, force: bool = False) -> Path:
    """Check, before any work, that the project can be written to ``out``.

    A new or empty folder is fine; a project cheaptalk wrote is replaced only with
    ``force``, and never while it holds session data (``db.sqlite3``); any other folder or
    file is refused.

    Raises
    ------
    InputError

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_project_folder(folder) == folder          # empty: fine
    True
    >>> _ = (folder / "notes.txt").write_text("mine")
    >>> check_project_folder(folder, force=True)
    Traceback (most recent call last):
    cheaptalk.data.errors.InputError: ...: folder exists and is not a project cheaptalk wrote; ...
    """
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InputError("exists and is not a folder", file=p)
    if p.is_dir() and any(p.iterdir()):
        if not (p / REPORT_MARKER).exists():
            raise InputError("folder exists and is not a project cheaptalk wrote; choose "
                             "another folder", file=p)
        if not force:
            raise InputError("a project is already there; pass --force to replace it",
                             file=p)
        if (p / "db.sqlite3").exists():  # --force never deletes session data
            raise InputError("the project holds session data (db.sqlite3); move it away "
                             "or write the project elsewhere", file=p)
        check_own_files(p)
    return p


# --------------------------------------------------------------------- game.json
def game_spec(design: Design, rounds: Mapping[str, int]) -> dict[str, Any]:
    """The app's ``game.json``: every treatment's grids, payoffs, texts and defaults.

    Examples
    --------
    >>> from cheaptalk.data import load_design
    >>> spec = game_spec(load_design("binary_deception"), {"G1": 5})
    >>> t = spec["treatments"]["G1"]
    >>> t["rounds"], t["choice_input"], t["timeout_action"], t["timeout_message"]
    (5, True, 0, [0, 1])
    """
    kind = design.kind
    roles = kind.roles
    words = _family_words(kind.name, kind.variables, kind.feedback_column)
    treatments = {}
    for name in design.treatments:
        game = design.game(name)
        play = design.play_of(name)
        sales = kind.feedback_column != "state"
        texts = (_forecast_texts(game, roles) if kind.name == "forecast_sharing"
                 else _table_texts(game, words, roles))
        msg_step = _step(game.messages) or 1.0
        act_step = _step(game.actions) or 1.0
        choice = max(game.n_messages, game.n_actions) <= MAX_CHOICE_BUTTONS
        timeout = (f"If you do not decide within the time shown, the default is used: the "
                   f"{roles[0]} sends the {words.message} that states the true "
                   f"{words.state}, the {roles[1]} takes the {words.action} "
                   f"{words.action_labels(game)[int(np.argmax(game.prior_values()))]}.")
        matching = ("the same partner in every round" if play.matching == "fixed" else
                    "a new random partner every round"
                    + (f", within a group of {play.group_size} per role"
                       if play.group_size else ""))
        treatments[name] = {
            "rounds": int(rounds[name]),
            "matching": play.matching,
            "group_size": play.group_size,
            "matching_text": matching,
            "alternate_note": False,
            "states": game.states.tolist(),
            "prior": game.prior.tolist(),
            "messages": game.messages.tolist(),
            "actions": game.actions.tolist(),
            "state_labels": words.state_labels(game),
            "message_labels": words.message_labels(game),
            "labelled_messages": game.message_labels is not None,
            "action_labels": words.action_labels(game),
            "message_step": msg_step, "action_step": act_step,
            "message_low": float(game.messages.min()),
            "message_high": float(game.messages.max()),
            "action_low": float(game.actions.min()), "action_high": float(game.actions.max()),
            "message_range_text": f"{game.messages.min():g} to {game.messages.max():g} in "
                                  f"steps of {msg_step:g}",
            "action_range_text": f"{game.actions.min():g} to {game.actions.max():g} in steps "
                                 f"of {act_step:g}",
            "choice_input": choice,
            # The sales rule pays realised sales, not the expected table (module docstring).
            "sender_payoffs": None if sales else np.round(game.sender_payoff, 6).tolist(),
            "receiver_payoffs": None if sales else np.round(game.receiver_payoff, 6).tolist(),
            "payoff_rule": "sales" if sales else "table",
            "feedback_noise": float(game.feedback_noise),
            "parameters": {k: v for k, v in game.parameters.items()
                           if isinstance(v, int | float | str)},
            "timeout_message": [int(m) for m in game.truthful_message],
            "timeout_action": int(np.argmax(game.prior_values())),
            "timeout_note": timeout,
            **texts,
        }
    return {
        "app": kind.name,
        "kind": kind.name,
        "roles": list(roles),
        "feedback_column": kind.feedback_column,
        "words": {"state": words.state, "message": words.message, "action": words.action,
                  "feedback": words.feedback},
        "num_rounds": int(sum(rounds.values())),
        "treatments": treatments,
    }


# --------------------------------------------------------------------- bots.json
def _sparse_row(row: np.ndarray) -> list[list[float]]:
    """``[[indices], [probabilities]]``: the most likely entries holding 1 − BOT_TAIL."""
    order = np.argsort(-row, kind="stable")
    mass = np.cumsum(row[order])
    keep = order[: int(np.searchsorted(mass, mass[-1] * (1 - BOT_TAIL))) + 1]
    p = row[keep] / row[keep].sum()
    return [keep.tolist(), [float(f"{x:.6g}") for x in p]]


def bot_strategies(predictions: Mapping[str, Prediction], model: str) -> dict[str, Any]:
    """The ``bots.json`` of a project: per treatment and role, the types' weights and
    strategies (sender rows per state, receiver rows per message, sparse).

    Examples
    --------
    >>> from cheaptalk.data import load_design
    >>> from cheaptalk.models import get_model
    >>> d = load_design("binary_deception")
    >>> m = get_model("levelk")
    >>> pred = {"G1": m.predict(d.game("G1"), m.default_params(d.game("G1")))}
    >>> doc = bot_strategies(pred, "levelk")
    >>> w = doc["treatments"]["G1"]["sender"]["weights"]
    >>> round(sum(w), 9)
    1.0
    """
    out: dict[str, Any] = {"model": model, "treatments": {}}
    for name, pred in predictions.items():
        roles = {}
        for role in ("sender", "receiver"):
            weights, strategies, names = pred.role_types(role)
            roles[role] = {
                "names": names,
                "weights": [float(w) for w in weights],
                "strategies": [[_sparse_row(np.asarray(r, dtype=float)) for r in s]
                               for s in strategies],
            }
        out["treatments"][name] = roles
    return out


# --------------------------------------------------------------------- writing
def _read(name: str) -> str:
    return (resources.files("cheaptalk.experiment") / _FILES / name).read_text(encoding="utf-8")


def _render(name: str, **context: Any) -> str:
    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True,
                      autoescape=False)  # Python and Markdown, not HTML
    return env.from_string(_read(name)).render(**context)


def write_project(
    design: Design,
    out: str | Path,
    rounds: Mapping[str, int],
    *,
    bots: Mapping[str, Any] | None = None,
    force: bool = False,
    command: str = "",
) -> Path:
    """Write the oTree project for ``design`` to the folder ``out`` (atomically).

    Parameters
    ----------
    design : Design
    out : path
        A new or empty folder (or a project cheaptalk wrote, with ``force``).
    rounds : mapping
        Rounds of each treatment.
    bots : dict, optional
        :func:`bot_strategies` output, written as the app's ``bots.json``.
    force : bool
        Replace a project cheaptalk wrote before.
    command : str
        The command that wrote it (for the README).

    Returns
    -------
    Path
        The project folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from cheaptalk.data import load_design
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "lab"
    >>> _ = write_project(load_design("binary_deception"), out, {"G1": 10})
    >>> sorted(p.name for p in (out / "binary_deception").glob("*.py"))
    ['__init__.py', 'tests.py']
    """
    check_feasible(design)
    check_project_folder(out, force)
    spec = game_spec(design, rounds)
    app = spec["app"]
    names = session_config_names(design)
    configs = [{"name": names[t], "display": f"{design.kind.name}: treatment {t}",
                "treatments": t, "participants": 2 * (design.play_of(t).group_size or 2)}
               for t in design.treatments]
    if len(configs) > 1:
        configs.append({"name": SEQUENCE_CONFIG, "display": f"{design.kind.name}: all "
                        f"treatments in sequence ({', '.join(design.treatments)})",
                        "treatments": ",".join(design.treatments),
                        "participants": max(c["participants"] for c in configs)})
    context = dict(app=app, configs=configs, secret_key=secrets.token_hex(16),
                   timeout=DEFAULT_TIMEOUT_SECONDS, kind=design.kind, spec=spec,
                   design_source=design.source, bots=bots, command=command,
                   otree_version=OTREE_VERSION, roles=design.kind.roles,
                   first=configs[0]["name"], marker=REPORT_MARKER)
    with atomic_folder(out, force) as tmp:
        (tmp / "_static" / "cheaptalk").mkdir(parents=True)
        (tmp / "_static" / "cheaptalk" / "grid_input.js").write_text(_read("grid_input.js"),
                                                                    encoding="utf-8")
        (tmp / "settings.py").write_text(_render("settings.py_tmpl", **context),
                                         encoding="utf-8")
        (tmp / "README.md").write_text(_render("README.md_tmpl", **context), encoding="utf-8")
        (tmp / "requirements.txt").write_text(
            f"otree=={OTREE_VERSION}\n# for PostgreSQL (DATABASE_URL=postgresql://...):\n"
            "# psycopg2-binary>=2.9\n", encoding="utf-8")
        (tmp / ".gitignore").write_text("db.sqlite3\n__pycache__/\n__temp*/\n",
                                        encoding="utf-8")
        (tmp / "design.toml").write_text(design.to_toml(), encoding="utf-8")
        folder = tmp / app
        folder.mkdir()
        (folder / "__init__.py").write_text(_read("app_init.py_tmpl"), encoding="utf-8")
        (folder / "tests.py").write_text(_read("tests.py_tmpl"), encoding="utf-8")
        (folder / "game.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
        if bots is not None:
            (folder / "bots.json").write_text(json.dumps(bots, separators=(",", ":")) + "\n",
                                              encoding="utf-8")
        for page in ("Instructions", "SenderDecision", "ReceiverDecision", "Results",
                     "Payment", "History"):
            (folder / f"{page}.html").write_text(_read(f"{page}.html"), encoding="utf-8")
    return Path(out)
