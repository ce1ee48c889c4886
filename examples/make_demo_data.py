"""Rebuild the bundled synthetic demo dataset (src/cheaptalk/designs/demo_data.csv).

The data are SYNTHETIC: simulated by cheaptalk from the mixture in cheaptalk.demo.DEMO_TRUTH.
Run: python examples/make_demo_data.py
"""

from pathlib import Path

from cheaptalk.demo import write_demo_data

if __name__ == "__main__":
    folder = Path(__file__).resolve().parents[1] / "src" / "cheaptalk" / "designs"
    for path in write_demo_data(folder):
        print(f"wrote {path}")
