"""Engines: how the pipeline's stages are spread over processes or machines.

- ``local`` (the default and the reference): documents are read and analysed in a process pool
  (``--jobs N``, default the number of cores), in order, with results identical to one process.
  ``auditor.engines.local`` also holds the pieces the other engines share: which rules look at one
  document at a time, the compact per-document outputs, the keys that tie documents together for
  the corpus-wide rules, and the Parquet tables of an audit.
- ``spark`` (optional extra ``auditor[spark]``): the same per-document work as Spark tasks, the
  corpus-wide candidate search as Spark joins; see ``auditor.engines.spark``.

Nothing heavy is imported here: ``auditor --help`` stays instant and pyspark loads only on the
Spark path.
"""

from __future__ import annotations

import warnings

# With pyspark installed (the spark extra, and dev), `import pandera` imports pyspark.pandas, which
# warns on every run under pandas 3; auditor never uses pyspark.pandas.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

ENGINES = ("local", "spark")

SPARK_MISSING = "the Spark engine needs pyspark: pip install 'auditor[spark]'"


def spark_available() -> bool:
    """Whether pyspark can be imported (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("pyspark") is not None
