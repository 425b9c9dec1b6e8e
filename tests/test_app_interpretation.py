"""The deterministic summary: the overall emotion and the runner-up, the emotion on top for the longest time,
and each change of the top emotion with its time and the words spoken there."""
import asyncio

from speech_emotion.serving import recording_predictions as predictions
from speech_emotion.serving.app import interpretation
from speech_emotion.serving.app import transcription


def _prediction(labels, duration_seconds, window_seconds=3.0, hop_seconds=3.0) -> predictions.RecordingPrediction:
    """Windows of `window_seconds` every `hop_seconds` whose top emotions are `labels` (probability 0.7, the rest
    shared)."""
    emotions = sorted(set(labels) | {"neutral", "sad"})

    def probabilities(top):
        return {emotion: 0.7 if emotion == top else 0.3 / (len(emotions) - 1) for emotion in emotions}

    timeline = [predictions.WindowPrediction(index * hop_seconds, min(duration_seconds, index * hop_seconds + window_seconds),
                                             label, probabilities(label)) for index, label in enumerate(labels)]
    overall_label = max(set(labels), key=labels.count)
    return predictions.RecordingPrediction(duration_seconds, predictions.EmotionPrediction(overall_label, probabilities(overall_label)),
                                           timeline)


def _transcript(*timed_words) -> transcription.Transcript:
    words = tuple(transcription.Word(word, start, end) for word, start, end in timed_words)
    return transcription.Transcript(" ".join(word.word for word in words), words)


_WORDS = _transcript(("i", 0.2, 0.4), ("was", 0.4, 0.7), ("calm", 0.8, 1.3), ("until", 3.3, 3.7), ("you", 3.7, 3.9),
                     ("shouted", 4.0, 4.6), ("at", 4.7, 4.8), ("the", 4.8, 4.9), ("dog", 4.9, 5.1), ("again", 5.2, 5.6),
                     ("today", 5.6, 5.9), ("fine", 7.2, 7.5))


def test_changes_are_named_with_their_time_and_words():
    text = interpretation.summary(_prediction(["neutral", "angry", "neutral"], 7.6), _WORDS)
    assert text == ('Overall the speech sounds neutral (70%; next comes angry, 15%). '
                    'Neutral is the top emotion in 2 of 3 windows (4.6 of 7.6 s). '
                    'It starts neutral ("i was calm"), then turns angry at 3.0 s ("until you shouted at the dog…"), '
                    'then turns neutral at 6.0 s ("fine").')


def test_a_steady_recording_stays_one_emotion():
    text = interpretation.summary(_prediction(["sad", "sad"], 6.0), _WORDS)
    assert text.startswith("Overall the speech sounds sad (70%")
    assert "Sad is the top emotion in 2 of 2 windows (6.0 of 6.0 s)." in text
    assert text.endswith('It stays sad throughout ("i was calm until you shouted…").')


def test_one_window_without_words():
    text = interpretation.summary(_prediction(["happy"], 1.2), _transcript())
    assert text == ("Overall the speech sounds happy (70%; next comes neutral, 15%). It stays happy throughout. "
                    "No words were recognised.")


def test_runs_merge_windows_and_the_last_lasts_to_the_end():
    prediction = _prediction(["angry", "angry", "sad"], 7.6)
    prediction = predictions.RecordingPrediction(10.0, prediction.overall, prediction.timeline)
    runs = interpretation.emotion_runs(prediction)
    assert runs == [interpretation.EmotionRun("angry", 0.0, 6.0, 2), interpretation.EmotionRun("sad", 6.0, 10.0, 1)]


def test_overlapping_windows_each_own_the_part_up_to_the_next_start():
    # The timeline signature's windows: 3 s every second, the last ending with the 5 s recording.
    prediction = _prediction(["neutral", "angry", "angry"], 5.0, hop_seconds=1.0)
    assert prediction.own_spans() == [(0.0, 1.0), (1.0, 2.0), (2.0, 5.0)]
    assert interpretation.emotion_runs(prediction) == [interpretation.EmotionRun("neutral", 0.0, 1.0, 1),
                                                       interpretation.EmotionRun("angry", 1.0, 5.0, 2)]
    text = interpretation.summary(prediction, _WORDS)
    assert "Angry is the top emotion in 2 of 3 windows (4.0 of 5.0 s)." in text
    assert 'It starts neutral ("i was"), then turns angry at 1.0 s ("calm until you shouted at the").' in text


def test_without_an_llm_the_summary_is_the_interpretation():
    prediction = _prediction(["neutral", "angry"], 6.0)
    answer = asyncio.run(interpretation.interpret(prediction, _WORDS, None))
    assert answer == {"text": interpretation.summary(prediction, _WORDS), "source": "summary"}
