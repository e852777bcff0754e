"""auditor: a data-quality and consistency auditor for Chinese news and work-report text.

The pipeline, one package a stage:
    documents.load → documents.normalise → documents.segment → extract → rules → report
"""

__version__ = "0.1.0"
