"""The pipeline configuration file: PipelineConfig's fields as YAML, the one source every runner reads.

`ser pipeline run`, `ser pipeline compile` and `ser pipeline config --print` read it from `--config FILE`, with
their flags as overrides; the pipeline files for TFX's CLI (pipeline/local_runner.py, kubeflow/runner.py) read the
file that SER_PIPELINE_CONFIG names, ./pipeline.yaml by default. Keys are the dataclasses' field names, nested as
the dataclasses are (`tuning: {trials: 10}`); a key left out keeps the dataclass's default. Validation is the
dataclasses' own, plus: every key must be a field, and every value of the field's type.
"""
import dataclasses
import os
import typing
from typing import Any, Dict, Mapping, Optional

import yaml

from speech_emotion.pipeline import config as pipeline_config

ENVIRONMENT_VARIABLE = "SER_PIPELINE_CONFIG"
DEFAULT_PATH = "pipeline.yaml"


def read(path: str) -> Dict[str, Any]:
    """The file's mapping, not yet checked against PipelineConfig; an empty file is an empty mapping."""
    with open(path) as config_file:
        try:
            values = yaml.safe_load(config_file)
        except yaml.YAMLError as error:
            raise ValueError(f"{path} is not YAML: {error}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValueError(f"{path} must hold a mapping of configuration keys, not a {type(values).__name__}")
    return values


def merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> Dict[str, Any]:
    """`base` with `overrides` laid over it: mappings merge key by key, any other value replaces."""
    result = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            value = merged(result[key], value)
        result[key] = value
    return result


def to_config(values: Mapping[str, Any], source: Optional[str] = None, config_class=pipeline_config.PipelineConfig):
    """A PipelineConfig (or another `config_class`) from the file's values; a ValueError names the key of any unknown
    key or wrong type, and the file (`source`) when given."""
    try:
        return _convert(config_class, values, "")
    except ValueError as error:
        if source is None:
            raise
        raise ValueError(f"{source}: {error}") from None


def default(key: str):
    """The default of a dotted key (`tuning.trials`) as the dataclasses set it; None for a field without one."""
    kind, value = pipeline_config.PipelineConfig, dataclasses.MISSING
    for name in key.split("."):
        if value is dataclasses.MISSING:
            [field] = [field for field in dataclasses.fields(kind) if field.name == name]
            kind, value = typing.get_type_hints(kind)[name], field.default
        else:
            value = getattr(value, name)
    return None if value is dataclasses.MISSING else value


def to_yaml(config: pipeline_config.PipelineConfig) -> str:
    """The configuration as a file `read` and `to_config` load back to an equal PipelineConfig."""
    return yaml.dump(_plain(dataclasses.asdict(config)), Dumper=_Dumper, sort_keys=False)


def from_environment(environ: Mapping[str, str] = os.environ) -> pipeline_config.PipelineConfig:
    """The resolved configuration of the file SER_PIPELINE_CONFIG names (./pipeline.yaml without it)."""
    path = environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_PATH
    if not os.path.exists(path):
        raise ValueError(f"no pipeline configuration at {path}: write one (`ser pipeline config --print` prints it) "
                         f"or set {ENVIRONMENT_VARIABLE} to its path")
    return pipeline_config.resolved(to_config(read(path), source=path))


class _Dumper(yaml.SafeDumper):
    """Lists of plain values on one line (`architectures: [cnn, cnn_gru]`), everything else as blocks."""


_Dumper.add_representer(list, lambda dumper, items: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", items, flow_style=not any(isinstance(item, (dict, list)) for item in items)))


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def _type_name(kind) -> str:
    return getattr(kind, "__name__", str(kind))


def _convert(kind, value, key: str):
    """`value` (as YAML reads it) as a `kind`: a dataclass, Optional, Tuple, bool, int, float or str."""
    where = f"{key}: " if key else ""
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}expected a mapping of {', '.join(field.name for field in dataclasses.fields(kind))}, "
                             f"got {value!r}")
        hints = typing.get_type_hints(kind)
        names = [field.name for field in dataclasses.fields(kind) if field.init]
        unknown = [name for name in value if name not in names]
        if unknown:
            raise ValueError(f"unknown key {_joined(key, str(unknown[0]))!r}; {key or 'the top level'} takes: {', '.join(names)}")
        missing = [field.name for field in dataclasses.fields(kind) if field.init and field.name not in value
                   and field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING]
        if missing:
            raise ValueError(f"missing key {_joined(key, missing[0])!r}")
        fields = {name: _convert(hints[name], item, _joined(key, name)) for name, item in value.items()}
        try:
            return kind(**fields)
        except ValueError as error:
            raise ValueError(f"{where}{error}") from None
    origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union:  # Optional[X]
        if value is None:
            return None
        return _convert(next(argument for argument in arguments if argument is not type(None)), value, key)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where}expected a list, got {value!r}")
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return tuple(_convert(arguments[0], item, f"{key}[{index}]") for index, item in enumerate(value))
        if len(value) != len(arguments):
            raise ValueError(f"{where}expected a list of {len(arguments)} values, got {value!r}")
        return tuple(_convert(argument, item, f"{key}[{index}]") for index, (argument, item) in enumerate(zip(arguments, value)))
    # bool is an int in Python, and YAML reads `yes`, `true` as booleans: neither stands for a number.
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind in (bool, int, str) and isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    raise ValueError(f"{where}expected {'a number' if kind is float else _type_name(kind)}, got {value!r}")


def _joined(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name
