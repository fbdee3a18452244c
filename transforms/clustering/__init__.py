"""Cross-outlet clustering: one alert stream (`new`, then `update`s) per real-world event.

* `index` - the pure per-key state machine (`ClusterIndex`, `ClusteringConfig`);
* `text` - the word and shingle fingerprints it compares;
* `keys` - which state key an event lives under (its anchor partner);
* `alerts` - the alert records;
* `beam` - `ClusterAcrossOutlets`, the stateful Beam transform around them.
"""

from transforms.clustering.alerts import SCHEMA_VERSION, alert_id_for, build_alert
from transforms.clustering.index import Assignment, ClusteringConfig, ClusterIndex, Decision
from transforms.clustering.keys import anchor_partner

__all__ = [
    "SCHEMA_VERSION",
    "Assignment",
    "ClusterIndex",
    "ClusteringConfig",
    "Decision",
    "alert_id_for",
    "anchor_partner",
    "build_alert",
]
