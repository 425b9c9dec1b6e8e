"""Watches each model's base path and keeps the versions its version policy asks for loaded.

Like TF Serving's file-system source and availability-preserving policy: version directories are
integer names under the base path; an old version is unloaded only once a wanted version is
available, so the model never goes dark during a switch. A version directory still being written is
not loaded: it must hold saved_model.pb and its files (names, sizes, modification times) must be
unchanged since the previous poll; a load that fails anyway is retried at later polls, up to
`max_num_load_retries` times for the same files. Requests hold the Servable object they resolved,
so a version unloaded meanwhile finishes their work before it is garbage. A base path that does not
exist at startup fails the start; one without versions (or gone later) is logged once, as TF Serving
words it, and again only when what is wrong changes.
"""
import dataclasses
import logging
import os
import re
import threading
import time
import typing

from tensorflow_serving.config import model_server_config_pb2

from speech_emotion.serving import errors
from speech_emotion.serving import servable as servable_lib

# ModelVersionStatus.State names (tensorflow_serving/apis/get_model_status.proto).
START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"
_MAX_VERSION = 2**63 - 1  # versions are int64, as in TF Serving
_DECIMAL = re.compile(r"[0-9]+")


def parse_version(text: str) -> typing.Optional[int]:
    """`text` as a version number (ASCII digits, at most int64's largest), or None when it is not one."""
    digits = text.lstrip("0") or "0"  # int() refuses over 4300 digits, leading zeros included
    if not _DECIMAL.fullmatch(text) or len(digits) > len(str(_MAX_VERSION)):
        return None
    version = int(digits)
    return version if version <= _MAX_VERSION else None


@dataclasses.dataclass(frozen=True)
class VersionPolicy:
    """Which versions to serve: the latest `num_versions`, all, or the listed `versions`."""

    kind: str = "latest"
    num_versions: int = 1
    versions: typing.Tuple[int, ...] = ()

    def __post_init__(self):
        if self.kind not in ("latest", "all", "specific"):
            raise ValueError(f"unknown version policy {self.kind!r}")
        if self.kind == "latest" and self.num_versions < 1:
            raise ValueError(f"latest version policy needs num_versions >= 1, got {self.num_versions}")
        if self.kind == "specific" and not self.versions:
            raise ValueError("specific version policy needs at least one version")

    @classmethod
    def from_proto(cls, policy) -> "VersionPolicy":
        """Reads a FileSystemStoragePathSourceConfig.ServableVersionPolicy; unset means latest 1."""
        kind = policy.WhichOneof("policy_choice")
        if kind == "all":
            return cls("all")
        if kind == "specific":
            return cls("specific", versions=tuple(policy.specific.versions))
        if kind == "latest" and policy.latest.num_versions:
            return cls("latest", num_versions=policy.latest.num_versions)
        return cls()

    def wanted(self, versions: typing.Iterable[int]) -> typing.Set[int]:
        versions = sorted(versions)
        if self.kind == "all":
            return set(versions)
        if self.kind == "specific":
            return set(versions) & set(self.versions)
        return set(versions[-self.num_versions:])


@dataclasses.dataclass(frozen=True)
class ModelSource:
    """One served model: ModelConfig's name, base_path, model_version_policy and version_labels."""

    name: str
    base_path: str
    policy: VersionPolicy = VersionPolicy()
    version_labels: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_proto(cls, config: model_server_config_pb2.ModelConfig) -> "ModelSource":
        if not config.name or not config.base_path:
            raise ValueError(f"model config needs a name and a base_path, got {config}")
        if config.model_platform not in ("", "tensorflow"):
            raise ValueError(f"model {config.name}: only the tensorflow platform is served, got {config.model_platform!r}")
        return cls(config.name, config.base_path, VersionPolicy.from_proto(config.model_version_policy),
                   dict(config.version_labels))


@dataclasses.dataclass(frozen=True)
class VersionStatus:
    version: int
    state: str
    error: str = ""


class _Model:
    """What the manager knows of one model; mutated by the polling thread only."""

    def __init__(self, source: ModelSource):
        self.source = source
        # Replaced, never mutated, so request threads read it without a lock.
        self.available: typing.Dict[int, servable_lib.Servable] = {}
        self.statuses: typing.Dict[int, VersionStatus] = {}
        self.fingerprints: typing.Dict[int, tuple] = {}
        self.failed_loads: typing.Dict[int, typing.Tuple[tuple, int]] = {}
        # What is wrong with the base path, as last logged; logged again only when it changes.
        self.reported_problem = ""


Loader = typing.Callable[[ModelSource, int, str], servable_lib.Servable]


class ModelManager:
    """Loads, serves and unloads the versions of every configured model."""

    def __init__(self, sources: typing.Sequence[ModelSource], load: Loader, max_num_load_retries: int = 5):
        names = [source.name for source in sources]
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique, got {names}")
        self._models = {source.name: _Model(source) for source in sources}
        self._load = load
        self._max_num_load_retries = max_num_load_retries
        self._status_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: typing.Optional[threading.Thread] = None

    @property
    def model_names(self) -> typing.FrozenSet[str]:
        return frozenset(self._models)

    def start(self, poll_wait_seconds: float) -> None:
        """Loads what is on disk now, then polls every `poll_wait_seconds` (0: never again) in the background.

        Raises FileNotFoundError when a model's base path does not exist (TF Serving waits for it forever)."""
        for model in self._models.values():
            if not os.path.isdir(model.source.base_path):
                raise FileNotFoundError(f"{_missing_base_path(model.source)}: --model_base_path (or the model "
                                        "config's base_path) must be the folder that holds the numbered version folders")
        self.poll()
        # Files must look the same at two polls before a version loads; the second startup poll comes soon.
        time.sleep(min(poll_wait_seconds, 0.5) if poll_wait_seconds > 0 else 0.5)
        self.poll()
        if poll_wait_seconds > 0:
            self._thread = threading.Thread(target=self._poll_forever, args=(poll_wait_seconds,),
                                            name="model_version_poller", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _poll_forever(self, wait_seconds: float) -> None:
        while not self._stop.wait(wait_seconds):
            self.poll()

    def poll(self) -> None:
        """One pass over every model's base path: loads wanted versions, then unloads unwanted ones."""
        for model in self._models.values():
            try:
                self._poll_model(model)
            except FileNotFoundError:
                _report_once(model, logging.ERROR, _missing_base_path(model.source))
            except OSError as error:
                _report_once(model, logging.ERROR, f"Cannot read base path {model.source.base_path} for servable "
                                                   f"{model.source.name}: {error}")

    def _poll_model(self, model: _Model) -> None:
        on_disk = _version_directories(model.source.base_path)
        if on_disk:
            model.reported_problem = ""
        else:
            _report_once(model, logging.WARNING, _no_versions_message(model.source))
        fingerprints = {version: _fingerprint(path) for version, path in on_disk.items()}
        settled = {version for version, fingerprint in fingerprints.items() if model.fingerprints.get(version) == fingerprint}
        model.fingerprints = fingerprints
        wanted = model.source.policy.wanted(on_disk)
        for version in sorted(wanted - set(model.available), reverse=True):
            if version not in settled:
                self._set_status(model, VersionStatus(version, START))
                continue
            fingerprint = fingerprints[version]
            failed_fingerprint, failures = model.failed_loads.get(version, (None, 0))
            if failed_fingerprint == fingerprint and failures > self._max_num_load_retries:
                continue
            earlier_failures = failures if failed_fingerprint == fingerprint else 0
            self._load_version(model, version, on_disk[version], fingerprint, earlier_failures)
        wanted_available = bool(wanted & set(model.available))
        for version in sorted(set(model.available) - wanted):
            if wanted_available or version not in on_disk:
                self._unload_version(model, version)

    def _load_version(self, model: _Model, version: int, path: str, fingerprint: tuple, failures: int) -> None:
        self._set_status(model, VersionStatus(version, LOADING))
        logging.info("model %s: loading version %d from %s", model.source.name, version, path)
        try:
            loaded = self._load(model.source, version, path)
        except Exception as error:  # noqa: BLE001 - a bad version must never stop the server
            model.failed_loads[version] = (fingerprint, failures + 1)
            message = f"Failed to load version {version} of model {model.source.name} (attempt {failures + 1}): {error}"
            logging.warning(message)
            self._set_status(model, VersionStatus(version, END, message))
            return
        model.failed_loads.pop(version, None)
        model.available = {**model.available, version: loaded}
        self._set_status(model, VersionStatus(version, AVAILABLE))
        logging.info("model %s: version %d is available", model.source.name, version)

    def _unload_version(self, model: _Model, version: int) -> None:
        self._set_status(model, VersionStatus(version, UNLOADING))
        model.available = {kept: servable for kept, servable in model.available.items() if kept != version}
        self._set_status(model, VersionStatus(version, END))
        logging.info("model %s: version %d unloaded", model.source.name, version)

    def _set_status(self, model: _Model, status: VersionStatus) -> None:
        with self._status_lock:
            model.statuses[status.version] = status

    def _model(self, name: str, request: str) -> _Model:
        if name not in self._models:
            raise errors.not_found(f"Servable not found for request: {request}")
        return self._models[name]

    def resolve_version(self, name: str, version: typing.Optional[int], label: typing.Optional[str]) -> typing.Optional[int]:
        """The version a request names: `version`, the version `label` points to, or None for the latest."""
        if version is not None and label:
            raise errors.invalid_argument(f"Both model version ({version}) and model version label ({label}) cannot be supplied.")
        if not label:
            return version
        model = self._model(name, f"Latest({name})")
        if label not in model.source.version_labels:
            raise errors.invalid_argument(f"Unrecognized servable version label: {label}")
        return model.source.version_labels[label]

    def servable(self, name: str, version: typing.Optional[int] = None,
                 label: typing.Optional[str] = None) -> servable_lib.Servable:
        """The loaded version a request asks for; NotFound as TF Serving when it is not available."""
        version = self.resolve_version(name, version, label)
        request = f"Latest({name})" if version is None else f"Specific({name}, {version})"
        available = self._model(name, request).available
        if version is None:
            if not available:
                raise errors.not_found(f"Servable not found for request: {request}")
            return available[max(available)]
        if version not in available:
            raise errors.not_found(f"Servable not found for request: {request}")
        return available[version]

    def statuses(self, name: str, version: typing.Optional[int] = None,
                 label: typing.Optional[str] = None) -> typing.List[VersionStatus]:
        """Every version of the model seen so far (or the one asked for), as GetModelStatus reports them."""
        version = self.resolve_version(name, version, label)
        with self._status_lock:
            statuses = dict(self._models[name].statuses) if name in self._models else {}
        if version is not None:
            if version not in statuses:
                raise errors.not_found(f"Could not find version {version} of model {name}")
            return [statuses[version]]
        if not statuses:
            raise errors.not_found(f"Could not find any versions of model {name}")
        return [statuses[seen] for seen in sorted(statuses)]


def _report_once(model: _Model, level: int, message: str) -> None:
    if message != model.reported_problem:
        logging.log(level, message)
        model.reported_problem = message


def _missing_base_path(source: ModelSource) -> str:
    return f"Could not find base path {source.base_path} for servable {source.name}"


def _no_versions_message(source: ModelSource) -> str:
    """TF Serving's warning, and what the base path holds instead when it looks one level off."""
    message = (f"No versions of servable {source.name} found under base path {source.base_path}. "
               "Did you forget to name your leaf directory as a number (eg. '/1/')?")
    base_path = source.base_path
    if servable_lib.has_saved_model(base_path):
        parent, name = os.path.split(os.path.normpath(base_path))
        if parse_version(name) is not None:
            return f"{message} {base_path} is a version folder itself: give its parent, {parent}, as the base path."
        return f"{message} {base_path} is itself a SavedModel: move it into a numbered folder, e.g. {os.path.join(base_path, '1')}."
    with os.scandir(base_path) as entries:
        children = sorted((entry.name, entry.path) for entry in entries if entry.is_dir())
    numbered_without_model = [name for name, _ in children if parse_version(name) is not None]
    if numbered_without_model:
        return f"{message} Numbered folders without a {servable_lib.SAVED_MODEL_FILE}: {', '.join(numbered_without_model)}."
    holding_versions = [path for _, path in children if _holds_versions(path)]
    if holding_versions:
        return f"{message} Versions were found one level down, under {', '.join(holding_versions)}."
    return message


def _holds_versions(path: str) -> bool:
    try:
        return bool(_version_directories(path))
    except OSError:  # an unreadable subfolder is no hint
        return False


def _version_directories(base_path: str) -> typing.Dict[int, str]:
    """Subdirectories of `base_path` named by a version number that hold a saved_model.pb."""
    versions = {}
    with os.scandir(base_path) as entries:
        for entry in entries:
            version = parse_version(entry.name)
            if version is not None and entry.is_dir() and servable_lib.has_saved_model(entry.path):
                versions[version] = entry.path
    return versions


def _fingerprint(path: str) -> tuple:
    """Names, sizes and modification times of every file under `path`: changes while a version is written."""
    files = []
    for directory, _, names in os.walk(path):
        for name in names:
            file_path = os.path.join(directory, name)
            try:
                stat = os.stat(file_path)
            except FileNotFoundError:
                continue
            files.append((os.path.relpath(file_path, path), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(files))
