"""cheaptalk: cheap-talk games, behavioural models of over-communication, and their estimation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cheaptalk")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
