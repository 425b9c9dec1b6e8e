"""Executor of AudioAugmentation: augments the train split with Beam and copies the other splits as they are.

On Beam's DaskRunner the train split's files are read whole and written a file per bundle (beam_files), with the
same records as Beam's TFRecord source and sink give on the other runners."""
import os
from typing import Any, Dict, List

import apache_beam as beam
from apache_beam.options import pipeline_options
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.utils import io_utils

from speech_emotion import beam_files
from speech_emotion.components.augmentation.beam import AugmentExamples
from speech_emotion.components.augmentation.config import AugmentationConfig
from speech_emotion.config import FeatureConfig
from speech_emotion.data import ingest
from speech_emotion.data import splits

EXAMPLES_KEY = "examples"
AUGMENTED_EXAMPLES_KEY = "augmented_examples"
CONFIG_KEY = "config"
FEATURE_CONFIG_KEY = "feature_config"
_GZIPPED_TFRECORDS = "tfrecords_gzip"


def _check_input_format(examples) -> None:
    payload_format = examples_utils.get_payload_format(examples)
    if payload_format != example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE:
        raise ValueError(f"expected tf.Example payloads, got {example_gen_pb2.PayloadFormat.Name(payload_format)}")
    file_format = examples_utils.get_file_format(examples)
    if file_format != _GZIPPED_TFRECORDS:
        raise ValueError(f"expected {_GZIPPED_TFRECORDS} files, got {file_format}")


class Executor(base_beam_executor.BaseBeamExecutor):
    def Do(self, input_dict: Dict[str, List], output_dict: Dict[str, List], exec_properties: Dict[str, Any]) -> None:
        config = AugmentationConfig.from_json(exec_properties[CONFIG_KEY])
        sample_rate = FeatureConfig.from_json(exec_properties[FEATURE_CONFIG_KEY]).sample_rate
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        augmented = artifact_utils.get_single_instance(output_dict[AUGMENTED_EXAMPLES_KEY])
        _check_input_format(examples)
        split_names = artifact_utils.decode_split_names(examples.split_names)
        augmented.split_names = artifact_utils.encode_split_names(split_names)
        augmented.span, augmented.version = examples.span, examples.version
        for split in split_names:
            source = artifact_utils.get_split_uri([examples], split)
            target = artifact_utils.get_split_uri([augmented], split)
            if split != splits.TRAIN:
                io_utils.copy_dir(source, target)
                continue
            fileio.makedirs(target)
            # Beam cannot read a pattern that matches nothing: an empty split stays empty.
            if not fileio.glob(io_utils.all_files_pattern(source)):
                continue
            self._augment_split(source, target, config, sample_rate)
        examples_utils.set_payload_format(augmented, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)

    def _augment_split(self, source: str, target: str, config: AugmentationConfig, sample_rate: int) -> None:
        dask = beam_files.on_dask(pipeline_options.PipelineOptions(self._beam_pipeline_args))
        prefix = os.path.join(target, ingest.TFRECORD_PREFIX)
        pipeline = self._make_beam_pipeline()
        if dask:
            files = fileio.glob(io_utils.all_files_pattern(source))
            examples = pipeline | "ReadTrain" >> beam_files.ReadFilesWhole(files, beam_files.gzip_tfrecords)
            augment = AugmentExamples(config, sample_rate, side_examples=pipeline | "ReadTrainAgain" >> beam_files.ReadFilesWhole(
                files, beam_files.gzip_tfrecords))
            write = beam.ParDo(beam_files.WriteBundleFiles(prefix, beam_files.write_gzip_tfrecords, ".gz"))
        else:
            examples = pipeline | "ReadTrain" >> beam.io.ReadFromTFRecord(
                io_utils.all_files_pattern(source), compression_type=beam.io.filesystem.CompressionTypes.GZIP)
            augment = AugmentExamples(config, sample_rate)
            write = beam.io.WriteToTFRecord(prefix, file_name_suffix=".gz")
        _ = examples | "AugmentTrain" >> augment | "WriteTrain" >> write
        result = pipeline.run()
        result.wait_until_finish()
        if dask:
            beam_files.name_bundle_files(prefix, ".gz")
        beam_files.close_client(result)
