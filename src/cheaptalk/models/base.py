r"""The model interface (SPEC §3).

A model maps a game and parameters :math:`\theta` to *types*. Each type has a population
weight and a sender strategy ``sigma[t, m]`` and/or a receiver strategy ``rho[m, a]``
(index conventions of :mod:`cheaptalk.games.base`). Subjects keep one type for all their
decisions. Because a subject is a unit of type analysis *in one role*, a type may carry a
strategy for one role only (the trust-embedded model draws a receiver's trust α and a
sender's lying cost β independently); within each role, the weights of the types that carry
a strategy for that role sum to one.

Population strategies are the type-weighted averages. Trembles are *not* part of a
prediction: they enter only the likelihood of observed choices (SPEC §1).

A model whose tables are costly may give its types *lazy* strategies
(:class:`StrategyTable`): the table of a role's types is built the first time one of them
is read, while :meth:`Prediction.at_cells` (all the likelihood reads) may answer from the
model's factors without building it.

A new model is one new module in :mod:`cheaptalk.models` that defines a :class:`Model`
subclass with a ``name``; the registry picks it up. The model also declares how it is
presented — its place among models (``order``), its colour, and its type families
(:class:`Family`, from :meth:`Model.families`) — so that tables, the command line and the
figures need no list of model names (docs/extending.md).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from cheaptalk.games.base import Game

from .history import History

__all__ = ["CellAdjoints", "Family", "MixtureShare", "Model", "ParameterError", "Prediction",
           "Pullback", "Restriction", "StrategyRow", "StrategyTable", "Type"]

#: Vector–Jacobian product of a prediction: given the adjoints (derivatives of a scalar such
#: as the log-likelihood) with respect to each type's ``weight``, ``sender`` and ``receiver``
#: arrays (in the order of ``Prediction.types``; ``None`` where a type has no strategy for
#: that role), return the derivative of the scalar with respect to each parameter. The
#: strategy adjoints come as sequences: lists, or :class:`CellAdjoints` from the likelihood
#: (index and slice them; do not assume a ``list``).
Pullback = Callable[
    [NDArray[np.float64], Sequence[NDArray[np.float64] | None],
     Sequence[NDArray[np.float64] | None]],
    dict[str, float],
]


class CellAdjoints(Sequence[NDArray[np.float64] | None]):
    """Per-type strategy adjoints for a :data:`Pullback`, stored on a few flat cells
    (``x * n_y + y``) and zero elsewhere: the likelihood's adjoints live on the observed
    cells only. Indexing gives each type's full array (``None`` for a type without one), as
    a list would; a pullback may instead take :meth:`observed` and work on those cells.

    Parameters
    ----------
    values : ndarray, shape (n_rows, n_cells)
        The adjoints on ``cells``, one row per type that has them.
    rows : array of int, shape (n_types,)
        Each type's row in ``values``, or -1 for none.
    cells : array of int, shape (n_cells,)
        Flat indices of the cells into a strategy of shape ``shape``.
    shape : tuple of int

    Examples
    --------
    >>> bars = CellAdjoints(np.array([[2.0]]), np.array([-1, 0]), np.array([1]), (2, 2))
    >>> bars[0] is None, bars[1].tolist(), bars[1:].observed()[0].tolist()
    (True, [[0.0, 2.0], [0.0, 0.0]], [[2.0]])
    """

    def __init__(self, values: NDArray[np.float64], rows: NDArray[np.intp],
                 cells: NDArray[np.intp], shape: tuple[int, ...]) -> None:
        self.values, self.rows = values, np.asarray(rows, dtype=np.intp)
        self.cells, self.shape = np.asarray(cells, dtype=np.intp), tuple(shape)

    def __len__(self) -> int:
        return self.rows.size

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return CellAdjoints(self.values, self.rows[index], self.cells, self.shape)
        row = self.rows[index]
        if row < 0:
            return None
        out = np.zeros(int(np.prod(self.shape)))
        out[self.cells] = self.values[row]
        return out.reshape(self.shape)

    def observed(self) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """``(values[type, cell], cells)`` for every type (zeros for one without)."""
        out = np.zeros((self.rows.size, self.cells.size))
        has = self.rows >= 0
        out[has] = self.values[self.rows[has]]
        return out, self.cells


class ParameterError(ValueError):
    """Invalid model parameters (unknown name, missing value, out of range)."""


@dataclass(frozen=True)
class Family:
    """A family of types, as the report shows it: the posterior probability of a family
    is the sum over its types (e.g. family ``"trust"`` gathers the receivers' trust levels).

    Attributes
    ----------
    name : str
        The family's name, the value of :attr:`Type.family` of its types.
    colour : str
        Hex colour of the family in figures.
    text_colour : str
        Colour of text drawn on that colour (``"white"`` on dark colours).

    Examples
    --------
    >>> Family("L1", "#0072B2", "white")
    Family(name='L1', colour='#0072B2', text_colour='white')
    """

    name: str
    colour: str
    text_colour: str = "black"


@dataclass(frozen=True)
class MixtureShare:
    """A parameter that is the population share of one kind of subject, which the report
    states in words: "about 65% of subjects behave as {kind} and the rest as {rest}".

    Examples
    --------
    >>> MixtureShare("pi", "trust types", "level-k types").parameter
    'pi'
    """

    parameter: str
    kind: str
    rest: str


@dataclass(frozen=True)
class Restriction:
    """A model that this one reduces to when some parameters are held at given values:
    the comparison tests it by likelihood ratio where both were fitted.

    Attributes
    ----------
    nested : str
        :attr:`Model.label` of the nested model.
    values : dict
        The restriction, e.g. ``{"eta": 0.0}`` (``inf`` for a limit).
    boundary : bool
        Whether the restricted value lies on the boundary of the parameter space (the
        statistic then follows a 50:50 mixture of chi-squares, not a chi-square).

    Examples
    --------
    >>> Restriction("trust", {"eta": 0.0}, boundary=True).text
    'eta = 0'
    """

    nested: str
    values: dict[str, float]
    boundary: bool = False

    @property
    def text(self) -> str:
        return ", ".join(f"{k} = {'∞' if np.isinf(v) else f'{v:g}'}"
                         for k, v in self.values.items())


class StrategyTable:
    """The strategies of several types of one role, shape (n_types, n_x, n_y), built
    together the first time any of them is read and kept.

    A model subclasses it and implements :meth:`build`; it may also implement
    :meth:`compute_at_cells`, so that :meth:`at_cells` answers without building the table.
    A :class:`Type` holds one row of it (:meth:`row`).

    Parameters
    ----------
    table : ndarray, shape (n_types, n_x, n_y), optional
        An already built table (:meth:`build` is then never called).

    Examples
    --------
    >>> class Uniform(StrategyTable):
    ...     def build(self):
    ...         return np.full((2, 3, 4), 0.25)
    >>> t = Uniform()
    >>> t.built, t.at_cells(np.array([1]), np.array([0, 11])).tolist(), t.built
    (False, [[0.25, 0.25]], True)
    >>> Type("u", 1.0, sender=t.row(1)).sender.shape
    (3, 4)
    """

    def __init__(self, table: NDArray[np.float64] | None = None) -> None:
        self._table = table

    def build(self) -> NDArray[np.float64]:
        """The full table (called once, by :meth:`table`)."""
        raise NotImplementedError

    def compute_at_cells(self, rows: NDArray[np.intp], cells: NDArray[np.intp]
                         ) -> NDArray[np.float64]:
        """Types ``rows`` at flat cells ``x * n_y + y``, shape (rows.size, cells.size),
        without the table; by default from the table."""
        table = self.table()
        return table.reshape(table.shape[0], -1)[rows[:, None], cells[None, :]]

    @property
    def built(self) -> bool:
        """Whether the full table exists."""
        return self._table is not None

    def table(self) -> NDArray[np.float64]:
        """The full table, built on the first call."""
        if self._table is None:
            self._table = self.build()
        return self._table

    def at_cells(self, rows: NDArray[np.intp], cells: NDArray[np.intp]
                 ) -> NDArray[np.float64]:
        """Types ``rows`` at flat cells: from the table once it is built, else
        :meth:`compute_at_cells`."""
        rows, cells = np.asarray(rows, dtype=np.intp), np.asarray(cells, dtype=np.intp)
        if self.built:  # the gather from the table, whatever a subclass computes instead
            return StrategyTable.compute_at_cells(self, rows, cells)
        return self.compute_at_cells(rows, cells)

    def row(self, index: int) -> StrategyRow:
        """Type ``index``'s strategy, for :class:`Type` (not built until read)."""
        return StrategyRow(self, index)


class StrategyRow:
    """Row ``index`` of a :class:`StrategyTable`: a strategy not built until read."""

    __slots__ = ("index", "table")

    def __init__(self, table: StrategyTable, index: int) -> None:
        self.table, self.index = table, index

    def __reduce__(self) -> tuple[type, tuple[StrategyTable, int]]:
        return StrategyRow, (self.table, self.index)

    def value(self) -> NDArray[np.float64]:
        """The row of the (now built) table."""
        return self.table.table()[self.index]


#: Where :class:`Type` keeps each role's strategy as given.
_SLOTS = {"sender": "_sender", "receiver": "_receiver"}


class _Strategy:
    """Descriptor of :attr:`Type.sender` and :attr:`Type.receiver`: an array or ``None`` as
    given, or a :class:`StrategyRow` resolved (and kept) on the first read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = _SLOTS[name]

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return None  # the dataclass field's default
        value = obj.__dict__[self.slot]
        if type(value) is StrategyRow:
            value = value.value()
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        # Reached only through object.__setattr__: Type is frozen (its __setattr__ refuses).
        obj.__dict__[self.slot] = value


# init=False: Type.__init__ fills __dict__ itself (a frozen dataclass's __init__ would pass
# each strategy through the descriptor, a Python call per field and type).
@dataclass(frozen=True, eq=False, init=False)
class Type:
    """One behavioural type.

    Attributes
    ----------
    name : str
        E.g. ``"L1"`` or ``"trust alpha=0.31"``.
    weight : float
        Population share of the type among subjects of the role(s) it has strategies for.
    sender : ndarray, shape (n_t, n_m), or None
        ``sigma[t, m]`` (no tremble). May be given as a :class:`StrategyRow`: it is then
        built on the first read (every read returns the same array).
    receiver : ndarray, shape (n_m, n_a), or None
        ``rho[m, a]`` (no tremble); likewise.
    family : str
        The type's family (one of the model's :meth:`Model.families`), e.g. ``"trust"`` for
        ``"trust alpha=0.31"``. Empty: the type is a family of its own, named ``name``.
    """

    name: str
    weight: float
    sender: NDArray[np.float64] | None = _Strategy()  # type: ignore[assignment]
    receiver: NDArray[np.float64] | None = _Strategy()  # type: ignore[assignment]
    family: str = ""

    def __init__(self, name: str, weight: float,
                 sender: NDArray[np.float64] | StrategyRow | None = None,
                 receiver: NDArray[np.float64] | StrategyRow | None = None,
                 family: str = "") -> None:
        stored = self.__dict__
        stored["name"], stored["weight"] = name, weight
        stored["_sender"], stored["_receiver"] = sender, receiver
        stored["family"] = family or name

    def plays(self, role: str) -> bool:
        """Whether the type has a strategy for ``role``, without building a lazy one.

        Examples
        --------
        >>> Type("L0", 1.0, receiver=np.eye(2)).plays("sender")
        False
        """
        return self.__dict__[_slot(role)] is not None

    def reweighted(self, weight: float) -> Type:
        """The same type with another weight; its strategies are shared (a lazy one stays
        unbuilt)."""
        stored = self.__dict__
        return Type(self.name, weight, stored["_sender"], stored["_receiver"], self.family)


def _slot(role: str) -> str:
    try:
        return _SLOTS[role]
    except KeyError:
        raise ValueError("role must be 'sender' or 'receiver'") from None


@dataclass(frozen=True, eq=False)
class Prediction:
    """A model's prediction for one game: its types and population strategies."""

    game: Game
    types: tuple[Type, ...]
    model: str = ""
    params: Mapping[str, float] | None = None

    def role_indices(self, role: str) -> list[int]:
        """Positions in :attr:`types` of the types with a strategy for ``role`` (none is
        built).

        Examples
        --------
        >>> from cheaptalk.games import crawford_sobel
        >>> pred = Prediction(crawford_sobel(), (Type("a", 1.0, receiver=np.eye(5)),
        ...                                      Type("b", 1.0, sender=np.eye(5))))
        >>> pred.role_indices("sender")
        [1]
        """
        slot = _slot(role)
        return [i for i, ty in enumerate(self.types) if ty.__dict__[slot] is not None]

    def role_types(self, role: str) -> tuple[NDArray[np.float64], NDArray[np.float64], list[str]]:
        """Weights (normalised), stacked strategies and names of the types of one role.

        ``role`` is ``"sender"`` (strategies shape (n_types, n_t, n_m)) or ``"receiver"``
        (shape (n_types, n_m, n_a)).
        """
        if role not in ("sender", "receiver"):
            raise ValueError("role must be 'sender' or 'receiver'")
        chosen = [ty for ty in self.types if ty.plays(role)]
        weights = np.array([ty.weight for ty in chosen], dtype=float)
        weights = weights / weights.sum()
        strategies = np.stack([getattr(ty, role) for ty in chosen])
        return weights, strategies, [ty.name for ty in chosen]

    def at_cells(self, role: str, cells: NDArray[np.intp]) -> NDArray[np.float64]:
        """The strategies of ``role``'s types at flat cells ``x * n_y + y`` (no tremble):
        shape (types of the role, in the order of :attr:`types`; cells).

        The likelihood reads predictions only here and through the weights. Types whose
        strategies are rows of one :class:`StrategyTable` are answered together by
        :meth:`StrategyTable.at_cells` (from the model's factors while the table is unbuilt,
        where the model has them).

        Examples
        --------
        >>> from cheaptalk.games import crawford_sobel
        >>> g = crawford_sobel()
        >>> pred = Prediction(g, (Type("uniform", 1.0, receiver=np.full((5, 9), 1 / 9)),))
        >>> pred.at_cells("receiver", np.array([0, 44])).tolist()
        [[0.1111111111111111, 0.1111111111111111]]
        """
        cells = np.asarray(cells, dtype=np.intp)
        slot = _slot(role)
        stored = [x for x in [ty.__dict__[slot] for ty in self.types] if x is not None]
        if not any(type(x) is StrategyRow for x in stored):  # plain arrays
            return np.stack([x.reshape(-1)[cells] for x in stored])
        # Consecutive rows of one table go together: (table, [rows]) or (array, None).
        runs: list[tuple[Any, list[int] | None]] = []
        for x in stored:
            if type(x) is not StrategyRow:
                runs.append((x, None))
            elif runs and runs[-1][0] is x.table:
                runs[-1][1].append(x.index)  # type: ignore[union-attr]
            else:
                runs.append((x.table, [x.index]))
        return np.concatenate([
            source.reshape(1, -1)[:, cells] if rows is None
            else source.at_cells(np.array(rows, dtype=np.intp), cells)
            for source, rows in runs])

    @property
    def sender(self) -> NDArray[np.float64]:
        """Population sender strategy ``sigma[t, m]``."""
        w, s, _ = self.role_types("sender")
        return np.tensordot(w, s, axes=1)

    @property
    def receiver(self) -> NDArray[np.float64]:
        """Population receiver strategy ``rho[m, a]``."""
        w, r, _ = self.role_types("receiver")
        return np.tensordot(w, r, axes=1)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cheaptalk predict`` (SPEC §4.2)."""
        g = self.game
        return {
            "model": self.model,
            "params": dict(self.params or {}),
            "states": g.states.tolist(),
            "messages": g.messages.tolist(),
            # a game whose messages are labels: how each is written in data
            **({"message_labels": list(g.message_labels)} if g.message_labels else {}),
            "actions": g.actions.tolist(),
            "population": {"sender": self.sender.tolist(), "receiver": self.receiver.tolist()},
            "types": [
                {
                    "name": ty.name,
                    "family": ty.family,
                    "weight": float(ty.weight),
                    "sender": None if ty.sender is None else ty.sender.tolist(),
                    "receiver": None if ty.receiver is None else ty.receiver.tolist(),
                }
                for ty in self.types
            ],
        }


class Model(ABC):
    """Base class of behavioural models.

    Subclasses set ``name`` (the registry key and command-line name), ``description``,
    ``order`` and ``colour``, list their type families in :meth:`families`, and implement
    :meth:`parameter_names`, :meth:`default_params` and :meth:`predict`. Model *options*
    (number of levels, L0 behaviour, lie-cost form, …) are constructor arguments with
    defaults, whose types are the options' types (see :mod:`cheaptalk.models.spec`);
    *parameters* (estimated quantities, names as SPEC §3.5) are a mapping.
    The names depend on the model and its options only, never on the game: one parameter
    vector serves every treatment of a design. A parameter that does not move the
    prediction in a game is declared by :meth:`inert_parameters`.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: Place in tables, command-line lists and figures (ascending; ties by name).
    order: ClassVar[int] = 1000
    #: Hex colour of the model in figures and the HTML report.
    colour: ClassVar[str] = ""
    #: Roles whose choices depend on what the unit saw in earlier rounds (SPEC §3.6); such
    #: a model implements :meth:`history_probabilities` and :meth:`history_strategy_rows`.
    #: A static model's types play one strategy in every round.
    history_roles: ClassVar[tuple[str, ...]] = ()
    #: Whether the receivers' trust moves with their records: such a model implements
    #: :meth:`trust_levels`, and decision support projects a partner's trust with it.
    trust_moves: ClassVar[bool] = False

    def families(self) -> tuple[Family, ...]:
        """The type families of this model, in display order (every :attr:`Type.family`
        of its predictions is among them). Default: none declared."""
        return ()

    @abstractmethod
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the model's parameters (SPEC §3.5), the same in every game."""

    def inert_parameters(self, game: Game) -> frozenset[str]:
        """Parameters that do not change the prediction in ``game`` (default none).

        Example: ``lambda_s`` of ``equilibrium`` where the equilibrium babbles (the sender
        is uniform whatever her precision). Estimation holds a parameter that is inert in
        every treatment of the data fixed and reports it as not identified.
        """
        return frozenset()

    @abstractmethod
    def default_params(self, game: Game) -> dict[str, float]:
        """A sensible parameter vector (used for starts, demos and docs)."""

    @abstractmethod
    def predict(self, game: Game, params: Mapping[str, float]) -> Prediction:
        """Types and population strategies of the model in ``game``."""

    def predict_with_pullback(
        self, game: Game, params: Mapping[str, float],
    ) -> tuple[Prediction, Pullback | None]:
        """The prediction and its exact vector–Jacobian product (see :data:`Pullback`).

        Models with analytic derivatives override this; the default returns ``None`` for the
        pullback, and estimation then falls back to numerical derivatives and says so.
        """
        return self.predict(game, params), None

    def history_probabilities(
        self, game: Game, params: Mapping[str, float], role: str, history: History,
        rows: NDArray[np.intp], seen: NDArray[np.intp], chosen: NDArray[np.intp],
    ) -> tuple[NDArray[np.float64], Callable[[NDArray[np.float64]], dict[str, float]]]:
        """Probability of the observed choices of a role whose play depends on history.

        Parameters
        ----------
        game, params
        role : {"sender", "receiver"}, one of :attr:`history_roles`
        history : History
            All decisions of the role (:mod:`cheaptalk.models.history`).
        rows : ndarray of int
            The decisions wanted (indices into ``history``), all in ``game``.
        seen, chosen : ndarray of int
            What each of them saw (state or message index) and chose (message or action).

        Returns
        -------
        probabilities : ndarray, shape (n_types, rows.size)
            For each type of the role (the prediction's types that carry a strategy for it,
            in order) the probability of each choice, without tremble.
        pullback : callable
            Given the adjoint of ``probabilities`` (same shape), the derivative with respect
            to each parameter through these probabilities (the prediction's own pullback
            carries the rest, with ``None`` adjoints for this role's strategies).
        """
        raise NotImplementedError(f"{self.name} has no history-dependent play")

    def history_strategy_rows(
        self, game: Game, params: Mapping[str, float], role: str, history: History,
        rows: NDArray[np.intp], seen: NDArray[np.intp], type_index: NDArray[np.intp],
    ) -> NDArray[np.float64]:
        """Choice probabilities (without tremble) of decisions ``rows`` of units of the
        given types (indices into the role's types), shape (rows.size, n_choices): what a
        simulation draws from."""
        raise NotImplementedError(f"{self.name} has no history-dependent play")

    def restrictions(self) -> tuple[Restriction, ...]:
        """The models this one nests (default none); see :class:`Restriction`."""
        return ()

    def trust_levels(self, game: Game, params: Mapping[str, float], history: History,
                     rows: NDArray[np.intp], type_index: NDArray[np.intp]
                     ) -> NDArray[np.float64]:
        """Trust of the receivers' decisions ``rows``, starting at the trust nodes
        ``type_index``, after their records (models with :attr:`trust_moves`)."""
        raise NotImplementedError(f"{self.name}: the receivers' trust does not move")

    def mixture_share(self) -> MixtureShare | None:
        """The parameter that splits the population between two kinds of subject, which
        the report states in words (default none); see :class:`MixtureShare`."""
        return None

    def dynamics(self, game: Game, params: Mapping[str, float], rounds: int
                 ) -> dict[str, list[float]] | None:
        """Population quantities round by round under the model (``None`` for a static
        model): columns of equal length, the first ``"round"`` (1..``rounds``)."""
        return None

    def bounds(self, game: Game) -> dict[str, tuple[float, float]]:
        """Open interval of each parameter, used for unconstrained transforms.

        The default follows the SPEC §3.5 naming convention: precisions, Beta parameters,
        ``beta_sigma`` and ``tau`` are positive; ``pi`` and point masses lie in (0, 1);
        ``beta_mu`` is unrestricted; level shares form simplex groups (see
        :meth:`simplex_groups`). Models override where they differ; bounds may depend on the
        game, and estimation intersects them over the data's games.
        """
        out: dict[str, tuple[float, float]] = {}
        for name in self.parameter_names():
            if name == "beta_mu":
                out[name] = (-np.inf, np.inf)
            elif name == "pi" or re.fullmatch(r"(alpha|beta)_p\d", name):
                out[name] = (0.0, 1.0)
            elif re.fullmatch(r"p\d+(_[sr])?", name):
                out[name] = (0.0, 1.0)
            else:
                out[name] = (0.0, np.inf)
        return out

    def simplex_groups(self) -> list[tuple[str, ...]]:
        """Groups of parameters that must be non-negative and sum to one.

        Default: level shares ``p0, p1, …`` (and ``p0_s, …`` / ``p0_r, …`` per role).
        """
        groups: dict[str, list[str]] = {}
        for name in self.parameter_names():
            found = re.fullmatch(r"p\d+(_[sr])?", name)
            if found:
                groups.setdefault(found.group(1) or "", []).append(name)
        return [tuple(g) for g in groups.values()]

    def nonsmooth_parameters(self) -> tuple[str, ...]:
        """Parameters the likelihood is not smooth in (estimation profiles them).

        Default none. Cognitive hierarchy's ``tau`` is one: the levels' best responses to the
        Poisson(τ) mixture switch as τ moves, so the likelihood jumps.
        """
        return ()

    def quadrature(self) -> dict[str, int]:
        """Quadrature node counts of continuous type distributions (default none)."""
        return {}

    def refined(self) -> Model | None:
        """The same model with twice the quadrature nodes (``None`` if it has none).

        Used to check quadrature accuracy: SPEC §3.3 asks that doubling the nodes move the
        log-likelihood by less than 0.01.
        """
        return None

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """Quantities derived from the parameters and reported with every fit (default none)."""
        return {}

    def derived_bounds(self) -> dict[str, tuple[float, float]]:
        """The range of each derived quantity (default: the real line), so that its Wald
        interval is built on a scale that keeps it there."""
        return {}

    def type_values(self, game: Game, params: Mapping[str, float], role: str
                    ) -> dict[str, NDArray[np.float64]]:
        """Numbers that place each type of a role on a scale, by name.

        Each array has one entry per type of ``role`` (``"sender"`` or ``"receiver"``), in
        the order of :meth:`Prediction.role_types`, NaN for a type the scale does not
        describe. Decision support (:mod:`cheaptalk.advice`) reports their posterior
        medians, e.g. a trust-embedded sender's lying cost β. Default: none.
        """
        return {}

    @property
    def options(self) -> dict[str, Any]:
        """The constructor options of this model (so that a fit can be reproduced)."""
        import inspect

        out = {}
        for name in inspect.signature(type(self).__init__).parameters:
            if name != "self" and hasattr(self, name):
                value = getattr(self, name)
                if isinstance(value, str | int | float | bool) or value is None:
                    out[name] = value
        return out

    @property
    def label(self) -> str:
        """The model's name, with the options that differ from their defaults in brackets:
        ``"trust"``, ``"trust[lie_cost=quadratic]"``. Comparisons key their fits by it, so
        that variants of one model can be compared.

        Examples
        --------
        >>> from cheaptalk.models import get_model
        >>> get_model("levelk").label, get_model("levelk", levels=4, shares="per_role").label
        ('levelk', 'levelk[levels=4,shares=per_role]')
        """
        import inspect

        defaults = {n: p.default for n, p in
                    inspect.signature(type(self).__init__).parameters.items()}
        changed = [f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                   for k, v in self.options.items()
                   if k in defaults and defaults[k] != v]
        return f"{self.name}[{','.join(changed)}]" if changed else self.name

    # ---------------------------------------------------------------- helpers
    def check_values(self, params: Mapping[str, float]) -> dict[str, float]:
        """Every check :meth:`predict` makes on the parameters (names, numbers, ranges,
        shares), without predicting; returns them as floats. Default: :meth:`check_params`.

        Raises
        ------
        ParameterError
        """
        return self.check_params(params)

    def check_params(self, params: Mapping[str, float]) -> dict[str, float]:
        """Check names and that values are numbers; return the parameters as floats.

        Raises
        ------
        ParameterError
            On an unknown or missing name or a non-numeric value.
        """
        names = self.parameter_names()
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ParameterError(
                f"{self.name}: unknown parameter(s) {', '.join(unknown)}; "
                f"expected {', '.join(names)}"
            )
        missing = [n for n in names if n not in params]
        if missing:
            raise ParameterError(f"{self.name}: missing parameter(s) {', '.join(missing)}")
        out: dict[str, float] = {}
        for n in names:
            try:
                value = float(params[n])
            except (TypeError, ValueError):
                raise ParameterError(f"{self.name}: parameter {n} must be a number, "
                                     f"got {params[n]!r}") from None
            if np.isnan(value):
                raise ParameterError(f"{self.name}: parameter {n} is NaN")
            out[n] = value
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
