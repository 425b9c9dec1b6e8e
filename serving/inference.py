"""Predict, Classify, Regress, MultiInference, GetModelMetadata and GetModelStatus, shared by the REST and
gRPC front ends and the warm-up replay.

Checks and error messages follow TF Serving (predict_util.cc, classifier.cc, regressor.cc,
multi_inference.cc, get_model_metadata_impl.cc, get_model_status_impl.cc) with its default of not
checking a signature's method_name, so clients see the same answers.
"""
import asyncio
import typing

import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import classification_pb2
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.apis import inference_pb2
from tensorflow_serving.apis import model_pb2
from tensorflow_serving.apis import regression_pb2
from tensorflow_serving.apis import status_pb2

from speech_emotion.serving import dynamic_batching
from speech_emotion.serving import errors
from speech_emotion.serving import model_manager
from speech_emotion.serving import servable as servable_lib

SIGNATURE_DEF_FIELD = "signature_def"
CLASSIFY_INPUTS, CLASSIFY_CLASSES, CLASSIFY_SCORES = "inputs", "classes", "scores"
REGRESS_INPUTS, REGRESS_OUTPUTS = "inputs", "outputs"
CLASSIFY_METHOD, REGRESS_METHOD = tf.saved_model.CLASSIFY_METHOD_NAME, tf.saved_model.REGRESS_METHOD_NAME
_ERROR_CODES = status_pb2.StatusProto.DESCRIPTOR.fields_by_name["error_code"].enum_type  # tensorflow.error.Code


class InferenceService:
    """Runs requests against the versions `manager` serves; `timeout_seconds` bounds a request's wait."""

    def __init__(self, manager: model_manager.ModelManager, timeout_seconds: typing.Optional[float] = None):
        self.manager = manager
        self._timeout_seconds = timeout_seconds

    async def predict(self, servable: servable_lib.Servable, signature_name: str, inputs: dynamic_batching.Tensors,
                      output_filter: typing.Sequence[str] = ()) -> dynamic_batching.Tensors:
        signature = servable.signature(signature_name)
        _check_inputs(signature, inputs)
        output_names = _output_names(signature, output_filter)
        outputs = await self._run(signature, inputs)
        return {name: outputs[name] for name in output_names}

    async def classify(self, servable: servable_lib.Servable, signature_name: str,
                       serialized_examples: typing.Sequence[bytes]) -> classification_pb2.ClassificationResult:
        outputs = await self._run_on_examples(_classification_signature(servable, signature_name), CLASSIFY_INPUTS,
                                              serialized_examples)
        return _classification_result(outputs.get(CLASSIFY_CLASSES), outputs.get(CLASSIFY_SCORES), len(serialized_examples))

    async def regress(self, servable: servable_lib.Servable, signature_name: str,
                      serialized_examples: typing.Sequence[bytes]) -> regression_pb2.RegressionResult:
        outputs = await self._run_on_examples(_regression_signature(servable, signature_name), REGRESS_INPUTS,
                                              serialized_examples)
        return _regression_result(outputs[REGRESS_OUTPUTS], len(serialized_examples))

    async def _run_on_examples(self, signature, input_name: str, serialized_examples: typing.Sequence[bytes]):
        if not serialized_examples:
            raise errors.invalid_argument("Input is empty.")
        return await self._run(signature, {input_name: np.array(serialized_examples, dtype=object)})

    async def multi_inference(self, servable: servable_lib.Servable, tasks: typing.Sequence[inference_pb2.InferenceTask],
                              serialized_examples: typing.Sequence[bytes]) -> inference_pb2.MultiInferenceResponse:
        """Classify and regress tasks on signatures of one model that read the same input tensor."""
        signatures = _multi_inference_signatures(servable, tasks)
        if not serialized_examples:
            raise errors.invalid_argument("Input is empty.")
        inputs = np.array(serialized_examples, dtype=object)
        outputs = await asyncio.gather(*(self._run(signature, {signature_input: inputs})
                                         for signature, signature_input in signatures))
        response = inference_pb2.MultiInferenceResponse()
        for task, (signature, _), signature_outputs in zip(tasks, signatures, outputs):
            result = response.results.add(model_spec=model_spec(servable, signature.name))
            if task.method_name == CLASSIFY_METHOD:
                result.classification_result.CopyFrom(_classification_result(
                    signature_outputs.get(CLASSIFY_CLASSES), signature_outputs.get(CLASSIFY_SCORES), len(serialized_examples)))
            else:
                result.regression_result.CopyFrom(_regression_result(signature_outputs[REGRESS_OUTPUTS], len(serialized_examples)))
        return response

    async def _run(self, signature: servable_lib.Signature, inputs: dynamic_batching.Tensors) -> dynamic_batching.Tensors:
        future = signature.queue.schedule(inputs)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self._timeout_seconds)
        except asyncio.TimeoutError:
            raise errors.ServingError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded") from None

    def metadata(self, name: str, version: typing.Optional[int], label: typing.Optional[str],
                 metadata_fields: typing.Sequence[str]) -> get_model_metadata_pb2.GetModelMetadataResponse:
        if not metadata_fields:
            raise errors.invalid_argument("GetModelMetadataRequest must specify at least one metadata_field")
        for field in metadata_fields:
            if field != SIGNATURE_DEF_FIELD:
                raise errors.invalid_argument(f"Metadata field {field} is not supported")
        servable = self.manager.servable(name, version, label)
        signature_def_map = get_model_metadata_pb2.SignatureDefMap()
        for key, signature_def in servable.signature_defs.items():
            signature_def_map.signature_def[key].CopyFrom(signature_def)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        response.metadata[SIGNATURE_DEF_FIELD].Pack(signature_def_map)
        return response

    def model_label(self, name: str) -> str:
        """`name` for metric labels when it is a served model, else "": request paths must not mint label values."""
        return name if name in self.manager.model_names else ""

    def status(self, name: str, version: typing.Optional[int],
               label: typing.Optional[str]) -> get_model_status_pb2.GetModelStatusResponse:
        response = get_model_status_pb2.GetModelStatusResponse()
        for status in self.manager.statuses(name, version, label):
            version_status = response.model_version_status.add()
            version_status.version = status.version
            version_status.state = get_model_status_pb2.ModelVersionStatus.State.Value(status.state)
            version_status.status.error_code = _ERROR_CODES.values_by_name["UNKNOWN" if status.error else "OK"].number
            version_status.status.error_message = status.error
        return response


def model_spec(servable: servable_lib.Servable, signature_name: str = "") -> model_pb2.ModelSpec:
    """The ModelSpec a response carries: the model's name and the version that answered."""
    spec = model_pb2.ModelSpec(name=servable.name, signature_name=signature_name)
    spec.version.value = servable.version
    return spec


def _check_inputs(signature: servable_lib.Signature, inputs: dynamic_batching.Tensors) -> None:
    sent, expected = set(inputs), set(signature.inputs)
    if sent != expected:
        raise errors.invalid_argument(
            f"input size does not match signature: {len(sent)}!={len(expected)} len({{{','.join(sorted(sent))}}}) != "
            f"len({{{','.join(sorted(expected))}}}). Sent extra: {{{','.join(sorted(sent - expected))}}}. "
            f"Missing but required: {{{','.join(sorted(expected - sent))}}}.")
    for name, array in inputs.items():
        spec = signature.inputs[name]
        if _dtype_of(array) != spec.dtype:
            raise errors.invalid_argument(
                f"Expects input {name} to be {spec.dtype.name} but {_dtype_of(array).name} is provided")
        if not spec.shape.is_compatible_with(array.shape):
            raise errors.invalid_argument(
                f"Input {name} has shape {list(array.shape)}, incompatible with the signature's {spec.shape}")


def _dtype_of(array: np.ndarray) -> tf.DType:
    if array.dtype == object or array.dtype.kind in "SU":
        return tf.string
    try:
        return tf.as_dtype(array.dtype)
    except TypeError:
        raise errors.invalid_argument(f"Unsupported input dtype {array.dtype}") from None


def _output_names(signature: servable_lib.Signature, output_filter: typing.Sequence[str]) -> typing.List[str]:
    if not output_filter:
        return sorted(signature.output_dtypes)
    for name in output_filter:
        if name not in signature.output_dtypes:
            raise errors.invalid_argument(
                f"output tensor alias not found in signature: {name} Outputs expected to be in the set "
                f"{{{','.join(sorted(signature.output_dtypes))}}}.")
    if len(set(output_filter)) != len(output_filter):
        duplicate = next(name for name in output_filter if list(output_filter).count(name) > 1)
        raise errors.invalid_argument(f"duplicate output tensor alias: {duplicate}")
    return list(output_filter)


def _classification_signature(servable: servable_lib.Servable, signature_name: str) -> servable_lib.Signature:
    key = signature_name or servable_lib.DEFAULT_SIGNATURE
    if key not in servable.signatures:
        raise errors.invalid_argument(f"No signature was found with the name: {key}")
    signature = servable.signatures[key]
    if len(signature.inputs) != 1:
        raise errors.invalid_argument("Expected one input Tensor.")
    if len(signature.output_dtypes) not in (1, 2):
        raise errors.invalid_argument(f"Expected one or two output Tensors, found {len(signature.output_dtypes)}")
    if CLASSIFY_INPUTS not in signature.inputs:
        raise errors.invalid_argument(
            f"No classification inputs found in SignatureDef {key}: its input is {', '.join(signature.inputs)}")
    if not {CLASSIFY_CLASSES, CLASSIFY_SCORES} & set(signature.output_dtypes):
        raise errors.invalid_argument(
            f'Expected classification signature outputs to contain at least one of "{CLASSIFY_CLASSES}" or '
            f'"{CLASSIFY_SCORES}". Signature {key} outputs: {", ".join(sorted(signature.output_dtypes))}')
    return signature


def _regression_signature(servable: servable_lib.Servable, signature_name: str) -> servable_lib.Signature:
    key = signature_name or servable_lib.DEFAULT_SIGNATURE
    if key not in servable.signatures:
        raise errors.invalid_argument(f"No signature was found with the name: {key}")
    signature = servable.signatures[key]
    described = (f"Signature {key} is not a regression signature: inputs {{{','.join(sorted(signature.inputs))}}}, "
                 f"outputs {{{','.join(sorted(signature.output_dtypes))}}}.")
    if len(signature.inputs) != 1:
        raise errors.invalid_argument(f"Expected one input Tensor. {described}")
    if len(signature.output_dtypes) != 1:
        raise errors.invalid_argument(f"Expected one output Tensor. {described}")
    if REGRESS_INPUTS not in signature.inputs:
        raise errors.invalid_argument(f"No regression inputs found in SignatureDef {key}. {described}")
    if REGRESS_OUTPUTS not in signature.output_dtypes:
        raise errors.invalid_argument(f"No regression outputs found in SignatureDef {key}. {described}")
    return signature


def _regression_result(output: np.ndarray, num_examples: int) -> regression_pb2.RegressionResult:
    if not (output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1)):
        raise errors.invalid_argument(
            f"Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got {list(output.shape)}")
    if output.shape[0] != num_examples:
        raise errors.invalid_argument(
            f"Input batch size did not match output batch size: {num_examples} vs. {output.shape[0]}")
    if output.dtype != np.float32:
        raise errors.invalid_argument(f"Expected output Tensor of DT_FLOAT.  Got: {output.dtype}")
    result = regression_pb2.RegressionResult()
    for value in output.reshape(-1).tolist():
        result.regressions.add(value=value)
    return result


def _multi_inference_signatures(servable: servable_lib.Servable, tasks: typing.Sequence[inference_pb2.InferenceTask]
                                ) -> typing.List[typing.Tuple[servable_lib.Signature, str]]:
    """Each task's signature and its input name, checked as TensorFlowMultiInferenceRunner::Infer does."""
    checked, input_tensor_name = [], None
    for task in tasks:
        if not task.model_spec.name:
            raise errors.invalid_argument("Found ModelSpec with an empty model name.")
        if task.model_spec.name != tasks[0].model_spec.name:
            raise errors.invalid_argument("All ModelSpecs in a MultiInferenceRequest must access the same model name.")
        key = task.model_spec.signature_name or servable_lib.DEFAULT_SIGNATURE
        if any(signature.name == key for signature, _ in checked):
            raise errors.invalid_argument(f"Duplicate evaluation of signature: {key}")
        if key not in servable.signatures:
            raise errors.invalid_argument(f"Requested signature not found in model graph: {key}")
        if task.method_name == CLASSIFY_METHOD:
            signature, signature_input = _classification_signature(servable, key), CLASSIFY_INPUTS
        elif task.method_name == REGRESS_METHOD:
            signature, signature_input = _regression_signature(servable, key), REGRESS_INPUTS
        else:
            raise errors.ServingError(grpc.StatusCode.UNIMPLEMENTED, f"Unsupported signature method_name: {task.method_name}")
        # Signatures of one graph that read the same placeholder; a TF2 export gives each signature its own.
        tensor_name = servable.signature_defs[key].inputs[signature_input].name
        if input_tensor_name not in (None, tensor_name):
            raise errors.invalid_argument(
                f"Input tensor must be the same for all Signatures: {key} reads {tensor_name}, an earlier task {input_tensor_name}.")
        input_tensor_name = tensor_name
        checked.append((signature, signature_input))
    return checked


def _classification_result(classes, scores, num_examples: int) -> classification_pb2.ClassificationResult:
    for name, output, kind in ((CLASSIFY_CLASSES, classes, "DT_STRING"), (CLASSIFY_SCORES, scores, "DT_FLOAT")):
        if output is None:
            continue
        if output.ndim != 2:
            raise errors.invalid_argument(f"Expected Tensor shape: [batch_size num_classes] but got {list(output.shape)}")
        if (kind == "DT_STRING") != (output.dtype == object) or (kind == "DT_FLOAT" and output.dtype != np.float32):
            raise errors.invalid_argument(f"Expected {name} Tensor of {kind}. Got: {output.dtype}")
        if output.shape[0] != num_examples:
            raise errors.invalid_argument(f"Expected {name} output batch size of {num_examples}. Got: {output.shape[0]}")
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise errors.invalid_argument(
            f"Tensors class and score should match in dim_size(1). Got {classes.shape[1]} vs. {scores.shape[1]}")
    num_classes = (classes if classes is not None else scores).shape[1]
    result = classification_pb2.ClassificationResult()
    for row in range(num_examples):
        classifications = result.classifications.add()
        for column in range(num_classes):
            entry = classifications.classes.add()
            if classes is not None:
                entry.label = classes[row, column].decode("utf-8", "replace")
            if scores is not None:
                entry.score = float(scores[row, column])
    return result


def serialized_examples(model_input) -> typing.List[bytes]:
    """A tensorflow.serving.Input's examples, serialized; with a context, each is merged onto it as TF Serving does."""
    kind = model_input.WhichOneof("kind")
    if kind == "example_list":
        return [example.SerializeToString() for example in model_input.example_list.examples]
    if kind == "example_list_with_context":
        context = model_input.example_list_with_context.context.SerializeToString()
        return [context + example.SerializeToString() for example in model_input.example_list_with_context.examples]
    return []
