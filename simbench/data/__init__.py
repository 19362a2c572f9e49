"""`simbench data`: the paper's data sets as simbench inputs.

HelpSteer2 and TL;DR become prompt pools (`prompts/` JSONL: id, text, category); WildChat and
WildFeedback become `simbench distill` input (one {role, content} message list per line).
Rows come through `datasets` (a hub id, or a local json/jsonl/parquet file or folder), which
is imported only when a conversion runs.
"""

from simbench.data.convert import CONVERTERS, Converted, convert

__all__ = ["CONVERTERS", "Converted", "convert"]
