"""The stages the bench times, one home for the report and the plot."""

#: What is timed in each frame, in the order of the report's rows (:mod:`livedigits.bench` says what
#: each one covers); ``resize`` only with ``BenchOptions.size``.
STAGES = ("capture_wait", "decode", "resize", "segment", "segment.paper", "segment.lines", "segment.pieces",
          "classify", "read", "overlay", "processing", "e2e")
STAGE_LABELS = {
    "capture_wait": "capture wait",
    "decode": "decode (reader)",
    "resize": "resize (bench)",
    "segment": "segment",
    "segment.paper": "  paper, ink",
    "segment.lines": "  lines",
    "segment.pieces": "  pieces, crops",
    "classify": "classify",
    "read": "read",
    "overlay": "overlay",
    "processing": "processing",
    "e2e": "end-to-end",
}
