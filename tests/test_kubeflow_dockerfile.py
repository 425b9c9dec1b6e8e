"""kubeflow/Dockerfile builds the pipeline image from the lock: what can be checked without a Docker daemon."""
import ast
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "kubeflow" / "Dockerfile"
CONSTRAINTS = "requirements/constraints.txt"


def _instructions():
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.read_text().splitlines()
                                           if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in text.splitlines() if line.strip()]


def _locked():
    text = (ROOT / CONSTRAINTS).read_text()
    versions = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)$", text, re.MULTILINE))
    [python] = re.findall(r"--python-version (\S+)", text)
    return versions, python


def _index(instructions, instruction, pattern):
    [found] = [position for position, (name, arguments) in enumerate(instructions)
               if name == instruction and re.search(pattern, arguments)]
    return found


@pytest.fixture(scope="module")
def instructions():
    return _instructions()


def test_the_images_it_builds_on_are_the_locked_tfx_and_beam_releases(instructions):
    versions, python = _locked()
    stages = [arguments.split() for name, arguments in instructions if name == "FROM"]

    assert stages[-1] == [f"gcr.io/tfx-oss-public/tfx:{versions['tfx']}"]
    assert [f"apache/beam_python{python}_sdk:{versions['apache-beam']}", "AS", "beam-sdk"] in stages
    assert ("COPY", "--from=beam-sdk /opt/apache/beam /opt/apache/beam") in instructions
    # Dataflow workers start the image's entrypoint: Beam's boot program; Vertex runs the spec's own command.
    [entrypoint] = [json.loads(arguments) for name, arguments in instructions if name == "ENTRYPOINT"]
    assert entrypoint == ["/opt/apache/beam/boot"]


def test_keras_2_is_selected_for_every_process_of_the_image(instructions):
    environment = dict(pair.split("=", 1) for name, arguments in instructions if name == "ENV" for pair in arguments.split())

    assert environment["TF_USE_LEGACY_KERAS"] == "1"


def test_the_lock_is_installed_then_the_project_under_it(instructions):
    lock_copied = _index(instructions, "COPY", rf"^{CONSTRAINTS} {CONSTRAINTS}$")
    lock_installed = _index(instructions, "RUN", rf"pip install -r {CONSTRAINTS}")
    project_installed = _index(instructions, "RUN", rf"pip install -c {CONSTRAINTS} \.")
    copied = {source for name, arguments in instructions[:project_installed] if name == "COPY"
              for source in arguments.split()[:-1] if not source.startswith("--")}
    setup = ast.parse((ROOT / "setup.py").read_text())
    [folders] = [ast.literal_eval(node.value) for node in setup.body
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_SUBPACKAGE_FOLDERS"]

    assert lock_copied < lock_installed < project_installed
    # setup.py reads README.md; every folder it installs as a subpackage of speech_emotion.
    assert {"setup.py", "README.md", "speech_emotion", *folders} <= copied
    ignored = {line.strip() for line in (ROOT / "kubeflow" / "Dockerfile.dockerignore").read_text().splitlines()}
    assert not ignored & {"requirements", CONSTRAINTS, "setup.py", "README.md", "speech_emotion", *folders}
