"""JSON files the Trainer keeps in a SavedModel's `assets/` (copied with the model by the Pusher) for the model card."""
import json
import os
from typing import Optional


def write_json_asset(serving_dir: str, name: str, fields: dict) -> str:
    import tensorflow as tf

    path = os.path.join(serving_dir, "assets", name)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as asset_file:
        asset_file.write(json.dumps(fields, indent=2))
    return path


def read_json_asset(serving_dir: str, name: str) -> Optional[dict]:
    """The asset's fields; None when the model was exported without it."""
    import tensorflow as tf

    path = os.path.join(serving_dir, "assets", name)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as asset_file:
        return json.load(asset_file)
