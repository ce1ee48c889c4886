"""Assertions and data shared by the command-line tests."""


def assert_bad_input(result, *fragments: str) -> None:
    """Exit 2, one clear error line, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    out = result.output
    assert "Traceback" not in out
    assert out.strip().startswith("error:"), out
    for f in fragments:
        assert f in out, out


def json_paths(doc, prefix=()):
    """Every (path, value) in a JSON document, the root first."""
    yield prefix, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from json_paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from json_paths(v, (*prefix, i))


def mutate_json(doc, choice: int, delete: bool, value) -> tuple:
    """Delete (in an object) or replace the value at the ``choice``-th path of ``doc``, in
    place; returns the path."""
    paths = [p for p, _ in json_paths(doc) if p]
    where = paths[choice % len(paths)]
    parent = doc
    for k in where[:-1]:
        parent = parent[k]
    if delete and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    return where


def json_values():
    """A hypothesis strategy for small JSON values (NaN and infinities included)."""
    from hypothesis import strategies as st

    return st.recursive(
        st.none() | st.booleans() | st.integers(-10, 10) | st.floats() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)


def simulated_csv(out, subjects: int, rounds: int, seed: int, design: str = "crawford_sobel",
                  model: str = "levelk"):
    """Write synthetic data with ``cheaptalk simulate`` to ``out`` and return it."""
    from typer.testing import CliRunner

    from cheaptalk.cli import app

    r = CliRunner().invoke(app, ["simulate", "--design", design, "--model", model,
                                 "--subjects", str(subjects), "--rounds", str(rounds),
                                 "--seed", str(seed), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def peak_allocation(func, *args, **kwargs) -> tuple[BaseException | None, int]:
    """Call ``func`` and return the exception it raised (or ``None``) and the peak of the
    memory it allocated meanwhile, in bytes (numpy reports its arrays to tracemalloc): a
    size check must refuse before the large arrays exist."""
    import tracemalloc

    tracemalloc.start()
    try:
        func(*args, **kwargs)
    except Exception as e:  # returned for the caller to check
        error: BaseException | None = e
    else:
        error = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return error, peak
