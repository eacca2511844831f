"""The data model: an immutable, validated :class:`Economy`."""

from commonplan.economy.labels import as_activity_index, as_product_index
from commonplan.economy.model import Economy, Metadata
from commonplan.linalg.spectral import spectral_radius_bounds

__all__ = ["Economy", "Metadata", "as_product_index", "as_activity_index", "spectral_radius_bounds"]
