"""Offline jobs: many images from files, folders, globs, stdin or ``s3://`` prefixes, through
the core pipeline, into a file, a folder, ``s3://`` or stdout.

``plan`` turns the inputs into items (each with its output name), ``engine`` runs them with a
runner (this process, a crash-tolerant process pool, Ray Data, or a remote humanseg server)
and keeps the resumable manifest. ``humanseg cut`` and ``humanseg batch`` are thin commands
over it.
"""
