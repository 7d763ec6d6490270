"""Paper 1 (Heo, Jung, Shim, Yu 2019): teacher-student soft labels for acoustic scene
classification on DCASE 2018 task 1A. Run everything with `python -m paper1_ts.run`."""
