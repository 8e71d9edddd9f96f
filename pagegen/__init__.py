"""pagegen: personalised multi-carousel homepages from MovieLens data.

The pipeline, one subpackage per stage: data → generators → rows → optimizer → titles → page → app.
"""

__version__ = "0.1.0"
