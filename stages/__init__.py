"""The pipeline: one short module per stage, in the order they run.

Each stage says what it reads (tables of earlier stages), what it writes, which config
sections change its output, and what one worker needs. ``PIPELINE`` is the whole chain.
"""

from stages.captions import CaptionsStage
from stages.ingest import IngestStage
from stages.markers import MarkersStage
from stages.panels import PanelsStage
from stages.quality import QualityStage
from stages.regions import RegionsStage
from stages.shards import ShardsStage

PIPELINE = [IngestStage, PanelsStage, MarkersStage, RegionsStage, CaptionsStage, QualityStage, ShardsStage]
STAGE_NAMES = [stage.name for stage in PIPELINE]
