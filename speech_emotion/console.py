"""What native libraries write to the terminal: captured where `ser` has something better to say.

TensorFlow's C++ start-up lines and libmpg123's notes go straight to file descriptor 2, past Python's
sys.stderr; only redirecting the descriptor itself catches them.
"""
import contextlib
import dataclasses
import os
import re
import sys
import tempfile
import warnings

# TensorFlow 2.16's XLA registers its CUDA plugins twice at import, and says so at ERROR level, GPU or
# not. TF_CPP_MIN_LOG_LEVEL=3 would hide them, and every real error with them.
_TENSORFLOW_IMPORT_NOISE = re.compile(r"Unable to register cu(FFT|DNN|BLAS) factory")


@dataclasses.dataclass
class CapturedOutput:
    text: str = ""


@contextlib.contextmanager
def captured_stderr():
    """Collects everything written to file descriptor 2 in the block (native code's output and
    sys.stderr's) into the yielded CapturedOutput's `text`, for the caller to pass on or drop."""
    captured = CapturedOutput()
    sys.stderr.flush()
    terminal = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(terminal, 2)
            os.close(terminal)
            capture.seek(0)
            captured.text = capture.read().decode(errors="replace")


def import_tensorflow() -> None:
    """Imports TensorFlow, passing on all it writes at start-up but the three CUDA-registration lines and
    google-api-core's notices that Python 3.10 is no longer supported (from here on, in this process)."""
    warnings.filterwarnings("ignore", message="You are using a non-supported Python version", category=FutureWarning)
    if "tensorflow" in sys.modules:
        return
    try:
        with captured_stderr() as captured:
            import tensorflow  # noqa: F401
    finally:
        sys.stderr.write("".join(line for line in captured.text.splitlines(keepends=True)
                                 if not _TENSORFLOW_IMPORT_NOISE.search(line)))
