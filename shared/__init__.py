"""Code both papers use: audio I/O, features, tf.data pipeline, datasets, losses, metrics."""
