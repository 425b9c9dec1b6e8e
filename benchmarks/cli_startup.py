"""How long `ser` takes to answer commands that need no model: help, argument errors, a missing file.

    python benchmarks/cli_startup.py [--repeats 5]

Each command runs in a fresh interpreter, as a user's shell runs it; the table gives the median wall-clock
seconds and whether the command loaded TensorFlow. Target: well under 2 s each (before issue 22: 10-30 s,
every command imported TensorFlow).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

COMMANDS = (
    ["--help"],
    ["predict", "--help"],
    ["pipeline", "run", "--help"],
    ["pipeline", "run", "--workdir", "w"],
    ["predict", "missing.wav"],
)
_RUN = """
import json, sys
from speech_emotion import cli
try:
    cli.main(json.loads(sys.argv[1]))
except SystemExit:
    pass
print(json.dumps("tensorflow" in sys.modules))
"""


def _time(argv):
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-c", _RUN, json.dumps(argv)], capture_output=True, text=True)
    return time.monotonic() - started, json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"| command | median s ({args.repeats} runs) | imports TensorFlow |")
    print("|---|---|---|")
    for argv in COMMANDS:
        runs = [_time(argv) for _ in range(args.repeats)]
        print(f"| ser {' '.join(argv)} | {statistics.median(seconds for seconds, _ in runs):.2f} | {runs[0][1]} |")


if __name__ == "__main__":
    main()
