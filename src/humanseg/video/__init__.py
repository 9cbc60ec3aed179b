"""Video: frames in → the core per frame + a temporal step → frames out, on PyAV (FFmpeg).

- ``source``: open a clip, read what its container says, refuse it before decoding if it is
  over a limit, then decode upright frames with their timestamps.
- ``temporal``: steady edges, the previous matte carried along the optical flow.
- ``frames``: one frame's matte and output, by the same matter and compose functions as images.
- ``sink``: the output file per type (VP9 or ProRes with alpha, a matte video, MP4 or WebM,
  a ZIP of PNGs), with the input's timestamps and its audio.
- ``render``: the whole run, frame by frame, with progress.
- ``synthetic`` and ``steadiness``: test clips with a known camera motion, and the flicker metric.

PyAV is the optional extra ``video``; nothing here is imported by the image paths.
"""
