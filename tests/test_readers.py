"""Corpus readers on files named as each corpus names them; the readers never open the audio."""
import pathlib

import speech_emotion  # noqa: F401  (must precede any TensorFlow import)
import pytest

from speech_emotion.data import readers
from speech_emotion.data import records


def _touch(root: pathlib.Path, *relative_paths):
    for relative_path in relative_paths:
        path = root / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def _read(corpus, root):
    found, rejected = readers.read_corpus(corpus, str(root))
    by_name = {pathlib.Path(record.path).relative_to(root).as_posix(): record for record in found}
    rejected_by_name = {pathlib.Path(r.path).relative_to(root).as_posix(): r.reason for r in rejected}
    return by_name, rejected_by_name


def _metadata(record):
    return record.label, record.speaker, record.gender, record.language, record.intensity


def test_corpora_lists_every_reader():
    assert readers.CORPORA == ("ravdess", "tess", "savee", "cremad", "esd", "emodb", "unlabelled")


def test_unknown_corpus_and_missing_root_are_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown corpus"):
        readers.read_corpus("iemocap", str(tmp_path))
    with pytest.raises(ValueError, match="not a directory"):
        readers.read_corpus("ravdess", str(tmp_path / "absent"))


def test_ravdess(tmp_path):
    _touch(tmp_path,
           "Actor_01/03-01-05-02-01-01-01.wav",
           "Actor_02/03-02-03-01-02-02-02.flac",  # song is accepted too
           "Actor_24/03-01-01-01-01-01-24.WAV",
           "Actor_01/03-01-09-01-01-01-01.wav",  # no emotion 09
           "Actor_01/03-01-05-03-01-01-01.wav",  # no intensity 03
           "Actor_01/01-01-05-01-01-01-01.wav",  # audio-video modality
           "Actor_25/03-01-05-01-01-01-25.wav",
           "Actor_01/take 1.wav",
           "Actor_01/._03-01-05-02-01-01-01.wav",
           "Actor_01/01-01-05-01-01-01-01.mp4", "README.md", "Actor_01/notes.txt")

    found, rejected = _read("ravdess", tmp_path)

    assert {name: _metadata(record) for name, record in found.items()} == {
        "Actor_01/03-01-05-02-01-01-01.wav": ("angry", "ravdess:01", "male", "en", "strong"),
        "Actor_02/03-02-03-01-02-02-02.flac": ("happy", "ravdess:02", "female", "en", "normal"),
        "Actor_24/03-01-01-01-01-01-24.WAV": ("neutral", "ravdess:24", "female", "en", "normal"),
    }
    assert set(rejected) == {
        "Actor_01/03-01-09-01-01-01-01.wav", "Actor_01/03-01-05-03-01-01-01.wav", "Actor_01/01-01-05-01-01-01-01.wav",
        "Actor_25/03-01-05-01-01-01-25.wav", "Actor_01/take 1.wav", "Actor_01/._03-01-05-02-01-01-01.wav"}
    assert "unknown emotion code '09'" in rejected["Actor_01/03-01-09-01-01-01-01.wav"]
    assert "intensity" in rejected["Actor_01/03-01-05-03-01-01-01.wav"]
    assert "modality" in rejected["Actor_01/01-01-05-01-01-01-01.wav"]
    assert "actor 25" in rejected["Actor_25/03-01-05-01-01-01-25.wav"]
    assert "MM-VV-EE-II-SS-RR-AA" in rejected["Actor_01/take 1.wav"]
    assert "AppleDouble" in rejected["Actor_01/._03-01-05-02-01-01-01.wav"]


def test_records_and_rejections_are_sorted_by_path(tmp_path):
    _touch(tmp_path, "Actor_02/03-01-02-01-01-01-02.wav", "Actor_01/03-01-03-01-01-01-01.wav",
           "Actor_01/03-01-01-01-01-01-01.wav", "Actor_02/zz.wav", "Actor_01/aa.wav")

    found, rejected = readers.read_corpus("ravdess", str(tmp_path))

    assert [r.path for r in found] == sorted(r.path for r in found) and len(found) == 3
    assert [r.path for r in rejected] == sorted(r.path for r in rejected) and len(rejected) == 2
    assert all(pathlib.Path(r.path).is_absolute() for r in found + rejected)


def test_tess_flat_and_in_emotion_folders(tmp_path):
    _touch(tmp_path,
           "OAF_back_angry.wav",
           "OA_bite_neutral.wav",  # the corpus' malformed speaker prefix
           "YAF_germ_fear.wav",
           "OAF_Pleasant_surprise/OAF_bath_ps.wav",
           "YAF_pleasant_surprised/YAF_dog_pleasant_surprise.wav",
           "YAF_disgust/YAF_Home_Disgust.wav",
           "XAF_back_angry.wav", "OAF_back_joy.wav", "OAF_back.wav", "TESS Toronto emotional speech set data.txt")

    found, rejected = _read("tess", tmp_path)

    assert {name: _metadata(record) for name, record in found.items()} == {
        "OAF_back_angry.wav": ("angry", "tess:OAF", "female", "en", ""),
        "OA_bite_neutral.wav": ("neutral", "tess:OAF", "female", "en", ""),
        "YAF_germ_fear.wav": ("fearful", "tess:YAF", "female", "en", ""),
        "OAF_Pleasant_surprise/OAF_bath_ps.wav": ("surprised", "tess:OAF", "female", "en", ""),
        "YAF_pleasant_surprised/YAF_dog_pleasant_surprise.wav": ("surprised", "tess:YAF", "female", "en", ""),
        "YAF_disgust/YAF_Home_Disgust.wav": ("disgust", "tess:YAF", "female", "en", ""),
    }
    assert "speaker prefix 'XAF'" in rejected["XAF_back_angry.wav"]
    assert "unknown emotion code 'joy'" in rejected["OAF_back_joy.wav"]
    assert "SPEAKER_word_emotion" in rejected["OAF_back.wav"]
    assert len(rejected) == 3


def test_savee_in_speaker_folders_and_flat(tmp_path):
    _touch(tmp_path,
           "AudioData/DC/a01.wav", "AudioData/JE/sa15.wav", "AudioData/JK/su03.wav", "AudioData/KL/n30.wav",
           "ALL/KL_f02.wav",
           "AudioData/XY/a01.wav", "AudioData/DC/x01.wav", "AudioData/DC/a1.wav", "AudioData/Info.txt")

    found, rejected = _read("savee", tmp_path)

    assert {name: _metadata(record) for name, record in found.items()} == {
        "AudioData/DC/a01.wav": ("angry", "savee:DC", "male", "en", ""),
        "AudioData/JE/sa15.wav": ("sad", "savee:JE", "male", "en", ""),
        "AudioData/JK/su03.wav": ("surprised", "savee:JK", "male", "en", ""),
        "AudioData/KL/n30.wav": ("neutral", "savee:KL", "male", "en", ""),
        "ALL/KL_f02.wav": ("fearful", "savee:KL", "male", "en", ""),
    }
    assert "unknown speaker 'XY'" in rejected["AudioData/XY/a01.wav"]
    assert "unknown emotion code 'x'" in rejected["AudioData/DC/x01.wav"]
    assert "a01" in rejected["AudioData/DC/a1.wav"]
    assert len(rejected) == 3


CREMAD_FILES = ("AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1002_IEO_HAP_HI.wav", "AudioWAV/1091_TSI_NEU_XX.wav")
DEMOGRAPHICS = ("ActorID,Age,Sex,Race,Ethnicity\n"
                "1001,51,Male,Caucasian,Not Hispanic\n"
                "1002,21,Female,Caucasian,Not Hispanic\n")


def test_cremad_with_demographics_in_root(tmp_path):
    _touch(tmp_path, *CREMAD_FILES, "AudioWAV/1001_DFA_XYZ_XX.wav", "AudioWAV/0999_DFA_ANG_XX.wav",
           "AudioWAV/1001_DFA_ANG_ZZ.wav", "AudioWAV/1001_DFA_ANG.wav")
    (tmp_path / "VideoDemographics.csv").write_text(DEMOGRAPHICS)

    found, rejected = _read("cremad", tmp_path)

    assert {name: _metadata(record) for name, record in found.items()} == {
        "AudioWAV/1001_DFA_ANG_XX.wav": ("angry", "cremad:1001", "male", "en", "unspecified"),
        "AudioWAV/1002_IEO_HAP_HI.wav": ("happy", "cremad:1002", "female", "en", "high"),
        "AudioWAV/1091_TSI_NEU_XX.wav": ("neutral", "cremad:1091", "unknown", "en", "unspecified"),
    }
    assert "unknown emotion code 'XYZ'" in rejected["AudioWAV/1001_DFA_XYZ_XX.wav"]
    assert "actor 0999" in rejected["AudioWAV/0999_DFA_ANG_XX.wav"]
    assert "intensity ZZ" in rejected["AudioWAV/1001_DFA_ANG_ZZ.wav"]
    assert "AAAA_SSS_EEE_II" in rejected["AudioWAV/1001_DFA_ANG.wav"]


def test_cremad_reads_demographics_from_the_parent_of_audiowav(tmp_path):
    _touch(tmp_path, *CREMAD_FILES)
    (tmp_path / "VideoDemographics.csv").write_text(DEMOGRAPHICS)

    found, _ = _read("cremad", tmp_path / "AudioWAV")

    assert {name: record.gender for name, record in found.items()} == {
        "1001_DFA_ANG_XX.wav": "male", "1002_IEO_HAP_HI.wav": "female", "1091_TSI_NEU_XX.wav": "unknown"}


def test_cremad_without_demographics_has_unknown_genders(tmp_path):
    _touch(tmp_path, *CREMAD_FILES)

    found, _ = _read("cremad", tmp_path)

    assert {record.gender for record in found.values()} == {records.UNKNOWN}


def test_esd_with_and_without_split_folders(tmp_path):
    _touch(tmp_path,
           "0011/Angry/train/0011_000351.wav",
           "0015/Surprise/evaluation/0015_001401.wav",
           "0001/Happy/0001_000701.wav",
           "0010/Neutral/test/0010_000021.wav",
           "0011/Bored/0011_000001.wav", "0021/Angry/0021_000351.wav", "0011/Angry/take.wav",
           "0011/0011.txt")

    found, rejected = _read("esd", tmp_path)

    assert {name: _metadata(record) for name, record in found.items()} == {
        "0011/Angry/train/0011_000351.wav": ("angry", "esd:0011", "male", "en", ""),
        "0015/Surprise/evaluation/0015_001401.wav": ("surprised", "esd:0015", "female", "en", ""),
        "0001/Happy/0001_000701.wav": ("happy", "esd:0001", "female", "zh", ""),
        "0010/Neutral/test/0010_000021.wav": ("neutral", "esd:0010", "male", "zh", ""),
    }
    assert "unknown emotion code 'Bored'" in rejected["0011/Bored/0011_000001.wav"]
    assert "speaker 0021" in rejected["0021/Angry/0021_000351.wav"]
    assert "SSSS_NNNNNN" in rejected["0011/Angry/take.wav"]
    assert len(rejected) == 3


def test_emodb(tmp_path):
    _touch(tmp_path, "wav/03a01Fa.wav", "wav/08b10Lc.wav", "wav/16a07Ea.wav",
           "wav/05a01Wa.wav", "wav/03a01Xa.wav", "wav/3a01Fa.wav", "silb/03a01Fa.lab", "erkennung.txt")

    found, rejected = _read("emodb", tmp_path)

    assert {name: _metadata(record) for name, record in found.items()} == {
        "wav/03a01Fa.wav": ("happy", "emodb:03", "male", "de", ""),
        "wav/08b10Lc.wav": ("boredom", "emodb:08", "female", "de", ""),
        "wav/16a07Ea.wav": ("disgust", "emodb:16", "female", "de", ""),
    }
    assert "unknown speaker 05" in rejected["wav/05a01Wa.wav"]
    assert "unknown emotion code 'X'" in rejected["wav/03a01Xa.wav"]
    assert "SSTTTEV" in rejected["wav/3a01Fa.wav"]
    assert len(rejected) == 3


def test_unlabelled_takes_folders_as_speakers(tmp_path):
    _touch(tmp_path, "call.wav", "session1/a.flac", "session1/b.mp3", "session2/mic/c.ogg", "x.aiff",
           "notes.txt", "session1/list.csv")

    found, rejected = _read("unlabelled", tmp_path)

    assert {name: _metadata(record) for name, record in found.items()} == {
        "call.wav": ("", "unlabelled:call", "unknown", "", ""),
        "session1/a.flac": ("", "unlabelled:session1", "unknown", "", ""),
        "session1/b.mp3": ("", "unlabelled:session1", "unknown", "", ""),
        "session2/mic/c.ogg": ("", "unlabelled:session2/mic", "unknown", "", ""),
        "x.aiff": ("", "unlabelled:x", "unknown", "", ""),
    }
    assert rejected == {}
    assert {record.corpus for record in found.values()} == {"unlabelled"}


def test_symlinked_folders_and_files_are_read_under_their_link_names(tmp_path):
    store, subset = tmp_path / "store", tmp_path / "subset"
    _touch(store, "Actor_01/03-01-05-02-01-01-01.wav", "Actor_01/03-01-03-01-01-01-01.wav",
           "Actor_02/03-01-04-01-01-01-02.flac", "Actor_03/03-01-01-01-01-01-03.wav")
    subset.mkdir()
    (subset / "Actor_01").symlink_to(store / "Actor_01", target_is_directory=True)
    (subset / "Actor_02").mkdir()
    (subset / "Actor_02" / "03-01-04-01-01-01-02.flac").symlink_to(store / "Actor_02" / "03-01-04-01-01-01-02.flac")

    found, rejected = _read("ravdess", subset)

    assert {name: record.speaker for name, record in found.items()} == {
        "Actor_01/03-01-03-01-01-01-01.wav": "ravdess:01", "Actor_01/03-01-05-02-01-01-01.wav": "ravdess:01",
        "Actor_02/03-01-04-01-01-01-02.flac": "ravdess:02"}
    assert rejected == {}


def test_a_symlink_loop_is_walked_once(tmp_path):
    _touch(tmp_path, "Actor_01/03-01-05-02-01-01-01.wav", "Actor_02/03-01-04-01-01-01-02.wav")
    (tmp_path / "Actor_01" / "back_to_root").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "Actor_01" / "itself").symlink_to(tmp_path / "Actor_01", target_is_directory=True)

    found, rejected = _read("ravdess", tmp_path)

    assert sorted(found) == ["Actor_01/03-01-05-02-01-01-01.wav", "Actor_02/03-01-04-01-01-01-02.wav"]
    assert rejected == {}


def test_a_symlinked_root_is_read(tmp_path):
    _touch(tmp_path / "real", "wav/03a01Fa.wav")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)

    found, _ = _read("emodb", tmp_path / "link")

    assert list(found) == ["wav/03a01Fa.wav"]
