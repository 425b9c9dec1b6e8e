"""WAV bytes to samples in core TensorFlow ops, so the same parser runs in tf.Transform and in TF Serving.

Core `tf.audio.decode_wav` rejects files whose last chunk has an odd size (the RIFF pad byte), as the
RAVDESS originals do, and reads only 16-bit PCM; this parser walks the RIFF chunks itself.
"""
import tensorflow as tf

# Here too, where the parser's users look for it; it lives apart so that clients write WAV without TensorFlow.
from speech_emotion.audio.wav_encoding import encode_wav_pcm16  # noqa: F401

_WAVE_FORMAT_PCM = 1
_WAVE_FORMAT_IEEE_FLOAT = 3
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# Chunks scanned for `fmt ` and `data` before giving up; real files have a handful.
_MAX_CHUNKS = 1024
# Rates above this are taken for a corrupt header: resampling cost grows with the rate.
MAX_SAMPLE_RATE = 768_000


def _decode_pcm_u8(data):
    return (tf.cast(tf.io.decode_raw(data, tf.uint8), tf.float32) - 128.0) / 128.0


def _decode_pcm_16(data):
    return tf.cast(tf.io.decode_raw(data, tf.int16, little_endian=True), tf.float32) / 2.0**15


def _decode_pcm_24(data):
    byte_triples = tf.reshape(tf.cast(tf.io.decode_raw(data, tf.uint8), tf.int32), [-1, 3])
    unsigned = byte_triples[:, 0] + byte_triples[:, 1] * 2**8 + byte_triples[:, 2] * 2**16
    signed = tf.where(unsigned >= 2**23, unsigned - 2**24, unsigned)
    return tf.cast(signed, tf.float32) / 2.0**23


def _decode_pcm_32(data):
    return tf.cast(tf.io.decode_raw(data, tf.int32, little_endian=True), tf.float32) / 2.0**31


def _decode_float_32(data):
    return tf.io.decode_raw(data, tf.float32, little_endian=True)


def _decode_float_64(data):
    return tf.cast(tf.io.decode_raw(data, tf.float64, little_endian=True), tf.float32)


# (format tag, bits per sample, decoder to float32 samples in [-1, 1]).
_SAMPLE_FORMATS = (
    (_WAVE_FORMAT_PCM, 8, _decode_pcm_u8),
    (_WAVE_FORMAT_PCM, 16, _decode_pcm_16),
    (_WAVE_FORMAT_PCM, 24, _decode_pcm_24),
    (_WAVE_FORMAT_PCM, 32, _decode_pcm_32),
    (_WAVE_FORMAT_IEEE_FLOAT, 32, _decode_float_32),
    (_WAVE_FORMAT_IEEE_FLOAT, 64, _decode_float_64),
)


def _decode_samples(is_format, data, index=0):
    """Decodes with the format flagged in `is_format`. Nested tf.cond rather than tf.switch_case:
    tf.Transform cannot serialise the latter's list-of-functions attribute."""
    decode = _SAMPLE_FORMATS[index][2]
    if index == len(_SAMPLE_FORMATS) - 1:
        return decode(data)
    return tf.cond(is_format[index], lambda: decode(data), lambda: _decode_samples(is_format, data, index + 1))


def _require(condition, message, *values):
    """An assert op raising InvalidArgumentError; callers make later reads depend on it, so it also
    holds in TF1-style graphs (tf.Transform), where asserts are not automatically sequenced."""
    return tf.debugging.Assert(condition, [message, *values])


def _read_uint(wav_bytes, offset, num_bytes):
    """The little-endian unsigned integer of `num_bytes` bytes at `offset`, as int64."""
    raw = tf.io.decode_raw(tf.strings.substr(wav_bytes, offset, tf.constant(num_bytes, tf.int64)), tf.uint8)
    return tf.reduce_sum(tf.cast(raw, tf.int64) * tf.constant([256**i for i in range(num_bytes)], tf.int64))


def _find_chunks(wav_bytes, length):
    """Walks the RIFF chunks after the 12-byte header; returns the body offset and declared size of the
    first `fmt ` and `data` chunks, -1 where absent."""
    missing = tf.constant(-1, tf.int64)

    def keep_walking(offset, fmt_offset, fmt_size, data_offset, data_size):
        return (offset + 8 <= length) & ((fmt_offset < 0) | (data_offset < 0))

    def next_chunk(offset, fmt_offset, fmt_size, data_offset, data_size):
        chunk_id = tf.strings.substr(wav_bytes, offset, tf.constant(4, tf.int64))
        size = _read_uint(wav_bytes, offset + 4, 4)
        is_fmt = tf.equal(chunk_id, b"fmt ") & (fmt_offset < 0)
        is_data = tf.equal(chunk_id, b"data") & (data_offset < 0)
        return (
            # Odd-sized chunks are followed by one pad byte.
            offset + 8 + size + size % 2,
            tf.where(is_fmt, offset + 8, fmt_offset),
            tf.where(is_fmt, size, fmt_size),
            tf.where(is_data, offset + 8, data_offset),
            tf.where(is_data, size, data_size),
        )

    start = (tf.constant(12, tf.int64), missing, missing, missing, missing)
    _, fmt_offset, fmt_size, data_offset, data_size = tf.while_loop(
        keep_walking, next_chunk, start, maximum_iterations=_MAX_CHUNKS
    )
    return fmt_offset, fmt_size, data_offset, data_size


@tf.autograph.experimental.do_not_convert
def decode_wav(wav_bytes: tf.Tensor):
    """Decodes one WAV file (PCM 8/16/24/32-bit, IEEE float 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE).

    Returns (waveform float32 [samples, channels], sample_rate int32 scalar): PCM scaled to [-1, 1),
    float samples as stored. Malformed bytes raise tf.errors.InvalidArgumentError. A data chunk
    longer than the file is truncated to the whole sample frames present.
    """
    wav_bytes = tf.convert_to_tensor(wav_bytes, tf.string)
    length = tf.cast(tf.strings.length(wav_bytes), tf.int64)
    with tf.control_dependencies([_require(length >= 12, "WAV bytes are shorter than a RIFF header")]):
        is_riff_wave = tf.equal(tf.strings.substr(wav_bytes, 0, 4), b"RIFF") & tf.equal(
            tf.strings.substr(wav_bytes, 8, 4), b"WAVE"
        )
    with tf.control_dependencies([_require(is_riff_wave, "bytes are not a RIFF/WAVE file")]):
        fmt_offset, fmt_size, data_offset, data_size = _find_chunks(wav_bytes, length)

    header_checks = [
        _require(fmt_offset >= 0, "WAV has no fmt chunk"),
        _require(data_offset >= 0, "WAV has no data chunk"),
        _require((fmt_size >= 16) & (fmt_offset + 16 <= length), "WAV fmt chunk is truncated"),
    ]
    with tf.control_dependencies(header_checks):
        fields = tf.cast(
            tf.io.decode_raw(tf.strings.substr(wav_bytes, fmt_offset, 16), tf.uint16, little_endian=True), tf.int64
        )
    format_tag, channels, bits_per_sample = fields[0], fields[1], fields[7]
    sample_rate = fields[2] + fields[3] * 2**16

    # WAVE_FORMAT_EXTENSIBLE keeps the real format tag in the first two bytes of its SubFormat GUID.
    is_extensible = tf.equal(format_tag, _WAVE_FORMAT_EXTENSIBLE)
    extension_present = (fmt_size >= 26) & (fmt_offset + 26 <= length)
    with tf.control_dependencies(
        [_require(~is_extensible | extension_present, "WAV fmt chunk of WAVE_FORMAT_EXTENSIBLE is truncated")]
    ):
        format_tag = tf.cond(is_extensible, lambda: _read_uint(wav_bytes, fmt_offset + 24, 2), lambda: format_tag)

    is_format = tf.stack(
        [tf.equal(format_tag, tag) & tf.equal(bits_per_sample, bits) for tag, bits, _ in _SAMPLE_FORMATS]
    )
    bytes_per_frame = channels * (bits_per_sample // 8)
    available = tf.minimum(data_size, length - data_offset)
    format_checks = [
        _require(
            tf.reduce_any(is_format),
            "unsupported WAV sample format (format tag, bits per sample); supported: PCM 8/16/24/32-bit, "
            "IEEE float 32/64-bit:",
            format_tag,
            bits_per_sample,
        ),
        _require(channels > 0, "WAV declares zero channels"),
        _require(
            (sample_rate > 0) & (sample_rate <= MAX_SAMPLE_RATE),
            f"WAV sample rate is not in 1..{MAX_SAMPLE_RATE} Hz:",
            sample_rate,
        ),
    ]
    with tf.control_dependencies(format_checks):
        num_frames = available // bytes_per_frame
    with tf.control_dependencies([_require(num_frames > 0, "WAV data chunk holds no complete sample frame")]):
        data = tf.strings.substr(wav_bytes, data_offset, num_frames * bytes_per_frame)
    samples = _decode_samples(is_format, data)
    samples = tf.debugging.assert_all_finite(samples, "WAV holds NaN or infinite samples")
    return tf.reshape(samples, tf.stack([num_frames, channels])), tf.cast(sample_rate, tf.int32)
