"""Assertions shared by the command-line tests."""


def assert_bad_input(result, *fragments: str) -> None:
    """Exit 2, one clear error line, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    out = result.output
    assert "Traceback" not in out
    assert out.strip().startswith("error:"), out
    for f in fragments:
        assert f in out, out
