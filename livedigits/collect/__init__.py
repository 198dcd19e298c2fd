"""Collect a user's own handwriting as labelled crops, for ``livedigits finetune``.

Three ways in, one folder layout out:

* the live view (``livedigits collect SOURCE --out DIR``): every crop of the frame is numbered, the user
  picks one with the arrow keys or Tab and presses its digit (or ``n``, not a digit, or a sign of arithmetic:
  ``+ - * / ( ) =``) to save it;
* ``--auto LABEL``: no window, every crop gets LABEL (a sheet filled with one digit); a digit seen in
  many frames of a video is saved once per appearance (or every ``--every`` frames);
* importing a folder of scans: pages are segmented like camera frames, small images (a 28x28 MNIST
  image, a canvas drawing) are one digit each, and a folder laid out ``FOLDER/<label>/*.png`` is
  imported with the labels of its folders.

The layout (``DIR``)::

    DIR/manifest.jsonl          one JSON object per saved sample (see ``SampleStore.save``)
    DIR/<label>/<id>.png        28x28 uint8 gray, white ink on black: the network's input x 255
    DIR/<label>/<id>.full.png   the full-size cut from the frame around the crop's box (BGR)

``<label>`` is ``0`` to ``9``, ``n`` for "not a digit", or a sign (``plus minus times slash lparen rparen
equals``: the sign model's ``livedigits train-signs --collected DIR`` learns them; to the digit model they
are "not a digit"); ``<id>`` is a six-digit number, unique in
DIR (appending to an existing DIR continues after its highest id). Loaders read ``<id>.png`` only and
never the ``.full.png`` cuts.

One module per job: ``store`` (the folder, labels, PNG writing), ``importer`` (image files and label
folders), ``session`` (the live view's state, drawing and keys), ``live`` (the frame loops of the
live view and ``--auto``), ``command`` (``livedigits collect`` itself).
"""

from livedigits.collect.command import collect_command
from livedigits.collect.importer import SINGLE_DIGIT_MAX_SIDE, ImportResult, import_images, label_folders, single_digit_crop
from livedigits.collect.live import AutoSaver, CollectWindow, collect_auto, collect_window
from livedigits.collect.session import CollectSession
from livedigits.collect.store import (
    FULL_SUFFIX,
    LABELS,
    MANIFEST,
    NOT_A_DIGIT_LABEL,
    SIGN_KEYS,
    SIGN_LABELS,
    SampleStore,
    class_to_label,
    crop_to_uint8,
    full_cut,
    label_to_class,
    parse_label,
)

__all__ = [
    "FULL_SUFFIX",
    "LABELS",
    "MANIFEST",
    "NOT_A_DIGIT_LABEL",
    "SIGN_KEYS",
    "SIGN_LABELS",
    "SINGLE_DIGIT_MAX_SIDE",
    "AutoSaver",
    "CollectWindow",
    "CollectSession",
    "ImportResult",
    "SampleStore",
    "class_to_label",
    "collect_auto",
    "collect_command",
    "collect_window",
    "crop_to_uint8",
    "full_cut",
    "import_images",
    "label_folders",
    "label_to_class",
    "parse_label",
    "single_digit_crop",
]
