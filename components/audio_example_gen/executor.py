"""Executor of AudioExampleGen: runs the ingestion Beam pipeline into the Examples artifact."""
from typing import Any, Dict, List

from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils

from speech_emotion.config import FeatureConfig
from speech_emotion.data import corpus_spec
from speech_emotion.data import empty_corpus
from speech_emotion.data import ingest
from speech_emotion.data import splits


def ingest_config_from_properties(exec_properties: Dict[str, Any]) -> ingest.IngestConfig:
    return ingest.IngestConfig(
        corpora=corpus_spec.from_json(exec_properties["corpora"]),
        split=splits.SplitConfig.from_json(exec_properties["split_config"]),
        feature=FeatureConfig.from_json(exec_properties["feature_config"]),
    )


class Executor(base_beam_executor.BaseBeamExecutor):
    def Do(self, input_dict: Dict[str, List], output_dict: Dict[str, List], exec_properties: Dict[str, Any]) -> None:
        config = ingest_config_from_properties(exec_properties)
        examples = artifact_utils.get_single_instance(output_dict["examples"])
        plan = ingest.make_plan(config)
        with self._make_beam_pipeline() as pipeline:
            _ = pipeline | ingest.IngestCorpora(plan, config.feature, examples.uri)
        ingest.ensure_split_dirs(plan, examples.uri)
        examples.split_names = artifact_utils.encode_split_names(plan.split_names)
        examples_utils.set_payload_format(examples, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)
        summary = ingest.read_summary(examples.uri)
        for split, split_summary in summary["splits"].items():
            examples.set_int_custom_property(f"{split}_examples", split_summary["examples"])
        quarantined = sum(len(corpus["quarantined"]) for corpus in summary["corpora"].values())
        duplicates = sum(len(corpus["duplicates"]) for corpus in summary["corpora"].values())
        examples.set_int_custom_property("quarantined", quarantined)
        examples.set_int_custom_property("duplicates", duplicates)
        # After the summary is written and counted: a corpus whose every file was set aside fails the run here,
        # before any model trains on the others alone.
        empty_corpus.check_summary(config.corpora, summary)
