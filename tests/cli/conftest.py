import pytest
from typer.testing import CliRunner

from cheaptalk.cli import app


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return invoke
