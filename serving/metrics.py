"""Request and batching metrics under TF Serving's names, rendered in Prometheus' text format.

TF Serving exports `/tensorflow/serving/request_count` as `:tensorflow:serving:request_count`
(every character outside [a-zA-Z0-9_] becomes ':'); the same names are used here so dashboards
built for tensorflow_model_server work unchanged. request_count carries `API` and `entrypoint`
labels besides TF Serving's `model_name` and `status`, so counts can be split by API.
`:speech_emotion:serving:warmup_request_count` is this server's own: warm-up requests replayed.
"""
import bisect
import threading
import typing


def exponential_buckets(scale: float, growth: float, count: int) -> typing.Tuple[float, ...]:
    """Bucket upper bounds scale * growth**i, i < count, like tensorflow::monitoring::Buckets::Exponential."""
    return tuple(scale * growth**i for i in range(count))


def _label_text(names, values) -> str:
    return ",".join(f'{name}="{_escape(value)}"' for name, value in zip(names, values))


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Counter:
    """A monotonically increasing count per label combination."""

    def __init__(self, name: str, description: str, label_names: typing.Sequence[str]):
        self.name, self.description, self.label_names = name, description, tuple(label_names)
        self._lock = threading.Lock()
        self._values: typing.Dict[tuple, int] = {}

    def increment(self, *label_values, by: int = 1) -> None:
        with self._lock:
            self._values[label_values] = self._values.get(label_values, 0) + by

    def value(self, *label_values) -> int:
        with self._lock:
            return self._values.get(label_values, 0)

    def render(self) -> typing.List[str]:
        with self._lock:
            items = sorted(self._values.items())
        lines = [f"# HELP {self.name} {self.description}", f"# TYPE {self.name} counter"]
        lines += [f"{self.name}{{{_label_text(self.label_names, labels)}}} {value}" for labels, value in items]
        return lines


class Histogram:
    """Observations counted into fixed buckets per label combination, with their sum and count."""

    def __init__(self, name: str, description: str, label_names: typing.Sequence[str], buckets: typing.Sequence[float]):
        if list(buckets) != sorted(buckets) or not buckets:
            raise ValueError(f"histogram buckets must be non-empty and increasing, got {buckets}")
        self.name, self.description, self.label_names = name, description, tuple(label_names)
        self.buckets = tuple(buckets)
        self._lock = threading.Lock()
        # Per label combination: [count per bucket (+Inf last), sum].
        self._values: typing.Dict[tuple, list] = {}

    def observe(self, value: float, *label_values) -> None:
        index = bisect.bisect_left(self.buckets, value)
        with self._lock:
            counts_and_sum = self._values.setdefault(label_values, [[0] * (len(self.buckets) + 1), 0.0])
            counts_and_sum[0][index] += 1
            counts_and_sum[1] += value

    def counts(self, *label_values) -> typing.Dict[float, int]:
        """Non-cumulative count per bucket upper bound (float('inf') last) for one label combination."""
        with self._lock:
            counts = list(self._values.get(label_values, [[0] * (len(self.buckets) + 1)])[0])
        return dict(zip(self.buckets + (float("inf"),), counts))

    def render(self) -> typing.List[str]:
        with self._lock:
            items = sorted((labels, (list(counts), total)) for labels, (counts, total) in self._values.items())
        lines = [f"# HELP {self.name} {self.description}", f"# TYPE {self.name} histogram"]
        for labels, (counts, total) in items:
            label_text = _label_text(self.label_names, labels)
            prefix = f"{label_text}," if label_text else ""
            cumulative = 0
            for bound, count in zip(self.buckets + (float("inf"),), counts):
                cumulative += count
                bound_text = "+Inf" if bound == float("inf") else _number(bound)
                lines.append(f'{self.name}_bucket{{{prefix}le="{bound_text}"}} {cumulative}')
            lines.append(f"{self.name}_sum{{{label_text}}} {_number(total)}")
            lines.append(f"{self.name}_count{{{label_text}}} {cumulative}")
        return lines


class ServerMetrics:
    """The model server's metrics; one instance per server."""

    def __init__(self):
        # TF Serving's latency buckets: microseconds, scale 10, growth 1.8, 33 buckets (about 20 minutes).
        latency_buckets = exponential_buckets(10, 1.8, 33)
        self.request_count = Counter(
            ":tensorflow:serving:request_count", "The total number of requests.",
            ("model_name", "API", "entrypoint", "status"))
        self.request_latency = Histogram(
            ":tensorflow:serving:request_latency",
            "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
            ("model_name", "API", "entrypoint"), latency_buckets)
        self.queuing_latency = Histogram(
            ":tensorflow:serving:batching_session:queuing_latency",
            "Distribution of wall time spent (in microseconds) in queuing",
            ("thread_pool_name",), exponential_buckets(100, 1.2, 52))
        self.processed_batch_size = Histogram(
            ":tensorflow:serving:batching:processed_batch_size",
            "Tracks the batch size distribution on processing by model_name and signature.",
            ("model_name", "signature_name"), exponential_buckets(1, 2, 14))
        self.model_warmup_latency = Histogram(
            ":tensorflow:serving:model_warmup_latency",
            "Distribution of wall time (in microseconds) for warming up the model.",
            ("model_path", "status"), latency_buckets)
        self.warmup_request_count = Counter(
            ":speech_emotion:serving:warmup_request_count",
            "Warm-up requests (assets.extra/tf_serving_warmup_requests) replayed successfully before a version served.",
            ("model_name", "log_type"))
        self._all = (self.request_count, self.request_latency, self.queuing_latency, self.processed_batch_size,
                     self.model_warmup_latency, self.warmup_request_count)

    def record_request(self, model_name: str, api: str, entrypoint: str, status: str, seconds: float) -> None:
        """Counts one request; like TF Serving, latency is recorded for successful requests only."""
        self.request_count.increment(model_name, api, entrypoint, status)
        if status == "OK":
            self.request_latency.observe(seconds * 1e6, model_name, api, entrypoint)

    def render(self) -> str:
        lines = []
        for metric in self._all:
            lines += metric.render()
        return "\n".join(lines) + "\n"
