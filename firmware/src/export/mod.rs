//! Exports from the store: WiGLE CSV 1.6, KML, GeoJSON, CSV and GPX, each streamed.
