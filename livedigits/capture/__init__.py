"""Capture: frames in from cameras, video files, still images, folders and network streams, each read by its own
thread (``sources``), kept alive across losses (``supervise``), with the camera backends of each desktop
(``cameras``), the one door for still images (``images``) and what may be shown of a source (``redact``).
"""
